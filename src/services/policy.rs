//! Resource-based policies of functions: AddPermission, RemovePermission, GetPolicy, stored
//! as the IAM policy document AWS returns (`{"Version","Id","Statement":[…]}`), one per
//! function and qualifier. lambdabox needs no permission for its own triggers, but a policy
//! that is set is honoured: [`allows_events`] lets a rule invoke a function that has a
//! policy only if a statement allows `events.amazonaws.com` (with a matching `SourceArn`
//! and `SourceAccount` when the statement names them). IAM policy evaluation for API
//! callers reads the same documents.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::functions;
use super::Context;
use crate::domain::arn::FunctionRef;
use crate::domain::Error;
use crate::store::policies;

/// AddPermission's input.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub event_source_token: Option<String>,
    pub revision_id: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    pub principal_org_id: Option<String>,
    pub function_url_auth_type: Option<String>,
    pub invoked_via_function_url: Option<bool>,
}

fn required<'a>(v: &'a Option<String>, member: &str) -> Result<&'a str, Error> {
    v.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn pattern_ok(v: &str, ok: impl Fn(char) -> bool) -> bool {
    !v.is_empty() && v.chars().all(ok)
}

/// The statement AddPermission writes.
fn statement(p: &Permission, resource: &str) -> Result<Value, Error> {
    let sid = required(&p.statement_id, "statementId")?;
    if sid.len() > 100 || !pattern_ok(sid, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::constraint(
            sid,
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
        ));
    }
    let action = required(&p.action, "action")?;
    let action_ok = action == "*"
        || action == "lambda:*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|a| pattern_ok(a, |c| c.is_ascii_alphabetic()));
    if !action_ok {
        return Err(Error::constraint(
            action,
            "action",
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        ));
    }
    let principal = required(&p.principal, "principal")?;
    if principal.chars().any(char::is_whitespace) {
        return Err(Error::constraint(
            principal,
            "principal",
            "Member must satisfy regular expression pattern: [^\\s]+",
        ));
    }
    let principal_value = if principal == "*" {
        json!("*")
    } else if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    } else if principal.starts_with("arn:") {
        json!({ "AWS": principal })
    } else {
        json!({ "Service": principal })
    };
    let mut condition = Map::new();
    let mut add = |op: &str, key: &str, v: &str| {
        let entry = condition.entry(op.to_string()).or_insert_with(|| json!({}));
        entry[key] = json!(v);
    };
    if let Some(a) = p.source_arn.as_deref().filter(|s| !s.is_empty()) {
        add("ArnLike", "AWS:SourceArn", a);
    }
    if let Some(a) = p.source_account.as_deref().filter(|s| !s.is_empty()) {
        add("StringEquals", "AWS:SourceAccount", a);
    }
    if let Some(a) = p.principal_org_id.as_deref().filter(|s| !s.is_empty()) {
        add("StringEquals", "aws:PrincipalOrgID", a);
    }
    if let Some(a) = p.event_source_token.as_deref().filter(|s| !s.is_empty()) {
        add("StringEquals", "lambda:EventSourceToken", a);
    }
    if let Some(a) = p
        .function_url_auth_type
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        if a != "NONE" && a != "AWS_IAM" {
            return Err(Error::constraint(
                a,
                "functionUrlAuthType",
                "Member must satisfy enum value set: [NONE, AWS_IAM]",
            ));
        }
        add("StringEquals", "lambda:FunctionUrlAuthType", a);
    }
    if p.invoked_via_function_url == Some(true) {
        add("Bool", "lambda:InvokedViaFunctionUrl", "true");
    }
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_value,
        "Action": action,
        "Resource": resource,
    });
    if !condition.is_empty() {
        s["Condition"] = Value::Object(condition);
    }
    Ok(s)
}

fn revision_mismatch() -> Error {
    Error::PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id".into(),
    )
}

/// The resource ARN and the stored qualifier key of `r` (checked to exist).
async fn resource(ctx: &Context, r: &FunctionRef) -> Result<(String, String), Error> {
    functions::get(ctx, r).await?;
    Ok(match &r.qualifier {
        Some(q) => (ctx.identity.qualified_arn(&r.name, q), q.clone()),
        None => (ctx.identity.function_arn(&r.name), String::new()),
    })
}

