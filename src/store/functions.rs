//! Functions and their versions: `$LATEST` plus immutable published snapshots, tags, and the
//! blob references they hold. Business rules that need a consistent read (revision ids,
//! uniqueness) are checked inside the write transaction.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{blobs, StoreError};
use crate::domain::arn::LATEST;
use crate::domain::function::{FunctionConfig, FunctionVersion};
use crate::domain::Error;

/// Package bytes on their way into the store.
pub struct Code {
    pub sha256: String,
    pub data: Vec<u8>,
    /// Real unzipped size, as the zip check measured it.
    pub unzipped_size: u64,
}

/// The per-function (not per-version) state.
#[derive(Debug, Clone)]
pub struct FunctionRow {
    pub id: i64,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<i64>,
}

const VERSION_COLUMNS: &str =
    "f.name, v.version, v.config, v.code_sha256, v.code_size, v.revision_id, v.last_modified_ms";

fn version_from_row(
    r: &Row<'_>,
) -> rusqlite::Result<(String, String, String, String, i64, String, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

type RawVersion = (String, String, String, String, i64, String, i64);

fn decode(raw: RawVersion) -> Result<FunctionVersion, StoreError> {
    let (name, version, config, code_sha256, code_size, revision_id, last_modified_ms) = raw;
    let config: FunctionConfig = serde_json::from_str(&config)
        .map_err(|e| StoreError::Corrupt(format!("config of {name}:{version}: {e}")))?;
    Ok(FunctionVersion {
        name,
        version,
        config,
        code_sha256,
        code_size: u64::try_from(code_size).unwrap_or(0),
        revision_id,
        last_modified_ms,
    })
}

fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn config_json(config: &FunctionConfig) -> Result<String, StoreError> {
    serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads the function-level row.
pub fn function_row(conn: &Connection, name: &str) -> Result<Option<FunctionRow>, StoreError> {
    let row = conn
        .query_row(
            "SELECT id, name, tags, reserved_concurrency FROM functions WHERE name = ?1",
            params![name],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    row.map(|(id, name, tags, reserved)| {
        let tags = serde_json::from_str(&tags)
            .map_err(|e| StoreError::Corrupt(format!("tags of {name}: {e}")))?;
        Ok(FunctionRow {
            id,
            name,
            tags,
            reserved_concurrency: reserved,
        })
    })
    .transpose()
}

/// Reads one version (`$LATEST` or a number) of a function.
pub fn get_version(
    conn: &Connection,
    name: &str,
    version: &str,
) -> Result<Option<FunctionVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
         WHERE f.name = ?1 AND v.version = ?2"
    );
    let raw = conn
        .query_row(&sql, params![name, version], version_from_row)
        .optional()?;
    raw.map(decode).transpose()
}

/// Creates a function with its `$LATEST` version. Fails with ResourceConflict if it exists.
pub fn create(
    conn: &mut Connection,
    name: &str,
    config: &FunctionConfig,
    code: &Code,
    tags: &BTreeMap<String, String>,
    now_ms: i64,
) -> Result<FunctionVersion, StoreError> {
    let tx = super::write_tx(conn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM functions WHERE name = ?1)",
        params![name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(Error::ResourceConflict(format!("Function already exist: {name}")).into());
    }
    let tags_json = serde_json::to_string(tags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO functions (name, created_ms, tags) VALUES (?1, ?2, ?3)",
        params![name, now_ms, tags_json],
    )?;
    let id = tx.last_insert_rowid();
    blobs::put(&tx, &code.sha256, &code.data, code.unzipped_size, now_ms)?;
    tx.execute(
        "INSERT INTO function_versions (function_id, version, version_num, config, code_sha256, code_size, revision_id, last_modified_ms)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7)",
        params![id, LATEST, config_json(config)?, code.sha256, code.data.len() as i64, new_revision(), now_ms],
    )?;
    let created = get_version(&tx, name, LATEST)?
        .ok_or_else(|| StoreError::Corrupt(format!("{name} vanished during create")))?;
    tx.commit()?;
    Ok(created)
}

fn check_revision(current: &FunctionVersion, expected: Option<&str>) -> Result<(), StoreError> {
    match expected {
        Some(rev) if rev != current.revision_id => Err(Error::stale_revision().into()),
        _ => Ok(()),
    }
}

fn latest_for_update(
    conn: &Connection,
    name: &str,
    arn: &str,
) -> Result<FunctionVersion, StoreError> {
    get_version(conn, name, LATEST)?.ok_or_else(|| Error::function_not_found(arn).into())
}

/// Replaces the code of `$LATEST`. `expected_revision` is the caller's RevisionId precondition.
pub fn update_code(
    conn: &mut Connection,
    name: &str,
    arn: &str,
    code: &Code,
    expected_revision: Option<&str>,
    now_ms: i64,
) -> Result<FunctionVersion, StoreError> {
    let tx = super::write_tx(conn)?;
    let current = latest_for_update(&tx, name, arn)?;
    check_revision(&current, expected_revision)?;
    blobs::put(&tx, &code.sha256, &code.data, code.unzipped_size, now_ms)?;
    tx.execute(
        "UPDATE function_versions SET code_sha256 = ?1, code_size = ?2, revision_id = ?3, last_modified_ms = ?4
         WHERE version = ?5 AND function_id = (SELECT id FROM functions WHERE name = ?6)",
        params![code.sha256, code.data.len() as i64, new_revision(), now_ms, LATEST, name],
    )?;
    if current.code_sha256 != code.sha256 {
        blobs::release(&tx, &current.code_sha256)?;
    }
    let updated = latest_for_update(&tx, name, arn)?;
    tx.commit()?;
    Ok(updated)
}

/// Changes the configuration of `$LATEST` with `change`, which may refuse with an error.
pub fn update_config<F>(
    conn: &mut Connection,
    name: &str,
    arn: &str,
    expected_revision: Option<&str>,
    now_ms: i64,
    change: F,
) -> Result<FunctionVersion, StoreError>
where
    F: FnOnce(&mut FunctionConfig) -> Result<(), Error>,
{
    let tx = super::write_tx(conn)?;
    let current = latest_for_update(&tx, name, arn)?;
    check_revision(&current, expected_revision)?;
    let mut config = current.config.clone();
    change(&mut config)?;
    tx.execute(
        "UPDATE function_versions SET config = ?1, revision_id = ?2, last_modified_ms = ?3
         WHERE version = ?4 AND function_id = (SELECT id FROM functions WHERE name = ?5)",
        params![config_json(&config)?, new_revision(), now_ms, LATEST, name],
    )?;
    super::layers::purge_deleted(&tx)?;
    let updated = latest_for_update(&tx, name, arn)?;
    tx.commit()?;
    Ok(updated)
}

/// Publishes `$LATEST` as the next version number, unless the newest published version
/// already has the same code and configuration, in which case that version is returned.
pub fn publish(
    conn: &mut Connection,
    name: &str,
    arn: &str,
    description: Option<&str>,
    expected_sha256: Option<&str>,
    expected_revision: Option<&str>,
    now_ms: i64,
) -> Result<FunctionVersion, StoreError> {
    let tx = super::write_tx(conn)?;
    let latest = latest_for_update(&tx, name, arn)?;
    check_revision(&latest, expected_revision)?;
    if let Some(sha) = expected_sha256 {
        if sha != crate::domain::function::b64_sha256(&latest.code_sha256) {
            return Err(Error::InvalidParameterValue(format!(
                "CodeSha256 ({sha}) is different from current CodeSha256 in $LATEST ({}). Please try again with the CodeSha256 in $LATEST.",
                crate::domain::function::b64_sha256(&latest.code_sha256)
            ))
            .into());
        }
    }
    let newest: Option<FunctionVersion> = {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
             WHERE f.name = ?1 AND v.version_num > 0 ORDER BY v.version_num DESC LIMIT 1"
        );
        tx.query_row(&sql, params![name], version_from_row)
            .optional()?
            .map(decode)
            .transpose()?
    };
    let mut config = latest.config.clone();
    if let Some(d) = description {
        config.description = d.to_string();
    }
    if let Some(n) = &newest {
        let mut same = n.config.clone();
        same.description = config.description.clone();
        if n.code_sha256 == latest.code_sha256 && same == config {
            tx.commit()?;
            return Ok(n.clone());
        }
    }
    let (id, number): (i64, i64) = tx.query_row(
        "SELECT id, next_version FROM functions WHERE name = ?1",
        params![name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    tx.execute(
        "UPDATE functions SET next_version = next_version + 1 WHERE id = ?1",
        params![id],
    )?;
    tx.execute(
        "INSERT INTO function_versions (function_id, version, version_num, config, code_sha256, code_size, revision_id, last_modified_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, number.to_string(), number, config_json(&config)?, latest.code_sha256, latest.code_size as i64, new_revision(), now_ms],
    )?;
    let published = get_version(&tx, name, &number.to_string())?
        .ok_or_else(|| StoreError::Corrupt(format!("{name}:{number} vanished during publish")))?;
    tx.commit()?;
    Ok(published)
}

/// Deletes a function with every version and alias; frees blobs nobody else uses.
pub fn delete_function(conn: &mut Connection, name: &str, arn: &str) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let shas: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT DISTINCT v.code_sha256 FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE f.name = ?1",
        )?;
        let rows = st.query_map(params![name], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let n = tx.execute("DELETE FROM functions WHERE name = ?1", params![name])?;
    if n == 0 {
        return Err(Error::function_not_found(arn).into());
    }
    for sha in shas {
        blobs::release(&tx, &sha)?;
    }
    super::layers::purge_deleted(&tx)?;
    tx.commit()?;
    Ok(())
}

/// Deletes one published version; refused while an alias points at it.
pub fn delete_version(
    conn: &mut Connection,
    name: &str,
    version: &str,
    arn: &str,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let v = get_version(&tx, name, version)?.ok_or_else(|| Error::function_not_found(arn))?;
    let alias: Option<String> = tx
        .query_row(
            "SELECT a.name FROM aliases a JOIN functions f ON f.id = a.function_id
             WHERE f.name = ?1 AND (a.function_version = ?2 OR json_extract(a.routing, '$.\"' || ?2 || '\"') IS NOT NULL) LIMIT 1",
            params![name, version],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(alias) = alias {
        return Err(Error::ResourceConflict(format!(
            "Unable to delete version because the following aliases reference it: [{alias}]"
        ))
        .into());
    }
    tx.execute(
        "DELETE FROM function_versions WHERE version = ?1 AND function_id = (SELECT id FROM functions WHERE name = ?2)",
        params![version, name],
    )?;
    blobs::release(&tx, &v.code_sha256)?;
    super::layers::purge_deleted(&tx)?;
    tx.commit()?;
    Ok(())
}

/// `$LATEST` of functions ordered by name, after `after`, at most `limit`.
pub fn list_latest(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<FunctionVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
         WHERE v.version_num = 0 AND f.name > ?1 ORDER BY f.name LIMIT ?2"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![after.unwrap_or(""), limit as i64], version_from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// `$LATEST` of the functions whose name contains `needle` (ASCII case-insensitive), ordered
/// by name, after `after`, at most `limit`: the dashboard's search.
pub fn search_latest(
    conn: &Connection,
    needle: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<FunctionVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
         WHERE v.version_num = 0 AND f.name > ?1 AND instr(lower(f.name), lower(?2)) > 0
         ORDER BY f.name LIMIT ?3"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![after.unwrap_or(""), needle, limit as i64],
        version_from_row,
    )?;
    rows.map(|r| decode(r?)).collect()
}

/// Every version of every function, ordered by (name, version number), after `after`.
pub fn list_all_versions(
    conn: &Connection,
    after: Option<(&str, i64)>,
    limit: usize,
) -> Result<Vec<FunctionVersion>, StoreError> {
    let (name, num) = after.unwrap_or(("", -1));
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
         WHERE (f.name, v.version_num) > (?1, ?2) ORDER BY f.name, v.version_num LIMIT ?3"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![name, num, limit as i64], version_from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// Versions of one function: `$LATEST` first, then 1, 2, … after version number `after`.
pub fn list_versions(
    conn: &Connection,
    name: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<FunctionVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions v JOIN functions f ON f.id = v.function_id
         WHERE f.name = ?1 AND v.version_num > ?2 ORDER BY v.version_num LIMIT ?3"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![name, after, limit as i64], version_from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// Replaces the tag map of a function with `change` applied to it.
pub fn update_tags<F>(
    conn: &mut Connection,
    name: &str,
    arn: &str,
    change: F,
) -> Result<(), StoreError>
where
    F: FnOnce(&mut BTreeMap<String, String>) -> Result<(), Error>,
{
    let tx = super::write_tx(conn)?;
    let row = function_row(&tx, name)?.ok_or_else(|| Error::function_not_found(arn))?;
    let mut tags = row.tags;
    change(&mut tags)?;
    let json = serde_json::to_string(&tags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "UPDATE functions SET tags = ?1 WHERE id = ?2",
        params![json, row.id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Number of functions.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM functions", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
