//! Resource-based policies of layer versions: AddLayerVersionPermission,
//! RemoveLayerVersionPermission and GetLayerVersionPolicy, stored as the IAM policy document
//! AWS returns (`{"Version","Id":"default","Statement":[…]}`), one per layer version.
//!
//! A statement only ever grants `lambda:GetLayerVersion` on its version, to an account
//! (`{"AWS":"arn:aws:iam::<id>:root"}`) or to everyone (`"*"`), optionally narrowed to an
//! organization (`aws:PrincipalOrgID`). `api::authz` joins the document to the decision on
//! GetLayerVersion, GetLayerVersionByArn and on the layers a CreateFunction or
//! UpdateFunctionConfiguration names, for callers whose calls IAM decides (role sessions and
//! scoped keys; admin keys have full access).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::Context;
use crate::domain::layer;
use crate::domain::Error;
use crate::store::layer_policies as store;
use crate::store::policies::Policy;

/// AWS's limit on a resource-based policy (lambda-compat §10: 20 KB).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// AddLayerVersionPermission's body.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerPermission {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub organization_id: Option<String>,
}

fn required<'a>(v: &'a Option<String>, member: &str) -> Result<&'a str, Error> {
    v.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn twelve_digits(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The `Principal` of a statement, from AddLayerVersionPermission's `Principal`
/// (`\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root`).
fn principal(p: &str) -> Result<Value, Error> {
    if p == "*" {
        return Ok(json!("*"));
    }
    if twelve_digits(p) {
        return Ok(json!({ "AWS": format!("arn:aws:iam::{p}:root") }));
    }
    let root_arn = p
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":iam::"))
        .filter(|(partition, _)| {
            partition
                .strip_prefix("aws")
                .is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
        })
        .and_then(|(_, rest)| rest.strip_suffix(":root"))
        .is_some_and(twelve_digits);
    if root_arn {
        return Ok(json!({ "AWS": p }));
    }
    Err(Error::constraint(
        p,
        "principal",
        "Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root",
    ))
}

/// The statement AddLayerVersionPermission writes for `resource` (the version's ARN).
pub fn statement(p: &LayerPermission, resource: &str) -> Result<Value, Error> {
    let sid = required(&p.statement_id, "statementId")?;
    if sid.len() > 100
        || !sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::constraint(
            sid,
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
        ));
    }
    let action = required(&p.action, "action")?;
    if action != "lambda:GetLayerVersion" {
        return Err(Error::constraint(
            action,
            "action",
            "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
        ));
    }
    let who = principal(required(&p.principal, "principal")?)?;
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": who,
        "Action": action,
        "Resource": resource,
    });
    if let Some(org) = p.organization_id.as_deref().filter(|o| !o.is_empty()) {
        let ok = org.len() <= 34
            && org.strip_prefix("o-").is_some_and(|t| {
                (10..=32).contains(&t.len())
                    && t.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !ok {
            return Err(Error::constraint(
                org,
                "organizationId",
                "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}",
            ));
        }
        s["Condition"] = json!({ "StringEquals": { "aws:PrincipalOrgID": org } });
    }
    Ok(s)
}

fn revision_mismatch() -> Error {
    Error::PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetLayerVersionPolicy API to retrieve the latest Revision Id".into(),
    )
}

fn version_missing(ctx: &Context, name: &str, version: i64) -> Error {
    Error::ResourceNotFound(format!(
        "Layer version {} does not exist.",
        ctx.identity.layer_version_arn(name, version)
    ))
}

/// The document after adding `s` to `current` (refusing a duplicate statement id and a
/// document over [`MAX_POLICY_BYTES`]).
fn with_statement(current: Option<&Policy>, s: Value) -> Result<Value, Error> {
    let mut doc = current
        .map(|p| p.document.clone())
        .unwrap_or_else(|| json!({ "Version": "2012-10-17", "Id": "default", "Statement": [] }));
    let list = doc["Statement"]
        .as_array_mut()
        .ok_or_else(|| Error::Service("a stored policy is corrupt".into()))?;
    if list.iter().any(|x| x["Sid"] == s["Sid"]) {
        return Err(Error::ResourceConflict(
            "The statement id (sid) provided already exists. Please provide a new statement id, or remove the existing statement.".into(),
        ));
    }
    list.push(s);
    let size = doc.to_string().len();
    if size > MAX_POLICY_BYTES {
        return Err(Error::PolicyLengthExceeded(format!(
            "The final policy size ({size}) is bigger than the limit ({MAX_POLICY_BYTES})."
        )));
    }
    Ok(doc)
}

