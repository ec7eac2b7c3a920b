//! PutObject, CopyObject, GetObject (Range, If-Match, If-None-Match, If-Modified-Since,
//! If-Unmodified-Since), HeadObject, DeleteObject and DeleteObjects.

use actix_web::http::StatusCode;
use actix_web::HttpResponseBuilder;
use futures_util::future::LocalBoxFuture;

use super::http::{self, builder, doc, iso, quoted, unquoted};
use super::ingest;
use super::xml_in;
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::checksum::Algorithm;
use crate::domain::s3::{S3Error, MAX_DELETE_KEYS};
use crate::services::s3::objects::Directive;
use crate::services::s3::Slot;
use crate::store::s3::objects::ObjectRow;

type Answer<'a> = LocalBoxFuture<'a, Result<Reply, ApiError>>;

/// Objects (or ranges) up to this size are read whole and sent with the headers.
const SMALL_BODY: u64 = 1 << 20;

fn checksum_headers(b: &mut HttpResponseBuilder, checksum: &str) {
    if let Some((a, v)) = checksum.split_once(':') {
        if let Some(a) = Algorithm::parse(a) {
            b.insert_header((a.header(), v.to_string()));
        }
    }
}

pub fn put_object<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        http::refuse_headers(req, &state.ctx.identity.account_id)?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        let s3 = http::s3(state);
        s3.bucket(&bucket).await?;
        let meta = ingest::new_object(req)?;
        let declared = ingest::declared_length(req)?;
        s3.room_for(&bucket, Slot::Object(key.clone()), declared)
            .await?;
        let body = ingest::take(state, req, None).await?;
        let row = s3
            .put_object(&bucket, &key, body, meta, &http::caller(state, req))
            .await?;
        let mut b = builder(req, StatusCode::OK);
        b.insert_header(("ETag", quoted(&row.etag)));
        checksum_headers(&mut b, &row.checksum);
        Ok(Reply::Http(b.finish()))
    })
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, percent-encoded.
pub fn copy_source(req: &ApiRequest) -> Result<(String, String), S3Error> {
    let raw = req.header("x-amz-copy-source").unwrap_or("");
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    if !query.is_empty() {
        return Err(S3Error::not_implemented(
            "lambdabox's S3 keeps no versions: x-amz-copy-source must not name a versionId.",
        ));
    }
    let path = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    match path.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .with("ArgumentName", "x-amz-copy-source")
        .with("ArgumentValue", raw)),
    }
}

