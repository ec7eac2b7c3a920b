//! Roles: CreateRole (with its trust policy), GetRole, ListRoles, DeleteRole, UpdateRole,
//! UpdateAssumeRolePolicy, the inline policies (Put/Get/Delete/ListRolePolicies) and the
//! attachments of managed policies (Attach/Detach/ListAttachedRolePolicies).

use super::{managed, now_ms, policies, IamError};
use crate::domain::iam::{check_name, check_path, constraint, new_id};
use crate::domain::policy::{Document, Kind};
use crate::services::Context;
use crate::store::iam::{self as store, Outcome, Role};

/// Largest trust policy (IAM's default quota, characters).
pub const MAX_TRUST_POLICY: usize = 2048;
/// Largest total size of a role's inline policies.
pub const MAX_INLINE_TOTAL: usize = 10_240;
/// Most managed policies attached to one role.
pub const MAX_ATTACHED: usize = 10;

/// CreateRole's input.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    pub name: String,
    pub path: Option<String>,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub tags: Vec<(String, String)>,
}

pub fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

/// Checks a trust policy document (shape and size).
pub fn check_trust(doc: &str) -> Result<(), IamError> {
    if doc.chars().count() > MAX_TRUST_POLICY {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"
        )));
    }
    Document::parse(doc, Kind::Trust)
        .map(|_| ())
        .map_err(|e| IamError::MalformedPolicyDocument(e.0))
}