/// AddPermission: returns the statement written.
pub async fn add(ctx: &Context, r: &FunctionRef, p: Permission) -> Result<Value, Error> {
    let (arn, q) = resource(ctx, r).await?;
    let s = statement(&p, &arn)?;
    let name = r.name.clone();
    let written = s.clone();
    let want_rev = p.revision_id.clone().filter(|x| !x.is_empty());
    let written_ok = ctx
        .store
        .call(move |c| {
            policies::update(c, &name, &q, |cur| {
                if let Some(want) = &want_rev {
                    if cur.map(|p| &p.revision_id) != Some(want) {
                        return Err(revision_mismatch());
                    }
                }
                let mut doc = cur.map(|p| p.document.clone()).unwrap_or_else(|| {
                    json!({ "Version": "2012-10-17", "Id": "default", "Statement": [] })
                });
                let list = doc["Statement"].as_array_mut().ok_or_else(|| Error::Service("a stored policy is corrupt".into()))?;
                if list.iter().any(|x| x["Sid"] == written["Sid"]) {
                    return Err(Error::ResourceConflict(
                        "The statement id (sid) provided already exists. Please provide a new statement id, or remove the existing statement.".into(),
                    ));
                }
                list.push(written);
                Ok(Some(doc))
            })
        })
        .await;
    ctx.versions.changed();
    written_ok?;
    Ok(s)
}

/// RemovePermission.
pub async fn remove(
    ctx: &Context,
    r: &FunctionRef,
    sid: &str,
    revision_id: Option<String>,
) -> Result<(), Error> {
    let (_, q) = resource(ctx, r).await?;
    let (name, sid) = (r.name.clone(), sid.to_string());
    let removed = ctx
        .store
        .call(move |c| {
            policies::update(c, &name, &q, |cur| {
                let missing = || {
                    Error::ResourceNotFound(format!(
                        "Statement {sid} is not found in resource policy."
                    ))
                };
                let Some(cur) = cur else {
                    return Err(missing());
                };
                if let Some(want) = revision_id.as_ref().filter(|x| !x.is_empty()) {
                    if &cur.revision_id != want {
                        return Err(revision_mismatch());
                    }
                }
                let mut doc = cur.document.clone();
                let list = doc["Statement"].as_array_mut().ok_or_else(missing)?;
                let before = list.len();
                list.retain(|x| x["Sid"] != json!(sid));
                if list.len() == before {
                    return Err(missing());
                }
                Ok(if list.is_empty() { None } else { Some(doc) })
            })
        })
        .await;
    ctx.versions.changed();
    removed?;
    Ok(())
}

/// GetPolicy: the document as JSON text and its revision.
pub async fn get(ctx: &Context, r: &FunctionRef) -> Result<(String, String), Error> {
    let (_, q) = resource(ctx, r).await?;
    let name = r.name.clone();
    let p = ctx.store.call(move |c| policies::get(c, &name, &q)).await?;
    p.map(|p| (p.document.to_string(), p.revision_id))
        .ok_or_else(|| Error::ResourceNotFound("The resource you requested does not exist.".into()))
}

/// Policies read ahead for a burst of rule firings: (function, qualifier or '') → its policy.
pub type Known = HashMap<(String, String), Option<policies::Policy>>;

/// The (function, qualifier) key under which [`Known`] holds `f`'s policy.
pub fn known_key(f: &FunctionRef) -> (String, String) {
    (f.name.clone(), f.qualifier.clone().unwrap_or_default())
}

/// Reads the policies of `keys` in one store call.
pub async fn read_known(ctx: &Context, keys: Vec<(String, String)>) -> Result<Known, Error> {
    Ok(ctx
        .store
        .call(move |c| {
            keys.into_iter()
                .map(|(name, q)| {
                    let p = policies::get(c, &name, &q)?;
                    Ok(((name, q), p))
                })
                .collect::<Result<Known, _>>()
        })
        .await?)
}

/// Whether a rule (`source_arn`) may invoke `f`: yes when the function (at the target's
/// qualifier) has no policy; otherwise only if a statement allows it.
pub async fn allows_events(ctx: &Context, f: &FunctionRef, source_arn: &str) -> Result<(), Error> {
    let name = f.name.clone();
    let q = f.qualifier.clone().unwrap_or_default();
    let p = ctx.store.call(move |c| policies::get(c, &name, &q)).await?;
    events_allowed(ctx, f, source_arn, p.as_ref())
}

/// [`allows_events`] with the policy already read.
pub fn events_allowed(
    ctx: &Context,
    f: &FunctionRef,
    source_arn: &str,
    p: Option<&policies::Policy>,
) -> Result<(), Error> {
    let Some(p) = p else { return Ok(()) };
    let statements = p.document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if statements.iter().any(|s| {
        allows(
            s,
            "events.amazonaws.com",
            source_arn,
            &ctx.identity.account_id,
        )
    }) {
        return Ok(());
    }
    Err(Error::InvalidParameterValue(format!(
        "AccessDenied: the resource policy of function {} does not allow events.amazonaws.com to invoke it from {source_arn} (add a permission with aws lambda add-permission --principal events.amazonaws.com --source-arn {source_arn}).",
        f.name
    )))
}

