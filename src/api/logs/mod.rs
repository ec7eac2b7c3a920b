//! Amazon CloudWatch Logs (signing name `logs`, AWS JSON 1.1, `X-Amz-Target:
//! Logs_20140328.*`): log groups, retention, streams, GetLogEvents and FilterLogEvents (what
//! `aws logs tail` polls). Only wire shapes here; the operations are `services::logs`.

mod events;
mod groups;

use serde_json::{Map, Value};

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::{json, Protocol};
use crate::api::request::ApiRequest;
use crate::api::service::{Operation, Service};
use crate::services::logs::LogsError;

pub static SERVICE: Service = Service {
    name: "Amazon CloudWatch Logs",
    signing_name: "logs",
    protocols: &[Protocol::AwsJson11],
    target_prefix: Some("Logs_20140328"),
    path_prefixes: &[],
    xml_namespace: "",
    operations: &[
        Operation::new("CreateLogGroup", groups::create_log_group),
        Operation::new("DeleteLogGroup", groups::delete_log_group),
        Operation::new("DescribeLogGroups", groups::describe_log_groups),
        Operation::new("PutRetentionPolicy", groups::put_retention_policy),
        Operation::new("DeleteRetentionPolicy", groups::delete_retention_policy),
        Operation::new("DescribeLogStreams", groups::describe_log_streams),
        Operation::new("GetLogEvents", events::get_log_events),
        Operation::new("FilterLogEvents", events::filter_log_events),
    ],
    fallback: None,
    public: &[],
};

pub const NOT_FOUND: ErrorKind = ErrorKind::new("ResourceNotFoundException", 400);
pub const INVALID: ErrorKind = ErrorKind::new("InvalidParameterException", 400);
pub const ALREADY_EXISTS: ErrorKind = ErrorKind::new("ResourceAlreadyExistsException", 400);
pub const UNAVAILABLE: ErrorKind = ErrorKind::new("ServiceUnavailableException", 500);

/// The Logs code for each kind.
pub fn error(e: LogsError) -> ApiError {
    let kind = match &e {
        LogsError::NotFound(_) => NOT_FOUND,
        LogsError::InvalidParameter(_) => INVALID,
        LogsError::AlreadyExists(_) => ALREADY_EXISTS,
        LogsError::Internal(_) => UNAVAILABLE,
    };
    kind.with(e.to_string())
}

/// The request body as a JSON object.
pub(crate) fn body(req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    json::input(&req.body)
}

/// A string member.
pub(crate) fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// An integer member (refused if present with another type).
pub(crate) fn int(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, ApiError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| INVALID.with(format!("{k} must be an integer"))),
    }
}

/// A boolean member.
pub(crate) fn flag(m: &Map<String, Value>, k: &str) -> Result<Option<bool>, ApiError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(INVALID.with(format!("{k} must be true or false"))),
    }
}

/// A required string member.
pub(crate) fn required<'a>(m: &'a Map<String, Value>, k: &str) -> Result<&'a str, ApiError> {
    text(m, k).filter(|s| !s.is_empty()).ok_or_else(|| {
        INVALID.with(format!(
            "1 validation error detected: Value null at '{k}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Members this lambdabox does not implement, refused rather than ignored.
pub(crate) fn refuse(m: &Map<String, Value>, keys: &[&str]) -> Result<(), ApiError> {
    for k in keys {
        if m.get(*k).is_some_and(|v| !v.is_null()) {
            return Err(INVALID.with(format!("{k} is not supported by lambdabox")));
        }
    }
    Ok(())
}
