//! Managed policies: the customer managed ones (CreatePolicy, GetPolicy, DeletePolicy,
//! ListPolicies, and their versions: CreatePolicyVersion, GetPolicyVersion,
//! ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion) and the AWS managed
//! built-ins (read and attach only).

use super::managed::{self, Builtin};
use super::{now_ms, roles::check_identity_policy, IamError};
use crate::domain::iam::{check_name, check_path, constraint, new_id, policy_arn};
use crate::services::Context;
use crate::store::iam::{self as store, ManagedPolicy, Outcome, PolicyVersion};

/// Largest managed policy document (characters, whitespace not counted).
pub const MAX_POLICY_SIZE: usize = 6144;
/// Most versions a managed policy keeps.
pub const MAX_VERSIONS: i64 = 5;

/// A managed policy as IAM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView {
    pub name: String,
    pub arn: String,
    pub policy_id: String,
    pub path: String,
    pub description: String,
    pub default_version: String,
    pub attachment_count: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub aws_managed: bool,
}

/// One version as IAM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_ms: i64,
}

/// Where a policy ARN points.
enum Target {
    Builtin(&'static Builtin),
    /// A customer managed policy of this account, by name.
    Customer(String),
}

/// `InvalidInput` for a string that is no policy ARN.
pub fn check_arn(arn: &str) -> Result<(), IamError> {
    let ok = arn.starts_with("arn:aws:iam::") && arn.contains(":policy/");
    if ok {
        Ok(())
    } else {
        Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")))
    }
}

fn not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

fn target(ctx: &Context, arn: &str) -> Result<Option<Target>, IamError> {
    check_arn(arn)?;
    if let Some(b) = managed::by_arn(arn) {
        return Ok(Some(Target::Builtin(b)));
    }
    let prefix = format!("arn:aws:iam::{}:policy/", ctx.identity.account_id);
    Ok(arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .map(|n| Target::Customer(n.to_string())))
}

/// True when `arn` names a policy that can be attached.
pub async fn attachable(ctx: &Context, arn: &str) -> Result<bool, IamError> {
    Ok(get(ctx, arn).await.is_ok())
}

fn builtin_view(b: &Builtin, count: i64) -> PolicyView {
    PolicyView {
        name: b.name.into(),
        arn: b.arn(),
        policy_id: b.policy_id(),
        path: b.path.into(),
        description: b.description.into(),
        default_version: b.version.into(),
        attachment_count: count,
        created_ms: managed::CREATED_MS,
        updated_ms: managed::CREATED_MS,
        aws_managed: true,
    }
}

fn customer_view(ctx: &Context, p: &ManagedPolicy, count: i64) -> PolicyView {
    PolicyView {
        name: p.name.clone(),
        arn: policy_arn(&ctx.identity.account_id, &p.path, &p.name),
        policy_id: p.policy_id.clone(),
        path: p.path.clone(),
        description: p.description.clone(),
        default_version: format!("v{}", p.default_version),
        attachment_count: count,
        created_ms: p.created_ms,
        updated_ms: p.updated_ms,
        aws_managed: false,
    }
}

fn check_document(doc: &str) -> Result<(), IamError> {
    if doc.chars().filter(|c| !c.is_whitespace()).count() > MAX_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}"
        )));
    }
    check_identity_policy(doc)
}

