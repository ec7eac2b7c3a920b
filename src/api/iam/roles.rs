//! Role operations on the wire.

use serde_json::{json, Value};

use super::wire::{date, document, handlers, integer, required};
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::iam::{role_arn, IamError};
use crate::services::iam::{page, roles};
use crate::store::iam::Role;

handlers! {
    create_role => create,
    get_role => get,
    list_roles => list,
    delete_role => delete,
    update_role => update,
    update_assume_role_policy => update_trust,
    put_role_policy => put_policy,
    get_role_policy => get_policy,
    delete_role_policy => delete_policy,
    list_role_policies => list_policies,
    attach_role_policy => attach,
    detach_role_policy => detach,
    list_attached_role_policies => list_attached,
}

/// The `Role` structure.
pub fn role_json(account: &str, r: &Role, with_tags: bool) -> Value {
    let mut v = json!({
        "Path": r.path,
        "RoleName": r.name,
        "RoleId": r.role_id,
        "Arn": role_arn(account, &r.path, &r.name),
        "CreateDate": date(r.created_ms),
        "AssumeRolePolicyDocument": document(&r.trust_policy),
        "MaxSessionDuration": r.max_session_duration,
    });
    if !r.description.is_empty() {
        v["Description"] = json!(r.description);
    }
    if with_tags && !r.tags.is_empty() {
        v["Tags"] = r
            .tags
            .iter()
            .map(|(k, val)| json!({"Key": k, "Value": val}))
            .collect();
    }
    v
}

async fn create(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    if p.get("PermissionsBoundary").is_some() {
        return Err(IamError::InvalidInput(
            "Permissions boundaries are not supported by lambdabox; create the role without PermissionsBoundary.".into(),
        ));
    }
    let tags = p
        .items("Tags")
        .into_iter()
        .map(|t| {
            (
                t.get("Key").unwrap_or("").to_string(),
                t.get("Value").unwrap_or("").to_string(),
            )
        })
        .collect();
    let input = roles::NewRole {
        name: required(p, "RoleName", "roleName")?.to_string(),
        path: p.get("Path").map(str::to_string),
        trust_policy: required(p, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")?
            .to_string(),
        description: p.get("Description").map(str::to_string),
        max_session_duration: integer(p, "MaxSessionDuration", "maxSessionDuration")?,
        tags,
    };
    let r = roles::create(&state.ctx, input).await?;
    Ok(json!({ "Role": role_json(&state.ctx.identity.account_id, &r, true) }))
}

async fn get(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let name = required(&req.params, "RoleName", "roleName")?;
    let r = roles::get(&state.ctx, name).await?;
    Ok(json!({ "Role": role_json(&state.ctx.identity.account_id, &r, true) }))
}

async fn list(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let all = roles::list(&state.ctx, p.get("PathPrefix")).await?;
    let (items, marker) = page(
        all,
        |r| r.name.as_str(),
        p.get("Marker"),
        integer(p, "MaxItems", "maxItems")?,
    )?;
    let account = &state.ctx.identity.account_id;
    let mut v = json!({
        "Roles": items.iter().map(|r| role_json(account, r, false)).collect::<Vec<_>>(),
        "IsTruncated": marker.is_some(),
    });
    if let Some(m) = marker {
        v["Marker"] = json!(m);
    }
    Ok(v)
}

async fn delete(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let name = required(&req.params, "RoleName", "roleName")?;
    roles::delete(&state.ctx, name).await?;
    Ok(Value::Null)
}

async fn update(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let name = required(p, "RoleName", "roleName")?;
    roles::update(
        &state.ctx,
        name,
        p.get("Description").map(str::to_string),
        integer(p, "MaxSessionDuration", "maxSessionDuration")?,
    )
    .await?;
    Ok(json!({}))
}

async fn update_trust(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let name = required(p, "RoleName", "roleName")?;
    let doc = required(p, "PolicyDocument", "policyDocument")?;
    roles::update_trust(&state.ctx, name, doc).await?;
    Ok(Value::Null)
}

async fn put_policy(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let name = required(p, "PolicyName", "policyName")?;
    let doc = required(p, "PolicyDocument", "policyDocument")?;
    roles::put_policy(&state.ctx, role, name, doc).await?;
    Ok(Value::Null)
}

async fn get_policy(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let name = required(p, "PolicyName", "policyName")?;
    let r = roles::get(&state.ctx, role).await?;
    let (policy, doc) = roles::get_policy(&state.ctx, role, name).await?;
    Ok(json!({
        "RoleName": r.name,
        "PolicyName": policy,
        "PolicyDocument": document(&doc),
    }))
}

async fn delete_policy(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let name = required(p, "PolicyName", "policyName")?;
    roles::delete_policy(&state.ctx, role, name).await?;
    Ok(Value::Null)
}

async fn list_policies(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let names = roles::list_policies(&state.ctx, role).await?;
    let (items, marker) = page(
        names,
        |n| n.as_str(),
        p.get("Marker"),
        integer(p, "MaxItems", "maxItems")?,
    )?;
    let mut v = json!({ "PolicyNames": items, "IsTruncated": marker.is_some() });
    if let Some(m) = marker {
        v["Marker"] = json!(m);
    }
    Ok(v)
}

async fn attach(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let arn = required(p, "PolicyArn", "policyArn")?;
    roles::attach(&state.ctx, role, arn).await?;
    Ok(Value::Null)
}

async fn detach(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let arn = required(p, "PolicyArn", "policyArn")?;
    roles::detach(&state.ctx, role, arn).await?;
    Ok(Value::Null)
}

async fn list_attached(state: &AppState, req: &ApiRequest) -> Result<Value, IamError> {
    let p = &req.params;
    let role = required(p, "RoleName", "roleName")?;
    let mut all = roles::list_attached(&state.ctx, role).await?;
    if let Some(prefix) = p.get("PathPrefix") {
        all.retain(|(_, arn)| {
            arn.split_once(":policy")
                .is_some_and(|(_, path)| path.starts_with(prefix))
        });
    }
    let (items, marker) = page(
        all,
        |(n, _)| n.as_str(),
        p.get("Marker"),
        integer(p, "MaxItems", "maxItems")?,
    )?;
    let mut v = json!({
        "AttachedPolicies": items
            .iter()
            .map(|(n, a)| json!({"PolicyName": n, "PolicyArn": a}))
            .collect::<Vec<_>>(),
        "IsTruncated": marker.is_some(),
    });
    if let Some(m) = marker {
        v["Marker"] = json!(m);
    }
    Ok(v)
}
