//! The tokens of JSON and space-delimited filter expressions: names and selectors, quoted
//! strings, bare words, comparison operators, `&&`, `||`, parentheses, commas, `...`.

use super::PatternError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name, selector (`$.a.b[0]`), bare value (`4*`, `200`, `true`) or keyword.
    Word(String),
    /// A double-quoted string, unescaped.
    Quoted(String),
    Op(super::compare::Op),
    And,
    Or,
    Open,
    Close,
    Comma,
    Ellipsis,
}

/// Splits `s` (the pattern without its outer braces or brackets) into tokens.
pub fn tokens(s: &str) -> Result<Vec<Tok>, PatternError> {
    use super::compare::Op;
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1
            }
            ')' => {
                out.push(Tok::Close);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '&' if next == Some('&') => {
                out.push(Tok::And);
                i += 2
            }
            '|' if next == Some('|') => {
                out.push(Tok::Or);
                i += 2
            }
            '.' if next == Some('.') && chars.get(i + 2) == Some(&'.') => {
                out.push(Tok::Ellipsis);
                i += 3
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1
            }
            '!' if next == Some('=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2
            }
            '<' | '>' => {
                let eq = next == Some('=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                let v = quoted(&chars, &mut i, "unterminated quoted string")?;
                out.push(Tok::Quoted(v));
            }
            _ => {
                let start = i;
                while i < chars.len() {
                    let ch = chars[i];
                    let nx = chars.get(i + 1).copied();
                    let stop = matches!(
                        ch,
                        ' ' | '\t' | '\n' | '\r' | '(' | ')' | ',' | '=' | '<' | '>' | '"'
                    ) || (ch == '!' && nx == Some('='))
                        || (ch == '&' && nx == Some('&'))
                        || (ch == '|' && nx == Some('|'));
                    if stop {
                        break;
                    }
                    i += 1;
                }
                if i == start {
                    return Err(PatternError(format!("unexpected character '{c}'")));
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// Reads the `"…"` string that starts at `chars[*i]` (backslash escapes the next character),
/// leaving `*i` just after the closing quote; `unterminated` is the error without one.
pub(super) fn quoted(
    chars: &[char],
    i: &mut usize,
    unterminated: &str,
) -> Result<String, PatternError> {
    let mut v = String::new();
    *i += 1;
    loop {
        match chars.get(*i) {
            None => return Err(PatternError(unterminated.into())),
            Some('\\') => {
                if let Some(e) = chars.get(*i + 1) {
                    v.push(*e);
                }
                *i += 2;
            }
            Some('"') => {
                *i += 1;
                return Ok(v);
            }
            Some(c) => {
                v.push(*c);
                *i += 1;
            }
        }
    }
}
