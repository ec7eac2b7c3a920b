//! CloudWatch Logs: log groups (created by the first line a function writes, or by
//! CreateLogGroup), their retention, stream listings, one stream's events page by page
//! (GetLogEvents) and filtered group-wide searches (FilterLogEvents, what `aws logs tail`
//! polls). Validated here, stored in the log database (`store::logs_query`); wire shapes are
//! `api::logs`.
//!
//! Paging tokens are opaque to clients but readable here: `f/<id>` and `b/<id>` (the event
//! id to continue after or before), `g/<hex name>` (the last group listed), `o/<offset>`
//! (streams), `e/<timestamp>/<id>` (the last event FilterLogEvents looked at). A token that
//! does not parse is refused with InvalidParameterException.

pub mod events;
pub mod groups;

use crate::store::StoreError;

/// The errors of the Logs API, by the name AWS gives them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogsError {
    /// ResourceNotFoundException
    #[error("{0}")]
    NotFound(String),
    /// InvalidParameterException
    #[error("{0}")]
    InvalidParameter(String),
    /// ResourceAlreadyExistsException
    #[error("{0}")]
    AlreadyExists(String),
    /// ServiceUnavailableException
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for LogsError {
    fn from(e: StoreError) -> LogsError {
        tracing::error!(error = %e, "log store failure");
        LogsError::Internal("The log store failed; see the daemon's log.".into())
    }
}

/// The group does not exist.
pub fn no_group() -> LogsError {
    LogsError::NotFound("The specified log group does not exist.".into())
}

/// AWS's group-name rule: 1–512 characters of `a-zA-Z0-9_-/.#`.
pub fn check_group_name(name: &str) -> Result<(), LogsError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
    if ok {
        Ok(())
    } else {
        Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

/// The group a `logGroupName` or `logGroupIdentifier` (name or ARN) names.
pub fn group_from(
    me: &crate::domain::Identity,
    name: Option<&str>,
    identifier: Option<&str>,
) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into(),
        )),
        (Some(n), None) => {
            check_group_name(n)?;
            Ok(n.to_string())
        }
        (None, Some(id)) => {
            let prefix = format!("arn:aws:logs:{}:{}:log-group:", me.region, me.account_id);
            let name = match id.strip_prefix(&prefix) {
                Some(rest) => rest.strip_suffix(":*").unwrap_or(rest),
                None if id.starts_with("arn:") => {
                    return Err(LogsError::InvalidParameter(format!(
                        "{id} is not a log group ARN of this lambdabox ({prefix}NAME)"
                    )))
                }
                None => id,
            };
            check_group_name(name)?;
            Ok(name.to_string())
        }
        (None, None) => Err(LogsError::InvalidParameter(
            "Either the logGroupName or the logGroupIdentifier must be given.".into(),
        )),
    }
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>`
pub fn group_arn(me: &crate::domain::Identity, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        me.region, me.account_id
    )
}

/// A page size between 1 and `max` (`default` when absent).
pub fn limit(given: Option<i64>, default: usize, max: usize) -> Result<usize, LogsError> {
    match given {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))),
    }
}

/// The error for a token this service did not hand out.
pub fn bad_token() -> LogsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into())
}