/// AddLayerVersionPermission: the statement written and the policy's new revision.
pub async fn add(
    ctx: &Context,
    name: &str,
    version: i64,
    p: LayerPermission,
    revision_id: Option<String>,
) -> Result<(Value, String), Error> {
    layer::name(name)?;
    let s = statement(&p, &ctx.identity.layer_version_arn(name, version))?;
    let (n, written) = (name.to_string(), s.clone());
    let missing = version_missing(ctx, name, version);
    let want = revision_id.filter(|r| !r.is_empty());
    let policy = ctx
        .store
        .call(move |c| {
            store::update(c, &n, version, missing, |cur| {
                if let Some(want) = &want {
                    if cur.map(|p| &p.revision_id) != Some(want) {
                        return Err(revision_mismatch());
                    }
                }
                with_statement(cur, written).map(Some)
            })
        })
        .await?;
    let rev = policy.map(|p| p.revision_id).unwrap_or_default();
    Ok((s, rev))
}

/// RemoveLayerVersionPermission.
pub async fn remove(
    ctx: &Context,
    name: &str,
    version: i64,
    sid: &str,
    revision_id: Option<String>,
) -> Result<(), Error> {
    layer::name(name)?;
    let (n, sid) = (name.to_string(), sid.to_string());
    let missing = version_missing(ctx, name, version);
    ctx.store
        .call(move |c| {
            store::update(c, &n, version, missing, |cur| {
                let absent = || {
                    Error::ResourceNotFound(format!(
                        "Statement {sid} is not found in resource policy."
                    ))
                };
                let Some(cur) = cur else {
                    return Err(absent());
                };
                if let Some(want) = revision_id.as_ref().filter(|x| !x.is_empty()) {
                    if &cur.revision_id != want {
                        return Err(revision_mismatch());
                    }
                }
                let mut doc = cur.document.clone();
                let list = doc["Statement"].as_array_mut().ok_or_else(absent)?;
                let before = list.len();
                list.retain(|x| x["Sid"] != json!(sid));
                if list.len() == before {
                    return Err(absent());
                }
                Ok(if list.is_empty() { None } else { Some(doc) })
            })
        })
        .await?;
    Ok(())
}

/// GetLayerVersionPolicy: the document as JSON text and its revision.
pub async fn get(ctx: &Context, name: &str, version: i64) -> Result<(String, String), Error> {
    super::layers::get(ctx, name, version).await?;
    let n = name.to_string();
    let p = ctx.store.call(move |c| store::get(c, &n, version)).await?;
    p.map(|p| (p.document.to_string(), p.revision_id))
        .ok_or_else(|| {
            Error::ResourceNotFound("No policy is associated with the given resource.".into())
        })
}

/// The policy document of a layer version given by ARN, for authorization: `None` when the
/// ARN is not a layer version of this host or it has no policy.
pub async fn document_of(ctx: &Context, arn: &str) -> Option<Value> {
    let (name, version) = layer::parse_version_arn(arn, &ctx.identity).ok()?;
    ctx.store
        .call(move |c| store::get(c, &name, version))
        .await
        .ok()
        .flatten()
        .map(|p| p.document)
}

/// One statement as the dashboard shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Grant {
    pub sid: String,
    /// "every account", "account 123456789012", … (and "in organization o-…").
    pub who: String,
}

/// The grants of every live version of layer `name`, by version.
pub async fn grants_of_layer(ctx: &Context, name: &str) -> Result<HashMap<i64, Vec<Grant>>, Error> {
    let n = name.to_string();
    let all = ctx.store.call(move |c| store::of_layer(c, &n)).await?;
    Ok(all
        .into_iter()
        .map(|(v, p)| (v, grants(&p.document)))
        .collect())
}

