//! Checking a pattern's JSON and turning it into the matcher tree. Every refusal says what is
//! wrong and where (`detail.state[0]`), so a user can fix a rule from the message alone.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{Exclusion, Field, Matcher, Node, PatternError, Range, Scalar, Wildcard};

/// Largest magnitude of a number in a `numeric` match, as EventBridge documents it.
const NUMERIC_LIMIT: f64 = 5.0e9;

fn err(reason: impl Into<String>, path: &str) -> PatternError {
    PatternError {
        reason: reason.into(),
        path: path.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The whole pattern: a non-empty object.
pub(super) fn root(value: &Value) -> Result<Node, PatternError> {
    match value {
        Value::Object(map) => node(map, ""),
        _ => Err(err("the pattern must be a JSON object", "")),
    }
}

fn node(map: &Map<String, Value>, path: &str) -> Result<Node, PatternError> {
    if map.is_empty() {
        return Err(err(
            "an object in a pattern must name at least one field",
            path,
        ));
    }
    let mut out = Node {
        fields: Vec::new(),
        any_of: Vec::new(),
    };
    for (key, value) in map {
        let here = join(path, key);
        if key == "$or" {
            out.any_of.push(alternatives(value, &here)?);
            continue;
        }
        let field = match value {
            Value::Object(inner) => Field::Nested(node(inner, &here)?),
            Value::Array(items) => Field::Leaf(leaf(items, &here)?),
            _ => {
                return Err(err(
                    format!("match values must be inside an array: write \"{key}\": [{value}]"),
                    &here,
                ))
            }
        };
        out.fields.push((key.clone(), field));
    }
    Ok(out)
}

fn alternatives(value: &Value, path: &str) -> Result<Vec<Node>, PatternError> {
    let Value::Array(items) = value else {
        return Err(err("$or takes an array of patterns", path));
    };
    if items.len() < 2 {
        return Err(err("$or needs at least two patterns", path));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => node(map, &format!("{path}[{i}]")),
            _ => Err(err(
                "each $or alternative must be an object",
                &format!("{path}[{i}]"),
            )),
        })
        .collect()
}

fn leaf(items: &[Value], path: &str) -> Result<Vec<Matcher>, PatternError> {
    if items.is_empty() {
        return Err(err("a match array must not be empty", path));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| matcher(item, &format!("{path}[{i}]")))
        .collect()
}

fn scalar(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(s) => Some(Scalar::Str(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Num),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        _ => None,
    }
}

fn matcher(value: &Value, path: &str) -> Result<Matcher, PatternError> {
    if let Some(s) = scalar(value) {
        return Ok(Matcher::Exact(s));
    }
    let Value::Object(op) = value else {
        return Err(err(
            "a match value must be a string, number, true, false, null or an operator object",
            path,
        ));
    };
    let mut entries = op.iter();
    let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
        return Err(err(
            "an operator object must have exactly one key, e.g. {\"prefix\": \"abc\"}",
            path,
        ));
    };
    let here = join(path, name);
    match name.as_str() {
        "prefix" => {
            let (text, ignore_case) = affix(arg, &here)?;
            Ok(Matcher::Prefix { text, ignore_case })
        }
        "suffix" => {
            let (text, ignore_case) = affix(arg, &here)?;
            Ok(Matcher::Suffix { text, ignore_case })
        }
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(string(arg, &here)?)),
        "wildcard" => Ok(Matcher::Wildcard(wildcard(&string(arg, &here)?, &here)?)),
        "anything-but" => Ok(Matcher::AnythingBut(exclusion(arg, &here)?)),
        "numeric" => Ok(Matcher::Numeric(range(arg, &here)?)),
        "exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err(err("exists takes true or false", &here)),
        },
        "cidr" => cidr(arg, &here),
        other => Err(err(
            format!(
                "unknown match operator \"{other}\"; use prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists or cidr"
            ),
            path,
        )),
    }
}

fn string(value: &Value, path: &str) -> Result<String, PatternError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(err("this operator takes a string", path)),
    }
}

/// The argument of `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}`.
fn affix(value: &Value, path: &str) -> Result<(String, bool), PatternError> {
    match value {
        Value::String(s) => Ok((s.clone(), false)),
        Value::Object(map) if map.len() == 1 => match map.get("equals-ignore-case") {
            Some(Value::String(s)) => Ok((s.to_lowercase(), true)),
            _ => Err(err(
                "takes a string or {\"equals-ignore-case\": string}",
                path,
            )),
        },
        _ => Err(err(
            "takes a string or {\"equals-ignore-case\": string}",
            path,
        )),
    }
}

/// Splits a wildcard at unescaped `*`; `\*` is a literal star and `\\` a literal backslash.
pub(super) fn wildcard(text: &str, path: &str) -> Result<Wildcard, PatternError> {
    let mut segments = vec![String::new()];
    let mut chars = text.chars();
    let mut last_was_star = false;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if last_was_star {
                    return Err(err(
                        "consecutive wildcard characters (**) are not allowed",
                        path,
                    ));
                }
                segments.push(String::new());
                last_was_star = true;
                continue;
            }
            '\\' => match chars.next() {
                Some(e @ ('*' | '\\')) => push(&mut segments, e),
                _ => {
                    return Err(err(
                        "a backslash in a wildcard must be followed by * or \\",
                        path,
                    ))
                }
            },
            other => push(&mut segments, other),
        }
        last_was_star = false;
    }
    Ok(Wildcard { segments })
}

