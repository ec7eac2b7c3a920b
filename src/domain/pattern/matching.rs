//! Evaluating a checked pattern against an event (see the module doc of `pattern` for the
//! semantics). Never fails: anything the pattern does not describe simply does not match.

use std::net::IpAddr;

use serde_json::Value;

use super::{Exclusion, Field, Matcher, Node, Range, Scalar, Wildcard};

/// Whether `event` (expected to be an object; anything else matches nothing) matches `node`.
pub(super) fn object(node: &Node, event: &Value) -> bool {
    let Value::Object(map) = event else {
        return false;
    };
    node.fields.iter().all(|(key, field)| {
        let value = map.get(key);
        match field {
            Field::Nested(inner) => value.is_some_and(|v| nested(inner, v)),
            Field::Leaf(matchers) => leaf(matchers, value),
        }
    }) && node
        .any_of
        .iter()
        .all(|alternatives| alternatives.iter().any(|alt| object(alt, event)))
}

/// A nested pattern against a value: an object, or an array with one matching element.
fn nested(node: &Node, value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| nested(node, item)),
        other => object(node, other),
    }
}

/// The scalar leaves at a field: the value itself, or the scalars of an array (flattened).
fn leaves<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| leaves(item, out)),
        Value::Object(_) => {}
        scalar => out.push(scalar),
    }
}

fn leaf(matchers: &[Matcher], value: Option<&Value>) -> bool {
    let mut found = Vec::new();
    if let Some(v) = value {
        leaves(v, &mut found);
    }
    matchers.iter().any(|m| match m {
        Matcher::Exists(want) => *want != found.is_empty(),
        other => found.iter().any(|v| one(other, v)),
    })
}

fn one(m: &Matcher, v: &Value) -> bool {
    match m {
        Matcher::Exact(s) => equal(s, v),
        Matcher::Prefix { text, ignore_case } => str_of(v).is_some_and(|s| {
            if *ignore_case {
                s.to_lowercase().starts_with(text.as_str())
            } else {
                s.starts_with(text.as_str())
            }
        }),
        Matcher::Suffix { text, ignore_case } => str_of(v).is_some_and(|s| {
            if *ignore_case {
                s.to_lowercase().ends_with(text.as_str())
            } else {
                s.ends_with(text.as_str())
            }
        }),
        Matcher::EqualsIgnoreCase(text) => {
            str_of(v).is_some_and(|s| s.to_lowercase() == text.to_lowercase())
        }
        Matcher::Wildcard(w) => str_of(v).is_some_and(|s| wildcard(w, s)),
        Matcher::AnythingBut(ex) => !excluded(ex, v),
        Matcher::Numeric(r) => v.as_f64().is_some_and(|n| in_range(r, n)),
        Matcher::Exists(_) => false,
        Matcher::Cidr { net, bits } => str_of(v)
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| in_net(*net, *bits, ip)),
    }
}

fn str_of(v: &Value) -> Option<&str> {
    v.as_str()
}

fn equal(s: &Scalar, v: &Value) -> bool {
    match (s, v) {
        (Scalar::Str(a), Value::String(b)) => a == b,
        (Scalar::Num(a), Value::Number(b)) => b.as_f64() == Some(*a),
        (Scalar::Bool(a), Value::Bool(b)) => a == b,
        (Scalar::Null, Value::Null) => true,
        _ => false,
    }
}

fn excluded(ex: &Exclusion, v: &Value) -> bool {
    match ex {
        Exclusion::Values(values) => values.iter().any(|s| equal(s, v)),
        // The operator forms of anything-but apply to strings; any other value is not
        // excluded by a string rule.
        Exclusion::Prefix(p) => str_of(v).is_some_and(|s| s.starts_with(p.as_str())),
        Exclusion::Suffix(p) => str_of(v).is_some_and(|s| s.ends_with(p.as_str())),
        Exclusion::IgnoreCase(values) => {
            str_of(v).is_some_and(|s| values.contains(&s.to_lowercase()))
        }
        Exclusion::Wildcards(ws) => str_of(v).is_some_and(|s| ws.iter().any(|w| wildcard(w, s))),
    }
}

fn in_range(r: &Range, n: f64) -> bool {
    let above = match r.lower {
        None => true,
        Some((lo, incl)) => n > lo || (incl && n == lo),
    };
    let below = match r.upper {
        None => true,
        Some((hi, incl)) => n < hi || (incl && n == hi),
    };
    above && below
}

/// Glob matching with `*` only: the first segment is a prefix, the last a suffix, the middle
/// ones are found left to right (greedy-leftmost is exact for `*`-only globs).
pub(super) fn wildcard(w: &Wildcard, s: &str) -> bool {
    let segs = &w.segments;
    let (Some(first), Some(last)) = (segs.first(), segs.last()) else {
        return false;
    };
    if segs.len() == 1 {
        return s == first;
    }
    if !s.starts_with(first.as_str()) {
        return false;
    }
    let mut rest = &s[first.len()..];
    for mid in &segs[1..segs.len() - 1] {
        match rest.find(mid.as_str()) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last.as_str())
}

fn in_net(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}
