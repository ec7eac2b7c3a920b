//! Object rows: one per bucket and key (no versioning), naming the file that holds the bytes.
//! Keys sort as SQLite's BINARY collation compares them, byte by byte of UTF-8: the order S3
//! lists them in.

use rusqlite::{params, Connection, OptionalExtension};

use super::quota::{self, Quota};
use super::{buckets, tx};
use crate::domain::s3::S3Error;

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes: the hex MD5, or `<hex>-<parts>` for a multipart object.
    pub etag: String,
    pub content_type: String,
    /// `[name, value]` pairs of the stored headers (`x-amz-meta-*`, `Content-Encoding`…).
    pub headers: Vec<(String, String)>,
    /// `CRC32:<base64>` or empty.
    pub checksum: String,
    pub file: String,
    pub modified_ms: i64,
    pub parts: i64,
}

const COLUMNS: &str =
    "bucket, key, size, etag, content_type, headers, checksum, file, modified_ms, parts";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    let headers: String = r.get(5)?;
    Ok(ObjectRow {
        bucket: r.get(0)?,
        key: r.get(1)?,
        size: r.get::<_, i64>(2)?.max(0) as u64,
        etag: r.get(3)?,
        content_type: r.get(4)?,
        headers: serde_json::from_str(&headers).unwrap_or_default(),
        checksum: r.get(6)?,
        file: r.get(7)?,
        modified_ms: r.get(8)?,
        parts: r.get(9)?,
    })
}

pub fn get(c: &Connection, bucket: &str, key: &str) -> Result<Option<ObjectRow>, S3Error> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"),
        params![bucket, key],
        row,
    )
    .optional()?)
}

/// Writes `o` inside an open transaction; returns the file of the object it replaced.
pub fn put_in(t: &rusqlite::Transaction<'_>, o: &ObjectRow) -> Result<Option<String>, S3Error> {
    buckets::require(t, &o.bucket)?;
    let old: Option<String> = t
        .query_row(
            "SELECT file FROM objects WHERE bucket = ?1 AND key = ?2",
            params![o.bucket, o.key],
            |r| r.get(0),
        )
        .optional()?;
    let headers = serde_json::to_string(&o.headers).unwrap_or_else(|_| "[]".into());
    if old.is_some() {
        // DELETE then INSERT, so the byte-count triggers see both (migration 0002).
        t.execute(
            "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
            params![o.bucket, o.key],
        )?;
    }
    t.execute(
        &format!(
            "INSERT INTO objects ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            o.bucket,
            o.key,
            o.size as i64,
            o.etag,
            o.content_type,
            headers,
            o.checksum,
            o.file,
            o.modified_ms,
            o.parts
        ],
    )?;
    Ok(old.filter(|f| *f != o.file))
}

/// Writes `o` in its own transaction, unless it brings a count over `quota`; returns the
/// replaced object's file.
pub fn put(c: &mut Connection, o: &ObjectRow, quota: &Quota) -> Result<Option<String>, S3Error> {
    let t = tx(c)?;
    let before = quota::start(&t, &o.bucket, quota)?;
    let old = put_in(&t, o)?;
    quota::enforce(&t, &o.bucket, quota, before)?;
    t.commit()?;
    Ok(old)
}

/// Deletes the object (a missing key is not an error, as in S3); returns its row.
pub fn delete(c: &mut Connection, bucket: &str, key: &str) -> Result<Option<ObjectRow>, S3Error> {
    let t = tx(c)?;
    buckets::require(&t, bucket)?;
    let old = t
        .query_row(
            &format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"),
            params![bucket, key],
            row,
        )
        .optional()?;
    if old.is_some() {
        t.execute(
            "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
            params![bucket, key],
        )?;
    }
    t.commit()?;
    Ok(old)
}

/// Up to `limit` objects with keys after `after` (exclusive) starting with `prefix`, in key
/// order (an index range: `prefix <= key < prefix_end(prefix)`).
pub fn page(
    c: &Connection,
    bucket: &str,
    prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<ObjectRow>, S3Error> {
    let end = prefix_end(prefix);
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key > ?2 AND key >= ?3 \
         AND (?4 IS NULL OR key < ?4) ORDER BY key LIMIT ?5"
    ))?;
    let rows = st
        .query_map(params![bucket, after, prefix, end, limit as i64], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The least string above every string that starts with `prefix` (`None`: no bound). UTF-8
/// byte order is code point order, so the last character's successor bounds the range.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut n = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&n) {
            n = 0xE000;
        }
        if let Some(next) = char::from_u32(n) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Every file an object or a part names (for the start-up sweep).
pub fn all_files(c: &Connection) -> Result<std::collections::HashSet<String>, S3Error> {
    let mut out = std::collections::HashSet::new();
    for sql in ["SELECT file FROM objects", "SELECT file FROM parts"] {
        let mut st = c.prepare(sql)?;
        for f in st.query_map([], |r| r.get::<_, String>(0))? {
            out.insert(f?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges() {
        assert_eq!(prefix_end("images/").as_deref(), Some("images0"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }
}
