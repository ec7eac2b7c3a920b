//! The log writer: one task that batches function log lines and invocation records from
//! every environment into SQLite transactions (at most every [`FLUSH_EVERY`]), so the invoke
//! path never waits for the database. Within a batch, events are grouped by stream (each
//! stream keeps its order); the order across streams is only kept between batches.
//!
//! The channel is bounded ([`QUEUE_LINES`]): when the log database cannot keep up (a
//! function flooding its output), new lines are dropped and counted instead of growing
//! memory or slowing invocations; the count is logged as a warning (at most every
//! [`DROP_REPORT_EVERY`]) and readable with [`LogWriter::dropped`], and per log group with
//! the lines cut by the per-invocation cap and the events the quota pruned
//! ([`LogWriter::group_drops`]).
//!
//! Each log group stays within `logs.max_bytes_per_group`: after every batch the writer
//! deletes the oldest events of each group the batch wrote to until it is within its quota
//! again, in the same store call, so a flooding function never holds more than its quota
//! (the engine's minute pass also checks every group, for a quota lowered at a restart).
//!
//! Invocation records also feed the function metrics (`engine::function_metrics`): totals
//! in memory as they are sent, per-minute aggregates merged into logs.db with each batch, and
//! the daily usage of the cost estimate (`store::usage`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::function_metrics::{aggregate, Totals};
use crate::domain::function::now_ms;
use crate::store::logs::{InvocationRecord, NewEvent};
use crate::store::traces::{self, Span};
use crate::store::{function_metrics, logs, usage, Store};

/// Longest a line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
const MAX_BATCH: usize = 2000;
/// Lines and records the channel holds before new ones are dropped.
pub const QUEUE_LINES: usize = 100_000;
/// Least time between two warnings about dropped lines.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);

enum Item {
    Event(NewEvent),
    Invocation(InvocationRecord),
    Spans(Vec<Span>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// What one log group lost since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupDrops {
    /// Lines over `logs.max_bytes_per_invocation`, cut by the capture.
    pub truncated_lines: u64,
    /// Lines dropped because the writer's channel was full.
    pub queue_dropped_lines: u64,
    /// Events deleted (oldest first) to keep the group within `logs.max_bytes_per_group`.
    pub quota_pruned_events: u64,
}

type Drops = Arc<Mutex<BTreeMap<String, GroupDrops>>>;

fn count(drops: &Drops, group: &str, f: impl FnOnce(&mut GroupDrops)) {
    if let Ok(mut d) = drops.lock() {
        match d.get_mut(group) {
            Some(g) => f(g),
            None => {
                let mut g = GroupDrops::default();
                f(&mut g);
                d.insert(group.to_string(), g);
            }
        }
    }
}

/// Sender side, cheap to clone.
#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<Item>,
    dropped: Arc<AtomicU64>,
    drops: Drops,
    totals: Arc<Totals>,
}

impl LogWriter {
    /// Starts the writer task on the current runtime; each group is kept within
    /// `max_group_bytes`.
    pub fn start(store: Store, max_group_bytes: u64) -> LogWriter {
        let (tx, rx) = mpsc::channel(QUEUE_LINES);
        let dropped = Arc::new(AtomicU64::new(0));
        let drops = Drops::default();
        tokio::spawn(run(
            store,
            rx,
            Arc::clone(&dropped),
            Arc::clone(&drops),
            max_group_bytes,
        ));
        LogWriter {
            tx,
            dropped,
            drops,
            totals: Arc::new(Totals::default()),
        }
    }

