//! Per-minute function metrics in logs.db (`function_metrics`, migrations/logs/0002): the
//! log writer merges one [`Minute`] per key and batch ([`merge`]); CloudWatch's
//! GetMetricStatistics/GetMetricData/ListMetrics, `/metrics` and the dashboard read them
//! ([`range`], [`dimensions`]). Pruned by retention in batches ([`prune`]).

use rusqlite::{params, Connection, OptionalExtension, Row as SqlRow};

use super::StoreError;
use crate::domain::histogram::Histogram;

/// Which series a minute belongs to: the function alone (`resource` and `executed_version`
/// empty), or the function invoked as `name:qualifier` (`resource`) and the version run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub function_name: String,
    pub resource: String,
    pub executed_version: String,
    pub minute_ms: i64,
}

/// The aggregates of one key. Durations in µs; `init_*` cover cold starts only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    pub invocations: u64,
    pub errors: u64,
    pub cold_starts: u64,
    pub duration_sum_us: u64,
    pub duration_min_us: u64,
    pub duration_max_us: u64,
    pub duration: Histogram,
    pub init_sum_us: u64,
    pub init_min_us: u64,
    pub init_max_us: u64,
    pub init: Histogram,
}

fn min_nonzero_count(a: u64, a_n: u64, b: u64, b_n: u64) -> u64 {
    match (a_n, b_n) {
        (0, _) => b,
        (_, 0) => a,
        _ => a.min(b),
    }
}

impl Minute {
    /// Adds one invocation of `duration_us` (and `init_us` when it was a cold start).
    pub fn add(&mut self, duration_us: u64, error: bool, init_us: Option<u64>) {
        self.duration_min_us = if self.invocations == 0 {
            duration_us
        } else {
            self.duration_min_us.min(duration_us)
        };
        self.invocations += 1;
        self.errors += u64::from(error);
        self.duration_sum_us += duration_us;
        self.duration_max_us = self.duration_max_us.max(duration_us);
        self.duration.add(duration_us);
        if let Some(i) = init_us {
            self.init_min_us = if self.cold_starts == 0 {
                i
            } else {
                self.init_min_us.min(i)
            };
            self.cold_starts += 1;
            self.init_sum_us += i;
            self.init_max_us = self.init_max_us.max(i);
            self.init.add(i);
        }
    }

