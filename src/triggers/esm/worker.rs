//! One mapping's workers: scaling with the queue's depth, and the batch loop (gather,
//! filter, invoke, delete what succeeded).
//!
//! Scaling, as Lambda does it for SQS: five concurrent batches to begin with, then up to five
//! more per second (Lambda: 300 per minute) while the queue holds more than the workers take,
//! within the caps. One more rule keeps a busy host from redelivering what it is processing: a
//! batch's messages are invisible only for the queue's visibility timeout, so the mapping adds
//! workers only while its batches finish (invoke → delete) in under a quarter of that timeout,
//! and halves its workers when they take more than half of it. Without it a deep queue started
//! every allowed worker at once (the account limit, 141 on a 2-core test machine): that many
//! cold starts saturated the CPU, batches outlived their visibility timeout and came back
//! (duplicates), and under load no batch finished at all.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::event::{filter_view, partial, record, Outcome};
use super::metrics::Count;
use super::Pollers;
use crate::engine::spans::{now_us, Owner};
use crate::engine::{Admission, InvokeRequest, Queued};
use crate::services::event_source_mappings::Mapping;
use crate::services::sqs::{Queue, ReceivedMessage};

/// Largest event a batch may make (the synchronous invoke limit).
const MAX_EVENT_BYTES: usize = 6_291_456;
/// Workers a mapping may run when nothing else limits it (AWS: 1,000 concurrent batches).
const MAX_WORKERS: usize = 1000;
/// Concurrent batches a mapping starts with (AWS: five).
const INITIAL_WORKERS: usize = 5;
/// Workers added per second at most while the queue is deep (AWS: 300 per minute).
const ADD_PER_SECOND: usize = 5;
/// How often the mapping task re-reads the queue's depth and rescales.
const TICK: Duration = Duration::from_millis(500);

struct Shared {
    live: AtomicUsize,
    target: AtomicUsize,
    generation: AtomicU64,
    /// Slowest batch (invoke → delete, ms) since the last tick; 0 = none finished.
    slowest_ms: AtomicU64,
}

/// The next worker target: grow toward `wanted` by at most `ADD_PER_SECOND` per second while
/// batches finish well within the visibility timeout, halve when they come close to it.
fn next_target(
    current: usize,
    wanted: usize,
    cap: usize,
    slowest_ms: u64,
    visibility_ms: u64,
) -> usize {
    let wanted = wanted.min(cap).max(1);
    let slow = visibility_ms / 2;
    let fast = (visibility_ms / 4).max(200);
    let per_tick =
        (ADD_PER_SECOND * usize::try_from(TICK.as_millis()).unwrap_or(500) / 1000).max(1);
    let next = if slowest_ms > slow {
        current / 2
    } else if current < INITIAL_WORKERS {
        INITIAL_WORKERS
    } else if slowest_ms <= fast {
        current + per_tick
    } else {
        current
    };
    next.min(wanted).max(1)
}

