//! The event source mapping metrics (AWS added them in 2024), counted by the pollers per
//! mapping: PolledEventCount (messages received), FilteredOutEventCount (deleted because no
//! FilterCriteria pattern matched), InvokedEventCount (in a batch the function was invoked
//! with), FailedInvokeEventCount (in a batch whose invoke failed, or reported in
//! `batchItemFailures`) and DeletedEventCount (deleted after the function processed them).
//! DroppedEventCount and OnFailureDestinationDeliveredEventCount are stream and Kafka
//! metrics: an SQS mapping never drops a message nor has an OnFailure destination (failed
//! messages reach the queue's dead-letter queue by its redrive policy).
//!
//! As on AWS, CloudWatch gets them (namespace `AWS/Lambda`, dimension EventSourceMappingUUID,
//! per-minute sums in `capacity_metrics` with the mapping's function as `function_name` and
//! its UUID as `dimension`) only for a mapping whose MetricsConfig has `EventCount`; the
//! totals since start for `GET /metrics` count every mapping. Recording is an in-memory
//! update; [`flusher`] writes the minutes every few seconds.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, Weak};
use std::time::Duration;

use super::Pollers;
use crate::domain::function::now_ms;
use crate::services::event_source_mappings::Mapping;
use crate::services::metrics::ESM_METRICS;
use crate::store::capacity_metrics::Point;

/// How often recorded minutes are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// One of the counts, in [`ESM_METRICS`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Polled = 0,
    FilteredOut = 1,
    Invoked = 2,
    FailedInvoke = 3,
    Deleted = 4,
}

/// One mapping's counts, in [`ESM_METRICS`]'s order.
pub type Counts = [u64; 5];

/// A mapping's totals since start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub function: String,
    pub counts: Counts,
}

/// Counts per minute until flushed, and totals since start.
#[derive(Default)]
pub struct Recorder {
    /// (minute, uuid) -> (function, counts)
    minutes: Mutex<HashMap<(i64, String), (String, Counts)>>,
    totals: Mutex<BTreeMap<String, Total>>,
}

impl Recorder {
    /// `n` events of mapping `m` were counted as `c`.
    pub fn add(&self, m: &Mapping, c: Count, n: usize) {
        if n == 0 {
            return;
        }
        let n = n as u64;
        let uuid = &m.row.uuid;
        let function = &m.row.function_name;
        if let Ok(mut t) = self.totals.lock() {
            match t.get_mut(uuid) {
                Some(total) => total.counts[c as usize] += n,
                None => {
                    let mut counts = Counts::default();
                    counts[c as usize] = n;
                    t.insert(
                        uuid.clone(),
                        Total {
                            function: function.clone(),
                            counts,
                        },
                    );
                }
            }
        }
        if !m.event_count_metrics {
            return;
        }
        let minute = now_ms().div_euclid(60_000) * 60_000;
        if let Ok(mut mins) = self.minutes.lock() {
            let e = mins
                .entry((minute, uuid.clone()))
                .or_insert_with(|| (function.clone(), Counts::default()));
            e.1[c as usize] += n;
        }
    }

    /// Every mapping's totals since start, by UUID.
    pub fn totals(&self) -> Vec<(String, Total)> {
        self.totals
            .lock()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Takes the minutes recorded so far, as capacity points (one sample of 1 per event).
    pub fn take(&self) -> Vec<Point> {
        let minutes = match self.minutes.lock() {
            Ok(mut m) => std::mem::take(&mut *m),
            Err(_) => return Vec::new(),
        };
        let mut out = Vec::new();
        for ((minute, uuid), (function, counts)) in minutes {
            for (metric, n) in ESM_METRICS.iter().zip(counts) {
                if n == 0 {
                    continue;
                }
                #[allow(clippy::cast_precision_loss)]
                let v = n as f64;
                out.push(Point {
                    function_name: function.clone(),
                    metric,
                    dimension: uuid.clone(),
                    minute_ms: minute,
                    sum: v,
                    max: 1.0,
                    samples: n,
                });
            }
        }
        out
    }
}

/// Writes the recorded minutes to the store.
pub async fn flush(p: &Pollers) {
    let points = p.metrics.take();
    if points.is_empty() {
        return;
    }
    let n = points.len();
    if let Err(e) = p
        .ctx
        .store
        .call(move |c| crate::store::capacity_metrics::add(c, &points))
        .await
    {
        tracing::warn!(error = %e, points = n, "cannot store event source mapping metrics");
    }
}

/// Flushes every [`FLUSH_EVERY`] until the pollers are gone.
pub async fn flusher(p: Weak<Pollers>) {
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(p) = p.upgrade() else { return };
        flush(&p).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::esm::EsmRow;

    fn mapping(uuid: &str, metrics: &str) -> Mapping {
        Mapping::from_row(EsmRow {
            uuid: uuid.into(),
            function_name: "f".into(),
            qualifier: None,
            event_source_arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            batch_size: 10,
            batching_window_s: 0,
            enabled: true,
            state: "Enabled".into(),
            state_reason: "USER_INITIATED".into(),
            response_types: "[]".into(),
            max_concurrency: None,
            filters: "[]".into(),
            last_modified_ms: 0,
            last_result: String::new(),
            tags: "{}".into(),
            metrics: metrics.into(),
        })
    }

    #[test]
    fn counts_every_mapping_and_publishes_only_with_event_count() {
        let r = Recorder::default();
        let on = mapping("u1", r#"["EventCount"]"#);
        let off = mapping("u2", "[]");
        r.add(&on, Count::Polled, 10);
        r.add(&on, Count::FilteredOut, 3);
        r.add(&on, Count::Invoked, 7);
        r.add(&on, Count::Deleted, 7);
        r.add(&off, Count::Polled, 4);
        r.add(&off, Count::Invoked, 0);
        let t = r.totals();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].1.counts, [10, 3, 7, 0, 7]);
        assert_eq!(t[1].1.counts, [4, 0, 0, 0, 0]);
        let mut pts = r.take();
        pts.sort_by_key(|p| p.metric);
        let got: Vec<(&str, f64, u64)> = pts.iter().map(|p| (p.metric, p.sum, p.samples)).collect();
        assert_eq!(
            got,
            vec![
                ("DeletedEventCount", 7.0, 7),
                ("FilteredOutEventCount", 3.0, 3),
                ("InvokedEventCount", 7.0, 7),
                ("PolledEventCount", 10.0, 10),
            ]
        );
        assert!(pts
            .iter()
            .all(|p| p.dimension == "u1" && p.function_name == "f"));
        assert!(r.take().is_empty());
    }
}
