//! The errors of the EventBridge and Scheduler services, by the kind their APIs name; each
//! API folder maps a kind to its wire code.

use crate::domain::Error;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EbError {
    /// ResourceNotFoundException
    #[error("{0}")]
    NotFound(String),
    /// ValidationException
    #[error("{0}")]
    Validation(String),
    /// InvalidEventPatternException
    #[error("{0}")]
    InvalidPattern(String),
    /// ResourceAlreadyExistsException (events) / ConflictException (scheduler)
    #[error("{0}")]
    AlreadyExists(String),
    /// LimitExceededException / ServiceQuotaExceededException
    #[error("{0}")]
    LimitExceeded(String),
    /// InternalException / InternalServerException
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for EbError {
    fn from(e: StoreError) -> EbError {
        EbError::from(Error::from(e))
    }
}

impl From<Error> for EbError {
    fn from(e: Error) -> EbError {
        match e {
            Error::ResourceNotFound(m) => EbError::NotFound(m),
            Error::Service(m) | Error::Unavailable(m) => EbError::Internal(m),
            Error::ResourceConflict(m) => EbError::AlreadyExists(m),
            other => EbError::Validation(other.to_string()),
        }
    }
}

/// AWS's wording for one failed constraint.
pub fn constraint(value: &str, member: &str, constraint: &str) -> EbError {
    EbError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// Checks a name against a character class and a length.
pub fn check_name(value: &str, member: &str, max: usize, extra: &str) -> Result<(), EbError> {
    if value.is_empty() || value.len() > max {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length between 1 and {max}"),
        ));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c) || extra.contains(c));
    if !ok {
        return Err(constraint(
            value,
            member,
            &format!(
                "Member must satisfy regular expression pattern: [{}\\.\\-_A-Za-z0-9]+",
                extra
            ),
        ));
    }
    Ok(())
}
