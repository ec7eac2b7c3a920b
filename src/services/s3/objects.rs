//! Object operations: put (a [`Written`] body becomes the object), get and head (the row
//! and an open file, so a concurrent overwrite cannot pull the bytes away), delete, and copy
//! (a hard link to the same immutable file).

use crate::domain::function::now_ms;
use crate::domain::s3::event::ObjectEvent;
use crate::domain::s3::names::check_key;
use crate::domain::s3::S3Error;
use crate::store::s3::objects::{self, ObjectRow};

use super::upload::Written;
use super::{Caller, S3};

/// What an upload stores besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct NewObject {
    pub content_type: String,
    pub headers: Vec<(String, String)>,
}

/// CopyObject's `x-amz-metadata-directive`.
#[derive(Debug, Clone)]
pub enum Directive {
    Copy,
    Replace(NewObject),
}

impl S3 {
    /// Stores a written body as `bucket`/`key`.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        mut body: Written,
        meta: NewObject,
        caller: &Caller,
    ) -> Result<ObjectRow, S3Error> {
        check_key(key)?;
        body.place()?;
        let row = ObjectRow {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: body.size,
            etag: body.etag(),
            content_type: meta.content_type,
            headers: meta.headers,
            checksum: body
                .checksum
                .as_ref()
                .map(|(a, v)| format!("{}:{v}", a.name()))
                .unwrap_or_default(),
            file: body.id.clone(),
            modified_ms: now_ms(),
            parts: 0,
        };
        let (r, q) = (row.clone(), self.quota(bucket));
        let old = self.with(move |c| objects::put(c, &r, &q)).await?;
        body.keep();
        if let Some(old) = old {
            self.files.remove(&[old]);
        }
        self.created(&row, "ObjectCreated:Put", caller).await;
        Ok(row)
    }

    /// The object's row, or `NoSuchBucket` / `NoSuchKey`.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectRow, S3Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        self.with(move |c| {
            crate::store::s3::buckets::require(c, &b)?;
            objects::get(c, &b, &k)?.ok_or_else(|| S3Error::no_such_key(&k))
        })
        .await
    }

    /// The object's row and its file, opened.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectRow, std::fs::File), S3Error> {
        for _ in 0..3 {
            let row = self.head_object(bucket, key).await?;
            match std::fs::File::open(self.files.path(&row.file)) {
                Ok(f) => return Ok((row, f)),
                // Replaced between the read and the open: read the row again.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(S3Error::internal(
            "The object changed too often while being read; retry.",
        ))
    }

    /// Deletes an object (a missing key is success, as in S3).
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        caller: &Caller,
    ) -> Result<(), S3Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        let old = self.with(move |c| objects::delete(c, &b, &k)).await?;
        if let Some(old) = old {
            self.files.remove(std::slice::from_ref(&old.file));
            let ev = ObjectEvent {
                name: "ObjectRemoved:Delete".into(),
                bucket: bucket.to_string(),
                key: key.to_string(),
                size: None,
                etag: None,
                sequencer: self.sequencer(),
                time_ms: now_ms(),
                principal_id: caller.principal_id.clone(),
                source_ip: caller.source_ip.clone(),
                request_id: caller.request_id.clone(),
            };
            self.notify(&ev).await;
        }
        Ok(())
    }

    /// CopyObject: the destination gets the source's bytes (a hard link) and its metadata
    /// or the replacement.
    pub async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        directive: Directive,
        caller: &Caller,
    ) -> Result<ObjectRow, S3Error> {
        check_key(dst_key)?;
        if src_bucket == dst_bucket && src_key == dst_key && matches!(directive, Directive::Copy) {
            return Err(S3Error::invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let dst = dst_bucket.to_string();
        self.bucket(&dst).await?;
        for _ in 0..3 {
            let src = self.head_object(src_bucket, src_key).await?;
            let file = match self.files.link(&src.file) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let (content_type, headers) = match &directive {
                Directive::Copy => (src.content_type.clone(), src.headers.clone()),
                Directive::Replace(m) => (m.content_type.clone(), m.headers.clone()),
            };
            let row = ObjectRow {
                bucket: dst_bucket.to_string(),
                key: dst_key.to_string(),
                content_type,
                headers,
                file: file.clone(),
                modified_ms: now_ms(),
                ..src
            };
            let (r, q) = (row.clone(), self.quota(dst_bucket));
            match self.with(move |c| objects::put(c, &r, &q)).await {
                Ok(Some(old)) => self.files.remove(&[old]),
                Ok(None) => {}
                Err(e) => {
                    self.files.remove(&[file]);
                    return Err(e);
                }
            }
            self.created(&row, "ObjectCreated:Copy", caller).await;
            return Ok(row);
        }
        Err(S3Error::internal(
            "The source object changed too often while being copied; retry.",
        ))
    }

    /// Notifications of a created object.
    pub(super) async fn created(&self, row: &ObjectRow, name: &str, caller: &Caller) {
        let ev = ObjectEvent {
            name: name.to_string(),
            bucket: row.bucket.clone(),
            key: row.key.clone(),
            size: Some(row.size),
            etag: Some(row.etag.clone()),
            sequencer: self.sequencer(),
            time_ms: row.modified_ms,
            principal_id: caller.principal_id.clone(),
            source_ip: caller.source_ip.clone(),
            request_id: caller.request_id.clone(),
        };
        self.notify(&ev).await;
    }
}
