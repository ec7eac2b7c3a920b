//! Taking an uploaded body (PutObject, UploadPart): the declared length (`Content-Length`, or
//! `x-amz-decoded-content-length` for aws-chunked bodies) is required; the bytes are written
//! through `services::s3::upload`, then checked against `Content-MD5` and the checksum the
//! client sent in a header or a trailer (`x-amz-checksum-*`). Any mismatch drops the file.

use super::errors::body_error;
use super::http;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::checksum::Algorithm;
use crate::domain::s3::{S3Error, DEFAULT_CONTENT_TYPE};
use crate::services::s3::objects::NewObject;
use crate::services::s3::upload::{Upload, Written};

/// Stored headers besides user metadata.
const STORED: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-language",
    "expires",
];

/// The content type and stored headers of an upload (user metadata at most 2 KB).
pub fn new_object(req: &ApiRequest) -> Result<NewObject, S3Error> {
    let mut headers = Vec::new();
    let mut meta_size = 0usize;
    for (k, v) in &req.headers {
        let lk = k.to_ascii_lowercase();
        if let Some(name) = lk.strip_prefix("x-amz-meta-") {
            meta_size += name.len() + v.len();
            headers.push((lk.clone(), v.clone()));
        } else if STORED.contains(&lk.as_str()) {
            headers.push((lk.clone(), v.clone()));
        } else if lk == "content-encoding" {
            let kept: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            if !kept.is_empty() {
                headers.push((lk.clone(), kept.join(", ")));
            }
        }
    }
    if meta_size > 2048 {
        return Err(S3Error::new(
            "MetadataTooLarge",
            400,
            "Your metadata headers exceed the maximum allowed metadata size",
        )
        .with("Size", meta_size.to_string())
        .with("MaxSizeAllowed", "2048"));
    }
    headers.sort();
    Ok(NewObject {
        content_type: req
            .header("content-type")
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_string(),
        headers,
    })
}

/// The checksum algorithm an upload asks for, and the value sent in a header (a trailer's
/// value comes with the body).
pub fn checksum_request(req: &ApiRequest) -> Result<(Option<Algorithm>, Option<String>), S3Error> {
    for (k, v) in &req.headers {
        if let Some(name) = k.to_ascii_lowercase().strip_prefix("x-amz-checksum-") {
            if matches!(name, "algorithm" | "mode" | "type") {
                continue;
            }
            let a = Algorithm::parse(name).ok_or_else(|| {
                S3Error::invalid_request(format!(
                    "The checksum x-amz-checksum-{name} is not supported."
                ))
            })?;
            return Ok((Some(a), Some(v.trim().to_string())));
        }
    }
    if let Some(t) = req.header("x-amz-trailer") {
        let name = t.trim().to_ascii_lowercase();
        let a = name
            .strip_prefix("x-amz-checksum-")
            .and_then(Algorithm::parse)
            .ok_or_else(|| {
                S3Error::invalid_request(format!("The trailer {t} is not supported."))
            })?;
        return Ok((Some(a), None));
    }
    let named = req
        .header("x-amz-sdk-checksum-algorithm")
        .or_else(|| req.header("x-amz-checksum-algorithm"));
    match named {
        Some(n) => match Algorithm::parse(n) {
            Some(a) => Ok((Some(a), None)),
            None => Err(S3Error::invalid_request(format!(
                "Checksum algorithm {n} is not supported; use {}.",
                crate::domain::s3::checksum::NAMES
            ))),
        },
        None => Ok((None, None)),
    }
}

/// The body's declared length: `Content-Length`, or `x-amz-decoded-content-length` for an
/// aws-chunked body; required, at most 5 GiB.
pub fn declared_length(req: &ApiRequest) -> Result<u64, S3Error> {
    let chunked = req
        .header("x-amz-content-sha256")
        .is_some_and(|h| h.starts_with("STREAMING-"));
    let missing = || {
        S3Error::new(
            "MissingContentLength",
            411,
            "You must provide the Content-Length HTTP header.",
        )
    };
    let declared: u64 = if chunked {
        let d = req
            .header("x-amz-decoded-content-length")
            .ok_or_else(missing)?;
        d.trim().parse().map_err(|_| {
            S3Error::invalid_argument("x-amz-decoded-content-length must be a number")
        })?
    } else {
        req.header("content-length")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(missing)?
    };
    if declared > crate::domain::s3::MAX_PUT {
        return Err(S3Error::new(
            "EntityTooLarge",
            400,
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
    }
    Ok(declared)
}

/// Reads the request's body to a temporary file and verifies it.
pub async fn take(
    state: &AppState,
    req: &ApiRequest,
    algorithm_default: Option<Algorithm>,
) -> Result<Written, S3Error> {
    let declared = declared_length(req)?;
    let md5 = super::objects::content_md5(req)?;
    let (algorithm, header_value) = checksum_request(req)?;
    let algorithm = algorithm.or(algorithm_default);
    let mut stream = req
        .take_stream()
        .ok_or_else(|| S3Error::internal("the body was already taken"))?;
    let mut up = Upload::begin(&http::s3(state).files, algorithm)?;
    while let Some(chunk) = stream.next_chunk().await {
        let chunk = chunk.map_err(body_error)?;
        up.write(chunk).await?;
        if up.size() > declared {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "The request body is longer than its declared length.",
            ));
        }
    }
    if up.size() != declared {
        return Err(S3Error::new(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ));
    }
    let written = up.finish().await?;
    if let Some(m) = md5 {
        if m != written.md5 {
            return Err(S3Error::bad_digest("Content-MD5"));
        }
    }
    let trailer_value = algorithm.and_then(|a| {
        stream
            .trailers()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&a.header()))
            .map(|(_, v)| v.clone())
    });
    if let (Some((a, got)), Some(want)) = (&written.checksum, header_value.or(trailer_value)) {
        if *got != want {
            return Err(S3Error::bad_digest(a.name()));
        }
    }
    Ok(written)
}