pub fn copy_object<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        http::refuse_headers(req, &state.ctx.identity.account_id)?;
        if req.header("x-amz-copy-source-range").is_some() {
            return Err(S3Error::invalid_request(
                "x-amz-copy-source-range is for UploadPartCopy; CopyObject copies the whole object.",
            )
            .into());
        }
        refuse_copy_headers(req)?;
        let (src_bucket, src_key) = copy_source(req)?;
        let s3 = http::s3(state);
        copy_conditions(req, &s3.head_object(&src_bucket, &src_key).await?)?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        let directive = match req.header("x-amz-metadata-directive").unwrap_or("COPY") {
            "COPY" => Directive::Copy,
            "REPLACE" => Directive::Replace(ingest::new_object(req)?),
            other => {
                return Err(S3Error::invalid_argument(format!(
                    "Unknown metadata directive {other}."
                ))
                .with("ArgumentName", "x-amz-metadata-directive")
                .into())
            }
        };
        let row = s3
            .copy_object(
                &src_bucket,
                &src_key,
                &bucket,
                &key,
                directive,
                &http::caller(state, req),
            )
            .await?;
        let mut x = doc("CopyObjectResult");
        x.leaf("LastModified", &iso(row.modified_ms))
            .leaf("ETag", &quoted(&row.etag))
            .close("CopyObjectResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

/// The `x-amz-copy-source-*` headers lambdabox implements.
const COPY_HEADERS: &[&str] = &[
    "x-amz-copy-source",
    "x-amz-copy-source-range",
    "x-amz-copy-source-if-match",
    "x-amz-copy-source-if-none-match",
    "x-amz-copy-source-if-modified-since",
    "x-amz-copy-source-if-unmodified-since",
];

/// Refuses the other `x-amz-copy-source-*` headers (SSE-C of the source…).
pub fn refuse_copy_headers(req: &ApiRequest) -> Result<(), S3Error> {
    for (k, _) in &req.headers {
        let k = k.to_ascii_lowercase();
        if k.starts_with("x-amz-copy-source") && !COPY_HEADERS.contains(&k.as_str()) {
            return Err(S3Error::not_implemented(format!(
                "lambdabox's S3 does not implement the {k} header; send the request without it."
            )));
        }
    }
    Ok(())
}

/// The copy source's conditions (CopyObject, UploadPartCopy): S3 answers 412 to any that
/// fails, except that a matching If-Match overrides a failed If-Unmodified-Since and a
/// failing If-None-Match is not rescued by If-Modified-Since.
pub fn copy_conditions(req: &ApiRequest, src: &ObjectRow) -> Result<(), S3Error> {
    let modified_s = src.modified_ms.div_euclid(1000);
    let etag_in = |list: &str| {
        list.split(',')
            .map(unquoted)
            .any(|e| e == "*" || e == src.etag)
    };
    if let Some(m) = req.header("x-amz-copy-source-if-match") {
        if !etag_in(m) {
            return Err(S3Error::precondition_failed("x-amz-copy-source-If-Match"));
        }
    } else if let Some(t) = req
        .header("x-amz-copy-source-if-unmodified-since")
        .and_then(http::parse_http_date)
    {
        if modified_s > t {
            return Err(S3Error::precondition_failed(
                "x-amz-copy-source-If-Unmodified-Since",
            ));
        }
    }
    if let Some(m) = req.header("x-amz-copy-source-if-none-match") {
        if etag_in(m) {
            return Err(S3Error::precondition_failed(
                "x-amz-copy-source-If-None-Match",
            ));
        }
    } else if let Some(t) = req
        .header("x-amz-copy-source-if-modified-since")
        .and_then(http::parse_http_date)
    {
        if modified_s <= t {
            return Err(S3Error::precondition_failed(
                "x-amz-copy-source-If-Modified-Since",
            ));
        }
    }
    Ok(())
}

/// The object headers of GetObject and HeadObject.
fn object_headers(b: &mut HttpResponseBuilder, row: &ObjectRow) {
    b.insert_header(("ETag", quoted(&row.etag)))
        .insert_header(("Last-Modified", http::http_date(row.modified_ms)))
        .insert_header(("Accept-Ranges", "bytes"))
        .insert_header(("Content-Type", row.content_type.clone()));
    for (k, v) in &row.headers {
        b.insert_header((k.as_str(), v.clone()));
    }
    if row.parts > 0 {
        b.insert_header(("x-amz-mp-parts-count", row.parts.to_string()));
    }
}

/// `response-content-type` and friends override the stored headers of a GET.
fn overrides(b: &mut HttpResponseBuilder, req: &ApiRequest) {
    for (param, header) in [
        ("response-content-type", "Content-Type"),
        ("response-content-disposition", "Content-Disposition"),
        ("response-content-encoding", "Content-Encoding"),
        ("response-content-language", "Content-Language"),
        ("response-cache-control", "Cache-Control"),
        ("response-expires", "Expires"),
    ] {
        if let Some(v) = req.query_param(param) {
            b.insert_header((header, v));
        }
    }
}

/// The conditional headers, in RFC 7232's order: a failed If-Match / If-Unmodified-Since is
/// 412, a matching If-None-Match / unchanged If-Modified-Since is 304.
enum Condition {
    Proceed,
    NotModified,
}

fn conditions(req: &ApiRequest, row: &ObjectRow) -> Result<Condition, S3Error> {
    let modified_s = row.modified_ms.div_euclid(1000);
    let etag_in = |list: &str| {
        list.split(',')
            .map(unquoted)
            .any(|e| e == "*" || e == row.etag)
    };
    let if_match = req.header("if-match");
    if let Some(m) = if_match {
        if !etag_in(m) {
            return Err(S3Error::precondition_failed("If-Match"));
        }
    } else if let Some(t) = req
        .header("if-unmodified-since")
        .and_then(http::parse_http_date)
    {
        if modified_s > t {
            return Err(S3Error::precondition_failed("If-Unmodified-Since"));
        }
    }
    if let Some(m) = req.header("if-none-match") {
        if etag_in(m) {
            return Ok(Condition::NotModified);
        }
    } else if let Some(t) = req
        .header("if-modified-since")
        .and_then(http::parse_http_date)
    {
        if modified_s <= t {
            return Ok(Condition::NotModified);
        }
    }
    Ok(Condition::Proceed)
}

/// A `Range: bytes=…` header: `Ok(None)` for the whole object (no header, or one S3 ignores),
/// `Err(InvalidRange)` when nothing of it is inside the object.
fn range(req: &ApiRequest, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(h) = req.header("range") else {
        return Ok(None);
    };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, z)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, z) = (a.trim(), z.trim());
    let unsatisfiable = || {
        S3Error::new(
            "InvalidRange",
            416,
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", h)
        .with("ActualObjectSize", size.to_string())
    };
    let (start, end) = if a.is_empty() {
        let Ok(n) = z.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 {
            return Err(unsatisfiable());
        }
        (size.saturating_sub(n), size.saturating_sub(1))
    } else {
        let Ok(s) = a.parse::<u64>() else {
            return Ok(None);
        };
        let e = if z.is_empty() {
            size.saturating_sub(1)
        } else {
            let Ok(e) = z.parse::<u64>() else {
                return Ok(None);
            };
            if e < s {
                return Ok(None);
            }
            e.min(size.saturating_sub(1))
        };
        (s, e)
    };
    if size == 0 || start >= size {
        return Err(unsatisfiable());
    }
    Ok(Some((start, end)))
}

