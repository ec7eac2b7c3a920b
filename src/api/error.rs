//! The one place where errors become HTTP responses in AWS's rest-json error shape:
//! status code, `x-amzn-ErrorType` header, and a JSON body with `Type` and the message member
//! the service model names (`message` or `Message`; both are sent, which botocore tolerates).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::sigv4::AuthError;
use crate::domain::Error;

/// Status, AWS error type, and whether the fault is the client's.
pub fn classify(e: &Error) -> (StatusCode, &'static str, bool) {
    use Error::*;
    match e {
        InvalidParameterValue(_) => (
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            true,
        ),
        Validation(_) => (StatusCode::BAD_REQUEST, "ValidationException", true),
        InvalidRequestContent(_) => (
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            true,
        ),
        Serialization(_) => (StatusCode::BAD_REQUEST, "SerializationException", true),
        RequestTooLarge(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            true,
        ),
        RequestEntityTooLarge(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            true,
        ),
        UnsupportedMediaType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaTypeException",
            true,
        ),
        ResourceNotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException", true),
        ResourceConflict(_) => (StatusCode::CONFLICT, "ResourceConflictException", true),
        ResourceInUse(_) => (StatusCode::BAD_REQUEST, "ResourceInUseException", true),
        PreconditionFailed(_) => (
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
            true,
        ),
        CodeStorageExceeded(_) => (
            StatusCode::BAD_REQUEST,
            "CodeStorageExceededException",
            true,
        ),
        InvalidZipFile(_) => (StatusCode::BAD_REQUEST, "InvalidZipFileException", true),
        InvalidRuntime(_) => (StatusCode::BAD_GATEWAY, "InvalidRuntimeException", false),
        ProvisionedConcurrencyConfigNotFound(_) => (
            StatusCode::NOT_FOUND,
            "ProvisionedConcurrencyConfigNotFoundException",
            true,
        ),
        TooManyRequests { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            true,
        ),
        RecursiveInvocation(_) => (
            StatusCode::BAD_REQUEST,
            "RecursiveInvocationException",
            true,
        ),
        NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "NotImplementedException", true),
        Service(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", false),
    }
}

/// Renders a domain error.
pub fn response(e: &Error, request_id: &str) -> HttpResponse {
    let (status, kind, user) = classify(e);
    let message = match e {
        Error::TooManyRequests { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let mut body = json!({
        "Type": if user { "User" } else { "Service" },
        "message": message,
        "Message": message,
    });
    let mut builder = HttpResponse::build(status);
    if let Error::TooManyRequests { reason, .. } = e {
        body["Reason"] = json!(reason);
        builder.insert_header(("Retry-After", "1"));
    }
    builder
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("x-amzn-ErrorType", kind))
        .content_type("application/json")
        .body(body.to_string())
}

/// Renders an authentication failure (always 403, as AWS does).
pub fn auth_response(e: &AuthError, request_id: &str) -> HttpResponse {
    let kind = match e {
        AuthError::Missing => "MissingAuthenticationTokenException",
        AuthError::UnknownKey => "UnrecognizedClientException",
        AuthError::Incomplete(_) => "IncompleteSignatureException",
        AuthError::BadSignature | AuthError::Expired(_) | AuthError::WrongRegion(_) => {
            "InvalidSignatureException"
        }
    };
    let message = e.to_string();
    HttpResponse::build(StatusCode::FORBIDDEN)
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("x-amzn-ErrorType", kind))
        .content_type("application/json")
        .body(json!({"Type": "User", "message": message, "Message": message}).to_string())
}
