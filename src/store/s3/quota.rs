//! Quotas: the bytes a bucket holds (`buckets.bytes`, kept by triggers: objects and the
//! parts of uploads in progress) and all buckets together, against the configured limits.
//! [`enforce`] runs inside the writing transaction after the write, so two concurrent
//! uploads cannot both slip under a limit; a write that does not grow the count (an
//! overwrite with a smaller object, a delete) is never refused, even over a lowered quota.

use rusqlite::{Connection, OptionalExtension};

use crate::domain::s3::S3Error;

/// The limits that apply to one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub bucket: Option<u64>,
    pub total: Option<u64>,
}

impl Quota {
    pub fn is_none(&self) -> bool {
        self.bucket.is_none() && self.total.is_none()
    }
}

/// Bytes held by `bucket` and by all buckets.
pub fn usage(c: &Connection, bucket: &str) -> Result<(u64, u64), S3Error> {
    let b: Option<i64> = c
        .query_row("SELECT bytes FROM buckets WHERE name = ?1", [bucket], |r| {
            r.get(0)
        })
        .optional()?;
    let t: i64 = c.query_row("SELECT COALESCE(SUM(bytes), 0) FROM buckets", [], |r| {
        r.get(0)
    })?;
    Ok((b.unwrap_or(0).max(0) as u64, t.max(0) as u64))
}

/// The error of a write that would bring a count over its limit.
pub fn exceeded(bucket: &str, which: Which, would: u64, limit: u64) -> S3Error {
    let what = match which {
        Which::Bucket => format!(
            "bucket '{bucket}' to {would} bytes, over its quota of {limit} bytes (s3.bucket_max_bytes.{bucket} or s3.max_bucket_bytes)"
        ),
        Which::Total => format!(
            "all buckets together to {would} bytes, over the quota of {limit} bytes (s3.max_total_bytes)"
        ),
    };
    S3Error::new(
        "QuotaExceeded",
        403,
        format!(
            "This write would bring {what}. Nothing was stored. Delete objects or abort multipart uploads in progress (aws s3api list-multipart-uploads), or raise the quota in lambdabox's configuration."
        ),
    )
    .with("BucketName", bucket)
    .with("Quota", limit.to_string())
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Bucket,
    Total,
}

/// Refuses a write of `incoming` bytes that replaces `replaced` bytes when the counts
/// `before` (bucket, total) would go over a limit; used before the body is read and, with
/// the counts after the write, inside its transaction.
pub fn check(
    bucket: &str,
    q: &Quota,
    before: (u64, u64),
    after: (u64, u64),
) -> Result<(), S3Error> {
    if let Some(l) = q.bucket {
        if after.0 > before.0 && after.0 > l {
            return Err(exceeded(bucket, Which::Bucket, after.0, l));
        }
    }
    if let Some(l) = q.total {
        if after.1 > before.1 && after.1 > l {
            return Err(exceeded(bucket, Which::Total, after.1, l));
        }
    }
    Ok(())
}

/// Before a body is read: would `incoming` bytes replacing `replaced` fit?
pub fn precheck(
    c: &Connection,
    bucket: &str,
    q: &Quota,
    incoming: u64,
    replaced: u64,
) -> Result<(), S3Error> {
    if q.is_none() {
        return Ok(());
    }
    let before = usage(c, bucket)?;
    let grow = |n: u64| (n + incoming).saturating_sub(replaced);
    check(bucket, q, before, (grow(before.0), grow(before.1)))
}

/// Inside a write transaction, after the write: `before` are the counts read at its start.
pub fn enforce(
    t: &Connection,
    bucket: &str,
    q: &Quota,
    before: Option<(u64, u64)>,
) -> Result<(), S3Error> {
    match before {
        Some(b) => check(bucket, q, b, usage(t, bucket)?),
        None => Ok(()),
    }
}

