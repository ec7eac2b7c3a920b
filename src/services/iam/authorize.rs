//! The decision on one API call made with role-session credentials: the role's policies
//! (inline and attached, compiled once per change and cached), the session policy, the
//! resource's policy, and the request context (`aws:PrincipalArn`, `aws:RequestedRegion`,
//! `aws:CurrentTime`, …), evaluated by `domain::policy`.

use std::collections::HashMap;
use std::sync::Arc;

use super::managed;
use super::sessions::{Origin, Session};
use super::{policies, IamError};
use crate::domain::policy::{
    evaluate_owned, Decision, DenySource, Document, Kind, Request, RequestContext,
};
use crate::services::Context;
use crate::store::iam as store;

/// Compiled identity policies per role name (lower case), with the generation they were
/// read at.
pub type Cache = HashMap<String, (u64, Arc<Vec<Document>>)>;

/// Compiled policies of scoped keys, by access key id.
pub type KeyCache = HashMap<String, Option<Arc<Document>>>;

/// The policy of a scoped key (`None`: the key has full access).
async fn key_policy(ctx: &Context, key: &str) -> Result<Option<Arc<Document>>, IamError> {
    if let Ok(c) = ctx.iam.key_policies.lock() {
        if let Some(p) = c.get(key) {
            return Ok(p.clone());
        }
    }
    let k = key.to_string();
    let text = ctx
        .store
        .call(move |c| crate::store::keys::policy(c, &k))
        .await?;
    let doc = match text {
        Some(t) => Some(Arc::new(
            Document::parse(&t, Kind::Identity).map_err(|e| IamError::Service(e.0))?,
        )),
        None => None,
    };
    if let Ok(mut c) = ctx.iam.key_policies.lock() {
        if c.len() > 10_000 {
            c.clear();
        }
        c.insert(key.to_string(), doc.clone());
    }
    Ok(doc)
}

/// Decides `ask` for a scoped API key (`user`: the key's user name in its ARN).
pub async fn check_key(ctx: &Context, key: &str, user: &str, ask: &Ask) -> Result<(), IamError> {
    let Some(doc) = key_policy(ctx, key).await? else {
        return Ok(());
    };
    let account = &ctx.identity.account_id;
    let principal = format!("arn:aws:iam::{account}:user/{user}");
    let now = super::now_ms();
    let mut c = RequestContext::default();
    c.set("aws:PrincipalArn", principal.clone())
        .set("aws:PrincipalAccount", account.clone())
        .set("aws:PrincipalType", "User")
        .set("aws:username", user)
        .set("aws:userid", key)
        .set("aws:RequestedRegion", ask.region.clone())
        .set("aws:SecureTransport", "false")
        .set("aws:EpochTime", (now / 1000).to_string())
        .set("aws:CurrentTime", super::execution::iso8601(now));
    for (k, v) in &ask.extra {
        c.set(k, v.clone());
    }
    let resource_policy = ask
        .resource_policy
        .as_ref()
        .and_then(|v| Document::from_value(v, Kind::Resource).ok());
    let req = Request {
        action: &ask.action,
        resource: &ask.resource,
        principal_arn: &principal,
        account,
        role_arn: None,
        service: None,
        context: &c,
    };
    match evaluate_owned(&[&doc], resource_policy.as_ref(), None, &req, account) {
        Decision::Allow => Ok(()),
        other => Err(IamError::AccessDenied(denied_message(
            &principal,
            &ask.action,
            &ask.resource,
            other,
            false,
        ))),
    }
}

/// What a call asks for.
#[derive(Debug, Clone)]
pub struct Ask {
    /// `lambda:InvokeFunction`
    pub action: String,
    /// The resource ARN, or `*`.
    pub resource: String,
    /// The resource's own policy (a function's), if it has one.
    pub resource_policy: Option<serde_json::Value>,
    pub region: String,
    /// Extra context keys (service-specific).
    pub extra: Vec<(String, String)>,
}