fn check_duration(d: i64) -> Result<(), IamError> {
    if d < 3600 {
        return Err(constraint(
            &d.to_string(),
            "maxSessionDuration",
            "Member must have value greater than or equal to 3600",
        ));
    }
    if d > 43200 {
        return Err(constraint(
            &d.to_string(),
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), IamError> {
    if d.chars().count() > 1000 {
        return Err(constraint(
            d,
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    Ok(())
}

pub async fn create(ctx: &Context, input: NewRole) -> Result<Role, IamError> {
    check_name(&input.name, "roleName", 64)?;
    let path = input.path.clone().unwrap_or_else(|| "/".into());
    check_path(&path, "path")?;
    check_trust(&input.trust_policy)?;
    let max = input.max_session_duration.unwrap_or(3600);
    check_duration(max)?;
    let description = input.description.clone().unwrap_or_default();
    check_description(&description)?;
    if input.tags.len() > 50 {
        return Err(IamError::LimitExceeded(
            "Cannot exceed quota for TagsPerRole: 50".into(),
        ));
    }
    let role = Role {
        name: input.name.clone(),
        role_id: new_id("AROA"),
        path,
        trust_policy: input.trust_policy,
        description,
        max_session_duration: max,
        tags: input.tags,
        created_ms: now_ms(),
    };
    let r = role.clone();
    let outcome = ctx.store.call(move |c| store::create_role(c, &r)).await?;
    match outcome {
        Outcome::Done => {
            ctx.iam.changed();
            Ok(role)
        }
        _ => Err(IamError::EntityAlreadyExists(format!(
            "Role with name {} already exists.",
            input.name
        ))),
    }
}

pub async fn get(ctx: &Context, name: &str) -> Result<Role, IamError> {
    let n = name.to_string();
    ctx.store
        .call(move |c| store::get_role(c, &n))
        .await?
        .ok_or_else(|| no_such_role(name))
}

/// The role, if it exists (no error for a missing one).
pub async fn find(ctx: &Context, name: &str) -> Result<Option<Role>, IamError> {
    let n = name.to_string();
    Ok(ctx.store.call(move |c| store::get_role(c, &n)).await?)
}

pub async fn list(ctx: &Context, path_prefix: Option<&str>) -> Result<Vec<Role>, IamError> {
    let all = ctx.store.call(|c| store::list_roles(c)).await?;
    Ok(match path_prefix {
        Some(p) => all.into_iter().filter(|r| r.path.starts_with(p)).collect(),
        None => all,
    })
}

pub async fn delete(ctx: &Context, name: &str) -> Result<(), IamError> {
    let n = name.to_string();
    let outcome = ctx.store.call(move |c| store::delete_role(c, &n)).await?;
    match outcome {
        Outcome::Done => {
            ctx.iam.changed();
            Ok(())
        }
        Outcome::HasInline => Err(IamError::DeleteConflict(
            "Cannot delete entity, must delete policies first.".into(),
        )),
        Outcome::Attached => Err(IamError::DeleteConflict(
            "Cannot delete entity, must detach all policies first.".into(),
        )),
        _ => Err(no_such_role(name)),
    }
}

pub async fn update_trust(ctx: &Context, name: &str, doc: &str) -> Result<(), IamError> {
    check_trust(doc)?;
    let (n, d) = (name.to_string(), doc.to_string());
    let found = ctx
        .store
        .call(move |c| store::update_role(c, &n, Some(&d), None, None))
        .await?;
    if !found {
        return Err(no_such_role(name));
    }
    ctx.iam.changed();
    Ok(())
}

/// UpdateRole: description and maximum session duration.
pub async fn update(
    ctx: &Context,
    name: &str,
    description: Option<String>,
    max_session_duration: Option<i64>,
) -> Result<(), IamError> {
    if let Some(d) = max_session_duration {
        check_duration(d)?;
    }
    if let Some(d) = &description {
        check_description(d)?;
    }
    let n = name.to_string();
    let found = ctx
        .store
        .call(move |c| {
            store::update_role(c, &n, None, description.as_deref(), max_session_duration)
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(no_such_role(name))
    }
}

/// Checks an identity policy document (inline or managed).
pub fn check_identity_policy(doc: &str) -> Result<(), IamError> {
    Document::parse(doc, Kind::Identity)
        .map(|_| ())
        .map_err(|e| IamError::MalformedPolicyDocument(e.0))
}

pub async fn put_policy(
    ctx: &Context,
    role: &str,
    policy: &str,
    doc: &str,
) -> Result<(), IamError> {
    check_name(policy, "policyName", 128)?;
    check_identity_policy(doc)?;
    let existing = get(ctx, role).await?;
    let (r, p) = (existing.name.clone(), policy.to_string());
    let others: usize = ctx
        .store
        .call(move |c| {
            let names = store::list_role_policies(c, &r)?;
            let mut total = 0usize;
            for n in names.iter().filter(|n| !n.eq_ignore_ascii_case(&p)) {
                if let Some((_, d)) = store::get_role_policy(c, &r, n)? {
                    total += d.chars().filter(|c| !c.is_whitespace()).count();
                }
            }
            Ok(total)
        })
        .await?;
    let size = doc.chars().filter(|c| !c.is_whitespace()).count();
    if others + size > MAX_INLINE_TOTAL {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {MAX_INLINE_TOTAL} bytes exceeded for role {role}"
        )));
    }
    let (r, p, d) = (role.to_string(), policy.to_string(), doc.to_string());
    let found = ctx
        .store
        .call(move |c| store::put_role_policy(c, &r, &p, &d))
        .await?;
    if !found {
        return Err(no_such_role(role));
    }
    ctx.iam.changed();
    Ok(())
}

/// (policy name, document).
pub async fn get_policy(
    ctx: &Context,
    role: &str,
    policy: &str,
) -> Result<(String, String), IamError> {
    get(ctx, role).await?;
    let (r, p) = (role.to_string(), policy.to_string());
    ctx.store
        .call(move |c| store::get_role_policy(c, &r, &p))
        .await?
        .ok_or_else(|| {
            IamError::NoSuchEntity(format!(
                "The role policy with name {policy} cannot be found."
            ))
        })
}

pub async fn delete_policy(ctx: &Context, role: &str, policy: &str) -> Result<(), IamError> {
    get(ctx, role).await?;
    let (r, p) = (role.to_string(), policy.to_string());
    let found = ctx
        .store
        .call(move |c| store::delete_role_policy(c, &r, &p))
        .await?;
    if !found {
        return Err(IamError::NoSuchEntity(format!(
            "The role policy with name {policy} cannot be found."
        )));
    }
    ctx.iam.changed();
    Ok(())
}

pub async fn list_policies(ctx: &Context, role: &str) -> Result<Vec<String>, IamError> {
    get(ctx, role).await?;
    let r = role.to_string();
    Ok(ctx
        .store
        .call(move |c| store::list_role_policies(c, &r))
        .await?)
}

pub async fn attach(ctx: &Context, role: &str, arn: &str) -> Result<(), IamError> {
    policies::check_arn(arn)?;
    let existing = get(ctx, role).await?;
    if !policies::attachable(ctx, arn).await? {
        return Err(IamError::NoSuchEntity(format!(
            "Policy {arn} does not exist or is not attachable."
        )));
    }
    let r = existing.name.clone();
    let already = ctx.store.call(move |c| store::attached(c, &r)).await?;
    if !already.iter().any(|a| a == arn) && already.len() >= MAX_ATTACHED {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED}"
        )));
    }
    let (r, a) = (role.to_string(), arn.to_string());
    let found = ctx.store.call(move |c| store::attach(c, &r, &a)).await?;
    if !found {
        return Err(no_such_role(role));
    }
    ctx.iam.changed();
    Ok(())
}

pub async fn detach(ctx: &Context, role: &str, arn: &str) -> Result<(), IamError> {
    policies::check_arn(arn)?;
    let (r, a) = (role.to_string(), arn.to_string());
    match ctx.store.call(move |c| store::detach(c, &r, &a)).await? {
        Outcome::Done => {
            ctx.iam.changed();
            Ok(())
        }
        Outcome::NotFound => Err(no_such_role(role)),
        _ => Err(IamError::NoSuchEntity(format!(
            "Policy {arn} was not found."
        ))),
    }
}

/// (policy name, ARN) of the managed policies attached to `role`.
pub async fn list_attached(ctx: &Context, role: &str) -> Result<Vec<(String, String)>, IamError> {
    get(ctx, role).await?;
    let r = role.to_string();
    let arns = ctx.store.call(move |c| store::attached(c, &r)).await?;
    Ok(arns
        .into_iter()
        .map(|a| {
            let name = a.rsplit('/').next().unwrap_or(&a).to_string();
            (name, a)
        })
        .collect())
}

/// The basic-execution built-in, for callers that show what a role-less function gets.
pub fn basic_execution_arn() -> String {
    managed::basic_execution().arn()
}