/// Whether `service` (`s3.amazonaws.com`) may invoke `f` from `source_arn`: yes when the
/// function (at its qualifier) has no policy; otherwise only if a statement allows it.
pub async fn allows_service(
    ctx: &Context,
    f: &FunctionRef,
    service: &str,
    source_arn: &str,
) -> Result<(), Error> {
    let name = f.name.clone();
    let q = f.qualifier.clone().unwrap_or_default();
    let p = ctx.store.call(move |c| policies::get(c, &name, &q)).await?;
    let Some(p) = p else { return Ok(()) };
    let statements = p.document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if statements
        .iter()
        .any(|s| allows(s, service, source_arn, &ctx.identity.account_id))
    {
        return Ok(());
    }
    Err(Error::InvalidParameterValue(format!(
        "the resource policy of function {} does not allow {service} to invoke it from {source_arn} (aws lambda add-permission --principal {service} --source-arn {source_arn})",
        f.name
    )))
}

/// Whether one statement allows `service` to invoke from `source_arn` in `account`.
fn allows(s: &Value, service: &str, source_arn: &str, account: &str) -> bool {
    if s["Effect"] != "Allow" {
        return false;
    }
    let principal_ok = match &s["Principal"] {
        Value::String(p) => p == "*",
        Value::Object(o) => match o.get("Service") {
            Some(Value::String(x)) => x == service || x == "*",
            Some(Value::Array(a)) => a.iter().any(|x| x == service),
            _ => o.get("AWS").is_some_and(|a| a == "*"),
        },
        _ => false,
    };
    let action_ok = match &s["Action"] {
        Value::String(a) => matches!(a.as_str(), "lambda:InvokeFunction" | "lambda:*" | "*"),
        Value::Array(a) => a
            .iter()
            .any(|a| matches!(a.as_str(), Some("lambda:InvokeFunction" | "lambda:*" | "*"))),
        _ => false,
    };
    if !principal_ok || !action_ok {
        return false;
    }
    let Some(cond) = s.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    cond.iter().all(|(op, kv)| {
        let Some(kv) = kv.as_object() else {
            return false;
        };
        kv.iter().all(|(k, v)| {
            let want = v.as_str().unwrap_or("");
            match (op.as_str(), k.to_ascii_lowercase().as_str()) {
                ("ArnLike" | "StringLike", "aws:sourcearn") => glob(want, source_arn),
                ("ArnEquals" | "StringEquals", "aws:sourcearn") => want == source_arn,
                ("StringEquals", "aws:sourceaccount") => want == account,
                _ => false,
            }
        })
    })
}

/// IAM's `*` and `?` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_read_as_aws_writes_them() {
        let p = Permission {
            statement_id: Some("ev".into()),
            action: Some("lambda:InvokeFunction".into()),
            principal: Some("events.amazonaws.com".into()),
            source_arn: Some("arn:aws:events:us-east-1:000000000000:rule/r*".into()),
            ..Default::default()
        };
        let s = statement(&p, "arn:aws:lambda:us-east-1:000000000000:function:f").unwrap();
        assert_eq!(s["Principal"], json!({"Service": "events.amazonaws.com"}));
        assert_eq!(
            s["Condition"]["ArnLike"]["AWS:SourceArn"],
            json!("arn:aws:events:us-east-1:000000000000:rule/r*")
        );
        let acct = "000000000000";
        assert!(allows(
            &s,
            "events.amazonaws.com",
            "arn:aws:events:us-east-1:000000000000:rule/r1",
            acct
        ));
        assert!(!allows(
            &s,
            "events.amazonaws.com",
            "arn:aws:events:us-east-1:000000000000:rule/x",
            acct
        ));
        assert!(!allows(
            &s,
            "s3.amazonaws.com",
            "arn:aws:events:us-east-1:000000000000:rule/r1",
            acct
        ));
        let p = Permission {
            statement_id: Some("acct".into()),
            action: Some("lambda:*".into()),
            principal: Some("123456789012".into()),
            ..Default::default()
        };
        let s = statement(&p, "arn").unwrap();
        assert_eq!(
            s["Principal"],
            json!({"AWS": "arn:aws:iam::123456789012:root"})
        );
        assert!(!allows(&s, "events.amazonaws.com", "arn:x", acct));
        assert!(statement(
            &Permission {
                statement_id: Some("a b".into()),
                ..p.clone()
            },
            "arn"
        )
        .is_err());
        assert!(glob("a*c?e", "abbbcde"));
        assert!(!glob("a*c", "abd"));
    }
}
