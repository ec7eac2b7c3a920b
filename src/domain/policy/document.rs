//! Policy documents: parsing and the checks IAM makes before it stores one (the messages are
//! IAM's `MalformedPolicyDocument` texts).

use serde_json::{Map, Value};

use super::condition::Condition;

/// Where a document is used; decides which elements it must and must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Inline and managed policies of roles (and session policies): no `Principal`.
    Identity,
    /// A role's trust policy: a `Principal`, no `Resource`.
    Trust,
    /// A resource's policy (a function's): a `Principal` and a `Resource`.
    Resource,
}

/// Why a document was refused (IAM's `MalformedPolicyDocument` message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn bad(m: impl Into<String>) -> PolicyError {
    PolicyError(m.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A statement's `Principal` (or `NotPrincipal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"` or `{"AWS": "*"}`.
    Any,
    /// (type, value): `("AWS", "arn:aws:iam::123456789012:root")`, `("Service",
    /// "lambda.amazonaws.com")`.
    Named(Vec<(String, String)>),
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `(negated, principals)`: `NotPrincipal` when negated.
    pub principal: Option<(bool, Principals)>,
    /// `(negated, patterns)`: `NotAction` when negated.
    pub actions: (bool, Vec<String>),
    /// `(negated, patterns)`: `NotResource` when negated; `None` in trust policies.
    pub resources: Option<(bool, Vec<String>)>,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `2012-10-17` (policy variables) or `2008-10-17` (none).
    pub version: String,
    pub statements: Vec<Statement>,
}

impl Document {
    /// Parses and checks `text` for use as `kind`.
    pub fn parse(text: &str, kind: Kind) -> Result<Document, PolicyError> {
        let v: Value =
            serde_json::from_str(text).map_err(|_| bad("This policy contains invalid Json"))?;
        Document::from_value(&v, kind)
    }

    /// Checks an already-parsed JSON value.
    pub fn from_value(v: &Value, kind: Kind) -> Result<Document, PolicyError> {
        let obj = v
            .as_object()
            .ok_or_else(|| bad("Syntax errors in policy."))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
                return Err(bad("Syntax errors in policy."));
            }
        }
        let version = match obj.get("Version") {
            None => "2008-10-17".to_string(),
            Some(Value::String(s)) if s == "2012-10-17" || s == "2008-10-17" => s.clone(),
            Some(_) => return Err(bad("The policy failed legacy parsing")),
        };
        let statements = match obj.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            Some(s @ Value::Object(_)) => vec![s],
            _ => return Err(bad("Syntax errors in policy.")),
        };
        let statements = statements
            .into_iter()
            .map(|s| statement(s, kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Document {
            version,
            statements,
        })
    }

    /// True when policy variables are resolved (version 2012-10-17).
    pub fn has_variables(&self) -> bool {
        self.version == "2012-10-17"
    }
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    let err = || {
        bad(format!(
            "Syntax errors in policy. The {what} element must be a string or a list of strings."
        ))
    };
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(err))
            .collect(),
        _ => Err(err()),
    }
}

fn one_of<'a>(
    s: &'a Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (s.get(plain), s.get(not)) {
        (Some(_), Some(_)) => Err(bad(format!(
            "Syntax errors in policy. A statement cannot have both {plain} and {not}."
        ))),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn statement(v: &Value, kind: Kind) -> Result<Statement, PolicyError> {
    let s = v
        .as_object()
        .ok_or_else(|| bad("Syntax errors in policy."))?;
    for k in s.keys() {
        if !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(bad("Syntax errors in policy."));
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(x)) => Some(x.clone()),
        Some(_) => return Err(bad("Syntax errors in policy.")),
    };
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(bad(format!("Invalid effect: {other}"))),
        None => return Err(bad("Missing required field Effect")),
    };
    let principal = match one_of(s, "Principal", "NotPrincipal")? {
        Some((neg, v)) => {
            if kind == Kind::Identity {
                return Err(bad("Policy document should not specify a principal."));
            }
            Some((neg, principals(v)?))
        }
        None if kind != Kind::Identity => {
            return Err(bad("Missing required field Principal"));
        }
        None => None,
    };
    let (neg, actions) = one_of(s, "Action", "NotAction")?
        .ok_or_else(|| bad("Policy statement must contain actions."))?;
    let actions = strings(actions, "Action")?;
    for a in &actions {
        if a != "*" && !a.contains(':') {
            return Err(bad(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            ));
        }
    }
    let resources = match one_of(s, "Resource", "NotResource")? {
        Some(_) if kind == Kind::Trust => return Err(bad("Has prohibited field Resource")),
        Some((neg, v)) => {
            let r = strings(v, "Resource")?;
            for x in &r {
                if x != "*" && !x.starts_with("arn:") && !x.starts_with("${") {
                    return Err(bad(format!("Resource {x} must be in ARN format or \"*\".")));
                }
            }
            Some((neg, r))
        }
        None if kind == Kind::Trust => None,
        None => return Err(bad("Policy statement must contain resources.")),
    };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(ops)) => Condition::parse_all(ops)?,
        Some(_) => return Err(bad("Syntax errors in policy.")),
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        actions: (neg, actions),
        resources,
        conditions,
    })
}

fn principals(v: &Value) -> Result<Principals, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(m) => {
            let mut out = Vec::new();
            for (kind, values) in m {
                if !matches!(
                    kind.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(bad(format!("Invalid principal in policy: \"{kind}\"")));
                }
                for value in strings(values, "Principal")? {
                    if kind == "AWS" && value == "*" {
                        return Ok(Principals::Any);
                    }
                    if kind == "AWS"
                        && !value.starts_with("arn:")
                        && !(value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()))
                    {
                        return Err(bad(format!(
                            "Invalid principal in policy: \"AWS\":\"{value}\""
                        )));
                    }
                    out.push((kind.clone(), value));
                }
            }
            Ok(Principals::Named(out))
        }
        _ => Err(bad("Invalid principal in policy")),
    }
}
