//! EventBridge event buses, rules and their targets. Writes that AWS refuses on a condition
//! (a rule that still has targets, a bus that still has rules, more than five targets) check
//! it inside their transaction. Targets are stored as the JSON structure the API received;
//! the services decode it.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{write_tx, StoreError};

/// The most targets one rule may have (AWS's quota).
pub const MAX_TARGETS: usize = 5;

/// One event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusRow {
    pub name: String,
    pub description: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub id: i64,
    pub bus: String,
    pub name: String,
    pub schedule: Option<String>,
    pub pattern: Option<String>,
    pub state: String,
    pub description: String,
    pub role_arn: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub anchor_ms: i64,
    pub last_fire_ms: Option<i64>,
}

/// One target of a rule, with its delivery record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub rule_id: i64,
    pub target_id: String,
    pub arn: String,
    pub spec: String,
    pub deliveries: i64,
    pub failures: i64,
    pub last_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// What PutRule writes.
#[derive(Debug, Clone)]
pub struct RuleWrite {
    pub bus: String,
    pub name: String,
    pub schedule: Option<String>,
    pub pattern: Option<String>,
    pub state: String,
    pub description: String,
    pub role_arn: Option<String>,
    pub tags: String,
}

const RULE_COLUMNS: &str = "id, bus, name, schedule, pattern, state, description, role_arn, created_ms, modified_ms, anchor_ms, last_fire_ms";

fn rule_row(r: &Row<'_>) -> rusqlite::Result<RuleRow> {
    Ok(RuleRow {
        id: r.get(0)?,
        bus: r.get(1)?,
        name: r.get(2)?,
        schedule: r.get(3)?,
        pattern: r.get(4)?,
        state: r.get(5)?,
        description: r.get(6)?,
        role_arn: r.get(7)?,
        created_ms: r.get(8)?,
        modified_ms: r.get(9)?,
        anchor_ms: r.get(10)?,
        last_fire_ms: r.get(11)?,
    })
}

const TARGET_COLUMNS: &str =
    "rule_id, target_id, arn, spec, deliveries, failures, last_ms, last_error";

fn target_row(r: &Row<'_>) -> rusqlite::Result<TargetRow> {
    Ok(TargetRow {
        rule_id: r.get(0)?,
        target_id: r.get(1)?,
        arn: r.get(2)?,
        spec: r.get(3)?,
        deliveries: r.get(4)?,
        failures: r.get(5)?,
        last_ms: r.get(6)?,
        last_error: r.get(7)?,
    })
}

fn bus_row(r: &Row<'_>) -> rusqlite::Result<BusRow> {
    Ok(BusRow {
        name: r.get(0)?,
        description: r.get(1)?,
        created_ms: r.get(2)?,
        modified_ms: r.get(3)?,
    })
}

/// Creates a bus; false when it exists.
pub fn create_bus(
    conn: &mut Connection,
    name: &str,
    description: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let tx = write_tx(conn)?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO event_buses (name, description, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?3)",
        params![name, description, now],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// One bus.
pub fn get_bus(conn: &Connection, name: &str) -> Result<Option<BusRow>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name, description, created_ms, modified_ms FROM event_buses WHERE name = ?1",
            [name],
            bus_row,
        )
        .optional()?)
}

/// Buses whose name starts with `prefix`, by name.
pub fn list_buses(conn: &Connection, prefix: &str) -> Result<Vec<BusRow>, StoreError> {
    let mut st = conn.prepare(
        "SELECT name, description, created_ms, modified_ms FROM event_buses WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name",
    )?;
    let rows = st.query_map([prefix], bus_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What DeleteEventBus found.
#[derive(Debug, PartialEq, Eq)]
pub enum BusDelete {
    Deleted,
    Missing,
    HasRules(i64),
}

/// Deletes a bus that has no rules.
pub fn delete_bus(conn: &mut Connection, name: &str) -> Result<BusDelete, StoreError> {
    let tx = write_tx(conn)?;
    let rules: i64 = tx.query_row(
        "SELECT count(*) FROM event_rules WHERE bus = ?1",
        [name],
        |r| r.get(0),
    )?;
    if rules > 0 {
        return Ok(BusDelete::HasRules(rules));
    }
    let n = tx.execute("DELETE FROM event_buses WHERE name = ?1", [name])?;
    tx.commit()?;
    Ok(if n == 1 {
        BusDelete::Deleted
    } else {
        BusDelete::Missing
    })
}

/// Creates or replaces a rule (its targets stay). `anchor_ms` restarts at `now` when the
/// schedule changes or the rule is enabled again; `None` when the bus does not exist.
pub fn put_rule(
    conn: &mut Connection,
    w: &RuleWrite,
    now: i64,
) -> Result<Option<RuleRow>, StoreError> {
    let tx = write_tx(conn)?;
    if get_bus(&tx, &w.bus)?.is_none() {
        return Ok(None);
    }
    let old = get_rule(&tx, &w.bus, &w.name)?;
    match &old {
        Some(o) => {
            let restart =
                o.schedule != w.schedule || (o.state != "ENABLED" && w.state == "ENABLED");
            let anchor = if restart { now } else { o.anchor_ms };
            let last = if restart { None } else { o.last_fire_ms };
            tx.execute(
                "UPDATE event_rules SET schedule = ?2, pattern = ?3, state = ?4, description = ?5, role_arn = ?6, modified_ms = ?7, anchor_ms = ?8, last_fire_ms = ?9 WHERE id = ?1",
                params![o.id, w.schedule, w.pattern, w.state, w.description, w.role_arn, now, anchor, last],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO event_rules (bus, name, schedule, pattern, state, description, role_arn, tags, created_ms, modified_ms, anchor_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9)",
                params![w.bus, w.name, w.schedule, w.pattern, w.state, w.description, w.role_arn, w.tags, now],
            )?;
        }
    }
    let row = get_rule(&tx, &w.bus, &w.name)?;
    tx.commit()?;
    Ok(row)
}

/// One rule.
pub fn get_rule(conn: &Connection, bus: &str, name: &str) -> Result<Option<RuleRow>, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE bus = ?1 AND name = ?2");
    Ok(conn
        .query_row(&sql, params![bus, name], rule_row)
        .optional()?)
}

/// One rule by id.
pub fn rule_by_id(conn: &Connection, id: i64) -> Result<Option<RuleRow>, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], rule_row).optional()?)
}

