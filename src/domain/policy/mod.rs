//! The IAM policy language: documents as AWS writes them, parsed and checked once
//! ([`Document::parse`]), and the evaluation of one request against a caller's identity
//! policies, the resource's policy and a session policy ([`evaluate`]), as AWS's "policy
//! evaluation logic" documents it for a single account: an explicit `Deny` anywhere wins;
//! otherwise an `Allow` in an identity policy (narrowed by the session policy, when there is
//! one) or in the resource policy for this principal allows; otherwise the request is
//! implicitly denied. For a caller of another account than the resource's owner
//! ([`evaluate_owned`]) both the identity and the resource policy must allow.
//!
//! Pure: no I/O, no clock (the request's context carries `aws:CurrentTime`). Matching rules:
//! actions are `service:Action` patterns compared case-insensitively; resources and ARNs are
//! compared case-sensitively; `*` matches any run of characters (also `/` and `:`), `?` one.
//! Policy variables (`${aws:username}`, `${aws:PrincipalArn}`, `${*}`, `${key, 'default'}`)
//! are resolved in `Resource`, `NotResource` and condition values of `2012-10-17` documents.

mod condition;
mod document;
mod evaluate;
#[cfg(test)]
mod layer_tests;
mod pattern;
#[cfg(test)]
mod tests;

pub use condition::Condition;
pub use document::{Document, Effect, Kind, PolicyError, Principals, Statement};
pub use evaluate::{evaluate, evaluate_owned, Decision, DenySource, Request, RequestContext};
pub use pattern::glob;
