//! Aliases of functions. Every write checks, inside its transaction, that the function and
//! the versions the alias points to exist, and the caller's RevisionId.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;
use crate::domain::alias::Alias;
use crate::domain::Error;

const COLUMNS: &str = "f.name, a.name, a.function_version, a.description, a.routing, a.revision_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, String, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode(raw: (String, String, String, String, String, String)) -> Result<Alias, StoreError> {
    let (function, name, function_version, description, routing, revision_id) = raw;
    let routing: BTreeMap<String, f64> = serde_json::from_str(&routing)
        .map_err(|e| StoreError::Corrupt(format!("routing of alias {function}:{name}: {e}")))?;
    Ok(Alias {
        function,
        name,
        function_version,
        description,
        routing,
        revision_id,
    })
}

/// What the caller wants an alias to become; `None` keeps the current value on update.
#[derive(Debug, Clone, Default)]
pub struct AliasChange {
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing: Option<BTreeMap<String, f64>>,
}

/// ARNs for messages: the function's and the alias's.
pub struct Arns<'a> {
    pub function: &'a str,
    pub alias: &'a str,
}

/// Reads one alias.
pub fn get(conn: &Connection, function: &str, name: &str) -> Result<Option<Alias>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM aliases a JOIN functions f ON f.id = a.function_id WHERE f.name = ?1 AND a.name = ?2"
    );
    conn.query_row(&sql, params![function, name], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

fn function_id(conn: &Connection, function: &str, arn: &str) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT id FROM functions WHERE name = ?1",
        params![function],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::function_not_found(arn).into())
}

/// Every version the alias names must exist.
fn check_versions(
    conn: &Connection,
    id: i64,
    function_arn: &str,
    primary: &str,
    routing: &BTreeMap<String, f64>,
) -> Result<(), StoreError> {
    for v in std::iter::once(primary).chain(routing.keys().map(String::as_str)) {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM function_versions WHERE function_id = ?1 AND version = ?2)",
            params![id, v],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(Error::function_not_found(&format!("{function_arn}:{v}")).into());
        }
    }
    Ok(())
}

fn routing_json(routing: &BTreeMap<String, f64>) -> Result<String, StoreError> {
    serde_json::to_string(routing).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Creates an alias; ResourceConflict if the name is taken.
pub fn create(conn: &mut Connection, alias: &Alias, arns: &Arns<'_>) -> Result<Alias, StoreError> {
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, &alias.function, arns.function)?;
    if get(&tx, &alias.function, &alias.name)?.is_some() {
        return Err(
            Error::ResourceConflict(format!("Alias already exists: {}", arns.alias)).into(),
        );
    }
    check_versions(
        &tx,
        id,
        arns.function,
        &alias.function_version,
        &alias.routing,
    )?;
    tx.execute(
        "INSERT INTO aliases (function_id, name, function_version, description, routing, revision_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            alias.name,
            alias.function_version,
            alias.description,
            routing_json(&alias.routing)?,
            alias.revision_id
        ],
    )?;
    tx.commit()?;
    Ok(alias.clone())
}

/// Applies `change` to an alias. `check` validates the merged alias before it is written.
pub fn update<F>(
    conn: &mut Connection,
    function: &str,
    name: &str,
    change: AliasChange,
    expected_revision: Option<&str>,
    arns: &Arns<'_>,
    check: F,
) -> Result<Alias, StoreError>
where
    F: FnOnce(&Alias) -> Result<(), Error>,
{
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, function, arns.function)?;
    let mut alias = get(&tx, function, name)?.ok_or_else(|| not_found(arns.alias))?;
    if expected_revision.is_some_and(|r| r != alias.revision_id) {
        return Err(Error::stale_revision().into());
    }
    if let Some(v) = change.function_version {
        alias.function_version = v;
    }
    if let Some(d) = change.description {
        alias.description = d;
    }
    if let Some(r) = change.routing {
        alias.routing = r;
    }
    check(&alias)?;
    check_versions(
        &tx,
        id,
        arns.function,
        &alias.function_version,
        &alias.routing,
    )?;
    alias.revision_id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "UPDATE aliases SET function_version = ?1, description = ?2, routing = ?3, revision_id = ?4
         WHERE function_id = ?5 AND name = ?6",
        params![
            alias.function_version,
            alias.description,
            routing_json(&alias.routing)?,
            alias.revision_id,
            id,
            name
        ],
    )?;
    tx.commit()?;
    Ok(alias)
}

/// Deletes an alias.
pub fn delete(
    conn: &mut Connection,
    function: &str,
    name: &str,
    arns: &Arns<'_>,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, function, arns.function)?;
    let n = tx.execute(
        "DELETE FROM aliases WHERE function_id = ?1 AND name = ?2",
        params![id, name],
    )?;
    if n == 0 {
        return Err(not_found(arns.alias));
    }
    tx.commit()?;
    Ok(())
}

/// Aliases of a function ordered by name, after `after`, optionally only those whose primary
/// or additional version is `version`.
pub fn list(
    conn: &Connection,
    function: &str,
    function_arn: &str,
    version: Option<&str>,
    after: &str,
    limit: usize,
) -> Result<Vec<Alias>, StoreError> {
    function_id(conn, function, function_arn)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM aliases a JOIN functions f ON f.id = a.function_id
         WHERE f.name = ?1 AND a.name > ?2
           AND (?3 IS NULL OR a.function_version = ?3 OR json_extract(a.routing, '$.\"' || ?3 || '\"') IS NOT NULL)
         ORDER BY a.name LIMIT ?4"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![function, after, version, limit as i64], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

fn not_found(alias_arn: &str) -> StoreError {
    Error::ResourceNotFound(format!("Alias not found: {alias_arn}")).into()
}