pub async fn create(
    ctx: &Context,
    name: &str,
    path: Option<&str>,
    doc: &str,
    description: Option<&str>,
) -> Result<PolicyView, IamError> {
    check_name(name, "policyName", 128)?;
    let path = path.unwrap_or("/").to_string();
    check_path(&path, "path")?;
    let description = description.unwrap_or("").to_string();
    if description.chars().count() > 1000 {
        return Err(constraint(
            &description,
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    check_document(doc)?;
    let now = now_ms();
    let p = ManagedPolicy {
        name: name.to_string(),
        policy_id: new_id("ANPA"),
        path,
        description,
        default_version: 1,
        created_ms: now,
        updated_ms: now,
    };
    let (row, d) = (p.clone(), doc.to_string());
    match ctx
        .store
        .call(move |c| store::create_policy(c, &row, &d))
        .await?
    {
        Outcome::Done => Ok(customer_view(ctx, &p, 0)),
        _ => Err(IamError::EntityAlreadyExists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        ))),
    }
}

pub async fn get(ctx: &Context, arn: &str) -> Result<PolicyView, IamError> {
    let a = arn.to_string();
    let count = ctx
        .store
        .call(move |c| store::attachment_count(c, &a))
        .await?;
    match target(ctx, arn)? {
        Some(Target::Builtin(b)) => Ok(builtin_view(b, count)),
        Some(Target::Customer(name)) => {
            let p = ctx
                .store
                .call(move |c| store::get_policy(c, &name))
                .await?
                .ok_or_else(|| not_found(arn))?;
            let view = customer_view(ctx, &p, count);
            if view.arn == arn {
                Ok(view)
            } else {
                Err(not_found(arn))
            }
        }
        None => Err(not_found(arn)),
    }
}

/// ListPolicies: `scope` All, AWS or Local; `only_attached`; `path_prefix`.
pub async fn list(
    ctx: &Context,
    scope: &str,
    only_attached: bool,
    path_prefix: Option<&str>,
) -> Result<Vec<PolicyView>, IamError> {
    if !matches!(scope, "All" | "AWS" | "Local") {
        return Err(constraint(
            scope,
            "scope",
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    let (customers, counts) = ctx
        .store
        .call(|c| {
            let ps = store::list_policies(c)?;
            let mut counts = Vec::new();
            for b in managed::BUILTINS {
                counts.push(store::attachment_count(c, &b.arn())?);
            }
            Ok((ps, counts))
        })
        .await?;
    let mut out = Vec::new();
    if scope != "Local" {
        for (b, n) in managed::BUILTINS.iter().zip(counts) {
            out.push(builtin_view(b, n));
        }
    }
    if scope != "AWS" {
        for p in &customers {
            let arn = policy_arn(&ctx.identity.account_id, &p.path, &p.name);
            let a = arn.clone();
            let n = ctx
                .store
                .call(move |c| store::attachment_count(c, &a))
                .await?;
            out.push(customer_view(ctx, p, n));
        }
    }
    out.retain(|p| {
        (!only_attached || p.attachment_count > 0) && path_prefix.is_none_or_prefix(&p.path)
    });
    out.sort_by(|a, b| {
        a.name
            .to_ascii_lowercase()
            .cmp(&b.name.to_ascii_lowercase())
    });
    Ok(out)
}

trait PrefixFilter {
    fn is_none_or_prefix(&self, path: &str) -> bool;
}

impl PrefixFilter for Option<&str> {
    fn is_none_or_prefix(&self, path: &str) -> bool {
        match self {
            None => true,
            Some(p) => path.starts_with(p),
        }
    }
}

fn parse_version(id: &str) -> Result<i64, IamError> {
    id.strip_prefix('v')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            constraint(
                id,
                "versionId",
                "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
            )
        })
}

fn customer_name(ctx: &Context, arn: &str) -> Result<String, IamError> {
    match target(ctx, arn)? {
        Some(Target::Customer(n)) => Ok(n),
        Some(Target::Builtin(_)) => Err(IamError::InvalidInput(format!(
            "Policy {arn} is an AWS managed policy: it cannot be changed here."
        ))),
        None => Err(not_found(arn)),
    }
}

pub async fn get_version(
    ctx: &Context,
    arn: &str,
    version_id: &str,
) -> Result<VersionView, IamError> {
    let n = parse_version(version_id)?;
    let view = get(ctx, arn).await?;
    let missing = || {
        IamError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        ))
    };
    if view.aws_managed {
        let b = managed::by_arn(arn).ok_or_else(missing)?;
        if b.version != version_id {
            return Err(missing());
        }
        return Ok(VersionView {
            version_id: version_id.into(),
            document: b.document.into(),
            is_default: true,
            created_ms: managed::CREATED_MS,
        });
    }
    let name = view.name.clone();
    let v: PolicyVersion = ctx
        .store
        .call(move |c| store::policy_version(c, &name, n))
        .await?
        .ok_or_else(missing)?;
    Ok(VersionView {
        version_id: version_id.into(),
        document: v.document,
        is_default: view.default_version == version_id,
        created_ms: v.created_ms,
    })
}