/// Rules of a bus (every bus when `bus` is None) whose name starts with `prefix`, by name.
pub fn list_rules(
    conn: &Connection,
    bus: Option<&str>,
    prefix: &str,
) -> Result<Vec<RuleRow>, StoreError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM event_rules WHERE (?1 IS NULL OR bus = ?1) AND substr(name, 1, length(?2)) = ?2 ORDER BY bus, name"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params![bus, prefix], rule_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every rule with a schedule expression (enabled or not), with its targets.
pub fn scheduled_rules(conn: &Connection) -> Result<Vec<(RuleRow, Vec<TargetRow>)>, StoreError> {
    let sql =
        format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE schedule IS NOT NULL ORDER BY id");
    let mut st = conn.prepare(&sql)?;
    let rules: Vec<RuleRow> = st.query_map([], rule_row)?.collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let t = targets(conn, r.id)?;
        out.push((r, t));
    }
    Ok(out)
}

/// Enabled rules of `bus` with an event pattern, with their targets.
pub fn pattern_rules(
    conn: &Connection,
    bus: &str,
) -> Result<Vec<(RuleRow, Vec<TargetRow>)>, StoreError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM event_rules WHERE bus = ?1 AND pattern IS NOT NULL AND state = 'ENABLED' ORDER BY id"
    );
    let mut st = conn.prepare(&sql)?;
    let rules: Vec<RuleRow> = st.query_map([bus], rule_row)?.collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let t = targets(conn, r.id)?;
        out.push((r, t));
    }
    Ok(out)
}

/// What DeleteRule found.
#[derive(Debug, PartialEq, Eq)]
pub enum RuleDelete {
    Deleted(i64),
    Missing,
    HasTargets,
}

/// Deletes a rule; one with targets only when `force`.
pub fn delete_rule(
    conn: &mut Connection,
    bus: &str,
    name: &str,
    force: bool,
) -> Result<RuleDelete, StoreError> {
    let tx = write_tx(conn)?;
    let Some(rule) = get_rule(&tx, bus, name)? else {
        return Ok(RuleDelete::Missing);
    };
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM event_targets WHERE rule_id = ?1",
        [rule.id],
        |r| r.get(0),
    )?;
    if n > 0 && !force {
        return Ok(RuleDelete::HasTargets);
    }
    tx.execute("DELETE FROM event_rules WHERE id = ?1", [rule.id])?;
    tx.commit()?;
    Ok(RuleDelete::Deleted(rule.id))
}

/// Enables or disables a rule; enabling restarts rate() from now. None: no such rule.
pub fn set_state(
    conn: &mut Connection,
    bus: &str,
    name: &str,
    state: &str,
    now: i64,
) -> Result<Option<RuleRow>, StoreError> {
    let tx = write_tx(conn)?;
    let Some(rule) = get_rule(&tx, bus, name)? else {
        return Ok(None);
    };
    if rule.state != state {
        let enabling = state == "ENABLED";
        tx.execute(
            "UPDATE event_rules SET state = ?2, modified_ms = ?3, anchor_ms = CASE WHEN ?4 THEN ?3 ELSE anchor_ms END, last_fire_ms = CASE WHEN ?4 THEN NULL ELSE last_fire_ms END WHERE id = ?1",
            params![rule.id, state, now, enabling],
        )?;
    }
    let row = rule_by_id(&tx, rule.id)?;
    tx.commit()?;
    Ok(row)
}

