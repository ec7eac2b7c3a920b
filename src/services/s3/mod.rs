//! The object store (Amazon S3) over `store::s3`: buckets, objects written through
//! [`upload::Upload`] (bounded memory, fsync, rename, then the row), listings, multipart
//! uploads (`multipart`), and bucket notifications (`notify`: asynchronous invocations of
//! functions, messages to this daemon's SQS queues).
//!
//! Ordering rule of every object write: file placed → row committed → replaced files
//! removed → notifications queued → answer. A crash before the commit leaves no object; one
//! after it keeps the object (an event not yet queued is lost, as documented).

pub mod listing;
pub mod multipart;
pub mod notify;
pub mod objects;
pub mod upload;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::domain::function::now_ms;
use crate::domain::s3::names::check_bucket;
use crate::domain::s3::notification::NotificationConfig;
use crate::domain::s3::S3Error;
use crate::services::Context;
use crate::store::s3::buckets::{self, BucketRow};
use crate::store::s3::files::Files;
use crate::store::s3::quota::{self, Quota};
use crate::store::Store;
use crate::triggers::async_invoke::AsyncInvoke;

/// Who made a change, for the event records.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// `AWS:<access key id>`
    pub principal_id: String,
    pub source_ip: String,
    pub request_id: String,
}

/// What an upload would replace, for the quota check before its body is read.
#[derive(Debug, Clone)]
pub enum Slot {
    /// An object of the bucket, by key.
    Object(String),
    /// A part of an upload: id and number.
    Part(String, i64),
}

/// The object store; one per daemon.
pub struct S3 {
    pub db: Store,
    pub files: Files,
    ctx: Context,
    queue: AsyncInvoke,
    sqs: Arc<crate::services::sqs::Queues>,
    last_seq: AtomicU64,
}

impl S3 {
    /// Opens `<data>/s3.db` and `<data>/s3/`, and removes what an interrupted write left.
    pub fn open(
        ctx: Context,
        queue: AsyncInvoke,
        sqs: Arc<crate::services::sqs::Queues>,
    ) -> Result<Arc<S3>, String> {
        let data_dir = ctx.config.data_dir.clone();
        let db = crate::store::s3::open(&data_dir).map_err(|e| e.to_string())?;
        let files = Files::open(&data_dir).map_err(|e| e.to_string())?;
        let known = db
            .call_blocking(|c| Ok(crate::store::s3::objects::all_files(c)))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let removed = files.sweep(&known).map_err(|e| e.to_string())?;
        if removed > 0 {
            tracing::info!(removed, "object store: removed files of interrupted writes");
        }
        Ok(Arc::new(S3 {
            db,
            files,
            ctx,
            queue,
            sqs,
            last_seq: AtomicU64::new(0),
        }))
    }

    /// The account's canonical id in event records and listings.
    pub fn owner(&self) -> &str {
        &self.ctx.identity.account_id
    }

    pub fn region(&self) -> &str {
        &self.ctx.identity.region
    }

    /// A sequencer: hex, increasing with every event of this daemon (18 digits, as S3's).
    pub fn sequencer(&self) -> String {
        let now = u64::try_from(now_ms())
            .unwrap_or(0)
            .saturating_mul(1_000_000);
        let mut prev = self.last_seq.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self
                .last_seq
                .compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return format!("{next:018X}"),
                Err(p) => prev = p,
            }
        }
    }

    /// Runs `f` on a pooled connection of the object store's database.
    pub async fn with<T, F>(&self, f: F) -> Result<T, S3Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, S3Error> + Send + 'static,
    {
        self.db.call(move |c| Ok(f(c))).await?
    }

    pub async fn create_bucket(&self, name: &str) -> Result<(), S3Error> {
        check_bucket(name)?;
        let name = name.to_string();
        self.with(move |c| buckets::create(c, &name, now_ms()))
            .await
    }

    pub async fn bucket(&self, name: &str) -> Result<BucketRow, S3Error> {
        let name = name.to_string();
        self.with(move |c| buckets::require(c, &name)).await
    }

    pub async fn list_buckets(&self) -> Result<Vec<BucketRow>, S3Error> {
        self.with(|c| buckets::list(c)).await
    }

    /// Deletes an empty bucket (`BucketNotEmpty` otherwise), aborting its uploads.
    pub async fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        let name = name.to_string();
        let files = self.with(move |c| buckets::delete(c, &name)).await?;
        self.files.remove(&files);
        Ok(())
    }

    /// The bucket's notification configuration.
    pub async fn notification(&self, bucket: &str) -> Result<NotificationConfig, S3Error> {
        let row = self.bucket(bucket).await?;
        Ok(serde_json::from_str(&row.notification).unwrap_or_default())
    }

    /// The quotas that apply to `bucket` (configuration `[s3]`).
    pub fn quota(&self, bucket: &str) -> Quota {
        let c = &self.ctx.config.s3;
        Quota {
            bucket: c.bucket_quota(bucket),
            total: c.max_total_bytes,
        }
    }

    /// Refuses, before its body is read, an upload of `incoming` bytes into `slot` that
    /// would bring the bucket or all buckets over a quota (`QuotaExceeded`). The write's
    /// own transaction checks again.
    pub async fn room_for(&self, bucket: &str, slot: Slot, incoming: u64) -> Result<(), S3Error> {
        let q = self.quota(bucket);
        if q.is_none() {
            return Ok(());
        }
        let b = bucket.to_string();
        self.with(move |c| {
            use rusqlite::OptionalExtension;
            let replaced: Option<i64> = match &slot {
                Slot::Object(key) => c
                    .query_row(
                        "SELECT size FROM objects WHERE bucket = ?1 AND key = ?2",
                        rusqlite::params![b, key],
                        |r| r.get(0),
                    )
                    .optional()?,
                Slot::Part(id, n) => c
                    .query_row(
                        "SELECT size FROM parts WHERE upload_id = ?1 AND number = ?2",
                        rusqlite::params![id, n],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            let replaced = replaced.unwrap_or(0).max(0) as u64;
            quota::precheck(c, &b, &q, incoming, replaced)
        })
        .await
    }

    /// Object count and bytes of a bucket.
    pub async fn usage(&self, bucket: &str) -> Result<(i64, i64), S3Error> {
        let name = bucket.to_string();
        self.with(move |c| buckets::usage(c, &name)).await
    }
}
