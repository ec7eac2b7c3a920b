//! Saved test events of the dashboard's Test tab, per function name.

use rusqlite::{params, Connection};

use super::StoreError;

/// A saved test event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEvent {
    pub name: String,
    pub payload: String,
}

/// The saved events of a function, by name.
pub fn list(conn: &Connection, function: &str) -> Result<Vec<TestEvent>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT name, payload FROM test_events WHERE function_name = ?1 ORDER BY name",
    )?;
    let rows = st.query_map(params![function], |r| {
        Ok(TestEvent {
            name: r.get(0)?,
            payload: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Saves (or replaces) an event.
pub fn save(
    conn: &Connection,
    function: &str,
    name: &str,
    payload: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO test_events (function_name, name, payload, updated_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (function_name, name) DO UPDATE SET payload = excluded.payload, updated_ms = excluded.updated_ms",
        params![function, name, payload, now_ms],
    )?;
    Ok(())
}

/// Deletes an event.
pub fn delete(conn: &Connection, function: &str, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM test_events WHERE function_name = ?1 AND name = ?2",
        params![function, name],
    )?;
    Ok(())
}

/// Deletes the events of functions that no longer exist.
pub fn prune_orphans(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM test_events WHERE function_name NOT IN (SELECT name FROM functions)",
        [],
    )?;
    Ok(())
}
