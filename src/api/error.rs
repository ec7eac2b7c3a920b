//! Errors as the wire sees them: an [`ApiError`] is a code, a status, a message and whether
//! the client is at fault; each protocol (`api::protocol`) renders it in its own shape.
//!
//! Every service declares its error kinds once, as [`ErrorKind`] constants (code → status),
//! and turns its own error enum into [`ApiError`]s through them. Lambda's kinds are the
//! `domain::Error` variants, mapped by [`lambda_kind`]; the front door's own kinds (unknown
//! service or operation, body too large, busy) are in [`layer`].

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::domain::Error;

/// One error code of one service and the status it is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    /// The code botocore reads (`x-amzn-ErrorType`, `__type`, `<Code>`).
    pub code: &'static str,
    pub status: u16,
    /// True when the client caused it (`Type: User` / `Sender`), false for our faults.
    pub sender: bool,
    /// The code the same error has in the query protocol, for services that speak both
    /// (SQS: `QueueDoesNotExist` is `AWS.SimpleQueueService.NonExistentQueue`). JSON answers
    /// then carry it in `x-amzn-query-error`, as AWS's query-compatible services do.
    pub query_code: Option<&'static str>,
}

impl ErrorKind {
    /// A client error (4xx) or a service fault (5xx), by status.
    pub const fn new(code: &'static str, status: u16) -> ErrorKind {
        ErrorKind {
            code,
            status,
            sender: status < 500,
            query_code: None,
        }
    }

    /// The same kind with a different code in the query protocol.
    pub const fn query(self, query_code: &'static str) -> ErrorKind {
        ErrorKind {
            query_code: Some(query_code),
            ..self
        }
    }

