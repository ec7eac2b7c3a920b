//! Rejections the Runtime API answers with, rendered as RAPID renders them.
//!
//! The messages are AWS's wire strings (matched exactly, hence capitalised); everything else in
//! the module follows the project's lower-case convention.

use hyper::StatusCode;

use super::types::MAX_RESPONSE_BYTES;

/// A request the Runtime API refuses; becomes `{"errorMessage": …, "errorType": …}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request id in the path is not the invocation in flight.
    #[error("Invalid request ID")]
    InvalidRequestId,
    /// The call is not allowed in the runtime's current state.
    #[error("State transition from {from} to {to} failed for runtime. Error: State transition is not allowed")]
    InvalidStateTransition {
        /// RAPID name of the current state.
        from: &'static str,
        /// RAPID name of the requested state.
        to: &'static str,
    },
    /// A posted body exceeded [`MAX_RESPONSE_BYTES`].
    #[error("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).")]
    PayloadTooLarge,
    /// `Lambda-Runtime-Function-Response-Mode` with a value other than `streaming`.
    #[error("Invalid Response Mode header value")]
    InvalidResponseMode,
    /// The environment is shutting down.
    #[error("Internal Server Error")]
    Closed,
    /// An extension call without `Lambda-Extension-Identifier`.
    #[error("Missing Lambda-Extension-Identifier header")]
    MissingExtensionIdentifier,
    /// An extension call with an identifier that never registered.
    #[error("Invalid Lambda-Extension-Identifier")]
    InvalidExtensionIdentifier,
    /// No such path.
    #[error("Not Found")]
    NotFound,
    /// Known path, wrong method.
    #[error("Method Not Allowed")]
    MethodNotAllowed,
}

impl ApiError {
    /// HTTP status of the rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequestId | ApiError::InvalidResponseMode => StatusCode::BAD_REQUEST,
            ApiError::InvalidStateTransition { .. }
            | ApiError::MissingExtensionIdentifier
            | ApiError::InvalidExtensionIdentifier => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Closed => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// `errorType` of the rejection.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::InvalidRequestId => "InvalidRequestID",
            ApiError::InvalidResponseMode => "InvalidResponseModeHeader",
            ApiError::InvalidStateTransition { .. } => "InvalidStateTransition",
            ApiError::PayloadTooLarge => "RequestEntityTooLarge",
            ApiError::Closed => "InternalServerError",
            ApiError::MissingExtensionIdentifier => "Extension.MissingExtensionIdentifier",
            ApiError::InvalidExtensionIdentifier => "Extension.InvalidExtensionIdentifier",
            ApiError::NotFound => "NotFound",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
        }
    }

    /// The JSON error document.
    pub fn body(&self) -> String {
        serde_json::json!({ "errorMessage": self.to_string(), "errorType": self.error_type() })
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_rapid() {
        assert_eq!(
            ApiError::InvalidRequestId.body(),
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#
        );
        assert_eq!(
            ApiError::PayloadTooLarge.body(),
            r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#
        );
        assert_eq!(ApiError::Closed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
