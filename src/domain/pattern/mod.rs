//! Event patterns: the content-filtering language of EventBridge rules, shared by event
//! source mapping `FilterCriteria` and bucket notification filters that speak it.
//!
//! A pattern is a JSON object with the nested shape of the events it matches. Every leaf is a
//! non-empty array of match values; the field matches when any of them matches (OR), and every
//! field named must match (AND). `$or` at any level takes two or more sub-patterns of which one
//! must match. Match values are exact scalars (string, number, `true`, `false`, `null`) or
//! one-key operator objects: `prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
//! `anything-but` (a value, a list, or `prefix`/`suffix`/`equals-ignore-case`/`wildcard`),
//! `numeric` (`=`, `<`, `<=`, `>`, `>=`, one lower and one upper bound), `exists` and `cidr`.
//!
//! Event semantics, as EventBridge documents them:
//! - matching looks at leaves only: a field whose value is an object or an empty array has no
//!   leaf, so `exists: true` does not match it and `exists: false` does;
//! - an array in the event matches when any of its elements matches (arrays of objects are
//!   matched element by element, so fields of one sub-pattern must match inside one element);
//! - a missing field matches only `exists: false`;
//! - numbers compare numerically (`300` matches `3.0e2`); a string never matches a number
//!   pattern and a number never matches a string operator.
//!
//! [`EventPattern::parse`] checks the whole pattern once (bad patterns are refused when a rule
//! or filter is written, with a reason naming the path); [`EventPattern::matches`] never fails.
//! Why our own code and not a crate: see ARCHITECTURE.md ("Decisions").

mod matching;
mod parse;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

/// Why a pattern was refused: the reason and the field path it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}{}", if path.is_empty() { String::new() } else { format!(" at {path}") })]
pub struct PatternError {
    pub reason: String,
    pub path: String,
}

/// A checked event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    root: Node,
}

impl EventPattern {
    /// Parses and checks a pattern written as JSON text.
    pub fn parse(text: &str) -> Result<EventPattern, PatternError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| PatternError {
            reason: format!("the pattern is not valid JSON: {e}"),
            path: String::new(),
        })?;
        Self::from_value(&value)
    }

    /// Checks a pattern already parsed as JSON.
    pub fn from_value(value: &serde_json::Value) -> Result<EventPattern, PatternError> {
        Ok(EventPattern {
            root: parse::root(value)?,
        })
    }

    /// Whether `event` matches the pattern.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        matching::object(&self.root, event)
    }
}

/// An object level of a pattern: every field must match, and each `$or` group must have one
/// matching alternative.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    fields: Vec<(String, Field)>,
    any_of: Vec<Vec<Node>>,
}

/// What a named field must hold.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    /// A nested object pattern.
    Nested(Node),
    /// A leaf: one of these must match.
    Leaf(Vec<Matcher>),
}

/// One match value of a leaf.
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Scalar),
    Prefix { text: String, ignore_case: bool },
    Suffix { text: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    AnythingBut(Exclusion),
    Numeric(Range),
    Exists(bool),
    Cidr { net: IpAddr, bits: u8 },
}

/// A JSON scalar of a pattern or event. Numbers are kept as f64, which compares `300` and
/// `3.0e2` as equal, as EventBridge does.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// What `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
enum Exclusion {
    Values(Vec<Scalar>),
    Prefix(String),
    Suffix(String),
    /// Lower-cased values.
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

/// A numeric range; an `=` is a range whose bounds are both inclusive and equal.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    lower: Option<(f64, bool)>,
    upper: Option<(f64, bool)>,
}

/// A wildcard pattern split at its unescaped `*` into literal segments (one more segment than
/// stars; the first is a prefix, the last a suffix, the others must appear in order between).
#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    segments: Vec<String>,
}