/// Counts at the start of a write transaction, when a quota applies.
pub fn start(t: &Connection, bucket: &str, q: &Quota) -> Result<Option<(u64, u64)>, S3Error> {
    if q.is_none() {
        return Ok(None);
    }
    usage(t, bucket).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_growth_over_a_limit_is_refused() {
        let q = Quota {
            bucket: Some(100),
            total: Some(150),
        };
        assert!(check("b", &q, (50, 50), (100, 100)).is_ok());
        let e = check("b", &q, (50, 50), (101, 101)).unwrap_err();
        assert_eq!((e.code, e.status), ("QuotaExceeded", 403));
        assert!(e.message.contains("bucket 'b' to 101 bytes"));
        let e = check("b", &q, (50, 140), (60, 151)).unwrap_err();
        assert!(e.message.contains("s3.max_total_bytes"));
        // Over a lowered quota, shrinking is fine.
        assert!(check("b", &q, (500, 500), (400, 400)).is_ok());
        assert!(check("b", &Quota::default(), (0, 0), (u64::MAX, u64::MAX)).is_ok());
    }

    fn object(bucket: &str, key: &str, size: u64, file: &str) -> super::super::objects::ObjectRow {
        super::super::objects::ObjectRow {
            bucket: bucket.into(),
            key: key.into(),
            size,
            etag: "e".into(),
            content_type: "t".into(),
            headers: Vec::new(),
            checksum: String::new(),
            file: file.into(),
            modified_ms: 1,
            parts: 0,
        }
    }

    #[test]
    fn triggers_count_objects_and_parts_and_writes_are_refused_whole() {
        use super::super::{buckets, objects, uploads};
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::open(dir.path()).unwrap();
        store
            .call_blocking(|c| {
                buckets::create(c, "a", 1).unwrap();
                buckets::create(c, "b", 1).unwrap();
                let none = Quota::default();
                objects::put(c, &object("a", "k", 100, "f1"), &none).unwrap();
                objects::put(c, &object("a", "k", 40, "f2"), &none).unwrap();
                objects::put(c, &object("b", "k", 7, "f3"), &none).unwrap();
                assert_eq!(usage(c, "a").unwrap(), (40, 47));
                let u = uploads::UploadRow {
                    id: "u1".into(),
                    bucket: "a".into(),
                    key: "m".into(),
                    created_ms: 1,
                    content_type: "t".into(),
                    headers: Vec::new(),
                    checksum_algorithm: String::new(),
                };
                uploads::create(c, &u).unwrap();
                let part = |n: i64, size: u64, file: &str| uploads::PartRow {
                    number: n,
                    size,
                    etag: "e".into(),
                    checksum: String::new(),
                    file: file.into(),
                    modified_ms: 1,
                };
                uploads::put_part(c, "a", "m", "u1", &part(1, 10, "p1"), &none).unwrap();
                uploads::put_part(c, "a", "m", "u1", &part(1, 20, "p2"), &none).unwrap();
                uploads::put_part(c, "a", "m", "u1", &part(2, 5, "p3"), &none).unwrap();
                assert_eq!(usage(c, "a").unwrap(), (65, 72));
                // over the bucket's quota: refused, nothing written
                let tight = Quota {
                    bucket: Some(70),
                    total: None,
                };
                let e = objects::put(c, &object("a", "new", 6, "f4"), &tight).unwrap_err();
                assert_eq!(e.code, "QuotaExceeded");
                assert!(objects::get(c, "a", "new").unwrap().is_none());
                let e =
                    uploads::put_part(c, "a", "m", "u1", &part(3, 6, "p4"), &tight).unwrap_err();
                assert_eq!(e.code, "QuotaExceeded");
                assert_eq!(uploads::parts(c, "u1").unwrap().len(), 2);
                // shrinking is fine over it
                objects::put(c, &object("a", "k", 1, "f5"), &tight).unwrap();
                let total = Quota {
                    bucket: None,
                    total: Some(30),
                };
                let e = objects::put(c, &object("b", "x", 1, "f6"), &total).unwrap_err();
                assert!(e.message.contains("s3.max_total_bytes"));
                // completing replaces the parts by the object; aborting and deleting count down
                let removed =
                    uploads::complete(c, "u1", &["p2".into()], &object("a", "m", 20, "f7"))
                        .unwrap();
                assert_eq!(removed.len(), 2);
                assert_eq!(usage(c, "a").unwrap(), (21, 28));
                objects::delete(c, "a", "k").unwrap();
                objects::delete(c, "a", "m").unwrap();
                assert_eq!(usage(c, "a").unwrap(), (0, 7));
                Ok(())
            })
            .unwrap();
    }
}
