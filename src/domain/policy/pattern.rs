//! Wildcard patterns (`*`, `?`) and policy variables (`${aws:username}`): a pattern is
//! compiled into tokens after its variables are replaced, so a value a variable brings in is
//! matched literally and `${*}`, `${?}`, `${$}` stand for the characters themselves.

use super::evaluate::RequestContext;

/// One token of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    One,
}

/// Compiles `pattern` without variables.
pub fn tokens(pattern: &str) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect()
}

/// Compiles `pattern` with its policy variables resolved from `ctx`; `None` when a variable
/// names a key the request does not carry and gives no default (the element then matches
/// nothing, as in AWS).
pub fn tokens_with_variables(pattern: &str, ctx: &RequestContext) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.extend(tokens(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.extend(tokens(&rest[start..]));
            return Some(out);
        };
        let inner = after[..end].trim();
        match inner {
            "*" => out.push(Tok::Char('*')),
            "?" => out.push(Tok::Char('?')),
            "$" => out.push(Tok::Char('$')),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .unwrap_or(d);
                        (k.trim(), Some(d))
                    }
                    None => (inner, None),
                };
                let value = match ctx.get(key) {
                    Some(values) if values.len() == 1 => values[0].as_str(),
                    _ => default?,
                };
                out.extend(value.chars().map(Tok::Char));
            }
        }
        rest = &after[end + 1..];
    }
    out.extend(tokens(rest));
    Some(out)
}

/// True when `text` matches the compiled pattern.
pub fn matches(pattern: &[Tok], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // Iterative glob with backtracking to the last star.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Char(c)) if eq(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|t| *t == Tok::Star)
}

/// True when `text` matches the wildcard `pattern` (no variables).
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    matches(&tokens(pattern), text, ignore_case)
}

/// ARN matching (`ArnLike`, ARNs in `Principal`): both split into their six `:`-separated
/// parts (the last keeps its colons), each part matched as a wildcard pattern.
pub fn arn_matches(pattern: &[Tok], arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 {
        return false;
    }
    let mut pats: Vec<&[Tok]> = Vec::new();
    let mut start = 0;
    for (i, t) in pattern.iter().enumerate() {
        if *t == Tok::Char(':') && pats.len() < 5 {
            pats.push(&pattern[start..i]);
            start = i + 1;
        }
    }
    pats.push(&pattern[start..]);
    if pats.len() != 6 {
        // A pattern of fewer parts can still match when a star spans them ("*").
        return matches(pattern, arn, false);
    }
    pats.iter()
        .zip(parts.iter())
        .all(|(p, part)| matches(p, part, false))
}
