//! The error kinds of the Lambda API, named as AWS names them so that the mapping to the
//! wire (`x-amzn-ErrorType`, status code, message member) is mechanical.

/// A failed operation, as the client will see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `1 validation error detected: ...`
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidRequestContent(String),
    /// The request body is not the JSON the operation expects.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    RequestTooLarge(String),
    #[error("{0}")]
    RequestEntityTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// A resource-based policy would grow past its size limit.
    #[error("{0}")]
    PolicyLengthExceeded(String),
    #[error("{0}")]
    CodeStorageExceeded(String),
    #[error("{0}")]
    InvalidZipFile(String),
    /// The function's runtime cannot be started on this host.
    #[error("{0}")]
    InvalidRuntime(String),
    /// No provisioned concurrency configuration for the qualifier.
    #[error("{0}")]
    ProvisionedConcurrencyConfigNotFound(String),
    #[error("{reason}: {message}")]
    TooManyRequests { reason: String, message: String },
    /// A chain of invocations was stopped by recursive loop detection.
    #[error("{0}")]
    RecursiveInvocation(String),
    /// No operation of the service has this method and path (never "not found": SDKs read
    /// `ResourceNotFoundException` as "the thing does not exist").
    #[error("{0}")]
    UnknownOperation(String),
    /// The route exists in AWS but not (yet) in lambdabox.
    #[error("{0}")]
    NotImplemented(String),
    /// Something failed inside lambdabox; the message is safe to show, the cause is logged.
    #[error("{0}")]
    Service(String),
    /// Something inside lambdabox is temporarily out of capacity (the store's connections
    /// are all held); the client retries. AWS's `ServiceException`, with status 503.
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    /// A `ValidationException` in AWS's wording for one failed constraint.
    pub fn constraint(value: &str, field: &str, constraint: &str) -> Error {
        Error::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// The `ResourceNotFoundException` AWS returns for a missing function.
    pub fn function_not_found(arn: &str) -> Error {
        Error::ResourceNotFound(format!("Function not found: {arn}"))
    }

    /// The `PreconditionFailedException` for a stale `RevisionId`.
    pub fn stale_revision() -> Error {
        Error::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
        )
    }
}
