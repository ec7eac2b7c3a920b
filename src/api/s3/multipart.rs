//! CreateMultipartUpload, UploadPart, UploadPartCopy (a part copied from an object, whole or
//! `x-amz-copy-source-range`), CompleteMultipartUpload, AbortMultipartUpload, ListParts,
//! ListMultipartUploads.

use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::http::{self, builder, doc, iso, quoted, unquoted};
use super::ingest;
use super::objects;
use super::xml_in;
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::checksum::Algorithm;
use crate::domain::s3::S3Error;
use crate::services::s3::multipart::PartRef;
use crate::services::s3::upload::Upload;
use crate::services::s3::Slot;

type Answer<'a> = LocalBoxFuture<'a, Result<Reply, ApiError>>;

fn upload_id(req: &ApiRequest) -> String {
    req.query_param("uploadId").unwrap_or_default()
}

pub fn create<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["uploads"])?;
        http::refuse_headers(req, &state.ctx.identity.account_id)?;
        let (bucket, key) = (http::bucket(req), http::key(req));
        let algorithm = match req.header("x-amz-checksum-algorithm") {
            None => None,
            Some(a) => Some(Algorithm::parse(a).ok_or_else(|| {
                S3Error::invalid_request(format!(
                    "Checksum algorithm {a} is not supported; use {}.",
                    crate::domain::s3::checksum::NAMES
                ))
            })?),
        };
        if req
            .header("x-amz-checksum-type")
            .is_some_and(|t| !t.eq_ignore_ascii_case("COMPOSITE"))
        {
            return Err(S3Error::not_implemented(
                "lambdabox's S3 computes COMPOSITE multipart checksums only.",
            )
            .into());
        }
        let meta = ingest::new_object(req)?;
        let id = http::s3(state)
            .create_upload(&bucket, &key, meta, algorithm)
            .await?;
        let mut x = doc("InitiateMultipartUploadResult");
        x.leaf("Bucket", &bucket)
            .leaf("Key", &key)
            .leaf("UploadId", &id)
            .close("InitiateMultipartUploadResult");
        let mut b = builder(req, StatusCode::OK);
        if let Some(a) = algorithm {
            b.insert_header(("x-amz-checksum-algorithm", a.name()));
        }
        Ok(Reply::Http(b.content_type("application/xml").body(
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", x.finish()),
        )))
    })
}

pub fn upload_part<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["partNumber", "uploadId"])?;
        let (bucket, key, id) = (http::bucket(req), http::key(req), upload_id(req));
        let number = part_number(req);
        let s3 = http::s3(state);
        let upload = s3.upload(&bucket, &key, &id).await?;
        let declared = ingest::declared_length(req)?;
        s3.room_for(&bucket, Slot::Part(id.clone(), number), declared)
            .await?;
        let body = ingest::take(state, req, Algorithm::parse(&upload.checksum_algorithm)).await?;
        let part = s3.upload_part(&bucket, &key, &id, number, body).await?;
        let mut b = builder(req, StatusCode::OK);
        b.insert_header(("ETag", quoted(&part.etag)));
        if let Some((a, v)) = part.checksum.split_once(':') {
            if let Some(a) = Algorithm::parse(a) {
                b.insert_header((a.header(), v.to_string()));
            }
        }
        Ok(Reply::Http(b.finish()))
    })
}

