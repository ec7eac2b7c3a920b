//! Reserved concurrency (`functions.reserved_concurrency`) and provisioned concurrency
//! configurations (`provisioned_concurrency`). Every write reads the account's commitments
//! and runs the caller's rule check inside its IMMEDIATE transaction, so two concurrent
//! reservations cannot both pass a check that only one of them fits.

use rusqlite::{params, Connection, OptionalExtension};

use super::{aliases, functions, StoreError};
use crate::domain::concurrency::{Share, Shares};
use crate::domain::Error;

/// One provisioned concurrency configuration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedRow {
    pub function: String,
    pub qualifier: String,
    pub requested: u32,
    pub last_modified_ms: i64,
}

/// What a provisioned-concurrency write is checked against.
#[derive(Debug, Clone)]
pub struct ProvisionedSnapshot {
    pub shares: Shares,
    /// Provisioned on the function's other qualifiers.
    pub other_qualifiers: u32,
    /// MB every other provisioned configuration of the account keeps alive.
    pub others_mb: u64,
    /// MB one environment of this qualifier needs.
    pub memory_mb: u64,
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// Reservations and provisioned totals of every function that has either.
pub fn shares(conn: &Connection) -> Result<Shares, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT f.name, f.reserved_concurrency, COALESCE(SUM(p.requested), 0)
         FROM functions f LEFT JOIN provisioned_concurrency p ON p.function_id = f.id
         GROUP BY f.id
         HAVING f.reserved_concurrency IS NOT NULL OR COUNT(p.qualifier) > 0",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Shares::new();
    for row in rows {
        let (name, reserved, provisioned) = row?;
        out.insert(
            name,
            Share {
                reserved: reserved.map(to_u32),
                provisioned: to_u32(provisioned),
            },
        );
    }
    Ok(out)
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

/// Sets (`Some`) or removes (`None`) a function's reserved concurrency after `check` accepted
/// it against the account's current commitments.
pub fn set_reserved<F>(
    conn: &mut Connection,
    name: &str,
    arn: &str,
    n: Option<u32>,
    check: F,
) -> Result<(), StoreError>
where
    F: FnOnce(&Shares) -> Result<(), Error>,
{
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, name, arn)?;
    if n.is_some() {
        check(&shares(&tx)?)?;
    }
    tx.execute(
        "UPDATE functions SET reserved_concurrency = ?1 WHERE id = ?2",
        params![n.map(i64::from), id],
    )?;
    tx.commit()?;
    Ok(())
}

/// MB one environment of `qualifier` needs: the version's MemorySize, or for an alias the
/// larger of its versions'. `None` when the qualifier does not exist.
pub fn qualifier_memory(
    conn: &Connection,
    name: &str,
    qualifier: &str,
) -> Result<Option<u64>, StoreError> {
    let versions: Vec<String> = if qualifier.bytes().all(|b| b.is_ascii_digit()) {
        vec![qualifier.to_string()]
    } else {
        match aliases::get(conn, name, qualifier)? {
            Some(a) => std::iter::once(a.function_version)
                .chain(a.routing.into_keys())
                .collect(),
            None => return Ok(None),
        }
    };
    let mut mb = None;
    for v in versions {
        match functions::get_version(conn, name, &v)? {
            Some(fv) => mb = Some(mb.unwrap_or(0).max(u64::from(fv.config.memory_size))),
            None => return Ok(None),
        }
    }
    Ok(mb)
}

/// Creates or replaces the provisioned concurrency of `name:qualifier` after `check` accepted
/// it. A qualifier that names no version or alias is `ResourceNotFoundException`.
pub fn put_provisioned<F>(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
    qualified_arn: &str,
    n: u32,
    now_ms: i64,
    check: F,
) -> Result<ProvisionedRow, StoreError>
where
    F: FnOnce(&ProvisionedSnapshot) -> Result<(), Error>,
{
    let tx = super::write_tx(conn)?;
    let id = function_id(&tx, name, qualified_arn)?;
    let memory_mb = qualifier_memory(&tx, name, qualifier)?
        .ok_or_else(|| Error::function_not_found(qualified_arn))?;
    let mut other_qualifiers = 0u32;
    let mut others_mb = 0u64;
    for row in all_provisioned(&tx)? {
        if row.function == name && row.qualifier == qualifier {
            continue;
        }
        if row.function == name {
            other_qualifiers = other_qualifiers.saturating_add(row.requested);
        }
        let mb = qualifier_memory(&tx, &row.function, &row.qualifier)?.unwrap_or(0);
        others_mb += u64::from(row.requested) * mb;
    }
    check(&ProvisionedSnapshot {
        shares: shares(&tx)?,
        other_qualifiers,
        others_mb,
        memory_mb,
    })?;
    tx.execute(
        "INSERT INTO provisioned_concurrency (function_id, qualifier, requested, last_modified_ms)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (function_id, qualifier) DO UPDATE SET requested = ?3, last_modified_ms = ?4",
        params![id, qualifier, i64::from(n), now_ms],
    )?;
    tx.commit()?;
    Ok(ProvisionedRow {
        function: name.to_string(),
        qualifier: qualifier.to_string(),
        requested: n,
        last_modified_ms: now_ms,
    })
}

const ROW: &str = "SELECT f.name, p.qualifier, p.requested, p.last_modified_ms
     FROM provisioned_concurrency p JOIN functions f ON f.id = p.function_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProvisionedRow> {
    Ok(ProvisionedRow {
        function: r.get(0)?,
        qualifier: r.get(1)?,
        requested: to_u32(r.get(2)?),
        last_modified_ms: r.get(3)?,
    })
}

/// The configuration of one qualifier.
pub fn get_provisioned(
    conn: &Connection,
    name: &str,
    qualifier: &str,
) -> Result<Option<ProvisionedRow>, StoreError> {
    let sql = format!("{ROW} WHERE f.name = ?1 AND p.qualifier = ?2");
    Ok(conn
        .query_row(&sql, params![name, qualifier], row)
        .optional()?)
}

/// Deletes the configuration of one qualifier; false when there was none.
pub fn delete_provisioned(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
) -> Result<bool, StoreError> {
    let tx = super::write_tx(conn)?;
    let n = tx.execute(
        "DELETE FROM provisioned_concurrency
         WHERE qualifier = ?2 AND function_id = (SELECT id FROM functions WHERE name = ?1)",
        params![name, qualifier],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

/// Configurations of one function ordered by qualifier, after `after`, at most `limit`.
pub fn list_provisioned(
    conn: &Connection,
    name: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<ProvisionedRow>, StoreError> {
    let sql = format!("{ROW} WHERE f.name = ?1 AND p.qualifier > ?2 ORDER BY p.qualifier LIMIT ?3");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![name, after, limit as i64], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every configuration of the account (the engine keeps them provisioned).
pub fn all_provisioned(conn: &Connection) -> Result<Vec<ProvisionedRow>, StoreError> {
    let sql = format!("{ROW} ORDER BY f.name, p.qualifier");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
