//! Multipart uploads and their parts. Completing one writes the object row and deletes the
//! upload and its part rows in one transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::objects::{self, ObjectRow};
use super::quota::{self, Quota};
use super::{buckets, tx};
use crate::domain::s3::S3Error;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub created_ms: i64,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    /// `CRC32`… or empty.
    pub checksum_algorithm: String,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub number: i64,
    pub size: u64,
    pub etag: String,
    pub checksum: String,
    pub file: String,
    pub modified_ms: i64,
}

fn upload(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
    let headers: String = r.get(5)?;
    Ok(UploadRow {
        id: r.get(0)?,
        bucket: r.get(1)?,
        key: r.get(2)?,
        created_ms: r.get(3)?,
        content_type: r.get(4)?,
        headers: serde_json::from_str(&headers).unwrap_or_default(),
        checksum_algorithm: r.get(6)?,
    })
}

const UPLOAD_COLUMNS: &str =
    "id, bucket, key, created_ms, content_type, headers, checksum_algorithm";

fn part(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartRow> {
    Ok(PartRow {
        number: r.get(0)?,
        size: r.get::<_, i64>(1)?.max(0) as u64,
        etag: r.get(2)?,
        checksum: r.get(3)?,
        file: r.get(4)?,
        modified_ms: r.get(5)?,
    })
}

pub fn create(c: &mut Connection, u: &UploadRow) -> Result<(), S3Error> {
    let t = tx(c)?;
    buckets::require(&t, &u.bucket)?;
    t.execute(
        &format!("INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            u.id,
            u.bucket,
            u.key,
            u.created_ms,
            u.content_type,
            serde_json::to_string(&u.headers).unwrap_or_else(|_| "[]".into()),
            u.checksum_algorithm
        ],
    )?;
    t.commit()?;
    Ok(())
}

/// The upload `id` of `bucket`/`key`, or `NoSuchBucket` / `NoSuchUpload`.
pub fn require(c: &Connection, bucket: &str, key: &str, id: &str) -> Result<UploadRow, S3Error> {
    buckets::require(c, bucket)?;
    c.query_row(
        &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?1 AND bucket = ?2 AND key = ?3"),
        params![id, bucket, key],
        upload,
    )
    .optional()?
    .ok_or_else(|| S3Error::no_such_upload(id))
}

/// Uploads of a bucket in key and start order, keys starting with `prefix`.
pub fn list(c: &Connection, bucket: &str, prefix: &str) -> Result<Vec<UploadRow>, S3Error> {
    buckets::require(c, bucket)?;
    let mut st = c.prepare(&format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket = ?1 AND key >= ?2 ORDER BY key, created_ms, id"
    ))?;
    let rows = st
        .query_map(params![bucket, prefix], upload)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|u| u.key.starts_with(prefix))
        .collect())
}

/// Records a part (replacing one with the same number) unless it brings a count over
/// `quota`; returns the replaced part's file.
pub fn put_part(
    c: &mut Connection,
    bucket: &str,
    key: &str,
    id: &str,
    p: &PartRow,
    quota: &Quota,
) -> Result<Option<String>, S3Error> {
    let t = tx(c)?;
    require(&t, bucket, key, id)?;
    let before = quota::start(&t, bucket, quota)?;
    let old: Option<String> = t
        .query_row(
            "SELECT file FROM parts WHERE upload_id = ?1 AND number = ?2",
            params![id, p.number],
            |r| r.get(0),
        )
        .optional()?;
    if old.is_some() {
        // DELETE then INSERT, so the byte-count triggers see both (migration 0002).
        t.execute(
            "DELETE FROM parts WHERE upload_id = ?1 AND number = ?2",
            params![id, p.number],
        )?;
    }
    t.execute(
        "INSERT INTO parts (upload_id, number, size, etag, checksum, file, modified_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            p.number,
            p.size as i64,
            p.etag,
            p.checksum,
            p.file,
            p.modified_ms
        ],
    )?;
    quota::enforce(&t, bucket, quota, before)?;
    t.commit()?;
    Ok(old)
}

/// The parts of an upload, by number.
pub fn parts(c: &Connection, upload_id: &str) -> Result<Vec<PartRow>, S3Error> {
    let mut st = c.prepare(
        "SELECT number, size, etag, checksum, file, modified_ms FROM parts WHERE upload_id = ?1 ORDER BY number",
    )?;
    let rows = st
        .query_map([upload_id], part)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes an upload; returns its part files.
pub fn abort(
    c: &mut Connection,
    bucket: &str,
    key: &str,
    id: &str,
) -> Result<Vec<String>, S3Error> {
    let t = tx(c)?;
    require(&t, bucket, key, id)?;
    let files: Vec<String> = parts(&t, id)?.into_iter().map(|p| p.file).collect();
    t.execute("DELETE FROM parts WHERE upload_id = ?1", [id])?;
    t.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
    t.commit()?;
    Ok(files)
}

/// Completes an upload: the object row is written and the upload deleted in one
/// transaction, provided its parts are still `expected` (file names). Returns the files to
/// remove: every part file and the file of the object replaced.
pub fn complete(
    c: &mut Connection,
    id: &str,
    expected: &[String],
    o: &ObjectRow,
) -> Result<Vec<String>, S3Error> {
    let t = tx(c)?;
    require(&t, &o.bucket, &o.key, id)?;
    let files: Vec<String> = parts(&t, id)?.into_iter().map(|p| p.file).collect();
    if expected.iter().any(|f| !files.contains(f)) {
        return Err(S3Error::new(
            "InvalidPart",
            400,
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        ));
    }
    let mut remove = files;
    if let Some(old) = objects::put_in(&t, o)? {
        remove.push(old);
    }
    t.execute("DELETE FROM parts WHERE upload_id = ?1", [id])?;
    t.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
    t.commit()?;
    Ok(remove)
}
