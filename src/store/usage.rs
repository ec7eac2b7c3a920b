//! Daily usage per function and architecture in logs.db (`function_usage`,
//! migrations/logs/0004): requests and billed MB-milliseconds, merged by the log writer with
//! each batch ([`merge`]) and read by the cost estimate ([`since`]).

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::logs::InvocationRecord;
use super::StoreError;

/// Days usage rows are kept (a year and a month, so a whole year can be priced).
pub const RETENTION_DAYS: i64 = 400;

const DAY_MS: i64 = 86_400_000;

/// One function's usage on one UTC day with one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub function_name: String,
    pub architecture: String,
    pub day_ms: i64,
    pub requests: u64,
    /// Memory size (MB) × billed duration (ms), summed.
    pub billed_mb_ms: u64,
}

/// The usage in `records`, one entry per (function, architecture, day).
pub fn aggregate(records: &[InvocationRecord]) -> Vec<Day> {
    let mut out: BTreeMap<(String, String, i64), (u64, u64)> = BTreeMap::new();
    for r in records {
        let day = r.start_ms.div_euclid(DAY_MS) * DAY_MS;
        let e = out
            .entry((r.function_name.clone(), r.architecture.clone(), day))
            .or_default();
        e.0 += 1;
        e.1 += u64::try_from(r.billed_ms.max(0) * r.memory_mb.max(0)).unwrap_or(0);
    }
    out.into_iter()
        .map(
            |((function_name, architecture, day_ms), (requests, mb_ms))| Day {
                function_name,
                architecture,
                day_ms,
                requests,
                billed_mb_ms: mb_ms,
            },
        )
        .collect()
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Adds `days` to the stored rows, in one transaction.
pub fn merge(conn: &mut Connection, days: &[Day]) -> Result<(), StoreError> {
    if days.is_empty() {
        return Ok(());
    }
    let tx = super::write_tx(conn)?;
    {
        let mut up = tx.prepare_cached(
            "INSERT INTO function_usage (function_name, architecture, day_ms, requests, billed_mb_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (function_name, architecture, day_ms) DO UPDATE SET
               requests = requests + excluded.requests,
               billed_mb_ms = billed_mb_ms + excluded.billed_mb_ms",
        )?;
        for d in days {
            up.execute(params![
                d.function_name,
                d.architecture,
                d.day_ms,
                i(d.requests),
                i(d.billed_mb_ms)
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The rows of days starting at or after `from_ms` (and before `to_ms`), of one function or
/// all, ordered by day then function.
pub fn between(
    conn: &Connection,
    from_ms: i64,
    to_ms: i64,
    function: Option<&str>,
) -> Result<Vec<Day>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT function_name, architecture, day_ms, requests, billed_mb_ms FROM function_usage
         WHERE day_ms >= ?1 AND day_ms < ?2 AND (?3 IS NULL OR function_name = ?3)
         ORDER BY day_ms, function_name, architecture",
    )?;
    let rows = q
        .query_map(params![from_ms, to_ms, function], |r| {
            Ok(Day {
                function_name: r.get(0)?,
                architecture: r.get(1)?,
                day_ms: r.get(2)?,
                requests: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                billed_mb_ms: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes rows of days before `before_ms`.
pub fn prune(conn: &mut Connection, before_ms: i64) -> Result<usize, StoreError> {
    let tx = super::write_tx(conn)?;
    let n = tx.execute(
        "DELETE FROM function_usage WHERE day_ms < ?1",
        params![before_ms],
    )?;
    tx.commit()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        name: &str,
        arch: &str,
        start_ms: i64,
        billed_ms: i64,
        memory_mb: i64,
    ) -> InvocationRecord {
        InvocationRecord {
            function_name: name.into(),
            version: "$LATEST".into(),
            qualifier: None,
            request_id: "r".into(),
            start_ms,
            duration_us: billed_ms * 1000,
            billed_ms,
            memory_mb,
            max_memory_mb: 40,
            init_us: None,
            error_type: None,
            architecture: arch.into(),
        }
    }

    #[test]
    fn usage_adds_up_per_function_architecture_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::logs::open(dir.path()).unwrap();
        let day = 20_000 * DAY_MS;
        let batch = [
            rec("a", "x86_64", day + 5, 100, 128),
            rec("a", "x86_64", day + 6, 300, 128),
            rec("a", "arm64", day + 7, 10, 512),
            rec("a", "x86_64", day + DAY_MS + 1, 1, 1024),
            rec("b", "x86_64", day + 8, 2, 256),
        ];
        let days = aggregate(&batch);
        assert_eq!(days.len(), 4);
        store
            .call_blocking(move |c| {
                merge(c, &days)?;
                merge(c, &aggregate(&[rec("a", "x86_64", day + 9, 100, 128)]))
            })
            .unwrap();
        let all = store
            .call_blocking(move |c| between(c, day, day + 2 * DAY_MS, None))
            .unwrap();
        let a_x86 = all
            .iter()
            .find(|d| d.function_name == "a" && d.architecture == "x86_64" && d.day_ms == day)
            .unwrap();
        assert_eq!((a_x86.requests, a_x86.billed_mb_ms), (3, 500 * 128));
        let only_b = store
            .call_blocking(move |c| between(c, day, day + DAY_MS, Some("b")))
            .unwrap();
        assert_eq!(only_b.len(), 1);
        let n = store
            .call_blocking(move |c| prune(c, day + DAY_MS))
            .unwrap();
        assert_eq!(n, 3);
    }
}
