//! Trace spans of functions with `TracingConfig: Active`, in the log database
//! (`migrations/logs/0003_traces.sql`): written in the log writer's batches, read by the
//! dashboard's trace view, pruned with the invocation records.

use rusqlite::{params, Connection, Transaction};

use super::StoreError;

/// One span as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub function_name: String,
    pub version: String,
    pub request_id: String,
    pub name: String,
    pub start_us: i64,
    pub end_us: i64,
    pub attempt: i64,
    pub status: String,
    pub error_type: Option<String>,
}

/// Rows deleted per transaction when pruning.
const PRUNE_BATCH: i64 = 2000;

/// Appends spans inside the log writer's transaction.
pub fn append(tx: &Transaction<'_>, spans: &[Span]) -> Result<(), StoreError> {
    let mut ins = tx.prepare_cached(
        "INSERT INTO trace_spans (trace_id, span_id, parent_id, function_name, version, request_id, name, start_us, end_us, attempt, status, error_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for s in spans {
        ins.execute(params![
            s.trace_id,
            s.span_id,
            s.parent_id,
            s.function_name,
            s.version,
            s.request_id,
            s.name,
            s.start_us,
            s.end_us,
            s.attempt,
            s.status,
            s.error_type
        ])?;
    }
    Ok(())
}

const COLUMNS: &str = "trace_id, span_id, parent_id, function_name, version, request_id, name, start_us, end_us, attempt, status, error_type";

fn span(r: &rusqlite::Row<'_>) -> rusqlite::Result<Span> {
    Ok(Span {
        trace_id: r.get(0)?,
        span_id: r.get(1)?,
        parent_id: r.get(2)?,
        function_name: r.get(3)?,
        version: r.get(4)?,
        request_id: r.get(5)?,
        name: r.get(6)?,
        start_us: r.get(7)?,
        end_us: r.get(8)?,
        attempt: r.get(9)?,
        status: r.get(10)?,
        error_type: r.get(11)?,
    })
}

/// The spans of every trace a request of `function` belongs to (all its attempts, and the
/// other functions' spans of the same traces), oldest first.
pub fn for_request(
    conn: &Connection,
    function: &str,
    request_id: &str,
) -> Result<Vec<Span>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM trace_spans WHERE trace_id IN
           (SELECT DISTINCT trace_id FROM trace_spans WHERE function_name = ?1 AND request_id = ?2)
         ORDER BY start_us, id LIMIT 500"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![function, request_id], span)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The root spans (one per traced invocation attempt) of `function`, newest first.
pub fn recent_roots(
    conn: &Connection,
    function: &str,
    limit: usize,
) -> Result<Vec<Span>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM trace_spans WHERE function_name = ?1 AND parent_id IS NULL
         ORDER BY start_us DESC, id DESC LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![function, limit as i64], span)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Request ids of `function` that have spans, among `request_ids`.
pub fn traced(
    conn: &Connection,
    function: &str,
    request_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT 1 FROM trace_spans WHERE function_name = ?1 AND request_id = ?2 LIMIT 1",
    )?;
    let mut out = Vec::new();
    for id in request_ids {
        if q.exists(params![function, id])? {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Deletes spans that started before `before_ms`, in batches.
pub fn prune(conn: &mut Connection, before_ms: i64) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let tx = super::write_tx(conn)?;
        let n = tx.execute(
            "DELETE FROM trace_spans WHERE id IN (SELECT id FROM trace_spans WHERE start_us < ?1 LIMIT ?2)",
            params![before_ms.saturating_mul(1000), PRUNE_BATCH],
        )?;
        tx.commit()?;
        total += n;
        if (n as i64) < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_prune() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::logs::open(dir.path()).unwrap();
        let s = |name: &str, fun: &str, rid: &str, start: i64| Span {
            trace_id: "1-65000000-000000000000000000000001".into(),
            span_id: format!("{start:016x}"),
            parent_id: None,
            function_name: fun.into(),
            version: "$LATEST".into(),
            request_id: rid.into(),
            name: name.into(),
            start_us: start,
            end_us: start + 10,
            attempt: 1,
            status: "success".into(),
            error_type: None,
        };
        let spans = vec![s("Invoke", "a", "r1", 2_000), s("Invoke", "b", "r2", 1_000)];
        store
            .call_blocking(move |c| {
                let tx = crate::store::write_tx(c)?;
                append(&tx, &spans)?;
                tx.commit()?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let got = store.call_blocking(|c| for_request(c, "a", "r1")).unwrap();
        assert_eq!(
            got.iter()
                .map(|s| s.function_name.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        let t = store
            .call_blocking(|c| traced(c, "a", &["r1".into(), "r2".into()]))
            .unwrap();
        assert_eq!(t, ["r1"]);
        // Spans start at 1 ms (b) and 2 ms (a): a cut at 2 ms removes only b's.
        store.call_blocking(|c| prune(c, 2)).unwrap();
        assert_eq!(
            store
                .call_blocking(|c| for_request(c, "a", "r1"))
                .unwrap()
                .len(),
            1
        );
        store.call_blocking(|c| prune(c, 3)).unwrap();
        assert!(store
            .call_blocking(|c| for_request(c, "a", "r1"))
            .unwrap()
            .is_empty());
    }
}
