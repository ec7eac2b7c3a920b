//! The `capacity_metrics` table: per-minute aggregates the engine's capacity recorder
//! (`engine::capacity::metrics`) flushes, read by the dashboard's Monitoring tab and, later,
//! a CloudWatch-style API. Partial aggregates of one minute merge on write (sums add, maxima
//! take the larger), so the recorder may flush as often as it likes.

use rusqlite::{params, Connection};

use super::StoreError;

/// The dimension of the row that keeps a metric's minimum (AsyncEventAge), stored negated in
/// `max` since rows merge only sums and maxima.
pub const MIN_DIMENSION: &str = "min";

/// One aggregate: `metric` of `function_name` ('' = the account) for the minute starting at
/// `minute_ms`; `dimension` is the throttle reason or the qualifier, '' when the metric has
/// none.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub function_name: String,
    pub metric: &'static str,
    pub dimension: String,
    pub minute_ms: i64,
    pub sum: f64,
    pub max: f64,
    pub samples: u64,
}

/// A stored aggregate as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    pub dimension: String,
    pub minute_ms: i64,
    pub sum: f64,
    pub max: f64,
    pub samples: u64,
}

/// Merges `points` into the table in one transaction.
pub fn add(conn: &mut Connection, points: &[Point]) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO capacity_metrics (function_name, metric, dimension, minute_ms, sum, max, samples)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (function_name, metric, dimension, minute_ms) DO UPDATE SET
               sum = sum + excluded.sum, max = MAX(max, excluded.max), samples = samples + excluded.samples",
        )?;
        for p in points {
            st.execute(params![
                p.function_name,
                p.metric,
                p.dimension,
                p.minute_ms,
                p.sum,
                p.max,
                i64::try_from(p.samples).unwrap_or(i64::MAX)
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Aggregates of one function ('' = the account) since `since_ms`, oldest first.
pub fn series(conn: &Connection, function: &str, since_ms: i64) -> Result<Vec<Row>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT metric, dimension, minute_ms, sum, max, samples FROM capacity_metrics
         WHERE function_name = ?1 AND minute_ms >= ?2 ORDER BY minute_ms, metric, dimension",
    )?;
    let rows = st.query_map(params![function, since_ms], |r| {
        Ok(Row {
            metric: r.get(0)?,
            dimension: r.get(1)?,
            minute_ms: r.get(2)?,
            sum: r.get(3)?,
            max: r.get(4)?,
            samples: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The distinct (function, metric) pairs with a minute at or after `since_ms`.
pub fn functions_since(
    conn: &Connection,
    since_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT function_name, metric FROM capacity_metrics WHERE minute_ms >= ?1",
    )?;
    let rows = st.query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Aggregates of `metric` with `dimension` (any function) in [`from_ms`, `to_ms`), oldest
/// first (the event source mapping metrics, whose dimension is the mapping's UUID).
pub fn of_dimension(
    conn: &Connection,
    metric: &str,
    dimension: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Row>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT metric, dimension, minute_ms, sum, max, samples FROM capacity_metrics
         WHERE metric = ?1 AND dimension = ?2 AND minute_ms >= ?3 AND minute_ms < ?4
         ORDER BY minute_ms",
    )?;
    let rows = st.query_map(params![metric, dimension, from_ms, to_ms], |r| {
        Ok(Row {
            metric: r.get(0)?,
            dimension: r.get(1)?,
            minute_ms: r.get(2)?,
            sum: r.get(3)?,
            max: r.get(4)?,
            samples: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The distinct (metric, dimension) pairs of `metrics` with a minute at or after `since_ms`.
pub fn dimensions_since(
    conn: &Connection,
    metrics: &[&str],
    since_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT metric, dimension FROM capacity_metrics WHERE minute_ms >= ?1",
    )?;
    let rows = st.query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (m, d): (String, String) = r?;
        if metrics.contains(&m.as_str()) {
            out.push((m, d));
        }
    }
    Ok(out)
}

/// Deletes aggregates of minutes before `before_ms`; returns how many.
pub fn prune(conn: &mut Connection, before_ms: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM capacity_metrics WHERE minute_ms < ?1",
        params![before_ms],
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn partial_minutes_merge() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("db")).unwrap();
        let p = |sum: f64, max: f64| Point {
            function_name: "f".into(),
            metric: "Throttles",
            dimension: "ConcurrentInvocationLimitExceeded".into(),
            minute_ms: 60_000,
            sum,
            max,
            samples: 1,
        };
        store
            .call_blocking(|c| {
                add(c, &[p(2.0, 2.0)])?;
                add(c, &[p(3.0, 1.0)])
            })
            .unwrap();
        let rows = store.call_blocking(|c| series(c, "f", 0)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].sum, rows[0].max, rows[0].samples), (5.0, 2.0, 2));
        assert_eq!(store.call_blocking(|c| prune(c, 120_000)).unwrap(), 1);
    }
}
