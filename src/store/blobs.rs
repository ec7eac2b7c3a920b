//! Content-addressed blobs (deployment packages, layer archives), keyed by hex sha256.
//! Stored once however many versions share them; freed with their last reference.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// Stores `data` (a checked zip that unzips to `unzipped` bytes) under `sha256` unless it
/// is already there.
pub fn put(
    conn: &Connection,
    sha256: &str,
    data: &[u8],
    unzipped: u64,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO blobs (sha256, size, data, created_ms, unzipped_size) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256, data.len() as i64, data, now_ms, unzipped as i64],
    )?;
    Ok(())
}

/// Unzipped size of a stored package; computed (and remembered) for packages stored before
/// sizes were recorded.
pub fn unzipped_size(conn: &Connection, sha256: &str) -> Result<Option<u64>, StoreError> {
    let known: Option<Option<i64>> = conn
        .query_row(
            "SELECT unzipped_size FROM blobs WHERE sha256 = ?1",
            params![sha256],
            |r| r.get(0),
        )
        .optional()?;
    match known {
        None => Ok(None),
        Some(Some(n)) => Ok(Some(u64::try_from(n).unwrap_or(0))),
        Some(None) => {
            let Some(data) = get(conn, sha256)? else {
                return Ok(None);
            };
            let n = crate::domain::zipcheck::check(&data)
                .map(|i| i.unzipped_size)
                .map_err(|e| StoreError::Corrupt(format!("stored package {sha256}: {e}")))?;
            conn.execute(
                "UPDATE blobs SET unzipped_size = ?1 WHERE sha256 = ?2",
                params![n as i64, sha256],
            )?;
            Ok(Some(n))
        }
    }
}

/// Reads a blob.
pub fn get(conn: &Connection, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT data FROM blobs WHERE sha256 = ?1",
            params![sha256],
            |r| r.get(0),
        )
        .optional()?)
}

/// Deletes the blob if no function version or layer version references it any more.
pub fn release(conn: &Connection, sha256: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM blobs WHERE sha256 = ?1
           AND NOT EXISTS (SELECT 1 FROM function_versions WHERE code_sha256 = ?1)
           AND NOT EXISTS (SELECT 1 FROM layer_versions WHERE content_sha256 = ?1)",
        params![sha256],
    )?;
    Ok(())
}

/// Total bytes of stored packages (for account usage).
pub fn total_size(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COALESCE(SUM(size), 0) FROM blobs", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Number of stored blobs.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