fn grants(doc: &Value) -> Vec<Grant> {
    let empty = Vec::new();
    doc["Statement"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let mut who = match &s["Principal"] {
                Value::String(p) if p == "*" => "every account".to_string(),
                p => {
                    let arn = p["AWS"].as_str().unwrap_or("");
                    let id = arn
                        .strip_prefix("arn:aws:iam::")
                        .and_then(|r| r.strip_suffix(":root"))
                        .unwrap_or(arn);
                    format!("account {id}")
                }
            };
            if let Some(org) = s["Condition"]["StringEquals"]["aws:PrincipalOrgID"].as_str() {
                who.push_str(&format!(" in organization {org}"));
            }
            Grant {
                sid: s["Sid"].as_str().unwrap_or("").to_string(),
                who,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn perm(principal: &str, action: &str) -> LayerPermission {
        LayerPermission {
            statement_id: Some("s1".into()),
            action: Some(action.into()),
            principal: Some(principal.into()),
            organization_id: None,
        }
    }

    const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:layer:deps:1";

    #[test]
    fn statements_are_written_as_aws_writes_them() {
        let s = statement(&perm("210987654321", "lambda:GetLayerVersion"), ARN).unwrap();
        assert_eq!(
            s,
            json!({"Sid": "s1", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                   "Action": "lambda:GetLayerVersion", "Resource": ARN})
        );
        let s = statement(
            &perm("arn:aws:iam::210987654321:root", "lambda:GetLayerVersion"),
            ARN,
        )
        .unwrap();
        assert_eq!(s["Principal"]["AWS"], "arn:aws:iam::210987654321:root");
        let mut p = perm("*", "lambda:GetLayerVersion");
        p.organization_id = Some("o-t194hfs8cz".into());
        let s = statement(&p, ARN).unwrap();
        assert_eq!(s["Principal"], "*");
        assert_eq!(
            s["Condition"],
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-t194hfs8cz"}})
        );
        assert_eq!(
            grants(&json!({"Statement": [s]}))[0].who,
            "every account in organization o-t194hfs8cz"
        );
    }

    #[test]
    fn bad_members_are_refused_with_the_models_constraints() {
        for (principal, action, member) in [
            ("*", "lambda:InvokeFunction", "'action'"),
            ("*", "lambda:getlayerversion", "'action'"),
            ("12345", "lambda:GetLayerVersion", "'principal'"),
            (
                "arn:aws:iam::210987654321:user/u",
                "lambda:GetLayerVersion",
                "'principal'",
            ),
            ("s3.amazonaws.com", "lambda:GetLayerVersion", "'principal'"),
        ] {
            let e = statement(&perm(principal, action), ARN).unwrap_err();
            assert!(
                matches!(&e, Error::Validation(m) if m.contains(member)),
                "{principal} {action}: {e:?}"
            );
        }
        let mut p = perm("*", "lambda:GetLayerVersion");
        p.organization_id = Some("org-1".into());
        assert!(statement(&p, ARN).is_err());
        p.organization_id = None;
        p.statement_id = Some("a b".into());
        assert!(statement(&p, ARN).is_err());
        p.statement_id = None;
        assert!(statement(&p, ARN).is_err());
    }

    #[test]
    fn duplicates_and_the_size_limit() {
        let s = statement(&perm("*", "lambda:GetLayerVersion"), ARN).unwrap();
        let doc = with_statement(None, s.clone()).unwrap();
        let cur = Policy {
            document: doc,
            revision_id: "r".into(),
        };
        assert!(matches!(
            with_statement(Some(&cur), s),
            Err(Error::ResourceConflict(_))
        ));
        let mut big = cur.clone();
        for i in 0..200 {
            let mut p = perm("210987654321", "lambda:GetLayerVersion");
            p.statement_id = Some(format!("statement-number-{i:03}"));
            match with_statement(Some(&big), statement(&p, ARN).unwrap()) {
                Ok(d) => big.document = d,
                Err(Error::PolicyLengthExceeded(m)) => {
                    assert!(m.contains("(20480)"), "{m}");
                    return;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        panic!("the limit was never reached");
    }
}
