//! S3's errors on the wire: an [`S3Error`] becomes an [`ApiError`] with S3's code and status
//! and its extra members (`BucketName`, `Key`…) in the `<Error>` document; the front door's
//! body errors become S3's (`EntityTooLarge`, `XAmzContentSHA256Mismatch`, `IncompleteBody`,
//! `SignatureDoesNotMatch` for a bad chunk signature).

use std::borrow::Cow;

use actix_web::http::StatusCode;

use crate::api::body::BodyError;
use crate::api::error::ApiError;
use crate::domain::s3::S3Error;

impl From<S3Error> for ApiError {
    fn from(e: S3Error) -> ApiError {
        ApiError {
            code: Cow::Borrowed(e.code),
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            sender: e.status < 500,
            message: e.message,
            query_code: None,
            fields: e
                .fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
            headers: Vec::new(),
        }
    }
}

/// S3's error for a body that could not be taken.
pub fn body_error(e: BodyError) -> S3Error {
    match e {
        BodyError::TooLarge(cap) => S3Error::new(
            "EntityTooLarge",
            400,
            "Your proposed upload exceeds the maximum allowed object size.",
        )
        .with("MaxSizeAllowed", cap.to_string()),
        BodyError::Busy => S3Error::new("SlowDown", 503, "Please reduce your request rate."),
        BodyError::Read(m) => S3Error::new(
            "IncompleteBody",
            400,
            format!("You did not provide the number of bytes specified by the Content-Length HTTP header: {m}"),
        ),
        BodyError::DigestMismatch => S3Error::new(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        BodyError::ChunkSignature => S3Error::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
        BodyError::Chunked(m) => S3Error::new("IncompleteBody", 400, format!("The aws-chunked body is malformed: {m}")),
    }
}
