//! The `Condition` element: `{"Operator": {"key": value-or-values}}`, with the operators of
//! IAM's reference (String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress, Arn*, Null), the
//! `…IfExists` suffix and the `ForAnyValue:`/`ForAllValues:` set prefixes.
//!
//! Semantics (IAM's "condition operators" page): the keys of one operator and the operators
//! of one statement must all hold; the values of one key are alternatives. A key the request
//! does not carry makes a positive operator false and a negated one (`StringNotEquals`,
//! `NotIpAddress`, `ArnNotLike`, …) true; `…IfExists` makes either true; `ForAllValues:` is
//! true over an absent key, `ForAnyValue:` false.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::document::PolicyError;
use super::evaluate::RequestContext;
use super::pattern::{arn_matches, matches, tokens, tokens_with_variables};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    AnyValue,
    AllValues,
}

/// One (operator, key, values) test.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    op: Op,
    negated: bool,
    if_exists: bool,
    set: Option<SetOp>,
}

fn operator(name: &str) -> Option<(Op, bool)> {
    use Op::*;
    Some(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (BinaryEquals, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Condition {
    /// Parses a statement's `Condition` object.
    pub fn parse_all(ops: &Map<String, Value>) -> Result<Vec<Condition>, PolicyError> {
        let mut out = Vec::new();
        for (name, keys) in ops {
            let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
                (Some(SetOp::AnyValue), r)
            } else if let Some(r) = name.strip_prefix("ForAllValues:") {
                (Some(SetOp::AllValues), r)
            } else {
                (None, name.as_str())
            };
            let (base, if_exists) = match rest.strip_suffix("IfExists") {
                Some(b) if b != "Null" => (b, true),
                _ => (rest, false),
            };
            let (op, negated) = operator(base)
                .ok_or_else(|| PolicyError(format!("Invalid Condition type : {name}")))?;
            let keys = keys
                .as_object()
                .ok_or_else(|| PolicyError("Syntax errors in policy.".into()))?;
            for (key, v) in keys {
                let values = match v {
                    Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    other => scalar(other).map(|s| vec![s]),
                }
                .ok_or_else(|| PolicyError("Syntax errors in policy.".into()))?;
                if !key.contains(':') {
                    return Err(PolicyError(
                        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
                            .into(),
                    ));
                }
                out.push(Condition {
                    operator: name.clone(),
                    key: key.clone(),
                    values,
                    op,
                    negated,
                    if_exists,
                    set,
                });
            }
        }
        Ok(out)
    }

    /// True when the request satisfies this test (`variables`: resolve `${…}` in values).
    pub fn holds(&self, ctx: &RequestContext, variables: bool) -> bool {
        let present = ctx.get(&self.key);
        if self.op == Op::Null {
            let absent = !present.is_some_and(|v| !v.is_empty());
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == absent);
        }
        let values: Vec<&String> = match present {
            Some(v) if !v.is_empty() => v.iter().collect(),
            _ => {
                return match self.set {
                    Some(SetOp::AllValues) => true,
                    Some(SetOp::AnyValue) => self.if_exists,
                    None => self.if_exists || self.negated,
                };
            }
        };
        let one = |c: &str| self.values.iter().any(|p| self.test(p, c, ctx, variables));
        match (self.set, self.negated) {
            (None, false) => values.iter().any(|c| one(c)),
            (None, true) => !values.iter().any(|c| one(c)),
            (Some(SetOp::AnyValue), false) => values.iter().any(|c| one(c)),
            (Some(SetOp::AnyValue), true) => values.iter().any(|c| !one(c)),
            (Some(SetOp::AllValues), false) => values.iter().all(|c| one(c)),
            (Some(SetOp::AllValues), true) => values.iter().all(|c| !one(c)),
        }
    }

    /// One policy value against one context value (the positive form of the operator).
    fn test(&self, policy: &str, actual: &str, ctx: &RequestContext, variables: bool) -> bool {
        let resolve = || {
            if variables {
                tokens_with_variables(policy, ctx)
            } else {
                Some(tokens(policy))
            }
        };
        let literal = || -> Option<String> {
            let toks = resolve()?;
            Some(
                toks.iter()
                    .map(|t| match t {
                        super::pattern::Tok::Char(c) => *c,
                        super::pattern::Tok::Star => '*',
                        super::pattern::Tok::One => '?',
                    })
                    .collect(),
            )
        };
        match self.op {
            Op::StringEquals => literal().is_some_and(|p| p == actual),
            Op::StringEqualsIgnoreCase => literal().is_some_and(|p| p.eq_ignore_ascii_case(actual)),
            Op::StringLike => resolve().is_some_and(|t| matches(&t, actual, false)),
            Op::NumericEquals
            | Op::NumericLessThan
            | Op::NumericLessThanEquals
            | Op::NumericGreaterThan
            | Op::NumericGreaterThanEquals => {
                let (Ok(p), Ok(a)) = (policy.trim().parse::<f64>(), actual.trim().parse::<f64>())
                else {
                    return false;
                };
                compare(self.op, a.partial_cmp(&p))
            }
            Op::DateEquals
            | Op::DateLessThan
            | Op::DateLessThanEquals
            | Op::DateGreaterThan
            | Op::DateGreaterThanEquals => {
                let (Some(p), Some(a)) = (date(policy), date(actual)) else {
                    return false;
                };
                compare(self.op, a.partial_cmp(&p))
            }
            Op::Bool => literal().is_some_and(|p| p.eq_ignore_ascii_case(actual)),
            Op::BinaryEquals => policy == actual,
            Op::IpAddress => in_cidr(policy, actual),
            Op::ArnLike => resolve().is_some_and(|t| arn_matches(&t, actual)),
            Op::Null => false,
        }
    }
}

fn compare(op: Op, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(o) = ord else { return false };
    match op {
        Op::NumericEquals | Op::DateEquals => o == Equal,
        Op::NumericLessThan | Op::DateLessThan => o == Less,
        Op::NumericLessThanEquals | Op::DateLessThanEquals => o != Greater,
        Op::NumericGreaterThan | Op::DateGreaterThan => o == Greater,
        Op::NumericGreaterThanEquals | Op::DateGreaterThanEquals => o != Less,
        _ => false,
    }
}

/// A date as IAM takes it: ISO 8601 (`2019-07-16T12:00:00Z`, or a bare date) or epoch
/// seconds; as epoch seconds.
pub fn date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &rfc) {
        return Some(t.unix_timestamp_nanos() as f64 / 1e9);
    }
    if let Ok(t) = time::OffsetDateTime::parse(&format!("{s}:00Z"), &rfc) {
        return Some(t.unix_timestamp() as f64);
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &day)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp() as f64)
}

/// True when `ip` lies in `cidr` (`203.0.113.0/24`, `2001:db8::/32`, or one address).
fn in_cidr(cidr: &str, ip: &str) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let (Ok(net), Ok(ip)) = (net.trim().parse::<IpAddr>(), ip.trim().parse::<IpAddr>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}
