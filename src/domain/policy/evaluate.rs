//! One request against the policies that apply to it.

use std::collections::HashMap;

use super::document::{Document, Effect, Principals, Statement};
use super::pattern::{arn_matches, glob, matches, tokens, tokens_with_variables};

/// The request context: condition keys (case-insensitive) and their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    keys: HashMap<String, Vec<String>>,
}

impl RequestContext {
    /// Sets `key` to one value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.keys
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    /// Sets a multivalued key.
    pub fn set_all(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.keys.insert(key.to_ascii_lowercase(), values);
        self
    }

    /// The values of `key`, if the request carries it.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// What is being asked, by whom.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `lambda:InvokeFunction`
    pub action: &'a str,
    /// The resource ARN (`*` for actions without one).
    pub resource: &'a str,
    /// The caller's ARN (`arn:aws:sts::…:assumed-role/r/s`, `arn:aws:iam::…:user/u`).
    pub principal_arn: &'a str,
    /// The caller's account.
    pub account: &'a str,
    /// For a role session, the role's ARN (a resource policy naming the role names its
    /// sessions too).
    pub role_arn: Option<&'a str>,
    /// A service principal (`lambda.amazonaws.com`) when a service asks (trust policies).
    pub service: Option<&'a str>,
    pub context: &'a RequestContext,
}

/// Which policy denied explicitly (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenySource {
    Identity,
    Resource,
    Session,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny(DenySource),
    /// Nothing allowed it.
    ImplicitDeny,
}

/// Evaluates `req`: identity policies (a role's inline and attached policies), the
/// resource's policy, and a session policy that narrows the identity policies.
pub fn evaluate(
    identity: &[&Document],
    resource: Option<&Document>,
    session: Option<&Document>,
    req: &Request<'_>,
) -> Decision {
    let hits = |d: &Document, effect: Effect, principal: bool| {
        d.statements
            .iter()
            .any(|s| s.effect == effect && statement_matches(s, d.has_variables(), principal, req))
    };
    if identity.iter().any(|d| hits(d, Effect::Deny, false)) {
        return Decision::ExplicitDeny(DenySource::Identity);
    }
    if session.is_some_and(|d| hits(d, Effect::Deny, false)) {
        return Decision::ExplicitDeny(DenySource::Session);
    }
    if resource.is_some_and(|d| hits(d, Effect::Deny, true)) {
        return Decision::ExplicitDeny(DenySource::Resource);
    }
    let identity_allows = identity.iter().any(|d| hits(d, Effect::Allow, false))
        && session.is_none_or_allows(|d| hits(d, Effect::Allow, false));
    let resource_allows = resource.is_some_and(|d| hits(d, Effect::Allow, true));
    if identity_allows || resource_allows {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// [`evaluate`] for a resource owned by account `owner`. Within the caller's own account an
/// allow in either the identity policies or the resource's policy is enough; a caller from
/// another account needs both (AWS's cross-account policy evaluation logic): its identity
/// policies must allow the action and the resource's policy must name its account, `*` or
/// its organization. An explicit deny anywhere still wins.
pub fn evaluate_owned(
    identity: &[&Document],
    resource: Option<&Document>,
    session: Option<&Document>,
    req: &Request<'_>,
    owner: &str,
) -> Decision {
    let decision = evaluate(identity, resource, session, req);
    if owner == req.account || decision != Decision::Allow {
        return decision;
    }
    let identity_allows = evaluate(identity, None, session, req) == Decision::Allow;
    let resource_allows = evaluate(&[], resource, None, req) == Decision::Allow;
    if identity_allows && resource_allows {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

trait OptionalPolicy {
    fn is_none_or_allows(&self, f: impl Fn(&Document) -> bool) -> bool;
}

impl OptionalPolicy for Option<&Document> {
    fn is_none_or_allows(&self, f: impl Fn(&Document) -> bool) -> bool {
        match self {
            None => true,
            Some(d) => f(d),
        }
    }
}

/// True when `s` applies to `req` (its effect aside); `principal`: the statement's
/// `Principal` must name the caller (resource and trust policies).
pub fn statement_matches(
    s: &Statement,
    variables: bool,
    principal: bool,
    req: &Request<'_>,
) -> bool {
    let (not_action, actions) = &s.actions;
    let action_hit = actions.iter().any(|a| glob(a, req.action, true));
    if action_hit == *not_action {
        return false;
    }
    if let Some((not_resource, resources)) = &s.resources {
        let hit = resources.iter().any(|r| {
            let toks = if variables {
                tokens_with_variables(r, req.context)
            } else {
                Some(tokens(r))
            };
            toks.is_some_and(|t| matches(&t, req.resource, false))
        });
        if hit == *not_resource {
            return false;
        }
    }
    if principal {
        match &s.principal {
            Some((negated, p)) => {
                if principal_matches(p, req) == *negated {
                    return false;
                }
            }
            None => return false,
        }
    }
    s.conditions.iter().all(|c| c.holds(req.context, variables))
}

fn principal_matches(p: &Principals, req: &Request<'_>) -> bool {
    match p {
        Principals::Any => true,
        Principals::Named(list) => list.iter().any(|(kind, value)| match kind.as_str() {
            "AWS" => {
                let root = format!("arn:aws:iam::{}:root", req.account);
                value == req.account
                    || *value == root
                    || arn_matches(&tokens(value), req.principal_arn)
                    || req.role_arn.is_some_and(|r| r == value)
            }
            "Service" => req.service.is_some_and(|s| s == value),
            _ => false,
        }),
    }
}