fn part_number(req: &ApiRequest) -> i64 {
    req.query_param("partNumber")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `x-amz-copy-source-range: bytes=first-last` as (start, length); the whole source without
/// it (at most 5 GiB either way).
fn copy_range(req: &ApiRequest, size: u64) -> Result<(u64, u64), S3Error> {
    let Some(h) = req.header("x-amz-copy-source-range") else {
        if size > crate::domain::s3::MAX_PUT {
            return Err(S3Error::invalid_request(format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {}",
                crate::domain::s3::MAX_PUT
            )));
        }
        return Ok((0, size));
    };
    let malformed = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
        .with("ArgumentName", "x-amz-copy-source-range")
        .with("ArgumentValue", h)
    };
    let (a, z) = h
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(malformed)?;
    let (first, last) = match (a.trim().parse::<u64>(), z.trim().parse::<u64>()) {
        (Ok(f), Ok(l)) if f <= l => (f, l),
        _ => return Err(malformed()),
    };
    if last >= size {
        return Err(S3Error::invalid_argument(format!(
            "Range specified is not valid for source object of size: {size}"
        ))
        .with("ArgumentName", "x-amz-copy-source-range")
        .with("ArgumentValue", h));
    }
    let len = last - first + 1;
    if len > crate::domain::s3::MAX_PUT {
        return Err(S3Error::new(
            "EntityTooLarge",
            400,
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
    }
    Ok((first, len))
}

/// UploadPartCopy: UploadPart with `x-amz-copy-source`; the part's bytes are read from the
/// source object's file (bounded memory), hashed as an upload's and stored as a part.
pub fn upload_part_copy<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["partNumber", "uploadId"])?;
        http::refuse_headers(req, &state.ctx.identity.account_id)?;
        objects::refuse_copy_headers(req)?;
        let (src_bucket, src_key) = objects::copy_source(req)?;
        let (bucket, key, id) = (http::bucket(req), http::key(req), upload_id(req));
        let number = part_number(req);
        let s3 = http::s3(state);
        let upload = s3.upload(&bucket, &key, &id).await?;
        let (src, file) = s3.open_object(&src_bucket, &src_key).await?;
        objects::copy_conditions(req, &src)?;
        let (start, len) = copy_range(req, src.size)?;
        s3.room_for(&bucket, Slot::Part(id.clone(), number), len)
            .await?;
        let up = Upload::begin(&s3.files, Algorithm::parse(&upload.checksum_algorithm))?;
        let body = up.copy_file(file, start, len).await?;
        let part = s3.upload_part(&bucket, &key, &id, number, body).await?;
        let mut x = doc("CopyPartResult");
        x.leaf("LastModified", &iso(part.modified_ms))
            .leaf("ETag", &quoted(&part.etag));
        if let Some((a, v)) = part.checksum.split_once(':') {
            x.leaf(&format!("Checksum{a}"), v);
        }
        x.close("CopyPartResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

pub fn complete<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["uploadId"])?;
        let (bucket, key, id) = (http::bucket(req), http::key(req), upload_id(req));
        let root = xml_in::parse(&req.body).ok_or_else(S3Error::malformed_xml)?;
        if root.name != "CompleteMultipartUpload" {
            return Err(S3Error::malformed_xml().into());
        }
        let mut parts = Vec::new();
        for p in root.all("Part") {
            let number = p
                .text_of("PartNumber")
                .and_then(|n| n.trim().parse::<i64>().ok())
                .ok_or_else(S3Error::malformed_xml)?;
            let etag = unquoted(p.text_of("ETag").unwrap_or(""));
            parts.push(PartRef { number, etag });
        }
        let row = http::s3(state)
            .complete_upload(&bucket, &key, &id, parts, &http::caller(state, req))
            .await?;
        let mut x = doc("CompleteMultipartUploadResult");
        x.leaf(
            "Location",
            &if req
                .host
                .to_ascii_lowercase()
                .starts_with(&format!("{bucket}."))
            {
                // Virtual-hosted-style: the Host names the bucket.
                format!(
                    "http://{}/{}",
                    req.host,
                    crate::domain::s3::names::url_encode(&key)
                )
            } else {
                format!(
                    "http://{}/{bucket}/{}",
                    req.host,
                    crate::domain::s3::names::url_encode(&key)
                )
            },
        )
        .leaf("Bucket", &bucket)
        .leaf("Key", &key)
        .leaf("ETag", &quoted(&row.etag));
        if let Some((a, v)) = row.checksum.split_once(':') {
            x.leaf(&format!("Checksum{a}"), v);
        }
        x.close("CompleteMultipartUploadResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

pub fn abort<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["uploadId"])?;
        let (bucket, key, id) = (http::bucket(req), http::key(req), upload_id(req));
        http::s3(state).abort_upload(&bucket, &key, &id).await?;
        Ok(Reply::Http(builder(req, StatusCode::NO_CONTENT).finish()))
    })
}

