//! JSON filter patterns: `{ SELECTOR OP VALUE }` terms joined by `&&` and `||` with
//! parentheses. Selectors are `$.a.b`, `$.list[0].c`; operators `=`, `!=` (strings with `*`
//! wildcards, numbers), `<`, `<=`, `>`, `>=` (numbers), `IS TRUE`, `IS FALSE`, `IS NULL`,
//! `EXISTS`, `NOT EXISTS`. A message that is not a JSON object matches nothing.

use serde_json::Value as Json;

use super::compare::{compare, Op, Value};
use super::lex::{tokens, Tok};
use super::PatternError;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Cmp(Op, Value),
    IsTrue,
    IsFalse,
    IsNull,
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Cond(Vec<Step>, Test),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed JSON filter.
#[derive(Debug, Clone)]
pub struct JsonFilter {
    expr: Expr,
}

fn selector(w: &str) -> Result<Vec<Step>, PatternError> {
    let bad = || {
        PatternError(format!(
            "bad selector {w}: selectors look like $.key.sub[0]"
        ))
    };
    let rest = w.strip_prefix('$').ok_or_else(bad)?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut k = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    k.push(n);
                    chars.next();
                }
                if k.is_empty() {
                    return Err(bad());
                }
                steps.push(Step::Key(k));
            }
            '[' => {
                let mut n = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    n.push(d);
                }
                steps.push(Step::Index(n.parse().map_err(|_| bad())?));
            }
            _ => return Err(bad()),
        }
    }
    if steps.is_empty() {
        return Err(bad());
    }
    Ok(steps)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }
    fn atom(&mut self) -> Result<Expr, PatternError> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err(PatternError("missing ')'".into())),
                }
            }
            Some(Tok::Word(w)) => {
                let steps = selector(&w)?;
                let test = self.test(&w)?;
                Ok(Expr::Cond(steps, test))
            }
            other => Err(PatternError(format!(
                "expected a selector such as $.level, found {other:?}"
            ))),
        }
    }
    fn test(&mut self, sel: &str) -> Result<Test, PatternError> {
        match self.next() {
            Some(Tok::Op(op)) => {
                let v = match self.next() {
                    Some(Tok::Quoted(q)) => Value::Text(q),
                    Some(Tok::Word(w)) => Value::bare(&w),
                    _ => return Err(PatternError(format!("{sel}: a value must follow the operator"))),
                };
                if matches!(v, Value::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
                    return Err(PatternError(format!(
                        "{sel}: <, <=, > and >= compare numbers only"
                    )));
                }
                Ok(Test::Cmp(op, v))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Tok::Word(k)) if k.eq_ignore_ascii_case("TRUE") => Ok(Test::IsTrue),
                Some(Tok::Word(k)) if k.eq_ignore_ascii_case("FALSE") => Ok(Test::IsFalse),
                Some(Tok::Word(k)) if k.eq_ignore_ascii_case("NULL") => Ok(Test::IsNull),
                _ => Err(PatternError(format!("{sel} IS must be followed by TRUE, FALSE or NULL"))),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Ok(Test::Exists),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(k)) if k.eq_ignore_ascii_case("EXISTS") => Ok(Test::NotExists),
                _ => Err(PatternError(format!("{sel} NOT must be followed by EXISTS"))),
            },
            _ => Err(PatternError(format!(
                "{sel} must be followed by an operator (=, !=, <, <=, >, >=, IS, EXISTS, NOT EXISTS)"
            ))),
        }
    }
}

fn lookup<'a>(v: &'a Json, steps: &[Step]) -> Option<&'a Json> {
    let mut cur = v;
    for s in steps {
        cur = match s {
            Step::Key(k) => cur.get(k)?,
            Step::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

fn eval(e: &Expr, doc: &Json) -> bool {
    match e {
        Expr::And(a, b) => eval(a, doc) && eval(b, doc),
        Expr::Or(a, b) => eval(a, doc) || eval(b, doc),
        Expr::Cond(steps, test) => {
            let found = lookup(doc, steps);
            match (test, found) {
                (Test::NotExists, f) => f.is_none(),
                (Test::Exists, f) => f.is_some(),
                (Test::IsNull, f) => f.is_some_and(Json::is_null),
                (Test::IsTrue, f) => f == Some(&Json::Bool(true)),
                (Test::IsFalse, f) => f == Some(&Json::Bool(false)),
                (Test::Cmp(..), None) => false,
                (Test::Cmp(op, v), Some(f)) => {
                    let text = match f {
                        Json::String(s) => s.clone(),
                        Json::Object(_) | Json::Array(_) => return false,
                        other => other.to_string(),
                    };
                    compare(*op, f.as_f64(), &text, v)
                }
            }
        }
    }
}

impl JsonFilter {
    /// Parses `{ … }`.
    pub fn parse(s: &str) -> Result<JsonFilter, PatternError> {
        let inner = s
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .ok_or_else(|| PatternError("a JSON filter is enclosed in { }".into()))?;
        let mut p = Parser {
            toks: tokens(inner)?,
            pos: 0,
        };
        let expr = p.or()?;
        if p.pos != p.toks.len() {
            return Err(PatternError(
                "unexpected text after the JSON filter expression".into(),
            ));
        }
        Ok(JsonFilter { expr })
    }

    pub fn matches(&self, message: &str) -> bool {
        let t = message.trim_start();
        if !t.starts_with('{') {
            return false;
        }
        match serde_json::from_str::<Json>(t.trim_end()) {
            Ok(doc) => eval(&self.expr, &doc),
            Err(_) => false,
        }
    }
}