fn refuse_part_number(req: &ApiRequest) -> Result<(), S3Error> {
    http::only_params(
        req,
        &[
            "response-content-type",
            "response-content-disposition",
            "response-content-encoding",
            "response-content-language",
            "response-cache-control",
            "response-expires",
        ],
    )
}

pub fn get_object<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        refuse_part_number(req)?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        let (row, file) = http::s3(state).open_object(&bucket, &key).await?;
        if let Condition::NotModified = conditions(req, &row)? {
            let mut b = builder(req, StatusCode::NOT_MODIFIED);
            b.insert_header(("ETag", quoted(&row.etag)))
                .insert_header(("Last-Modified", http::http_date(row.modified_ms)));
            return Ok(Reply::Http(b.finish()));
        }
        let r = range(req, row.size)?;
        let (status, start, len) = match r {
            Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
            None => (StatusCode::OK, 0, row.size),
        };
        let mut b = builder(req, status);
        object_headers(&mut b, &row);
        if let Some((s, e)) = r {
            b.insert_header(("Content-Range", format!("bytes {s}-{e}/{}", row.size)));
        } else if req
            .header("x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        {
            checksum_headers(&mut b, &row.checksum);
        }
        overrides(&mut b, req);
        if len > SMALL_BODY {
            return Ok(Reply::Http(b.body(http::file_body(file, start, len))));
        }
        // A small body goes out in the same write as the headers: streamed separately, it
        // would wait for the client's delayed ACK.
        let data = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::io::{Read, Seek};
            let mut file = file;
            file.seek(std::io::SeekFrom::Start(start))?;
            let mut buf = vec![0u8; len as usize];
            file.read_exact(&mut buf)?;
            Ok(buf)
        })
        .await
        .map_err(|e| S3Error::internal(format!("the reader thread failed: {e}")))?
        .map_err(S3Error::from)?;
        Ok(Reply::Http(b.body(data)))
    })
}

