//! Function metrics in memory: the per-minute aggregates the log writer merges into
//! `store::function_metrics` with each batch ([`aggregate`]), and the totals since start
//! that `GET /metrics` exposes as Prometheus counters and histograms ([`Totals`]).
//!
//! Each invocation counts in the series of its function (no Resource) and, when it was
//! invoked with a qualifier, in `name:qualifier` without and with its ExecutedVersion, as
//! AWS/Lambda's dimensions are.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::store::function_metrics::{Key, Minute};
use crate::store::logs::InvocationRecord;

/// Upper bounds (seconds) of the Prometheus duration histograms.
pub const BUCKETS_SECS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

fn minute_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(60_000)
}

fn us(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The series keys one record counts in.
fn keys(r: &InvocationRecord) -> Vec<Key> {
    let minute_ms = minute_of(r.start_ms);
    let key = |resource: String, executed_version: String| Key {
        function_name: r.function_name.clone(),
        resource,
        executed_version,
        minute_ms,
    };
    let mut out = vec![key(String::new(), String::new())];
    if let Some(q) = &r.qualifier {
        let resource = format!("{}:{q}", r.function_name);
        out.push(key(resource.clone(), String::new()));
        out.push(key(resource, r.version.clone()));
    }
    out
}

/// Per-minute aggregates of `records`.
pub fn aggregate(records: &[InvocationRecord]) -> Vec<(Key, Minute)> {
    let mut out: BTreeMap<Key, Minute> = BTreeMap::new();
    for r in records {
        for k in keys(r) {
            out.entry(k).or_default().add(
                us(r.duration_us),
                r.error_type.is_some(),
                r.init_us.map(us),
            );
        }
    }
    out.into_iter().collect()
}

/// A Prometheus histogram: cumulative-ready bucket counts, sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromHistogram {
    /// Count of observations ≤ `BUCKETS_SECS[i]` (not cumulative; the exporter sums).
    pub buckets: Vec<u64>,
    pub sum_secs: f64,
    pub count: u64,
}

impl PromHistogram {
    pub fn observe(&mut self, secs: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS_SECS.len()];
        }
        if let Some(i) = BUCKETS_SECS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.sum_secs += secs;
        self.count += 1;
    }
}

/// Totals of one function and executed version since the daemon started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Total {
    pub invocations: u64,
    pub errors: u64,
    pub cold_starts: u64,
    pub duration: PromHistogram,
    pub init: PromHistogram,
}

/// Totals per (function, executed version), updated as records are sent to the log writer
/// (so they count even when the log database drops the record).
#[derive(Default)]
pub struct Totals {
    by: Mutex<BTreeMap<(String, String), Total>>,
}

impl Totals {
    pub fn observe(&self, r: &InvocationRecord) {
        let Ok(mut by) = self.by.lock() else { return };
        let t = by
            .entry((r.function_name.clone(), r.version.clone()))
            .or_default();
        t.invocations += 1;
        t.errors += u64::from(r.error_type.is_some());
        t.duration.observe(r.duration_us as f64 / 1e6);
        if let Some(i) = r.init_us {
            t.cold_starts += 1;
            t.init.observe(i as f64 / 1e6);
        }
    }

    /// A copy, in (function, version) order.
    pub fn snapshot(&self) -> Vec<((String, String), Total)> {
        self.by
            .lock()
            .map(|by| by.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(q: Option<&str>, start_ms: i64, error: bool, init: Option<i64>) -> InvocationRecord {
        InvocationRecord {
            function_name: "f".into(),
            version: "3".into(),
            qualifier: q.map(str::to_string),
            request_id: "r".into(),
            start_ms,
            duration_us: 2500,
            billed_ms: 3,
            memory_mb: 128,
            max_memory_mb: 20,
            init_us: init,
            error_type: error.then(|| "Unhandled".to_string()),
            architecture: "x86_64".into(),
        }
    }

    #[test]
    fn records_count_in_their_dimensions_and_minutes() {
        let rows = aggregate(&[
            rec(None, 60_001, false, Some(100)),
            rec(Some("live"), 60_500, true, None),
            rec(None, 120_000, false, None),
        ]);
        let find = |res: &str, v: &str, m: i64| {
            rows.iter()
                .find(|(k, _)| k.resource == res && k.executed_version == v && k.minute_ms == m)
                .map(|(_, m)| m.clone())
        };
        let all = find("", "", 60_000).unwrap();
        assert_eq!((all.invocations, all.errors, all.cold_starts), (2, 1, 1));
        assert_eq!(find("f:live", "", 60_000).unwrap().invocations, 1);
        assert_eq!(find("f:live", "3", 60_000).unwrap().errors, 1);
        assert_eq!(find("", "", 120_000).unwrap().invocations, 1);
        assert_eq!(rows.len(), 4);
    }

    #[test]
    fn totals_fill_prometheus_buckets() {
        let t = Totals::default();
        t.observe(&rec(None, 0, false, Some(300_000)));
        t.observe(&rec(None, 0, true, None));
        let snap = t.snapshot();
        let total = &snap[0].1;
        assert_eq!(
            (total.invocations, total.errors, total.cold_starts),
            (2, 1, 1)
        );
        // 2.5 ms falls in the 5 ms bucket.
        assert_eq!(total.duration.buckets[1], 2);
        assert_eq!(total.init.count, 1);
        assert!((total.duration.sum_secs - 0.005).abs() < 1e-9);
    }
}