/// The targets of a rule, in the order they were added.
pub fn targets(conn: &Connection, rule_id: i64) -> Result<Vec<TargetRow>, StoreError> {
    let sql = format!(
        "SELECT {TARGET_COLUMNS} FROM event_targets WHERE rule_id = ?1 ORDER BY position, target_id"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map([rule_id], target_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What PutTargets did.
#[derive(Debug, PartialEq, Eq)]
pub enum TargetsPut {
    Done,
    MissingRule,
    /// The rule would have this many targets.
    TooMany(usize),
}

/// Adds or replaces targets (id, arn, spec) of a rule in one transaction.
pub fn put_targets(
    conn: &mut Connection,
    bus: &str,
    rule: &str,
    targets: &[(String, String, String)],
) -> Result<TargetsPut, StoreError> {
    let tx = write_tx(conn)?;
    let Some(r) = get_rule(&tx, bus, rule)? else {
        return Ok(TargetsPut::MissingRule);
    };
    let existing = self::targets(&tx, r.id)?;
    let mut count = existing.len();
    for (id, _, _) in targets {
        if !existing.iter().any(|t| &t.target_id == id) {
            count += 1;
        }
    }
    if count > MAX_TARGETS {
        return Ok(TargetsPut::TooMany(count));
    }
    let mut next: i64 = existing.len() as i64;
    for (id, arn, spec) in targets {
        let changed = tx.execute(
            "UPDATE event_targets SET arn = ?3, spec = ?4 WHERE rule_id = ?1 AND target_id = ?2",
            params![r.id, id, arn, spec],
        )?;
        if changed == 0 {
            tx.execute(
                "INSERT INTO event_targets (rule_id, target_id, arn, spec, position) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.id, id, arn, spec, next],
            )?;
            next += 1;
        }
    }
    tx.commit()?;
    Ok(TargetsPut::Done)
}

/// Removes targets by id; returns the rule's id and the ids that were not there. None: no
/// such rule.
pub fn remove_targets(
    conn: &mut Connection,
    bus: &str,
    rule: &str,
    ids: &[String],
) -> Result<Option<(i64, Vec<String>)>, StoreError> {
    let tx = write_tx(conn)?;
    let Some(r) = get_rule(&tx, bus, rule)? else {
        return Ok(None);
    };
    let mut missing = Vec::new();
    for id in ids {
        let n = tx.execute(
            "DELETE FROM event_targets WHERE rule_id = ?1 AND target_id = ?2",
            params![r.id, id],
        )?;
        if n == 0 {
            missing.push(id.clone());
        }
    }
    tx.commit()?;
    Ok(Some((r.id, missing)))
}

/// Rules of `bus` with a target whose ARN is `arn`, by name.
pub fn rule_names_by_target(
    conn: &Connection,
    bus: &str,
    arn: &str,
) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare(
        "SELECT DISTINCT r.name FROM event_rules r JOIN event_targets t ON t.rule_id = r.id WHERE r.bus = ?1 AND t.arn = ?2 ORDER BY r.name",
    )?;
    let rows = st.query_map(params![bus, arn], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every rule (any bus) with a target whose ARN is one of `arns`, with that target.
pub fn rules_targeting(
    conn: &Connection,
    arns: &[String],
) -> Result<Vec<(RuleRow, TargetRow)>, StoreError> {
    let mut out = Vec::new();
    let sql = format!(
        "SELECT {TARGET_COLUMNS} FROM event_targets WHERE arn = ?1 ORDER BY rule_id, target_id"
    );
    let mut st = conn.prepare(&sql)?;
    for arn in arns {
        let ts: Vec<TargetRow> = st.query_map([arn], target_row)?.collect::<Result<_, _>>()?;
        for t in ts {
            if let Some(r) = rule_by_id(conn, t.rule_id)? {
                out.push((r, t));
            }
        }
    }
    Ok(out)
}

/// One outcome to record.
#[derive(Debug, Clone)]
pub enum Record {
    /// A scheduled rule fired for the occurrence at `at_ms`.
    Fired { rule_id: i64, at_ms: i64 },
    /// A delivery to one target ended (`error` None: accepted).
    Delivered {
        rule_id: i64,
        target_id: String,
        at_ms: i64,
        error: Option<String>,
    },
}

/// Records outcomes in one transaction (rows deleted meanwhile are skipped).
pub fn record(conn: &mut Connection, records: &[Record]) -> Result<(), StoreError> {
    let tx = write_tx(conn)?;
    for r in records {
        match r {
            Record::Fired { rule_id, at_ms } => {
                tx.execute(
                    "UPDATE event_rules SET last_fire_ms = max(coalesce(last_fire_ms, ?2), ?2) WHERE id = ?1",
                    params![rule_id, at_ms],
                )?;
            }
            Record::Delivered {
                rule_id,
                target_id,
                at_ms,
                error,
            } => {
                tx.execute(
                    "UPDATE event_targets SET deliveries = deliveries + (?4 IS NULL), failures = failures + (?4 IS NOT NULL), last_ms = ?3, last_error = ?4 WHERE rule_id = ?1 AND target_id = ?2",
                    params![rule_id, target_id, at_ms, error],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
