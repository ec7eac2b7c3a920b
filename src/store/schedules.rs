//! EventBridge Scheduler: schedule groups and schedules. A schedule's definition (expression,
//! time zone, dates, flexible window, target) is stored as the JSON the services wrote;
//! its firing record (last occurrence, deliveries, failures, completion of a one-time
//! schedule) beside it. Deleting a group deletes its schedules, as AWS does.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{write_tx, StoreError};

/// One schedule group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// One schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub id: i64,
    pub group: String,
    pub name: String,
    pub spec: String,
    pub state: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub anchor_ms: i64,
    pub last_fire_ms: Option<i64>,
    pub completed: bool,
    pub deliveries: i64,
    pub failures: i64,
    pub last_ms: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, group_name, name, spec, state, created_ms, modified_ms, anchor_ms, last_fire_ms, completed, deliveries, failures, last_ms, last_error";

fn row(r: &Row<'_>) -> rusqlite::Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: r.get(0)?,
        group: r.get(1)?,
        name: r.get(2)?,
        spec: r.get(3)?,
        state: r.get(4)?,
        created_ms: r.get(5)?,
        modified_ms: r.get(6)?,
        anchor_ms: r.get(7)?,
        last_fire_ms: r.get(8)?,
        completed: r.get::<_, i64>(9)? != 0,
        deliveries: r.get(10)?,
        failures: r.get(11)?,
        last_ms: r.get(12)?,
        last_error: r.get(13)?,
    })
}

fn group_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        name: r.get(0)?,
        created_ms: r.get(1)?,
        modified_ms: r.get(2)?,
    })
}

/// Creates a group; false when it exists.
pub fn create_group(conn: &mut Connection, name: &str, now: i64) -> Result<bool, StoreError> {
    let tx = write_tx(conn)?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO schedule_groups (name, created_ms, modified_ms) VALUES (?1, ?2, ?2)",
        params![name, now],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// One group.
pub fn get_group(conn: &Connection, name: &str) -> Result<Option<GroupRow>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name, created_ms, modified_ms FROM schedule_groups WHERE name = ?1",
            [name],
            group_row,
        )
        .optional()?)
}

/// Groups whose name starts with `prefix`, by name.
pub fn list_groups(conn: &Connection, prefix: &str) -> Result<Vec<GroupRow>, StoreError> {
    let mut st = conn.prepare(
        "SELECT name, created_ms, modified_ms FROM schedule_groups WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name",
    )?;
    let rows = st.query_map([prefix], group_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a group and its schedules; returns the ids of the schedules deleted, None when
/// the group does not exist.
pub fn delete_group(conn: &mut Connection, name: &str) -> Result<Option<Vec<i64>>, StoreError> {
    let tx = write_tx(conn)?;
    if get_group(&tx, name)?.is_none() {
        return Ok(None);
    }
    let ids: Vec<i64> = {
        let mut st = tx.prepare("SELECT id FROM schedules WHERE group_name = ?1")?;
        let rows = st.query_map([name], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute("DELETE FROM schedules WHERE group_name = ?1", [name])?;
    tx.execute("DELETE FROM schedule_groups WHERE name = ?1", [name])?;
    tx.commit()?;
    Ok(Some(ids))
}

/// What a schedule write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Write {
    Done(Box<ScheduleRow>),
    MissingGroup,
    /// Create: the name is taken. Update: there is no such schedule.
    Conflict,
}

/// Creates a schedule.
pub fn create(
    conn: &mut Connection,
    group: &str,
    name: &str,
    spec: &str,
    state: &str,
    anchor_ms: i64,
    now: i64,
) -> Result<Write, StoreError> {
    let tx = write_tx(conn)?;
    if get_group(&tx, group)?.is_none() {
        return Ok(Write::MissingGroup);
    }
    if get(&tx, group, name)?.is_some() {
        return Ok(Write::Conflict);
    }
    tx.execute(
        "INSERT INTO schedules (group_name, name, spec, state, created_ms, modified_ms, anchor_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![group, name, spec, state, now, anchor_ms],
    )?;
    let r = get(&tx, group, name)?;
    tx.commit()?;
    Ok(r.map_or(Write::Conflict, |r| Write::Done(Box::new(r))))
}

/// Replaces a schedule's definition (its firing record restarts).
pub fn update(
    conn: &mut Connection,
    group: &str,
    name: &str,
    spec: &str,
    state: &str,
    anchor_ms: i64,
    now: i64,
) -> Result<Write, StoreError> {
    let tx = write_tx(conn)?;
    if get_group(&tx, group)?.is_none() {
        return Ok(Write::MissingGroup);
    }
    let n = tx.execute(
        "UPDATE schedules SET spec = ?3, state = ?4, modified_ms = ?5, anchor_ms = ?6, last_fire_ms = NULL, completed = 0 WHERE group_name = ?1 AND name = ?2",
        params![group, name, spec, state, now, anchor_ms],
    )?;
    if n == 0 {
        return Ok(Write::Conflict);
    }
    let r = get(&tx, group, name)?;
    tx.commit()?;
    Ok(r.map_or(Write::Conflict, |r| Write::Done(Box::new(r))))
}

/// One schedule.
pub fn get(conn: &Connection, group: &str, name: &str) -> Result<Option<ScheduleRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE group_name = ?1 AND name = ?2");
    Ok(conn.query_row(&sql, params![group, name], row).optional()?)
}

/// One schedule by id.
pub fn by_id(conn: &Connection, id: i64) -> Result<Option<ScheduleRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], row).optional()?)
}