    fn send(&self, item: Item) {
        if let Err(mpsc::error::TrySendError::Full(item)) = self.tx.try_send(item) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            if let Item::Event(e) = item {
                count(&self.drops, &e.group, |g| g.queue_dropped_lines += 1);
            }
        }
    }

    /// `lines` of one invocation's output in `group` were cut by the per-invocation cap.
    pub fn truncated(&self, group: &str, lines: u64) {
        count(&self.drops, group, |g| g.truncated_lines += lines);
    }

    /// What each log group lost since start, for `GET /metrics`.
    pub fn group_drops(&self) -> Vec<(String, GroupDrops)> {
        self.drops
            .lock()
            .map(|d| d.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    pub fn event(&self, group: &str, stream: &str, message: String) {
        self.send(Item::Event(NewEvent {
            group: group.to_string(),
            stream: stream.to_string(),
            ts_ms: now_ms(),
            message,
        }));
    }

    pub fn invocation(&self, record: InvocationRecord) {
        self.totals.observe(&record);
        self.send(Item::Invocation(record));
    }

    /// Invocation totals since start, for `GET /metrics`.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Lines and records waiting in the channel.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// The trace spans of one traced invocation (`TracingConfig: Active`).
    pub fn spans(&self, spans: Vec<Span>) {
        self.send(Item::Spans(spans));
    }

    /// Lines and invocation records dropped since start because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything sent so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Item::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<Item>,
    dropped: Arc<AtomicU64>,
    drops: Drops,
    max_group_bytes: u64,
) {
    let mut reported = 0u64;
    let mut last_report: Option<tokio::time::Instant> = None;
    let mut events = Vec::new();
    let mut invocations = Vec::new();
    let mut spans = Vec::new();
    let mut waiters = Vec::new();
    loop {
        let Some(first) = rx.recv().await else { break };
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        let mut item = Some(first);
        loop {
            match item.take() {
                Some(Item::Event(e)) => events.push(e),
                Some(Item::Invocation(i)) => invocations.push(i),
                Some(Item::Spans(s)) => spans.extend(s),
                Some(Item::Flush(w)) => waiters.push(w),
                None => {}
            }
            if !waiters.is_empty() || events.len() + invocations.len() >= MAX_BATCH {
                break;
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(next)) => item = Some(next),
                Ok(None) | Err(_) => break,
            }
        }
        let mut batch_events = std::mem::take(&mut events);
        // One run per stream: the store looks a stream up once per run, and with many
        // environments logging at once the lines of a batch interleave. The sort is stable, so
        // each stream keeps its own order.
        batch_events.sort_by(|a, b| (&a.group, &a.stream).cmp(&(&b.group, &b.stream)));
        let batch_inv = std::mem::take(&mut invocations);
        if !batch_events.is_empty() || !batch_inv.is_empty() {
            let minutes = aggregate(&batch_inv);
            let days = usage::aggregate(&batch_inv);
            let mut groups: Vec<String> = batch_events.iter().map(|e| e.group.clone()).collect();
            groups.dedup();
            let result = store
                .call(move |c| {
                    logs::append(c, &batch_events, &batch_inv, now_ms())?;
                    function_metrics::merge(c, &minutes)?;
                    usage::merge(c, &days)?;
                    let mut pruned = Vec::new();
                    for g in groups {
                        let n = logs::prune_group(c, &g, max_group_bytes)?;
                        if n > 0 {
                            pruned.push((g, n));
                        }
                    }
                    Ok::<_, crate::store::StoreError>(pruned)
                })
                .await;
            match result {
                Ok(pruned) => {
                    for (g, n) in pruned {
                        count(&drops, &g, |d| d.quota_pruned_events += n as u64);
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot write function logs"),
            }
        }
        if !spans.is_empty() {
            let batch = std::mem::take(&mut spans);
            let result = store
                .call(move |c| {
                    let tx = crate::store::write_tx(c)?;
                    traces::append(&tx, &batch)?;
                    tx.commit()?;
                    Ok::<_, crate::store::StoreError>(())
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "cannot write trace spans");
            }
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
        let total = dropped.load(Ordering::Relaxed);
        if total > reported && last_report.map_or(true, |t| t.elapsed() >= DROP_REPORT_EVERY) {
            tracing::warn!(
                dropped = total - reported,
                total,
                "function log lines dropped: the log database could not keep up"
            );
            reported = total;
            last_report = Some(tokio::time::Instant::now());
        }
    }
}
