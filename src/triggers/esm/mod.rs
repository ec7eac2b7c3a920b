//! Event source mapping pollers: SQS queues → functions, as Lambda polls them.
//!
//! One supervisor task reads the mappings (at start, when the API changes one, and every
//! 5 s), moves each through its states (Creating/Enabling/Updating → Enabled or Disabled,
//! Disabling → Disabled) and keeps one mapping task per mapping. A mapping task scales its
//! workers with the queue's depth (one batch per worker; at least one, at most the mapping's
//! MaximumConcurrency, the function's reserved concurrency and the account limit). A worker:
//! waits until the function could be admitted (a throttled function slows its pollers and
//! its messages stay in the queue), long-polls a batch (up to BatchSize, gathering for
//! MaximumBatchingWindowInSeconds, at most 6 MB), deletes the messages no filter matches,
//! invokes the function with `Admission::Wait`, and deletes what succeeded: all of the batch,
//! or with ReportBatchItemFailures all but the reported failures. Failed messages come back
//! after the queue's visibility timeout and reach the dead-letter queue by its redrive
//! policy; a FIFO group stays locked while its failed message is in flight.
//!
//! Ordering rule: messages are deleted only after the invocation's answer; nothing is
//! deleted for an error, so a crash at any point redelivers (at-least-once).

mod event;
pub mod metrics;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::engine::Engine;
use crate::services::event_source_mappings::Mapping;
use crate::services::sqs::Queues;
use crate::services::Context;
use crate::store::esm;

pub use event::{partial, Outcome};

struct Handle {
    config: watch::Sender<Arc<Mapping>>,
    last_modified_ms: i64,
    stop: Arc<AtomicBool>,
}

/// The pollers of every mapping.
pub struct Pollers {
    ctx: Context,
    engine: Engine,
    sqs: Arc<Queues>,
    rt: tokio::runtime::Handle,
    wake: Notify,
    tasks: Mutex<HashMap<String, Handle>>,
    stopping: Arc<AtomicBool>,
    /// LastProcessingResult last written, per mapping (written again only when it changes).
    results: Mutex<HashMap<String, String>>,
    /// The mappings' event counts (`metrics`).
    metrics: metrics::Recorder,
}

impl Pollers {
    /// Starts the supervisor on `rt`.
    pub fn start(
        ctx: Context,
        engine: Engine,
        sqs: Arc<Queues>,
        rt: tokio::runtime::Handle,
    ) -> Arc<Pollers> {
        let p = Arc::new(Pollers {
            ctx,
            engine,
            sqs,
            rt: rt.clone(),
            wake: Notify::new(),
            tasks: Mutex::new(HashMap::new()),
            stopping: Arc::new(AtomicBool::new(false)),
            results: Mutex::new(HashMap::new()),
            metrics: metrics::Recorder::default(),
        });
        rt.spawn(supervise(Arc::clone(&p)));
        rt.spawn(metrics::flusher(Arc::downgrade(&p)));
        p
    }

    /// Every mapping's event counts since start, by UUID (`GET /metrics`).
    pub fn metric_totals(&self) -> Vec<(String, metrics::Total)> {
        self.metrics.totals()
    }

    /// Writes the event counts recorded so far (shutdown).
    pub async fn flush_metrics(&self) {
        metrics::flush(self).await;
    }

    /// A mapping was created, updated or deleted: re-read them now.
    pub fn changed(&self) {
        self.wake.notify_one();
    }

    /// Stops every poller (each finishes the batch it is running).
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Ok(t) = self.tasks.lock() {
            for h in t.values() {
                h.stop.store(true, Ordering::SeqCst);
            }
        }
        self.wake.notify_one();
    }

    /// Workers of a mapping running now (dashboard, tests).
    pub fn is_polling(&self, uuid: &str) -> bool {
        self.tasks
            .lock()
            .map(|t| t.contains_key(uuid))
            .unwrap_or(false)
    }

    async fn record_result(&self, uuid: &str, result: &str) {
        {
            let Ok(mut r) = self.results.lock() else {
                return;
            };
            if r.get(uuid).map(String::as_str) == Some(result) {
                return;
            }
            r.insert(uuid.to_string(), result.to_string());
        }
        let (u, res) = (uuid.to_string(), result.to_string());
        if let Err(e) = self
            .ctx
            .store
            .call(move |c| esm::set_last_result(c, &u, &res))
            .await
        {
            tracing::warn!(mapping = uuid, error = %e, "cannot record LastProcessingResult");
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

async fn supervise(p: Arc<Pollers>) {
    loop {
        if p.stopping() {
            return;
        }
        match p.ctx.store.call(|c| esm::all(c)).await {
            Ok(rows) => sync(&p, rows).await,
            Err(e) => tracing::warn!(error = %e, "cannot read event source mappings"),
        }
        tokio::select! {
            _ = p.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

async fn sync(p: &Arc<Pollers>, rows: Vec<esm::EsmRow>) {
    let mut transitions = Vec::new();
    {
        let Ok(mut tasks) = p.tasks.lock() else {
            return;
        };
        let live: std::collections::HashSet<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        tasks.retain(|uuid, h| {
            let keep = live.contains(uuid);
            if !keep {
                h.stop.store(true, Ordering::SeqCst);
            }
            keep
        });
        for row in rows {
            let to = match (row.state.as_str(), row.enabled) {
                ("Creating" | "Enabling" | "Updating", true) => Some("Enabled"),
                ("Creating" | "Updating" | "Disabling", false) => Some("Disabled"),
                _ => None,
            };
            if let Some(to) = to {
                transitions.push((row.uuid.clone(), row.state.clone(), to));
            }
            let uuid = row.uuid.clone();
            let modified = row.last_modified_ms;
            let mapping = Arc::new(Mapping::from_row(row));
            match tasks.get_mut(&uuid) {
                Some(h) if h.last_modified_ms == modified => {}
                Some(h) => {
                    h.last_modified_ms = modified;
                    let _ = h.config.send(mapping);
                }
                None => {
                    let (tx, rx) = watch::channel(mapping);
                    let stop = Arc::new(AtomicBool::new(false));
                    p.rt.spawn(worker::run_mapping(Arc::clone(p), rx, Arc::clone(&stop)));
                    tasks.insert(
                        uuid,
                        Handle {
                            config: tx,
                            last_modified_ms: modified,
                            stop,
                        },
                    );
                }
            }
        }
    }
    for (uuid, from, to) in transitions {
        let u = uuid.clone();
        let f = from.clone();
        if let Err(e) = p
            .ctx
            .store
            .call(move |c| esm::set_state(c, &u, &f, to, "USER_INITIATED"))
            .await
        {
            tracing::warn!(mapping = %uuid, error = %e, "cannot record the mapping's state");
        }
    }
}
