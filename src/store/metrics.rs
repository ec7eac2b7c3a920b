//! Reads of the `invocations` table for the dashboard: per-function counts and the samples
//! the Monitoring charts are computed from. Written by the engine's log writer
//! (`logs::append`), pruned with the logs.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::StoreError;

/// Invocations and errors of one function over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub invocations: u64,
    pub errors: u64,
}

/// One invocation, as much as the charts need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub start_ms: i64,
    pub duration_us: i64,
    pub error: bool,
    /// Init duration of a cold start (None for warm invocations).
    pub init_us: Option<i64>,
}

/// Counts per function name of invocations that started at or after `since_ms`.
pub fn counts_since(
    conn: &Connection,
    since_ms: i64,
) -> Result<HashMap<String, Counts>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT function_name, COUNT(*), COUNT(error_type) FROM invocations
         WHERE start_ms >= ?1 GROUP BY function_name",
    )?;
    let rows = st.query_map(params![since_ms], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Counts {
                invocations: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                errors: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The most recent `limit` invocations of a function since `since_ms`, oldest first.
pub fn samples(
    conn: &Connection,
    function: &str,
    since_ms: i64,
    limit: usize,
) -> Result<Vec<Sample>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT start_ms, duration_us, error_type IS NOT NULL, init_us FROM invocations
         WHERE function_name = ?1 AND start_ms >= ?2 ORDER BY start_ms DESC LIMIT ?3",
    )?;
    let rows = st.query_map(params![function, since_ms, limit as i64], |r| {
        Ok(Sample {
            start_ms: r.get(0)?,
            duration_us: r.get(1)?,
            error: r.get(2)?,
            init_us: r.get(3)?,
        })
    })?;
    let mut out: Vec<Sample> = rows.collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::logs::{append, InvocationRecord};

    fn rec(name: &str, start_ms: i64, error: bool) -> InvocationRecord {
        InvocationRecord {
            function_name: name.into(),
            version: "$LATEST".into(),
            qualifier: None,
            request_id: "r".into(),
            start_ms,
            duration_us: 1000,
            billed_ms: 1,
            memory_mb: 128,
            max_memory_mb: 20,
            init_us: None,
            error_type: error.then(|| "Unhandled".to_string()),
            architecture: "x86_64".into(),
        }
    }

    #[test]
    fn counts_and_samples() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::logs::open(dir.path()).unwrap();
        store
            .call_blocking(|c| {
                append(
                    c,
                    &[],
                    &[
                        rec("a", 10, false),
                        rec("a", 20, true),
                        rec("b", 30, false),
                        rec("a", 1, false),
                    ],
                    40,
                )?;
                let counts = counts_since(c, 5)?;
                assert_eq!(
                    counts["a"],
                    Counts {
                        invocations: 2,
                        errors: 1
                    }
                );
                assert_eq!(counts["b"].invocations, 1);
                let s = samples(c, "a", 0, 2)?;
                assert_eq!(s.iter().map(|s| s.start_ms).collect::<Vec<_>>(), [10, 20]);
                Ok(())
            })
            .unwrap();
    }
}
