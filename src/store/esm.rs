//! Event source mappings: the rows the ESM API writes and the pollers read.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{write_tx, StoreError};

/// A mapping as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsmRow {
    pub uuid: String,
    pub function_name: String,
    pub qualifier: Option<String>,
    pub event_source_arn: String,
    pub batch_size: i64,
    pub batching_window_s: i64,
    pub enabled: bool,
    pub state: String,
    pub state_reason: String,
    /// JSON array of FunctionResponseTypes.
    pub response_types: String,
    pub max_concurrency: Option<i64>,
    /// JSON array of filter pattern texts.
    pub filters: String,
    pub last_modified_ms: i64,
    pub last_result: String,
    pub tags: String,
    /// JSON array of MetricsConfig.Metrics (`["EventCount"]`).
    pub metrics: String,
}

const COLUMNS: &str = "uuid, function_name, qualifier, event_source_arn, batch_size, batching_window_s, enabled, state, state_reason, response_types, max_concurrency, filters, last_modified_ms, last_result, tags, metrics";

fn row(r: &Row<'_>) -> rusqlite::Result<EsmRow> {
    Ok(EsmRow {
        uuid: r.get(0)?,
        function_name: r.get(1)?,
        qualifier: r.get(2)?,
        event_source_arn: r.get(3)?,
        batch_size: r.get(4)?,
        batching_window_s: r.get(5)?,
        enabled: r.get::<_, i64>(6)? != 0,
        state: r.get(7)?,
        state_reason: r.get(8)?,
        response_types: r.get(9)?,
        max_concurrency: r.get(10)?,
        filters: r.get(11)?,
        last_modified_ms: r.get(12)?,
        last_result: r.get(13)?,
        tags: r.get(14)?,
        metrics: r.get(15)?,
    })
}

/// Stores a new mapping.
pub fn insert(c: &mut Connection, m: &EsmRow) -> Result<(), StoreError> {
    let tx = write_tx(c)?;
    write(&tx, m, true)?;
    tx.commit()?;
    Ok(())
}

fn write(c: &Connection, m: &EsmRow, new: bool) -> Result<(), StoreError> {
    let verb = if new { "INSERT" } else { "REPLACE" };
    c.execute(
        &format!("{verb} INTO event_source_mappings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"),
        params![
            m.uuid,
            m.function_name,
            m.qualifier,
            m.event_source_arn,
            m.batch_size,
            m.batching_window_s,
            i64::from(m.enabled),
            m.state,
            m.state_reason,
            m.response_types,
            m.max_concurrency,
            m.filters,
            m.last_modified_ms,
            m.last_result,
            m.tags,
            m.metrics
        ],
    )?;
    Ok(())
}

/// One mapping.
pub fn get(c: &Connection, uuid: &str) -> Result<Option<EsmRow>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM event_source_mappings WHERE uuid = ?1"),
        [uuid],
        row,
    )
    .optional()?)
}

/// Mappings, optionally of one function and/or one source, ordered by UUID after `after`.
pub fn list(
    c: &Connection,
    function: Option<&str>,
    source: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<EsmRow>, StoreError> {
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM event_source_mappings
         WHERE (?1 IS NULL OR function_name = ?1) AND (?2 IS NULL OR event_source_arn = ?2) AND uuid > ?3
         ORDER BY uuid LIMIT ?4"
    ))?;
    let rows = st.query_map(params![function, source, after, limit], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces a mapping, inside one transaction with the check `guard` (which sees the
/// current row and may refuse).
pub fn update<F>(c: &mut Connection, uuid: &str, change: F) -> Result<Option<EsmRow>, StoreError>
where
    F: FnOnce(EsmRow) -> Result<EsmRow, StoreError>,
{
    let tx = write_tx(c)?;
    let Some(current) = get(&tx, uuid)? else {
        return Ok(None);
    };
    let next = change(current)?;
    write(&tx, &next, false)?;
    tx.commit()?;
    Ok(Some(next))
}

/// Sets the state a poller reached (only if the row still is in `from`, so a newer update
/// is never overwritten by an older transition).
pub fn set_state(
    c: &mut Connection,
    uuid: &str,
    from: &str,
    to: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let tx = write_tx(c)?;
    let n = tx.execute(
        "UPDATE event_source_mappings SET state = ?3, state_reason = ?4 WHERE uuid = ?1 AND state = ?2",
        params![uuid, from, to, reason],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

/// Records LastProcessingResult.
pub fn set_last_result(c: &mut Connection, uuid: &str, result: &str) -> Result<(), StoreError> {
    let tx = write_tx(c)?;
    tx.execute(
        "UPDATE event_source_mappings SET last_result = ?2 WHERE uuid = ?1 AND last_result <> ?2",
        params![uuid, result],
    )?;
    tx.commit()?;
    Ok(())
}

/// Deletes a mapping unless `refuse` says it is busy; returns the row as it was.
pub fn delete<F>(c: &mut Connection, uuid: &str, refuse: F) -> Result<Option<EsmRow>, StoreError>
where
    F: FnOnce(&EsmRow) -> Result<(), StoreError>,
{
    let tx = write_tx(c)?;
    let Some(current) = get(&tx, uuid)? else {
        return Ok(None);
    };
    refuse(&current)?;
    tx.execute("DELETE FROM event_source_mappings WHERE uuid = ?1", [uuid])?;
    tx.commit()?;
    Ok(Some(current))
}

/// Every mapping (the pollers' view).
pub fn all(c: &Connection) -> Result<Vec<EsmRow>, StoreError> {
    list(c, None, None, "", i64::MAX)
}
