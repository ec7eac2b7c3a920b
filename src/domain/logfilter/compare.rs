//! Comparison of a field's value with a pattern's value: numbers numerically, strings
//! exactly or with `*` wildcards, as both JSON and space-delimited patterns do.

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    /// A string, possibly with `*` wildcards.
    Text(String),
}

impl Value {
    /// A bare word: a number if it reads as one, else text.
    pub fn bare(w: &str) -> Value {
        match w.parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Number(n),
            _ => Value::Text(w.to_string()),
        }
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == last {
            return rest.ends_with(p);
        } else if let Some(pos) = rest.find(p) {
            rest = &rest[pos + p.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Compares a field that holds `number` (if it is one) and `text` with `v`.
pub fn compare(op: Op, field_number: Option<f64>, field_text: &str, v: &Value) -> bool {
    match v {
        Value::Number(n) => match field_number {
            Some(f) => match op {
                Op::Eq => f == *n,
                Op::Ne => f != *n,
                Op::Lt => f < *n,
                Op::Le => f <= *n,
                Op::Gt => f > *n,
                Op::Ge => f >= *n,
            },
            None => op == Op::Ne,
        },
        Value::Text(t) => match op {
            Op::Eq => wildcard(t, field_text),
            Op::Ne => !wildcard(t, field_text),
            _ => false,
        },
    }
}
