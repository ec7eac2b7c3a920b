//! Bucket rows: create, list, look up, delete (only when no object is left; uploads in
//! progress go with it), and the notification configuration.

use rusqlite::{params, Connection, OptionalExtension};

use super::tx;
use crate::domain::s3::S3Error;

/// A bucket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    pub name: String,
    pub created_ms: i64,
    /// JSON of the notification configuration.
    pub notification: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BucketRow> {
    Ok(BucketRow {
        name: r.get(0)?,
        created_ms: r.get(1)?,
        notification: r.get(2)?,
    })
}

/// Creates a bucket; `BucketAlreadyOwnedByYou` when it exists.
pub fn create(c: &mut Connection, name: &str, now_ms: i64) -> Result<(), S3Error> {
    let t = tx(c)?;
    let n = t.execute(
        "INSERT INTO buckets (name, created_ms) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name, now_ms],
    )?;
    if n == 0 {
        return Err(S3Error::new(
            "BucketAlreadyOwnedByYou",
            409,
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", name));
    }
    t.commit()?;
    Ok(())
}

pub fn get(c: &Connection, name: &str) -> Result<Option<BucketRow>, S3Error> {
    Ok(c.query_row(
        "SELECT name, created_ms, notification FROM buckets WHERE name = ?1",
        [name],
        row,
    )
    .optional()?)
}

/// The bucket, or `NoSuchBucket`.
pub fn require(c: &Connection, name: &str) -> Result<BucketRow, S3Error> {
    get(c, name)?.ok_or_else(|| S3Error::no_such_bucket(name))
}

pub fn list(c: &Connection) -> Result<Vec<BucketRow>, S3Error> {
    let mut st = c.prepare("SELECT name, created_ms, notification FROM buckets ORDER BY name")?;
    let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes an empty bucket and its uploads in progress; returns the part files to remove.
pub fn delete(c: &mut Connection, name: &str) -> Result<Vec<String>, S3Error> {
    let t = tx(c)?;
    require(&t, name)?;
    let any: Option<String> = t
        .query_row(
            "SELECT key FROM objects WHERE bucket = ?1 LIMIT 1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    if any.is_some() {
        return Err(S3Error::new(
            "BucketNotEmpty",
            409,
            "The bucket you tried to delete is not empty",
        )
        .with("BucketName", name));
    }
    let files = {
        let mut st = t.prepare(
            "SELECT p.file FROM parts p JOIN uploads u ON u.id = p.upload_id WHERE u.bucket = ?1",
        )?;
        let f = st
            .query_map([name], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        f
    };
    t.execute(
        "DELETE FROM parts WHERE upload_id IN (SELECT id FROM uploads WHERE bucket = ?1)",
        [name],
    )?;
    t.execute("DELETE FROM uploads WHERE bucket = ?1", [name])?;
    t.execute("DELETE FROM buckets WHERE name = ?1", [name])?;
    t.commit()?;
    Ok(files)
}

/// Replaces the notification configuration (JSON).
pub fn set_notification(c: &mut Connection, name: &str, json: &str) -> Result<(), S3Error> {
    let t = tx(c)?;
    let n = t.execute(
        "UPDATE buckets SET notification = ?2 WHERE name = ?1",
        params![name, json],
    )?;
    if n == 0 {
        return Err(S3Error::no_such_bucket(name));
    }
    t.commit()?;
    Ok(())
}

/// Object count and total bytes of a bucket (dashboard).
pub fn usage(c: &Connection, name: &str) -> Result<(i64, i64), S3Error> {
    Ok(c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE bucket = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
