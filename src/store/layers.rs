//! Layers and their versions. Archives live in `blobs` like function code. A deleted layer
//! version keeps its row (marked deleted) while a function version still uses it, so its
//! blob stays; [`purge_deleted`], run by every function write that can drop a layer, frees it
//! in the same transaction once the last user is gone.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::functions::Code;
use super::{blobs, StoreError};
use crate::domain::layer::LayerVersion;

const COLUMNS: &str = "l.name, v.version, v.content_sha256, v.code_size, COALESCE(b.unzipped_size, 0), \
     v.description, v.created_ms, v.compatible_runtimes, v.compatible_architectures, v.license_info";

const FROM: &str = "layer_versions v JOIN layers l ON l.id = v.layer_id \
     LEFT JOIN blobs b ON b.sha256 = v.content_sha256";

/// Compatibility filters of ListLayers and ListLayerVersions.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub runtime: Option<String>,
    pub architecture: Option<String>,
}

/// What PublishLayerVersion stores besides the archive.
#[derive(Debug, Clone, Default)]
pub struct LayerMeta {
    pub description: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<LayerVersion> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let raw: String = r.get(i)?;
        Ok(serde_json::from_str(&raw).unwrap_or_default())
    };
    Ok(LayerVersion {
        name: r.get(0)?,
        version: r.get(1)?,
        sha256: r.get(2)?,
        code_size: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        unzipped_size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        description: r.get(5)?,
        created_ms: r.get(6)?,
        compatible_runtimes: list(7)?,
        compatible_architectures: list(8)?,
        license_info: r.get(9)?,
    })
}

fn json_list(l: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(l).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Stores a new version of layer `name` (creating the layer on first publish).
pub fn publish(
    conn: &mut Connection,
    name: &str,
    content: &Code,
    meta: &LayerMeta,
    now_ms: i64,
) -> Result<LayerVersion, StoreError> {
    let tx = super::write_tx(conn)?;
    tx.execute(
        "INSERT INTO layers (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
        params![name],
    )?;
    let (id, version): (i64, i64) = tx.query_row(
        "SELECT id, next_version FROM layers WHERE name = ?1",
        params![name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    tx.execute(
        "UPDATE layers SET next_version = next_version + 1 WHERE id = ?1",
        params![id],
    )?;
    blobs::put(
        &tx,
        &content.sha256,
        &content.data,
        content.unzipped_size,
        now_ms,
    )?;
    tx.execute(
        "INSERT INTO layer_versions (layer_id, version, content_sha256, code_size, description, created_ms,
             compatible_runtimes, compatible_architectures, license_info)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            version,
            content.sha256,
            content.data.len() as i64,
            meta.description,
            now_ms,
            json_list(&meta.compatible_runtimes)?,
            json_list(&meta.compatible_architectures)?,
            meta.license_info
        ],
    )?;
    let v = get(&tx, name, version, false)?
        .ok_or_else(|| StoreError::Corrupt(format!("layer {name}:{version} vanished")))?;
    tx.commit()?;
    Ok(v)
}

/// One layer version; deleted versions only with `include_deleted`.
pub fn get(
    conn: &Connection,
    name: &str,
    version: i64,
    include_deleted: bool,
) -> Result<Option<LayerVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE l.name = ?1 AND v.version = ?2 AND (?3 OR v.deleted = 0)"
    );
    Ok(conn
        .query_row(&sql, params![name, version, include_deleted], from_row)
        .optional()?)
}

const MATCHES: &str = "(?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(v.compatible_runtimes) WHERE value = ?2))
     AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(v.compatible_architectures) WHERE value = ?3))";

/// Live versions of one layer matching `filter`, newest first, below version `before`.
pub fn list_versions(
    conn: &Connection,
    name: &str,
    filter: &Filter,
    before: i64,
    limit: usize,
) -> Result<Vec<LayerVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE l.name = ?1 AND v.deleted = 0 AND {MATCHES}
           AND v.version < ?4 ORDER BY v.version DESC LIMIT ?5"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![
            name,
            filter.runtime,
            filter.architecture,
            before,
            limit as i64
        ],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Layers with at least one live version matching `filter`, by name after `after`, each
/// with its newest matching version.
pub fn list_layers(
    conn: &Connection,
    filter: &Filter,
    after: &str,
    limit: usize,
) -> Result<Vec<LayerVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM}
         WHERE l.name > ?1 AND v.deleted = 0 AND {MATCHES}
           AND v.version = (SELECT MAX(v2.version) FROM layer_versions v2 WHERE v2.layer_id = v.layer_id AND v2.deleted = 0
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(v2.compatible_runtimes) WHERE value = ?2))
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(v2.compatible_architectures) WHERE value = ?3)))
         ORDER BY l.name LIMIT ?4"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![after, filter.runtime, filter.architecture, limit as i64],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// True while a function version ($LATEST or published) uses the archive `sha256` as a layer.
fn in_use(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM function_versions fv, json_each(fv.config, '$.layers') j
                        WHERE json_extract(j.value, '$.sha256') = ?1)",
        params![sha256],
        |r| r.get(0),
    )?)
}

/// DeleteLayerVersion: idempotent. A version still used by functions is hidden but kept;
/// its policy goes at once.
pub fn delete(conn: &mut Connection, name: &str, version: i64) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let Some(v) = get(&tx, name, version, false)? else {
        return Ok(());
    };
    tx.execute(
        "UPDATE layer_versions SET deleted = 1 WHERE version = ?1 AND layer_id = (SELECT id FROM layers WHERE name = ?2)",
        params![version, name],
    )?;
    super::layer_policies::remove_version(&tx, name, version)?;
    if !in_use(&tx, &v.sha256)? {
        drop_version(&tx, name, version, &v.sha256)?;
    }
    tx.commit()?;
    Ok(())
}

fn drop_version(conn: &Connection, name: &str, version: i64, sha: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM layer_versions WHERE version = ?1 AND layer_id = (SELECT id FROM layers WHERE name = ?2)",
        params![version, name],
    )?;
    blobs::release(conn, sha)
}

/// Frees deleted layer versions whose archive no function version uses any more. Runs inside
/// the caller's transaction, after a function version stopped using layers (reconfigured or
/// deleted), like [`blobs::release`] for packages.
pub fn purge_deleted(conn: &Connection) -> Result<(), StoreError> {
    let deleted: Vec<(String, i64, String)> = {
        let mut st = conn.prepare_cached(
            "SELECT l.name, v.version, v.content_sha256 FROM layer_versions v JOIN layers l ON l.id = v.layer_id WHERE v.deleted = 1",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (name, version, sha) in deleted {
        if !in_use(conn, &sha)? {
            drop_version(conn, &name, version, &sha)?;
        }
    }
    Ok(())
}