pub fn head_object<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        refuse_part_number(req)?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        let row = http::s3(state).head_object(&bucket, &key).await?;
        if let Condition::NotModified = conditions(req, &row)? {
            let mut b = builder(req, StatusCode::NOT_MODIFIED);
            b.insert_header(("ETag", quoted(&row.etag)));
            return Ok(Reply::Http(b.finish()));
        }
        let r = range(req, row.size)?;
        let (status, len) = match r {
            Some((s, e)) => (StatusCode::PARTIAL_CONTENT, e - s + 1),
            None => (StatusCode::OK, row.size),
        };
        let mut b = builder(req, status);
        object_headers(&mut b, &row);
        if let Some((s, e)) = r {
            b.insert_header(("Content-Range", format!("bytes {s}-{e}/{}", row.size)));
        }
        if req
            .header("x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        {
            checksum_headers(&mut b, &row.checksum);
        }
        overrides(&mut b, req);
        let empty = futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        Ok(Reply::Http(
            b.body(actix_web::body::SizedStream::new(len, empty)),
        ))
    })
}

pub fn delete_object<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        http::s3(state)
            .delete_object(&bucket, &key, &http::caller(state, req))
            .await?;
        Ok(Reply::Http(builder(req, StatusCode::NO_CONTENT).finish()))
    })
}

/// The `Content-MD5` header decoded (16 bytes), if sent; `InvalidDigest` when malformed.
pub fn content_md5(req: &ApiRequest) -> Result<Option<Vec<u8>>, S3Error> {
    use base64::Engine as _;
    req.header("content-md5")
        .map(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
                .filter(|b| b.len() == 16)
                .ok_or_else(|| {
                    S3Error::new(
                        "InvalidDigest",
                        400,
                        "The Content-MD5 you specified was invalid.",
                    )
                })
        })
        .transpose()
}

/// Verifies `Content-MD5` of a buffered body, when sent.
pub fn check_md5(req: &ApiRequest) -> Result<(), S3Error> {
    if let Some(raw) = content_md5(req)? {
        if raw != crate::services::s3::multipart::md5_of(&req.body) {
            return Err(S3Error::bad_digest("Content-MD5"));
        }
    }
    Ok(())
}

pub fn delete_objects<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["delete"])?;
        check_md5(req)?;
        let bucket = http::bucket(req);
        let s3 = http::s3(state);
        s3.bucket(&bucket).await?;
        let root = xml_in::parse(&req.body).ok_or_else(S3Error::malformed_xml)?;
        if root.name != "Delete" {
            return Err(S3Error::malformed_xml().into());
        }
        let quiet = root.text_of("Quiet").is_some_and(|q| q.trim() == "true");
        let keys: Vec<String> = root
            .all("Object")
            .map(|o| o.text_of("Key").unwrap_or("").to_string())
            .collect();
        if keys.is_empty() || keys.len() > MAX_DELETE_KEYS {
            return Err(S3Error::malformed_xml().into());
        }
        if root.all("Object").any(|o| o.child("VersionId").is_some()) {
            return Err(S3Error::not_implemented(
                "lambdabox's S3 keeps no versions: DeleteObjects must not name a VersionId.",
            )
            .into());
        }
        let caller = http::caller(state, req);
        let mut x = doc("DeleteResult");
        for k in keys {
            match s3.delete_object(&bucket, &k, &caller).await {
                Ok(()) => {
                    if !quiet {
                        x.open("Deleted").leaf("Key", &k).close("Deleted");
                    }
                }
                Err(e) => {
                    x.open("Error")
                        .leaf("Key", &k)
                        .leaf("Code", e.code)
                        .leaf("Message", &e.message)
                        .close("Error");
                }
            }
        }
        x.close("DeleteResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}