fn push(segments: &mut [String], c: char) {
    if let Some(last) = segments.last_mut() {
        last.push(c);
    }
}

fn exclusion(value: &Value, path: &str) -> Result<Exclusion, PatternError> {
    match value {
        Value::String(_) | Value::Number(_) => {
            Ok(Exclusion::Values(scalar(value).into_iter().collect()))
        }
        Value::Array(items) => {
            if items.is_empty() {
                return Err(err("anything-but needs at least one value", path));
            }
            let all_strings = items.iter().all(Value::is_string);
            let all_numbers = items.iter().all(Value::is_number);
            if !all_strings && !all_numbers {
                return Err(err(
                    "the values of anything-but must be all strings or all numbers",
                    path,
                ));
            }
            Ok(Exclusion::Values(items.iter().filter_map(scalar).collect()))
        }
        Value::Object(map) => {
            let mut entries = map.iter();
            let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
                return Err(err(
                    "anything-but takes one operator: prefix, suffix, equals-ignore-case or wildcard",
                    path,
                ));
            };
            let here = join(path, name);
            match name.as_str() {
                "prefix" => Ok(Exclusion::Prefix(string(arg, &here)?)),
                "suffix" => Ok(Exclusion::Suffix(string(arg, &here)?)),
                "equals-ignore-case" => Ok(Exclusion::IgnoreCase(
                    strings(arg, &here)?
                        .into_iter()
                        .map(|s| s.to_lowercase())
                        .collect(),
                )),
                "wildcard" => Ok(Exclusion::Wildcards(
                    strings(arg, &here)?
                        .iter()
                        .map(|s| wildcard(s, &here))
                        .collect::<Result<_, _>>()?,
                )),
                other => Err(err(
                    format!("anything-but cannot take \"{other}\"; use prefix, suffix, equals-ignore-case or wildcard"),
                    path,
                )),
            }
        }
        _ => Err(err(
            "anything-but takes a string, a number, a list of them, or an operator object",
            path,
        )),
    }
}

/// A string or a non-empty list of strings.
fn strings(value: &Value, path: &str) -> Result<Vec<String>, PatternError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| string(v, path))
            .collect::<Result<_, _>>(),
        _ => Err(err("takes a string or a non-empty list of strings", path)),
    }
}

fn range(value: &Value, path: &str) -> Result<Range, PatternError> {
    let Value::Array(items) = value else {
        return Err(err(
            "numeric takes an array such as [\">\", 0, \"<=\", 5]",
            path,
        ));
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(err(
            "numeric takes one or two operator/number pairs, such as [\">\", 0, \"<=\", 5]",
            path,
        ));
    }
    let mut out = Range {
        lower: None,
        upper: None,
    };
    for pair in items.chunks(2) {
        let (Some(Value::String(op)), Some(Value::Number(n))) = (pair.first(), pair.get(1)) else {
            return Err(err(
                "numeric takes operator/number pairs: an operator string, then a number",
                path,
            ));
        };
        let n = n.as_f64().unwrap_or(f64::NAN);
        if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&n) {
            return Err(err(
                "numbers in a numeric match must be between -5.0e9 and 5.0e9",
                path,
            ));
        }
        let slot = match op.as_str() {
            "=" => {
                if items.len() != 2 {
                    return Err(err("\"=\" cannot be combined with another bound", path));
                }
                out.lower = Some((n, true));
                out.upper = Some((n, true));
                continue;
            }
            ">" | ">=" => &mut out.lower,
            "<" | "<=" => &mut out.upper,
            other => {
                return Err(err(
                    format!("unknown numeric operator \"{other}\"; use =, <, <=, > or >="),
                    path,
                ))
            }
        };
        if slot.is_some() {
            return Err(err(
                "numeric takes at most one lower bound (> or >=) and one upper bound (< or <=)",
                path,
            ));
        }
        *slot = Some((n, op.ends_with('=')));
    }
    if let (Some((lo, lo_incl)), Some((hi, hi_incl))) = (out.lower, out.upper) {
        if lo > hi || (lo == hi && !(lo_incl && hi_incl)) {
            return Err(err(
                "the lower bound of a numeric range must be below its upper bound",
                path,
            ));
        }
    }
    Ok(out)
}

fn cidr(value: &Value, path: &str) -> Result<Matcher, PatternError> {
    let text = string(value, path)?;
    let bad = || {
        err(
            format!("\"{text}\" is not a CIDR block such as 10.0.0.0/24 or 2001:db8::/32"),
            path,
        )
    };
    let (addr, bits) = text.split_once('/').ok_or_else(bad)?;
    let net: IpAddr = addr.parse().map_err(|_| bad())?;
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(bad());
    }
    Ok(Matcher::Cidr { net, bits })
}
