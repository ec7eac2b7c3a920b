//! Role sessions as they are issued: an execution environment's credentials for its
//! function's execution role, and STS AssumeRole for people's keys. Both check the role's
//! trust policy; an environment whose `--role` names no role here (or one that does not
//! trust `lambda.amazonaws.com`) gets a session with the basic execution permissions only,
//! and says so in the log (a strict setting refuses such roles at CreateFunction instead:
//! [`check_function_role`]).

use std::sync::Arc;

use super::sessions::{NewSession, Origin, Session, SessionGuard};
use super::{now_ms, roles, IamError};
use crate::domain::iam::{constraint, role_arn, role_name_of};
use crate::domain::policy::{evaluate, Decision, Document, Kind, Request, RequestContext};
use crate::services::Context;

/// How long an execution environment's credentials last (AWS: the role session the
/// environment is started with; environments are recycled before it ends).
pub const EXECUTION_SESSION_MS: i64 = 12 * 3600 * 1000;

/// `2026-12-03T09:45:00Z`
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// True when `trust` lets `principal` (or the service principal) assume the role.
fn trusts(
    trust: &str,
    role: &str,
    account: &str,
    principal_arn: &str,
    service: Option<&str>,
    context: &RequestContext,
) -> bool {
    let Ok(doc) = Document::parse(trust, Kind::Trust) else {
        return false;
    };
    let req = Request {
        action: "sts:AssumeRole",
        resource: role,
        principal_arn,
        account,
        role_arn: None,
        service,
        context,
    };
    evaluate(&[], Some(&doc), None, &req) == Decision::Allow
}

/// Why an execution role gives only the basic permissions (`None`: it works as named).
pub async fn role_problem(ctx: &Context, role: &str, function_arn: &str) -> Option<String> {
    let account = &ctx.identity.account_id;
    let Some(name) = role_name_of(role, account) else {
        return Some(format!(
            "the role {role} is not a role of this lambdabox (account {account})"
        ));
    };
    match roles::find(ctx, &name).await {
        Ok(Some(r)) => {
            let mut c = RequestContext::default();
            c.set("aws:SourceArn", function_arn)
                .set("aws:SourceAccount", account.clone());
            let arn = role_arn(account, &r.path, &r.name);
            if trusts(
                &r.trust_policy,
                &arn,
                account,
                "",
                Some("lambda.amazonaws.com"),
                &c,
            ) {
                None
            } else {
                Some(format!(
                    "the trust policy of role {} does not allow lambda.amazonaws.com to assume it",
                    r.name
                ))
            }
        }
        Ok(None) => Some(format!("no role named {name} exists here")),
        Err(e) => Some(format!("the role could not be read: {e}")),
    }
}

/// CreateFunction / UpdateFunctionConfiguration with `iam.strict_roles`: refuses a role
/// Lambda could not assume, with AWS's message.
pub async fn check_function_role(
    ctx: &Context,
    role: &str,
    function_arn: &str,
) -> Result<(), String> {
    if !ctx.config.iam.strict_roles {
        return Ok(());
    }
    match role_problem(ctx, role, function_arn).await {
        None => Ok(()),
        Some(_) => Err("The role defined for the function cannot be assumed by Lambda.".into()),
    }
}

/// Credentials for one execution environment of `function` (its ARN `function_arn`).
pub struct ExecutionCredentials {
    pub session: Arc<Session>,
    pub guard: SessionGuard,
    /// Set when the session has the basic execution permissions only, and why.
    pub basic_only: Option<String>,
}

pub async fn for_environment(
    ctx: &Context,
    function: &str,
    role: &str,
    function_arn: &str,
    env_id: &str,
) -> ExecutionCredentials {
    let problem = role_problem(ctx, role, function_arn).await;
    let account = &ctx.identity.account_id;
    let found = match (&problem, role_name_of(role, account)) {
        (None, Some(n)) => roles::find(ctx, &n).await.ok().flatten(),
        _ => None,
    };
    let (role_name, arn, role_id) = match &found {
        Some(r) => (
            r.name.clone(),
            role_arn(account, &r.path, &r.name),
            r.role_id.clone(),
        ),
        None => {
            let name = role.rsplit('/').next().unwrap_or("lambda-role").to_string();
            (name, role.to_string(), "AROALAMBDABOXBASIC00".to_string())
        }
    };
    if let Some(p) = &problem {
        tracing::warn!(function, role, reason = %p, "the execution role names no usable role here: the function runs with the basic execution permissions only (logs)");
    }
    let session = ctx.iam.sessions.issue(
        NewSession {
            role_name,
            role_arn: arn,
            role_id,
            session_name: function.to_string(),
            duration_ms: EXECUTION_SESSION_MS,
            origin: Origin::Execution {
                function_arn: function_arn.to_string(),
                env_id: env_id.to_string(),
                basic_only: problem.is_some(),
            },
        },
        now_ms(),
    );
    let guard = ctx.iam.sessions.guard(&session);
    ExecutionCredentials {
        session,
        guard,
        basic_only: problem,
    }
}

/// STS AssumeRole's input.
#[derive(Debug, Clone, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: Option<i64>,
    pub policy: Option<String>,
}

/// STS AssumeRole by `caller_arn`: checks the role's trust policy, issues the session.
pub async fn assume_role(
    ctx: &Context,
    caller_arn: &str,
    caller_is_session: bool,
    input: AssumeRole,
) -> Result<Arc<Session>, IamError> {
    let account = &ctx.identity.account_id;
    let n = &input.session_name;
    let name_ok = (2..=64).contains(&n.chars().count())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err(constraint(
            n,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    let denied = || {
        IamError::AccessDenied(format!(
            "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {}",
            input.role_arn
        ))
    };
    let name = role_name_of(&input.role_arn, account).ok_or_else(denied)?;
    let role = roles::find(ctx, &name).await?.ok_or_else(denied)?;
    let arn = role_arn(account, &role.path, &role.name);
    let mut c = RequestContext::default();
    c.set("aws:PrincipalArn", caller_arn)
        .set("aws:PrincipalAccount", account.clone());
    if !trusts(&role.trust_policy, &arn, account, caller_arn, None, &c) {
        return Err(denied());
    }
    // Role chaining is limited to one hour, as in AWS.
    let max = if caller_is_session {
        3600
    } else {
        role.max_session_duration
    };
    let duration = input.duration_seconds.unwrap_or(3600);
    if duration < 900 {
        return Err(constraint(
            &duration.to_string(),
            "durationSeconds",
            "Member must have value greater than or equal to 900",
        ));
    }
    if duration > max {
        return Err(IamError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    if let Some(p) = &input.policy {
        if p.chars().count() > 2048 {
            return Err(IamError::Validation(
                "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048".into(),
            ));
        }
        roles::check_identity_policy(p)?;
    }
    Ok(ctx.iam.sessions.issue(
        NewSession {
            role_name: role.name.clone(),
            role_arn: arn,
            role_id: role.role_id.clone(),
            session_name: input.session_name.clone(),
            duration_ms: duration * 1000,
            origin: Origin::Assumed {
                session_policy: input.policy,
            },
        },
        now_ms(),
    ))
}