    /// Adds another minute's (or window's) aggregates.
    pub fn merge(&mut self, o: &Minute) {
        self.duration_min_us = min_nonzero_count(
            self.duration_min_us,
            self.invocations,
            o.duration_min_us,
            o.invocations,
        );
        self.init_min_us = min_nonzero_count(
            self.init_min_us,
            self.cold_starts,
            o.init_min_us,
            o.cold_starts,
        );
        self.invocations += o.invocations;
        self.errors += o.errors;
        self.cold_starts += o.cold_starts;
        self.duration_sum_us += o.duration_sum_us;
        self.duration_max_us = self.duration_max_us.max(o.duration_max_us);
        self.duration.merge(&o.duration);
        self.init_sum_us += o.init_sum_us;
        self.init_max_us = self.init_max_us.max(o.init_max_us);
        self.init.merge(&o.init);
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(r: &SqlRow<'_>, idx: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(r.get::<_, i64>(idx)?).unwrap_or(0))
}

const COLUMNS: &str = "invocations, errors, cold_starts, duration_sum_us, duration_min_us, \
     duration_max_us, duration_hist, init_sum_us, init_min_us, init_max_us, init_hist";

/// Reads the [`COLUMNS`] starting at column `at`.
fn minute_at(r: &SqlRow<'_>, at: usize) -> rusqlite::Result<Minute> {
    Ok(Minute {
        invocations: u(r, at)?,
        errors: u(r, at + 1)?,
        cold_starts: u(r, at + 2)?,
        duration_sum_us: u(r, at + 3)?,
        duration_min_us: u(r, at + 4)?,
        duration_max_us: u(r, at + 5)?,
        duration: Histogram::decode(&r.get::<_, String>(at + 6)?),
        init_sum_us: u(r, at + 7)?,
        init_min_us: u(r, at + 8)?,
        init_max_us: u(r, at + 9)?,
        init: Histogram::decode(&r.get::<_, String>(at + 10)?),
    })
}

/// Adds `minutes` to the stored rows, in one transaction.
pub fn merge(conn: &mut Connection, minutes: &[(Key, Minute)]) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    {
        let mut get = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM function_metrics WHERE function_name = ?1 AND resource = ?2
               AND executed_version = ?3 AND minute_ms = ?4"
        ))?;
        let mut put = tx.prepare_cached(&format!(
            "INSERT OR REPLACE INTO function_metrics (function_name, resource, executed_version,
               minute_ms, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
               ?13, ?14, ?15)"
        ))?;
        for (k, m) in minutes {
            let mut total = get
                .query_row(
                    params![k.function_name, k.resource, k.executed_version, k.minute_ms],
                    |r| minute_at(r, 0),
                )
                .optional()?
                .unwrap_or_default();
            total.merge(m);
            put.execute(params![
                k.function_name,
                k.resource,
                k.executed_version,
                k.minute_ms,
                i(total.invocations),
                i(total.errors),
                i(total.cold_starts),
                i(total.duration_sum_us),
                i(total.duration_min_us),
                i(total.duration_max_us),
                total.duration.encode(),
                i(total.init_sum_us),
                i(total.init_min_us),
                i(total.init_max_us),
                total.init.encode(),
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Which rows a query reads: `function` None = every function (the account, rows without
/// Resource); `resource`/`executed_version` None = the rows without that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub function: Option<String>,
    pub resource: Option<String>,
    pub executed_version: Option<String>,
}

/// The minutes matching `filter` in `[from_ms, to_ms)`, oldest first (one entry per stored
/// row; several rows of one minute when `function` is None).
pub fn range(
    conn: &Connection,
    filter: &Filter,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, Minute)>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT minute_ms, {COLUMNS} FROM function_metrics
         WHERE (?1 IS NULL OR function_name = ?1) AND resource = ?2 AND executed_version = ?3
           AND minute_ms >= ?4 AND minute_ms < ?5 ORDER BY minute_ms"
    ))?;
    let rows = st.query_map(
        params![
            filter.function,
            filter.resource.as_deref().unwrap_or(""),
            filter.executed_version.as_deref().unwrap_or(""),
            from_ms,
            to_ms
        ],
        |r| Ok((r.get(0)?, minute_at(r, 1)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The distinct (function, resource, executed version) series with a minute at or after
/// `since_ms`, for ListMetrics.
pub fn dimensions(
    conn: &Connection,
    since_ms: i64,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT function_name, resource, executed_version FROM function_metrics
         WHERE minute_ms >= ?1 ORDER BY 1, 2, 3",
    )?;
    let rows = st.query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes minutes older than `before_ms`, at most `batch` rows per transaction.
pub fn prune(conn: &mut Connection, before_ms: i64, batch: i64) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let tx = super::write_tx(conn)?;
        let n = tx.execute(
            "DELETE FROM function_metrics WHERE rowid IN (SELECT rowid FROM function_metrics
               WHERE minute_ms < ?1 LIMIT ?2)",
            params![before_ms, batch],
        )?;
        tx.commit()?;
        total += n;
        if (n as i64) < batch {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(f: &str, minute_ms: i64) -> Key {
        Key {
            function_name: f.into(),
            resource: String::new(),
            executed_version: String::new(),
            minute_ms,
        }
    }

    #[test]
    fn merge_range_dimensions_prune() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::logs::open(dir.path()).unwrap();
        let mut a = Minute::default();
        a.add(1000, false, Some(5000));
        a.add(3000, true, None);
        let mut b = Minute::default();
        b.add(500, false, None);
        store
            .call_blocking(|c| {
                merge(c, &[(key("f", 60_000), a.clone())])?;
                merge(
                    c,
                    &[
                        (key("f", 60_000), b.clone()),
                        (key("g", 120_000), b.clone()),
                    ],
                )?;
                let f = Filter {
                    function: Some("f".into()),
                    ..Filter::default()
                };
                let rows = range(c, &f, 0, 1_000_000)?;
                assert_eq!(rows.len(), 1);
                let m = &rows[0].1;
                assert_eq!((m.invocations, m.errors, m.cold_starts), (3, 1, 1));
                assert_eq!((m.duration_min_us, m.duration_max_us), (500, 3000));
                assert_eq!((m.duration_sum_us, m.init_sum_us), (4500, 5000));
                assert_eq!(m.duration.count(), 3);
                assert_eq!(range(c, &Filter::default(), 0, 1_000_000)?.len(), 2);
                assert_eq!(dimensions(c, 0)?.len(), 2);
                assert_eq!(prune(c, 100_000, 1)?, 1);
                assert_eq!(dimensions(c, 0)?.len(), 1);
                Ok(())
            })
            .unwrap();
    }
}
