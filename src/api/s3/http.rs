//! What every S3 handler needs from the request and for the answer: bucket and key from the
//! raw path (the key keeps its trailing and doubled slashes), the caller for event records,
//! refusal of sub-resources and headers lambdabox does not implement, XML answers with
//! `x-amz-request-id`, S3's two time formats, and a file streamed as a sized body.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::NAMESPACE;
use crate::api::protocol::xml::Xml;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::S3Error;
use crate::services::s3::{Caller, S3};

/// The object store.
pub fn s3(state: &AppState) -> &S3 {
    &state.s3
}

/// The bucket named by the path.
pub fn bucket(req: &ApiRequest) -> String {
    req.label("Bucket").unwrap_or_default().to_string()
}

/// The key: everything after `/<bucket>/`, percent-decoded.
pub fn key(req: &ApiRequest) -> String {
    let raw = req.raw_path.strip_prefix('/').unwrap_or(&req.raw_path);
    let rest = raw.split_once('/').map_or("", |(_, k)| k);
    percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned()
}

/// Who is calling, for event records.
pub fn caller(state: &AppState, req: &ApiRequest) -> Caller {
    let _ = state;
    Caller {
        principal_id: format!("AWS:{}", req.principal.access_key_id),
        source_ip: req
            .header("x-forwarded-for")
            .map(|s| s.split(',').next().unwrap_or("").trim().to_string())
            .unwrap_or_else(|| req.peer_ip.clone()),
        request_id: req.request_id.clone(),
    }
}

/// Query parameters that name SigV4 or are harmless on any operation.
fn neutral(name: &str) -> bool {
    name.starts_with("X-Amz-") || name.starts_with("x-id") || name.starts_with("response-")
}

/// Refuses query parameters outside `allowed` (sub-resources such as `?acl`, `?tagging`).
pub fn only_params(req: &ApiRequest, allowed: &[&str]) -> Result<(), S3Error> {
    for (k, _) in req.query() {
        if !neutral(&k) && !allowed.contains(&k.as_str()) {
            return Err(S3Error::not_implemented(format!(
                "lambdabox's S3 does not implement the ?{k} parameter or sub-resource for {}.",
                req.operation
            )));
        }
    }
    Ok(())
}

/// Refuses request headers lambdabox would otherwise have to ignore.
pub fn refuse_headers(req: &ApiRequest, account: &str) -> Result<(), S3Error> {
    for (k, v) in &req.headers {
        let k = k.to_ascii_lowercase();
        let refused = k.starts_with("x-amz-server-side-encryption")
            || k.starts_with("x-amz-object-lock")
            || k == "x-amz-tagging"
            || k == "x-amz-website-redirect-location"
            || k.starts_with("x-amz-grant-")
            || (k == "x-amz-storage-class" && v != "STANDARD")
            || (k == "x-amz-acl" && !matches!(v.as_str(), "private" | "bucket-owner-full-control"))
            || k == "x-amz-request-payer"
            || k == "x-amz-expected-bucket-owner" && v != account;
        if refused {
            return Err(S3Error::not_implemented(format!(
                "lambdabox's S3 does not implement the {k} header (value '{v}'); send the request without it."
            )));
        }
    }
    Ok(())
}

/// A 200 with an XML document.
pub fn xml(req: &ApiRequest, doc: Xml) -> HttpResponse {
    xml_status(req, StatusCode::OK, doc)
}

pub fn xml_status(req: &ApiRequest, status: StatusCode, doc: Xml) -> HttpResponse {
    builder(req, status)
        .content_type("application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            doc.finish()
        ))
}

/// A response with S3's request id headers.
pub fn builder(req: &ApiRequest, status: StatusCode) -> HttpResponseBuilder {
    let mut b = HttpResponse::build(status);
    b.insert_header(("x-amz-request-id", req.request_id.clone()))
        .insert_header(("x-amzn-RequestId", req.request_id.clone()))
        .insert_header((
            "x-amz-id-2",
            crate::domain::s3::event::host_id(&req.request_id),
        ));
    b
}

/// `<Root xmlns="…">` started.
pub fn doc(root: &str) -> Xml {
    let mut x = Xml::new();
    x.open_ns(root, NAMESPACE);
    x
}

/// `2025-01-15T10:20:30.123Z`
pub fn iso(ms: i64) -> String {
    crate::domain::s3::event::event_time(ms)
}

/// `Wed, 21 Oct 2015 07:28:00 GMT`
pub fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Parses an HTTP date (RFC 7231 IMF-fixdate) into Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s.trim(), &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// `len` bytes of `file` from `start`, streamed in 256 KiB reads.
pub fn file_body(
    file: std::fs::File,
    start: u64,
    len: u64,
) -> SizedStream<impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>>> {
    let file = tokio::fs::File::from_std(file);
    let s = stream::unfold(
        (Some(file), start, len, true),
        |(file, pos, left, first)| async move {
            let mut file = file?;
            if left == 0 {
                return None;
            }
            if first {
                if let Err(e) = file.seek(std::io::SeekFrom::Start(pos)).await {
                    return Some((Err(e), (None, pos, 0, false)));
                }
            }
            let want = left.min(256 * 1024) as usize;
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "object file shorter than its row",
                    )),
                    (None, pos, 0, false),
                )),
                Ok(n) => {
                    buf.truncate(n);
                    Some((
                        Ok(bytes::Bytes::from(buf)),
                        (Some(file), pos + n as u64, left - n as u64, false),
                    ))
                }
                Err(e) => Some((Err(e), (None, pos, 0, false))),
            }
        },
    );
    SizedStream::new(len, s)
}

/// The ETag as S3 sends it: quoted.
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// An ETag as a client sends it, without quotes.
pub fn unquoted(etag: &str) -> String {
    etag.trim().trim_matches('"').to_string()
}