    /// An error of this kind with `message`.
    pub fn with(&self, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Cow::Borrowed(self.code),
            status: StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            sender: self.sender,
            message: message.into(),
            query_code: self.query_code,
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// A failed call, ready to be rendered by the request's protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: Cow<'static, str>,
    pub status: StatusCode,
    pub sender: bool,
    pub message: String,
    pub query_code: Option<&'static str>,
    /// Extra members of the error structure (`Reason` of a throttle).
    pub fields: Vec<(&'static str, serde_json::Value)>,
    /// Extra response headers (`Retry-After`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// Adds a member to the error structure.
    pub fn field(mut self, name: &'static str, value: serde_json::Value) -> ApiError {
        self.fields.push((name, value));
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

/// The front door's own error kinds, shared by every service.
pub mod layer {
    use super::ErrorKind;

    /// The credential scope (or, unsigned, the request's shape) names no service served here.
    pub const UNKNOWN_SERVICE: ErrorKind = ErrorKind::new("UnknownServiceException", 400);
    /// JSON and REST protocols: the service has no such operation.
    pub const UNKNOWN_OPERATION: ErrorKind = ErrorKind::new("UnknownOperationException", 400);
    /// REST protocols: no operation has this method and path.
    pub const UNKNOWN_PATH: ErrorKind = ErrorKind::new("UnknownOperationException", 404);
    /// Query protocol: no such `Action`.
    pub const INVALID_ACTION: ErrorKind = ErrorKind::new("InvalidAction", 400);
    /// Query protocol: no `Action` at all.
    pub const MISSING_ACTION: ErrorKind = ErrorKind::new("MissingAction", 400);
    /// Query protocol: a required parameter is absent.
    pub const MISSING_PARAMETER: ErrorKind = ErrorKind::new("MissingParameter", 400);
    /// Query protocol: a parameter has a value the operation cannot take.
    pub const INVALID_PARAMETER_VALUE: ErrorKind = ErrorKind::new("InvalidParameterValue", 400);
    /// JSON protocols: the body is not the JSON object the operation takes.
    pub const SERIALIZATION: ErrorKind = ErrorKind::new("SerializationException", 400);
    /// The body is over the operation's cap.
    pub const TOO_LARGE: ErrorKind = ErrorKind::new("RequestEntityTooLargeException", 413);
    /// The query protocol's name for [`TOO_LARGE`].
    pub const TOO_LARGE_QUERY: ErrorKind = ErrorKind::new("RequestEntityTooLarge", 413);
    /// The global budget of body bytes in flight is spent; the client retries.
    pub const UNAVAILABLE: ErrorKind = ErrorKind::new("ServiceUnavailable", 503);
    /// The body could not be read from the connection.
    pub const BAD_BODY: ErrorKind = ErrorKind::new("InvalidRequestContentException", 400);
    /// A feature of the wire protocol lambdabox does not implement.
    pub const NOT_IMPLEMENTED: ErrorKind = ErrorKind::new("NotImplemented", 501);
    /// Something failed inside lambdabox.
    pub const INTERNAL: ErrorKind = ErrorKind::new("InternalFailure", 500);
}

/// Lambda's error kinds: the `domain::Error` variants, as the Lambda model names them.
pub fn lambda_kind(e: &Error) -> ErrorKind {
    use Error::*;
    match e {
        InvalidParameterValue(_) => ErrorKind::new("InvalidParameterValueException", 400),
        Validation(_) => ErrorKind::new("ValidationException", 400),
        InvalidRequestContent(_) => ErrorKind::new("InvalidRequestContentException", 400),
        Serialization(_) => ErrorKind::new("SerializationException", 400),
        RequestTooLarge(_) => ErrorKind::new("RequestTooLargeException", 413),
        RequestEntityTooLarge(_) => ErrorKind::new("RequestEntityTooLargeException", 413),
        UnsupportedMediaType(_) => ErrorKind::new("UnsupportedMediaTypeException", 415),
        ResourceNotFound(_) => ErrorKind::new("ResourceNotFoundException", 404),
        ResourceConflict(_) => ErrorKind::new("ResourceConflictException", 409),
        ResourceInUse(_) => ErrorKind::new("ResourceInUseException", 400),
        PreconditionFailed(_) => ErrorKind::new("PreconditionFailedException", 412),
        PolicyLengthExceeded(_) => ErrorKind::new("PolicyLengthExceededException", 400),
        CodeStorageExceeded(_) => ErrorKind::new("CodeStorageExceededException", 400),
        InvalidZipFile(_) => ErrorKind::new("InvalidZipFileException", 400),
        InvalidRuntime(_) => ErrorKind::new("InvalidRuntimeException", 502),
        ProvisionedConcurrencyConfigNotFound(_) => {
            ErrorKind::new("ProvisionedConcurrencyConfigNotFoundException", 404)
        }
        TooManyRequests { .. } => ErrorKind::new("TooManyRequestsException", 429),
        RecursiveInvocation(_) => ErrorKind::new("RecursiveInvocationException", 400),
        UnknownOperation(_) => layer::UNKNOWN_PATH,
        NotImplemented(_) => ErrorKind {
            sender: true,
            ..ErrorKind::new("NotImplementedException", 501)
        },
        Service(_) => ErrorKind::new("ServiceException", 500),
        Unavailable(_) => ErrorKind::new("ServiceException", 503),
    }
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> ApiError {
        match e {
            Error::TooManyRequests { reason, message } => lambda_kind(e)
                .with(message.clone())
                .field("Reason", serde_json::json!(reason))
                .header("Retry-After", "1"),
            other => lambda_kind(other).with(other.to_string()),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::from(&e)
    }
}

/// Status, AWS error type, and whether the fault is the client's, of a Lambda error.
pub fn classify(e: &Error) -> (StatusCode, &'static str, bool) {
    let k = lambda_kind(e);
    (
        StatusCode::from_u16(k.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        k.code,
        k.sender,
    )
}

/// Renders a Lambda error in the rest-json shape (for paths outside the front door, such as
/// code downloads).
pub fn response(e: &Error, request_id: &str) -> HttpResponse {
    super::protocol::rest_json::error(&ApiError::from(e), request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_kinds_keep_their_codes_and_statuses() {
        let (s, code, user) = classify(&Error::ResourceNotFound("x".into()));
        assert_eq!(
            (s.as_u16(), code, user),
            (404, "ResourceNotFoundException", true)
        );
        let (s, code, user) = classify(&Error::Service("x".into()));
        assert_eq!((s.as_u16(), code, user), (500, "ServiceException", false));
        let (s, code, user) = classify(&Error::Unavailable("x".into()));
        assert_eq!((s.as_u16(), code, user), (503, "ServiceException", false));
        let e = ApiError::from(Error::TooManyRequests {
            reason: "ConcurrentInvocationLimitExceeded".into(),
            message: "Rate Exceeded.".into(),
        });
        assert_eq!(e.status.as_u16(), 429);
        assert_eq!(e.message, "Rate Exceeded.");
        assert_eq!(e.headers, vec![("Retry-After", "1".to_string())]);
        assert_eq!(
            ApiError::from(Error::UnknownOperation("no".into())).code,
            "UnknownOperationException"
        );
    }
}