pub async fn list_versions(ctx: &Context, arn: &str) -> Result<Vec<VersionView>, IamError> {
    let view = get(ctx, arn).await?;
    if let Some(b) = managed::by_arn(arn) {
        return Ok(vec![VersionView {
            version_id: b.version.into(),
            document: b.document.into(),
            is_default: true,
            created_ms: managed::CREATED_MS,
        }]);
    }
    let name = view.name.clone();
    let versions = ctx
        .store
        .call(move |c| store::policy_versions(c, &name))
        .await?;
    Ok(versions
        .into_iter()
        .map(|v| VersionView {
            version_id: format!("v{}", v.version),
            is_default: view.default_version == format!("v{}", v.version),
            document: v.document,
            created_ms: v.created_ms,
        })
        .collect())
}

pub async fn create_version(
    ctx: &Context,
    arn: &str,
    doc: &str,
    set_default: bool,
) -> Result<VersionView, IamError> {
    let name = customer_name(ctx, arn)?;
    get(ctx, arn).await?;
    check_document(doc)?;
    let now = now_ms();
    let d = doc.to_string();
    let (outcome, n) = ctx
        .store
        .call(move |c| store::create_policy_version(c, &name, &d, set_default, MAX_VERSIONS, now))
        .await?;
    match outcome {
        Outcome::Done => {
            if set_default {
                ctx.iam.changed();
            }
            Ok(VersionView {
                version_id: format!("v{n}"),
                document: doc.to_string(),
                is_default: set_default,
                created_ms: now,
            })
        }
        Outcome::Quota => Err(IamError::LimitExceeded(format!(
            "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version."
        ))),
        _ => Err(not_found(arn)),
    }
}

pub async fn delete_version(ctx: &Context, arn: &str, version_id: &str) -> Result<(), IamError> {
    let n = parse_version(version_id)?;
    let name = customer_name(ctx, arn)?;
    get(ctx, arn).await?;
    match ctx
        .store
        .call(move |c| store::delete_policy_version(c, &name, n))
        .await?
    {
        Outcome::Done => Ok(()),
        Outcome::IsDefault => Err(IamError::DeleteConflict(
            "Cannot delete the default version of a policy.".into(),
        )),
        _ => Err(IamError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        ))),
    }
}

pub async fn set_default_version(
    ctx: &Context,
    arn: &str,
    version_id: &str,
) -> Result<(), IamError> {
    let n = parse_version(version_id)?;
    let name = customer_name(ctx, arn)?;
    get(ctx, arn).await?;
    let now = now_ms();
    match ctx
        .store
        .call(move |c| store::set_default_version(c, &name, n, now))
        .await?
    {
        Outcome::Done => {
            ctx.iam.changed();
            Ok(())
        }
        _ => Err(IamError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        ))),
    }
}

pub async fn delete(ctx: &Context, arn: &str) -> Result<(), IamError> {
    let name = customer_name(ctx, arn)?;
    let view = get(ctx, arn).await?;
    let a = view.arn.clone();
    match ctx
        .store
        .call(move |c| store::delete_policy(c, &name, &a))
        .await?
    {
        Outcome::Done => Ok(()),
        Outcome::Attached => Err(IamError::DeleteConflict(
            "Cannot delete a policy attached to entities.".into(),
        )),
        Outcome::HasVersions => Err(IamError::DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
        )),
        _ => Err(not_found(arn)),
    }
}

/// The default document of the managed policy `arn` (built-in or customer), if it exists.
pub async fn document(ctx: &Context, arn: &str) -> Result<Option<String>, IamError> {
    match target(ctx, arn) {
        Ok(Some(Target::Builtin(b))) => Ok(Some(b.document.to_string())),
        Ok(Some(Target::Customer(name))) => Ok(ctx
            .store
            .call(move |c| store::default_document(c, &name))
            .await?),
        _ => Ok(None),
    }
}