/// Deletes a schedule; its id, None when there is none.
pub fn delete(conn: &mut Connection, group: &str, name: &str) -> Result<Option<i64>, StoreError> {
    let tx = write_tx(conn)?;
    let Some(r) = get(&tx, group, name)? else {
        return Ok(None);
    };
    tx.execute("DELETE FROM schedules WHERE id = ?1", [r.id])?;
    tx.commit()?;
    Ok(Some(r.id))
}

/// Schedules, optionally of one group, whose name starts with `prefix` and (optionally)
/// in `state`, by group and name.
pub fn list(
    conn: &Connection,
    group: Option<&str>,
    prefix: &str,
    state: Option<&str>,
) -> Result<Vec<ScheduleRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM schedules WHERE (?1 IS NULL OR group_name = ?1) AND substr(name, 1, length(?2)) = ?2 AND (?3 IS NULL OR state = ?3) ORDER BY group_name, name"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params![group, prefix, state], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every schedule, for the clock.
pub fn all(conn: &Connection) -> Result<Vec<ScheduleRow>, StoreError> {
    list(conn, None, "", None)
}

/// One outcome to record.
#[derive(Debug, Clone)]
pub enum Record {
    /// The occurrence at `at_ms` fired; a one-time schedule is then complete.
    Fired { id: i64, at_ms: i64, one_time: bool },
    /// Its delivery ended (`error` None: accepted).
    Delivered {
        id: i64,
        at_ms: i64,
        error: Option<String>,
    },
    /// ActionAfterCompletion DELETE.
    Delete { id: i64 },
}

/// Records outcomes in one transaction (rows deleted meanwhile are skipped).
pub fn record(conn: &mut Connection, records: &[Record]) -> Result<(), StoreError> {
    let tx = write_tx(conn)?;
    for r in records {
        match r {
            Record::Fired {
                id,
                at_ms,
                one_time,
            } => {
                tx.execute(
                    "UPDATE schedules SET last_fire_ms = max(coalesce(last_fire_ms, ?2), ?2), completed = completed OR ?3 WHERE id = ?1",
                    params![id, at_ms, one_time],
                )?;
            }
            Record::Delivered { id, at_ms, error } => {
                tx.execute(
                    "UPDATE schedules SET deliveries = deliveries + (?3 IS NULL), failures = failures + (?3 IS NOT NULL), last_ms = ?2, last_error = ?3 WHERE id = ?1",
                    params![id, at_ms, error],
                )?;
            }
            Record::Delete { id } => {
                tx.execute("DELETE FROM schedules WHERE id = ?1", [id])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