/// Runs a mapping until it is deleted or the daemon stops.
pub async fn run_mapping(
    p: Arc<Pollers>,
    mut config: watch::Receiver<Arc<Mapping>>,
    stop: Arc<AtomicBool>,
) {
    let shared = Arc::new(Shared {
        live: AtomicUsize::new(0),
        target: AtomicUsize::new(1),
        generation: AtomicU64::new(0),
        slowest_ms: AtomicU64::new(0),
    });
    loop {
        if stop.load(Ordering::SeqCst) || p.stopping() {
            shared.generation.fetch_add(1, Ordering::SeqCst);
            return;
        }
        let m = config.borrow().clone();
        if !m.row.enabled {
            shared.generation.fetch_add(1, Ordering::SeqCst);
            wait_change(&mut config, Duration::from_secs(5)).await;
            continue;
        }
        let Some(q) = p.sqs.by_arn(&m.row.event_source_arn).await else {
            p.record_result(
                &m.row.uuid,
                "PROBLEM: The event source queue does not exist.",
            )
            .await;
            wait_change(&mut config, Duration::from_secs(5)).await;
            continue;
        };
        let depth = p.sqs.counts(&q).await.map(|c| c.visible).unwrap_or(0);
        let per_batch = usize::try_from(m.row.batch_size.clamp(1, 10)).unwrap_or(10);
        let want = usize::try_from(depth)
            .unwrap_or(0)
            .div_ceil(per_batch)
            .max(1);
        let cap = cap_of(&p, &m).await;
        let visibility_ms = u64::try_from(q.attrs.visibility_timeout).unwrap_or(0) * 1000;
        let want = next_target(
            shared.target.load(Ordering::SeqCst),
            want,
            cap,
            shared.slowest_ms.swap(0, Ordering::SeqCst),
            visibility_ms,
        );
        shared.target.store(want, Ordering::SeqCst);
        let gen = shared.generation.load(Ordering::SeqCst);
        while shared.live.load(Ordering::SeqCst) < want {
            shared.live.fetch_add(1, Ordering::SeqCst);
            p.rt.spawn(work(
                Arc::clone(&p),
                Arc::clone(&m),
                Arc::clone(&shared),
                gen,
                Arc::clone(&stop),
            ));
        }
        if wait_change(&mut config, TICK).await {
            // New settings: the current workers finish their batch and leave.
            shared.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Waits for a configuration change (true) or `timeout` (false).
async fn wait_change(config: &mut watch::Receiver<Arc<Mapping>>, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, config.changed()).await,
        Ok(Ok(()))
    )
}

/// The most workers this mapping may run.
async fn cap_of(p: &Pollers, m: &Mapping) -> usize {
    let account = usize::try_from(p.engine.pool().limit).unwrap_or(1);
    let reserved = p
        .engine
        .reserved_concurrency(&crate::domain::arn::FunctionRef {
            name: m.function.name.clone(),
            qualifier: None,
        })
        .await
        .ok()
        .flatten()
        .map(|r| usize::try_from(r).unwrap_or(0));
    let mapping = m
        .row
        .max_concurrency
        .map_or(MAX_WORKERS, |c| usize::try_from(c).unwrap_or(MAX_WORKERS));
    [Some(account), reserved, Some(mapping)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(1)
        .max(1)
}

struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn work(
    p: Arc<Pollers>,
    m: Arc<Mapping>,
    shared: Arc<Shared>,
    gen: u64,
    stop: Arc<AtomicBool>,
) {
    let _guard = LiveGuard(Arc::clone(&shared));
    let current = || {
        !stop.load(Ordering::SeqCst)
            && !p.stopping()
            && shared.generation.load(Ordering::SeqCst) == gen
    };
    let mut backoff = Duration::from_millis(50);
    while current() {
        // A throttled function: leave the messages in the queue and try again later.
        if !p.engine.would_admit(&m.function.name) {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
            continue;
        }
        backoff = Duration::from_millis(50);
        let Some(q) = p.sqs.by_arn(&m.row.event_source_arn).await else {
            return;
        };
        let received_from = now_us();
        let batch = match gather(&p, &m, &q).await {
            Ok(b) => b,
            Err(e) => {
                p.record_result(&m.row.uuid, &format!("PROBLEM: {e}")).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        p.metrics.add(&m, Count::Polled, batch.len());
        if batch.is_empty() {
            if shared.live.load(Ordering::SeqCst) > shared.target.load(Ordering::SeqCst) {
                return;
            }
            continue;
        }
        let started = std::time::Instant::now();
        process(&p, &m, &q, batch, (received_from, now_us())).await;
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        shared.slowest_ms.fetch_max(took, Ordering::SeqCst);
        if shared.live.load(Ordering::SeqCst) > shared.target.load(Ordering::SeqCst) {
            return; // scaled down: leave after this batch
        }
    }
}

/// Receives up to BatchSize messages: one long poll for the first, then (with a batching
/// window) more until the window closes or the batch is full; at most 6 MB of event.
async fn gather(
    p: &Pollers,
    m: &Mapping,
    q: &Queue,
) -> Result<Vec<ReceivedMessage>, crate::domain::sqs::SqsError> {
    let size = usize::try_from(m.row.batch_size.max(1)).unwrap_or(10);
    let vt = q.attrs.visibility_timeout;
    let mut got = p.sqs.receive_raw(q, size.min(10), vt, 20_000, None).await?;
    if got.is_empty() {
        return Ok(got);
    }
    let window_ms = m.row.batching_window_s * 1000;
    let deadline = crate::domain::function::now_ms() + window_ms;
    let mut bytes: usize = got.iter().map(|x| x.stored.body.len() + 1024).sum();
    while got.len() < size && bytes < MAX_EVENT_BYTES {
        let left = deadline - crate::domain::function::now_ms();
        if left <= 0 || p.stopping() {
            break;
        }
        let more = p
            .sqs
            .receive_raw(q, (size - got.len()).min(10), vt, left, None)
            .await?;
        bytes += more
            .iter()
            .map(|x| x.stored.body.len() + 1024)
            .sum::<usize>();
        got.extend(more);
    }
    Ok(got)
}

/// Filters, invokes and deletes one batch, received during `received` (µs since the epoch).
async fn process(
    p: &Pollers,
    m: &Mapping,
    q: &Queue,
    mut batch: Vec<ReceivedMessage>,
    received: (i64, i64),
) {
    let me = &p.ctx.identity;
    let arn = &m.row.event_source_arn;
    // Over 6 MB: hand the tail back to the queue at once.
    let mut records: Vec<serde_json::Value> = batch.iter().map(|x| record(x, arn, me)).collect();
    let mut released = Vec::new();
    while records.len() > 1
        && serde_json::to_vec(&serde_json::json!({ "Records": records })).map_or(0, |v| v.len())
            > MAX_EVENT_BYTES
    {
        records.pop();
        if let Some(x) = batch.pop() {
            released.push((x.receipt_handle, 0));
        }
    }
    if !released.is_empty() {
        let _ = p.sqs.change_visibility(q, released).await;
    }
    // Filters: messages no filter matches are deleted unprocessed, as Lambda does.
    if !m.filters.is_empty() {
        let mut keep_batch = Vec::new();
        let mut keep_records = Vec::new();
        let mut dropped = Vec::new();
        for (x, r) in batch.into_iter().zip(records) {
            let view = filter_view(&r);
            if m.filters.iter().any(|f| f.matches(&view)) {
                keep_batch.push(x);
                keep_records.push(r);
            } else {
                dropped.push(x.receipt_handle);
            }
        }
        p.metrics.add(m, Count::FilteredOut, dropped.len());
        if !dropped.is_empty() {
            let _ = p.sqs.delete_messages(q, dropped).await;
        }
        batch = keep_batch;
        records = keep_records;
        if batch.is_empty() {
            return;
        }
    }
    let payload = match serde_json::to_vec(&serde_json::json!({ "Records": records })) {
        Ok(v) => Bytes::from(v),
        Err(_) => return,
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let oldest_sent_ms = batch
        .iter()
        .filter_map(|x| x.system.get("SentTimestamp")?.parse::<i64>().ok())
        .min();
    let request = InvokeRequest {
        request_id: request_id.clone(),
        function: m.function.clone(),
        payload,
        client_context: None,
        want_tail: false,
        // The chain of the first message that carries one (AWSTraceHeader), entered for
        // this function, so that a queue loop is seen as one.
        trace_id: batch
            .iter()
            .find_map(|x| x.system.get("AWSTraceHeader"))
            .and_then(|h| crate::domain::trace::TraceHeader::parse(h))
            .map(|t| t.enter(&m.function.name).render()),
        admission: Admission::Wait,
        // The batch waited in its queue since its oldest message was sent.
        queued: oldest_sent_ms.map(|since_ms| Queued {
            since_ms,
            attempt: 1,
        }),
        stream: None,
    };
    p.metrics.add(m, Count::Invoked, batch.len());
    let invoke_from = now_us();
    let result = p.engine.invoke(request).await;
    let invoke_to = now_us();
    let traced = result
        .as_ref()
        .ok()
        .and_then(|r| Some((r.trace.clone()?, r.executed_version.clone())));
    let outcome = match result {
        Ok(r) if r.function_error => Outcome::Failed("Function call failed".into()),
        Ok(r) if m.report_failures => {
            let ids: HashSet<String> = batch.iter().map(|x| x.stored.message_id.clone()).collect();
            partial(&r.payload, &ids)
        }
        Ok(_) => Outcome::AllDone,
        Err(e) => {
            p.metrics.add(m, Count::FailedInvoke, batch.len());
            p.record_result(&m.row.uuid, &format!("PROBLEM: {e}")).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            return;
        }
    };
    let failed = match &outcome {
        Outcome::AllDone => 0,
        Outcome::Partial(failed) => batch
            .iter()
            .filter(|x| failed.contains(&x.stored.message_id))
            .count(),
        Outcome::Failed(_) => batch.len(),
    };
    p.metrics.add(m, Count::FailedInvoke, failed);
    let batch_error = match &outcome {
        Outcome::AllDone => None,
        Outcome::Partial(_) => Some("PartialBatchFailure".to_string()),
        Outcome::Failed(_) => Some("FunctionError".to_string()),
    };
    let done: Vec<String> = match &outcome {
        Outcome::AllDone => batch.iter().map(|x| x.receipt_handle.clone()).collect(),
        Outcome::Partial(failed) => batch
            .iter()
            .filter(|x| !failed.contains(&x.stored.message_id))
            .map(|x| x.receipt_handle.clone())
            .collect(),
        Outcome::Failed(_) => Vec::new(),
    };
    let delete_from = now_us();
    let mut delete_error = None;
    let deleting = !done.is_empty();
    if deleting {
        match p.sqs.delete_messages(q, done).await {
            Ok(each) => {
                let deleted = each.iter().filter(|r| r.is_ok()).count();
                p.metrics.add(m, Count::Deleted, deleted);
                if deleted < each.len() {
                    delete_error = Some("DeleteFailed".to_string());
                }
            }
            Err(e) => {
                delete_error = Some("DeleteFailed".to_string());
                tracing::warn!(mapping = %m.row.uuid, error = %e, "cannot delete processed messages; they will be delivered again");
            }
        }
    }
    if let Some((trace, version)) = traced {
        let owner = Owner {
            function: &m.function.name,
            version: &version,
            request_id: &request_id,
        };
        // The receive began with the long poll; it counts from when the first message was
        // there to be received.
        let receive_from = oldest_sent_ms.map_or(received.0, |ms| received.0.max(ms * 1000));
        let mut spans = vec![
            trace.child(owner, "Receive", (receive_from, received.1), None),
            trace.child(owner, "BatchInvoke", (invoke_from, invoke_to), batch_error),
        ];
        if deleting {
            spans.push(trace.child(owner, "Delete", (delete_from, now_us()), delete_error));
        }
        p.engine.record_spans(spans);
    }
    let result = match outcome {
        Outcome::Failed(why) => format!("PROBLEM: {why}"),
        _ => "OK".to_string(),
    };
    p.record_result(&m.row.uuid, &result).await;
}

#[cfg(test)]
mod tests {
    use super::next_target;

    #[test]
    fn starts_at_five_and_grows_five_per_second_while_batches_are_fast() {
        assert_eq!(next_target(1, 1000, 141, 0, 30_000), 5);
        assert_eq!(next_target(5, 1000, 141, 50, 30_000), 7);
        assert_eq!(next_target(140, 1000, 141, 50, 30_000), 141);
        assert_eq!(
            next_target(5, 2, 141, 50, 30_000),
            2,
            "never more than the depth needs"
        );
        assert_eq!(
            next_target(5, 1000, 3, 50, 30_000),
            3,
            "never more than the cap"
        );
    }

    #[test]
    fn holds_when_batches_slow_down_and_halves_near_the_visibility_timeout() {
        assert_eq!(next_target(20, 1000, 141, 4_000, 10_000), 20);
        assert_eq!(next_target(20, 1000, 141, 6_000, 10_000), 10);
        assert_eq!(next_target(1, 1000, 141, 60_000, 10_000), 1);
    }
}
