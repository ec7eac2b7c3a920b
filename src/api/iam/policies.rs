//! Managed policy operations on the wire.

use serde_json::{json, Value};

use super::wire::{boolean, date, document, handlers, integer, required};
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::iam::IamError;
use crate::services::iam::page;
use crate::services::iam::policies::{self, PolicyView, VersionView};

handlers! {
    create_policy => create,
    get_policy => get,
    delete_policy => delete,
    list_policies => list,
    create_policy_version => create_version,
    get_policy_version => get_version,
    list_policy_versions => list_versions,
    delete_policy_version => delete_version,
    set_default_policy_version => set_default,
}

fn policy_json(p: &PolicyView) -> Value {
    let mut v = json!({
        "PolicyName": p.name,
        "PolicyId": p.policy_id,
        "Arn": p.arn,
        "Path": p.path,
        "DefaultVersionId": p.default_version,
        "AttachmentCount": p.attachment_count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": true,
        "CreateDate": date(p.created_ms),
        "UpdateDate": date(p.updated_ms),
    });
    if !p.description.is_empty() {
        v["Description"] = json!(p.description);
    }
    v
}

fn version_json(v: &VersionView, with_document: bool) -> Value {
    let mut out = json!({
        "VersionId": v.version_id,
        "IsDefaultVersion": v.is_default,
        "CreateDate": date(v.created_ms),
    });
    if with_document {
        out["Document"] = json!(document(&v.document));
    }
    out
}

async fn create(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let name = required(p, "PolicyName", "policyName")?;
    let doc = required(p, "PolicyDocument", "policyDocument")?;
    let view = policies::create(&state.ctx, name, p.get("Path"), doc, p.get("Description")).await?;
    Ok(json!({ "Policy": policy_json(&view) }))
}

async fn get(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let arn = required(&req.params, "PolicyArn", "policyArn")?;
    let view = policies::get(&state.ctx, arn).await?;
    Ok(json!({ "Policy": policy_json(&view) }))
}

async fn delete(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let arn = required(&req.params, "PolicyArn", "policyArn")?;
    policies::delete(&state.ctx, arn).await?;
    Ok(Value::Null)
}

async fn list(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let scope = p.get("Scope").unwrap_or("All");
    let only_attached = boolean(p, "OnlyAttached")?.unwrap_or(false);
    let all = policies::list(&state.ctx, scope, only_attached, p.get("PathPrefix")).await?;
    let (items, marker) = page(
        all,
        |v| v.name.as_str(),
        p.get("Marker"),
        integer(p, "MaxItems", "maxItems")?,
    )?;
    let mut v = json!({
        "Policies": items.iter().map(policy_json).collect::<Vec<_>>(),
        "IsTruncated": marker.is_some(),
    });
    if let Some(m) = marker {
        v["Marker"] = json!(m);
    }
    Ok(v)
}

async fn create_version(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let arn = required(p, "PolicyArn", "policyArn")?;
    let doc = required(p, "PolicyDocument", "policyDocument")?;
    let set_default = boolean(p, "SetAsDefault")?.unwrap_or(false);
    let v = policies::create_version(&state.ctx, arn, doc, set_default).await?;
    Ok(json!({ "PolicyVersion": version_json(&v, false) }))
}

async fn get_version(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let arn = required(p, "PolicyArn", "policyArn")?;
    let id = required(p, "VersionId", "versionId")?;
    let v = policies::get_version(&state.ctx, arn, id).await?;
    Ok(json!({ "PolicyVersion": version_json(&v, true) }))
}

async fn list_versions(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let arn = required(&req.params, "PolicyArn", "policyArn")?;
    let vs = policies::list_versions(&state.ctx, arn).await?;
    Ok(json!({
        "Versions": vs.iter().map(|v| version_json(v, false)).collect::<Vec<_>>(),
        "IsTruncated": false,
    }))
}

async fn delete_version(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let arn = required(p, "PolicyArn", "policyArn")?;
    let id = required(p, "VersionId", "versionId")?;
    policies::delete_version(&state.ctx, arn, id).await?;
    Ok(Value::Null)
}

async fn set_default(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let arn = required(p, "PolicyArn", "policyArn")?;
    let id = required(p, "VersionId", "versionId")?;
    policies::set_default_version(&state.ctx, arn, id).await?;
    Ok(Value::Null)
}
