//! Term patterns on unstructured messages: every plain term must occur, at least one `?term`
//! must occur when there are any, no `-term` may occur. A term is a word or a "quoted
//! phrase" (matched as a substring, case-sensitively) or a `%regular expression%`.

use super::PatternError;

#[derive(Debug, Clone)]
enum Needle {
    Text(String),
    Regex(regex::Regex),
}

impl Needle {
    fn found(&self, m: &str) -> bool {
        match self {
            Needle::Text(t) => m.contains(t.as_str()),
            Needle::Regex(r) => r.is_match(m),
        }
    }
}

/// A parsed term pattern.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    all: Vec<Needle>,
    any: Vec<Needle>,
    none: Vec<Needle>,
}

impl Terms {
    pub fn parse(s: &str) -> Result<Terms, PatternError> {
        let chars: Vec<char> = s.chars().collect();
        let mut t = Terms::default();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
                continue;
            }
            let kind = chars[i];
            if kind == '?' || kind == '-' {
                i += 1;
            }
            let needle = match chars.get(i) {
                Some('"') => {
                    let v = super::lex::quoted(&chars, &mut i, "unterminated quoted term")?;
                    Needle::Text(v)
                }
                Some('%') => {
                    let start = i + 1;
                    let end = chars[start..]
                        .iter()
                        .position(|c| *c == '%')
                        .map(|p| start + p)
                        .ok_or_else(|| PatternError("unterminated %regular expression%".into()))?;
                    let src: String = chars[start..end].iter().collect();
                    i = end + 1;
                    Needle::Regex(regex::Regex::new(&src).map_err(|e| {
                        PatternError(format!("bad regular expression %{src}%: {e}"))
                    })?)
                }
                Some(_) => {
                    let start = i;
                    while i < chars.len() && !chars[i].is_whitespace() {
                        i += 1;
                    }
                    Needle::Text(chars[start..i].iter().collect())
                }
                None => return Err(PatternError(format!("'{kind}' must be followed by a term"))),
            };
            match kind {
                '?' => t.any.push(needle),
                '-' => t.none.push(needle),
                _ => t.all.push(needle),
            }
        }
        if t.all.is_empty() && t.any.is_empty() && t.none.is_empty() {
            return Err(PatternError("no terms".into()));
        }
        Ok(t)
    }

    pub fn matches(&self, m: &str) -> bool {
        self.all.iter().all(|n| n.found(m))
            && (self.any.is_empty() || self.any.iter().any(|n| n.found(m)))
            && !self.none.iter().any(|n| n.found(m))
    }
}