/// The compiled identity policies of a role (an unknown role: none).
pub async fn role_documents(ctx: &Context, role: &str) -> Result<Arc<Vec<Document>>, IamError> {
    let key = role.to_ascii_lowercase();
    let generation = ctx.iam.generation();
    if let Ok(c) = ctx.iam.cache.lock() {
        if let Some((g, docs)) = c.get(&key) {
            if *g == generation {
                return Ok(Arc::clone(docs));
            }
        }
    }
    let r = role.to_string();
    let (inline, attached) = ctx
        .store
        .call(move |c| {
            Ok((
                store::role_policy_documents(c, &r)?,
                store::attached(c, &r)?,
            ))
        })
        .await?;
    let mut texts = inline;
    for arn in attached {
        if let Some(d) = policies::document(ctx, &arn).await? {
            texts.push(d);
        }
    }
    let docs: Vec<Document> = texts
        .iter()
        .filter_map(|t| match Document::parse(t, Kind::Identity) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(role, error = %e, "a stored policy no longer parses; ignored");
                None
            }
        })
        .collect();
    let docs = Arc::new(docs);
    if let Ok(mut c) = ctx.iam.cache.lock() {
        if c.len() > 10_000 {
            c.clear();
        }
        c.insert(key, (generation, Arc::clone(&docs)));
    }
    Ok(docs)
}

/// The identity policies of a session: its role's, or the basic execution permissions.
pub async fn session_documents(ctx: &Context, s: &Session) -> Result<Arc<Vec<Document>>, IamError> {
    if let Origin::Execution {
        basic_only: true, ..
    } = s.origin
    {
        let d = Document::parse(managed::basic_execution().document, Kind::Identity)
            .map_err(|e| IamError::Service(e.0))?;
        return Ok(Arc::new(vec![d]));
    }
    role_documents(ctx, &s.role_name).await
}

/// The request context of a call made with `s`.
pub fn context(ctx: &Context, s: &Session, region: &str, now_ms: i64) -> RequestContext {
    let mut c = RequestContext::default();
    let account = &ctx.identity.account_id;
    c.set("aws:PrincipalArn", s.role_arn.clone())
        .set("aws:PrincipalAccount", account.clone())
        .set("aws:PrincipalType", "AssumedRole")
        .set("aws:userid", format!("{}:{}", s.role_id, s.session_name))
        .set("aws:RequestedRegion", region)
        .set("aws:SecureTransport", "false")
        .set("aws:EpochTime", (now_ms / 1000).to_string())
        .set("aws:TokenIssueTime", super::execution::iso8601(s.issued_ms))
        .set("aws:CurrentTime", super::execution::iso8601(now_ms));
    if let Origin::Execution { function_arn, .. } = &s.origin {
        c.set("lambda:SourceFunctionArn", function_arn.clone());
    }
    c
}

/// Decides `ask` for session `s`: `Ok(())` or `AccessDenied` with AWS's message.
pub async fn check(ctx: &Context, s: &Session, ask: &Ask) -> Result<(), IamError> {
    let docs = session_documents(ctx, s).await?;
    let session_policy = match &s.origin {
        Origin::Assumed {
            session_policy: Some(p),
        } => Document::parse(p, Kind::Identity).ok(),
        _ => None,
    };
    let resource_policy = ask
        .resource_policy
        .as_ref()
        .and_then(|v| Document::from_value(v, Kind::Resource).ok());
    let now = super::now_ms();
    let mut c = context(ctx, s, &ask.region, now);
    for (k, v) in &ask.extra {
        c.set(k, v.clone());
    }
    let principal = s.arn(&ctx.identity.account_id);
    let refs: Vec<&Document> = docs.iter().collect();
    let req = Request {
        action: &ask.action,
        resource: &ask.resource,
        principal_arn: &principal,
        account: &ctx.identity.account_id,
        role_arn: Some(&s.role_arn),
        service: None,
        context: &c,
    };
    // Every key and session is of this host's one account, so the owner is the caller's
    // account and the cross-account rule of `evaluate_owned` never applies here.
    let decision = evaluate_owned(
        &refs,
        resource_policy.as_ref(),
        session_policy.as_ref(),
        &req,
        &ctx.identity.account_id,
    );
    match decision {
        Decision::Allow => Ok(()),
        other => Err(IamError::AccessDenied(denied_message(
            &principal,
            &ask.action,
            &ask.resource,
            other,
            session_policy.is_some(),
        ))),
    }
}

/// AWS's wording of a refusal.
pub fn denied_message(
    principal: &str,
    action: &str,
    resource: &str,
    decision: Decision,
    has_session_policy: bool,
) -> String {
    let why = match decision {
        Decision::ExplicitDeny(DenySource::Identity) => {
            "with an explicit deny in an identity-based policy".to_string()
        }
        Decision::ExplicitDeny(DenySource::Resource) => {
            "with an explicit deny in a resource-based policy".to_string()
        }
        Decision::ExplicitDeny(DenySource::Session) => {
            "with an explicit deny in a session policy".to_string()
        }
        _ if has_session_policy => format!("because no session policy allows the {action} action"),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    format!(
        "User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"
    )
}
