//! IAM's wire helpers: its error codes, required parameters (IAM answers a missing one with
//! `ValidationError`), ISO 8601 dates, URL-encoded policy documents (botocore decodes them),
//! and the handler boilerplate.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::query::QueryParams;
use crate::domain::iam::IamError;

pub const NO_SUCH_ENTITY: ErrorKind = ErrorKind::new("NoSuchEntity", 404);
pub const ENTITY_ALREADY_EXISTS: ErrorKind = ErrorKind::new("EntityAlreadyExists", 409);
pub const MALFORMED_POLICY_DOCUMENT: ErrorKind = ErrorKind::new("MalformedPolicyDocument", 400);
pub const DELETE_CONFLICT: ErrorKind = ErrorKind::new("DeleteConflict", 409);
pub const LIMIT_EXCEEDED: ErrorKind = ErrorKind::new("LimitExceeded", 409);
pub const INVALID_INPUT: ErrorKind = ErrorKind::new("InvalidInput", 400);
pub const VALIDATION_ERROR: ErrorKind = ErrorKind::new("ValidationError", 400);
pub const ACCESS_DENIED: ErrorKind = ErrorKind::new("AccessDenied", 403);
pub const SERVICE_FAILURE: ErrorKind = ErrorKind::new("ServiceFailure", 500);
pub const SERVICE_UNAVAILABLE: ErrorKind = ErrorKind::new("ServiceUnavailable", 503);

/// The query-protocol error of an IAM (or STS) failure.
pub fn to_api(e: &IamError) -> ApiError {
    let kind = match e {
        IamError::NoSuchEntity(_) => NO_SUCH_ENTITY,
        IamError::EntityAlreadyExists(_) => ENTITY_ALREADY_EXISTS,
        IamError::MalformedPolicyDocument(_) => MALFORMED_POLICY_DOCUMENT,
        IamError::DeleteConflict(_) => DELETE_CONFLICT,
        IamError::LimitExceeded(_) => LIMIT_EXCEEDED,
        IamError::InvalidInput(_) => INVALID_INPUT,
        IamError::Validation(_) => VALIDATION_ERROR,
        IamError::AccessDenied(_) => ACCESS_DENIED,
        IamError::Service(_) => SERVICE_FAILURE,
        IamError::Unavailable(_) => SERVICE_UNAVAILABLE,
    };
    kind.with(e.to_string())
}

/// A required parameter: `member` is its name in the model (`roleName`).
pub fn required<'a>(p: &'a QueryParams, name: &str, member: &str) -> Result<&'a str, IamError> {
    p.get(name).ok_or_else(|| {
        IamError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// An integer parameter.
pub fn integer(p: &QueryParams, name: &str, member: &str) -> Result<Option<i64>, IamError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            IamError::Validation(format!(
                "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must be a number"
            ))
        }),
    }
}

/// A boolean parameter (`true`/`false`).
pub fn boolean(p: &QueryParams, name: &str) -> Result<Option<bool>, IamError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(IamError::Validation(format!(
            "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must be true or false"
        ))),
    }
}

/// `2026-12-03T09:45:00Z`
pub fn date(ms: i64) -> String {
    crate::services::iam::execution::iso8601(ms)
}

/// A policy document as IAM sends it: URL-encoded JSON.
pub fn document(doc: &str) -> String {
    utf8_percent_encode(doc, NON_ALPHANUMERIC).to_string()
}

/// Declares query-protocol handlers from `async fn(&AppState, &ApiRequest) ->
/// Result<serde_json::Value, IamError>`.
macro_rules! handlers {
    ($($name:ident => $inner:ident),* $(,)?) => {$(
        pub fn $name<'a>(
            state: &'a crate::api::AppState,
            req: &'a crate::api::request::ApiRequest,
        ) -> futures_util::future::LocalBoxFuture<
            'a,
            Result<crate::api::protocol::Reply, crate::api::error::ApiError>,
        > {
            Box::pin(async move {
                $inner(state, req)
                    .await
                    .map(crate::api::protocol::Reply::Value)
                    .map_err(|e| super::wire::to_api(&e))
            })
        }
    )*};
}
pub(crate) use handlers;
