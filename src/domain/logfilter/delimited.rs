//! Space-delimited filter patterns: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`.
//! A message splits into fields at spaces; text in "double quotes" or [square brackets] is
//! one field (without its delimiters). Every named field takes one message field, `...` any
//! number (none included); with no `...` the counts must be equal. Conditions compare named
//! fields (numbers numerically, text with `*` wildcards), joined by `&&` and `||`.

use std::collections::HashMap;

use super::compare::{compare, Op, Value};
use super::lex::{tokens, Tok};
use super::PatternError;

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(String, Op, Value),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
enum Spec {
    Field(String, Option<Cond>),
    Ellipsis,
}

/// A parsed space-delimited pattern.
#[derive(Debug, Clone)]
pub struct Delimited {
    specs: Vec<Spec>,
}

fn cond(toks: &[Tok], field: &str) -> Result<Cond, PatternError> {
    let mut pos = 0;
    let atom = |pos: &mut usize| -> Result<Cond, PatternError> {
        let (Some(Tok::Word(name)), Some(Tok::Op(op)), Some(v)) =
            (toks.get(*pos), toks.get(*pos + 1), toks.get(*pos + 2))
        else {
            return Err(PatternError(format!(
                "field {field}: a condition looks like {field} = value"
            )));
        };
        let value = match v {
            Tok::Quoted(q) => Value::Text(q.clone()),
            Tok::Word(w) => Value::bare(w),
            _ => return Err(PatternError(format!("field {field}: missing value"))),
        };
        if matches!(value, Value::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(PatternError(format!(
                "field {field}: <, <=, > and >= compare numbers only"
            )));
        }
        *pos += 3;
        Ok(Cond::Cmp(name.clone(), *op, value))
    };
    let and = |pos: &mut usize| -> Result<Cond, PatternError> {
        let mut left = atom(pos)?;
        while toks.get(*pos) == Some(&Tok::And) {
            *pos += 1;
            left = Cond::And(Box::new(left), Box::new(atom(pos)?));
        }
        Ok(left)
    };
    let mut left = and(&mut pos)?;
    while toks.get(pos) == Some(&Tok::Or) {
        pos += 1;
        left = Cond::Or(Box::new(left), Box::new(and(&mut pos)?));
    }
    if pos != toks.len() {
        return Err(PatternError(format!("field {field}: unexpected text")));
    }
    Ok(left)
}

fn eval(c: &Cond, bound: &HashMap<&str, &str>) -> bool {
    match c {
        Cond::And(a, b) => eval(a, bound) && eval(b, bound),
        Cond::Or(a, b) => eval(a, bound) || eval(b, bound),
        Cond::Cmp(name, op, v) => match bound.get(name.as_str()) {
            Some(text) => compare(*op, text.parse::<f64>().ok(), text, v),
            None => false,
        },
    }
}

/// The fields of a message.
pub fn split(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let s = message.trim_end_matches(['\n', '\r']);
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(end) = b[i + 1..].iter().position(|c| *c == close) {
                out.push(&s[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        out.push(&s[start..i]);
    }
    out
}

impl Delimited {
    /// Parses `[ … ]`.
    pub fn parse(s: &str) -> Result<Delimited, PatternError> {
        let inner = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(|| PatternError("a space-delimited filter is enclosed in [ ]".into()))?;
        let toks = tokens(inner)?;
        let mut specs = Vec::new();
        for part in toks.split(|t| *t == Tok::Comma) {
            match part {
                [Tok::Ellipsis] => specs.push(Spec::Ellipsis),
                [Tok::Word(name)] => specs.push(Spec::Field(name.clone(), None)),
                [Tok::Word(name), ..] => {
                    specs.push(Spec::Field(name.clone(), Some(cond(part, name)?)))
                }
                [] => return Err(PatternError("empty field between commas".into())),
                _ => {
                    return Err(PatternError(
                        "each field is a name, a condition (name = value) or ...".into(),
                    ))
                }
            }
        }
        Ok(Delimited { specs })
    }

    fn bind<'p, 'm>(
        &'p self,
        specs: &'p [Spec],
        fields: &[&'m str],
        bound: &mut HashMap<&'p str, &'m str>,
    ) -> bool {
        match specs.split_first() {
            None => {
                fields.is_empty()
                    && self.specs.iter().all(|s| match s {
                        Spec::Field(_, Some(c)) => eval(c, bound),
                        _ => true,
                    })
            }
            Some((Spec::Ellipsis, rest)) => {
                (0..=fields.len()).any(|skip| self.bind(rest, &fields[skip..], bound))
            }
            Some((Spec::Field(name, _), rest)) => {
                let Some((first, others)) = fields.split_first() else {
                    return false;
                };
                bound.insert(name.as_str(), first);
                self.bind(rest, others, bound)
            }
        }
    }

    pub fn matches(&self, message: &str) -> bool {
        let fields = split(message);
        let mut bound = HashMap::new();
        self.bind(&self.specs, &fields, &mut bound)
    }
}