fn number_param(req: &ApiRequest, name: &'static str, default: i64) -> Result<i64, S3Error> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            S3Error::invalid_argument(format!(
                "Provided {name} not an integer or within integer range"
            ))
            .with("ArgumentName", name)
            .with("ArgumentValue", v.as_str())
        }),
    }
}

pub fn list_parts<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["uploadId", "max-parts", "part-number-marker"])?;
        let (bucket, key, id) = (http::bucket(req), http::key(req), upload_id(req));
        let max = number_param(req, "max-parts", 1000)?.min(1000) as usize;
        let marker = number_param(req, "part-number-marker", 0)?;
        let (upload, parts) = http::s3(state).parts(&bucket, &key, &id).await?;
        let after: Vec<_> = parts.into_iter().filter(|p| p.number > marker).collect();
        let truncated = after.len() > max;
        let shown = &after[..after.len().min(max)];
        let mut x = doc("ListPartsResult");
        x.leaf("Bucket", &bucket)
            .leaf("Key", &key)
            .leaf("UploadId", &id)
            .leaf("PartNumberMarker", &marker.to_string());
        if let Some(last) = shown.last() {
            x.leaf("NextPartNumberMarker", &last.number.to_string());
        }
        x.leaf("MaxParts", &max.to_string())
            .leaf("IsTruncated", if truncated { "true" } else { "false" });
        if !upload.checksum_algorithm.is_empty() {
            x.leaf("ChecksumAlgorithm", &upload.checksum_algorithm);
        }
        for p in shown {
            x.open("Part")
                .leaf("PartNumber", &p.number.to_string())
                .leaf("LastModified", &iso(p.modified_ms))
                .leaf("ETag", &quoted(&p.etag))
                .leaf("Size", &p.size.to_string());
            if let Some((a, v)) = p.checksum.split_once(':') {
                x.leaf(&format!("Checksum{a}"), v);
            }
            x.close("Part");
        }
        x.leaf("StorageClass", "STANDARD").close("ListPartsResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

pub fn list_uploads<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(
            req,
            &[
                "uploads",
                "prefix",
                "max-uploads",
                "key-marker",
                "encoding-type",
            ],
        )?;
        let bucket = http::bucket(req);
        let prefix = req.query_param("prefix").unwrap_or_default();
        let max = number_param(req, "max-uploads", 1000)?.min(1000) as usize;
        let key_marker = req.query_param("key-marker").unwrap_or_default();
        let url = req.query_param("encoding-type").is_some_and(|e| e == "url");
        let enc = |s: &str| {
            if url {
                crate::domain::s3::names::url_encode(s)
            } else {
                s.to_string()
            }
        };
        let all = http::s3(state).uploads(&bucket, &prefix).await?;
        let after: Vec<_> = all.into_iter().filter(|u| u.key > key_marker).collect();
        let truncated = after.len() > max;
        let shown = &after[..after.len().min(max)];
        let mut x = doc("ListMultipartUploadsResult");
        x.leaf("Bucket", &bucket)
            .leaf("KeyMarker", &enc(&key_marker))
            .leaf("UploadIdMarker", "")
            .leaf("Prefix", &enc(&prefix));
        if truncated {
            if let Some(last) = shown.last() {
                x.leaf("NextKeyMarker", &enc(&last.key))
                    .leaf("NextUploadIdMarker", &last.id);
            }
        }
        x.leaf("MaxUploads", &max.to_string())
            .leaf("IsTruncated", if truncated { "true" } else { "false" });
        for u in shown {
            x.open("Upload")
                .leaf("Key", &enc(&u.key))
                .leaf("UploadId", &u.id)
                .leaf("Initiated", &iso(u.created_ms))
                .leaf("StorageClass", "STANDARD")
                .close("Upload");
        }
        if url {
            x.leaf("EncodingType", "url");
        }
        x.close("ListMultipartUploadsResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}
