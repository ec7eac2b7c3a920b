//! Event invoke configs (one per function and qualifier) and recursion configs, in the main
//! database beside the functions they belong to. Rows go with their function, version or
//! alias (foreign keys and triggers in `migrations/0005_async_config.sql`).

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::domain::event_invoke::{EventInvokeConfig, RecursiveLoop};
use crate::domain::Error;

/// A stored config with its qualifier and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConfig {
    pub qualifier: String,
    pub config: EventInvokeConfig,
    pub last_modified_ms: i64,
}

fn function_id(conn: &Connection, name: &str, arn: &str) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT id FROM functions WHERE name = ?1",
        params![name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::function_not_found(arn).into())
}

fn decode(qualifier: String, json: &str, ms: i64) -> Result<StoredConfig, StoreError> {
    let config = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("event invoke config {qualifier}: {e}")))?;
    Ok(StoredConfig {
        qualifier,
        config,
        last_modified_ms: ms,
    })
}

/// The config of (function, qualifier), if any.
pub fn get(
    conn: &Connection,
    name: &str,
    qualifier: &str,
) -> Result<Option<StoredConfig>, StoreError> {
    let row = conn
        .query_row(
            "SELECT c.config, c.last_modified_ms FROM event_invoke_configs c
               JOIN functions f ON f.id = c.function_id
              WHERE f.name = ?1 AND c.qualifier = ?2",
            params![name, qualifier],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?;
    row.map(|(json, ms)| decode(qualifier.to_string(), &json, ms))
        .transpose()
}

/// Writes the config of (function, qualifier): `change` gets the current one (None when
/// there is none) and returns the new one, all inside one write transaction. The qualifier
/// must exist: a version number, `$LATEST` or an alias (`missing` names it otherwise).
pub fn write<F>(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
    arns: (&str, &str),
    now_ms: i64,
    change: F,
) -> Result<StoredConfig, StoreError>
where
    F: FnOnce(Option<EventInvokeConfig>) -> Result<EventInvokeConfig, Error>,
{
    let (function_arn, qualified_arn) = arns;
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, name, function_arn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM function_versions WHERE function_id = ?1 AND version = ?2)
             OR EXISTS(SELECT 1 FROM aliases WHERE function_id = ?1 AND name = ?2)",
        params![id, qualifier],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(Error::function_not_found(qualified_arn).into());
    }
    let current = get(&tx, name, qualifier)?.map(|c| c.config);
    let next = change(current)?;
    let json = serde_json::to_string(&next).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO event_invoke_configs (function_id, qualifier, config, last_modified_ms)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (function_id, qualifier) DO UPDATE SET config = ?3, last_modified_ms = ?4",
        params![id, qualifier, json, now_ms],
    )?;
    tx.commit()?;
    Ok(StoredConfig {
        qualifier: qualifier.to_string(),
        config: next,
        last_modified_ms: now_ms,
    })
}

/// Deletes the config of (function, qualifier); false when there was none.
pub fn delete(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
    function_arn: &str,
) -> Result<bool, StoreError> {
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, name, function_arn)?;
    let n = tx.execute(
        "DELETE FROM event_invoke_configs WHERE function_id = ?1 AND qualifier = ?2",
        params![id, qualifier],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

/// Configs of a function ordered by qualifier, after `after`, at most `limit`.
pub fn list(
    conn: &Connection,
    name: &str,
    function_arn: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredConfig>, StoreError> {
    let id = function_id(conn, name, function_arn)?;
    let mut st = conn.prepare(
        "SELECT qualifier, config, last_modified_ms FROM event_invoke_configs
          WHERE function_id = ?1 AND qualifier > ?2 ORDER BY qualifier LIMIT ?3",
    )?;
    let rows = st.query_map(
        params![
            id,
            after.unwrap_or(""),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (q, json, ms) = row?;
        out.push(decode(q, &json, ms)?);
    }
    Ok(out)
}

/// The recursive loop setting of a function (`Terminate` unless set otherwise).
pub fn recursion(
    conn: &Connection,
    name: &str,
    function_arn: &str,
) -> Result<RecursiveLoop, StoreError> {
    let id = function_id(conn, name, function_arn)?;
    let v: Option<String> = conn
        .query_row(
            "SELECT recursive_loop FROM recursion_configs WHERE function_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    match v {
        None => Ok(RecursiveLoop::Terminate),
        Some(s) => RecursiveLoop::parse(&s)
            .map_err(|_| StoreError::Corrupt(format!("recursion config of {name}: {s}"))),
    }
}

/// Sets the recursive loop setting of a function.
pub fn set_recursion(
    conn: &mut Connection,
    name: &str,
    function_arn: &str,
    value: RecursiveLoop,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, name, function_arn)?;
    match value {
        RecursiveLoop::Terminate => {
            tx.execute(
                "DELETE FROM recursion_configs WHERE function_id = ?1",
                params![id],
            )?;
        }
        RecursiveLoop::Allow => {
            tx.execute(
                "INSERT INTO recursion_configs (function_id, recursive_loop) VALUES (?1, ?2)
                 ON CONFLICT (function_id) DO UPDATE SET recursive_loop = ?2",
                params![id, value.as_str()],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}
