//! Asynchronous invocation: the durable event queue behind `InvocationType: Event` and every
//! trigger (schedules, bucket notifications, topics, event buses), its retries, maximum
//! event age, destinations, dead-letter queues and recursive loop detection.
//!
//! Path of one event:
//! 1. [`AsyncInvoke::enqueue`] checks the payload size and that the function and qualifier
//!    exist, then hands the event to the group-commit [`writer`]; it returns only after the
//!    transaction holding the event is committed (the API then answers 202).
//! 2. The writer tells the [`dispatcher`] about the committed event; when a slot is free
//!    (`async_invoke.max_concurrency`, lanes per function and qualifier served in turn) the
//!    dispatcher starts an [`attempt`], which runs the function through the engine with the
//!    event's request id and the chain's trace header.
//! 3. The attempt decides ([`policy`]) to finish (OnSuccess destination), to give up
//!    (OnFailure destination and/or dead-letter queue) or to run again later (retry after a
//!    function error, back-off after a throttle or platform failure); the queue database is
//!    updated through the writer before the dispatcher may load the event again.
//!
//! Crash safety: an event's row is deleted only after its destinations have durably stored
//! what they receive. A `kill -9` loses no accepted event; an event that was running runs
//! again after the restart (at-least-once, as on AWS); a finished one is not repeated.
//!
//! Must not touch SQL strings (they are in `store::async_events`) or the sandbox.

mod attempt;
mod dispatcher;
mod lambda_destination;
pub mod policy;
pub mod record;
mod settings;
mod writer;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::MAX_ASYNC_PAYLOAD;
use crate::domain::function::now_ms;
use crate::domain::trace::TraceHeader;
use crate::domain::Error;
use crate::engine::Engine;
use crate::services::Context;
use crate::store::async_events::{self, LaneSummary, NewEvent, Op, OpResult};
use crate::store::Store;

/// Where an event came from: recorded with it for tracing, the dashboard and recursive loop
/// detection.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// What produced it: `api` (Invoke, InvokeAsync), `lambda:destination`, or the AWS
    /// source name of a trigger (`aws:sns`, `aws:s3`, `aws:events`, `aws:scheduler`, …).
    pub source: String,
    /// ARN of the producing resource (topic, bucket, rule, schedule, source function).
    pub source_arn: Option<String>,
    /// The trace header of the invocation that caused the event, when one did: the
    /// `X-Amzn-Trace-Id` a caller's SDK sent from inside a function, a message's
    /// `AWSTraceHeader`, or [`crate::services::destinations::Delivery::trace_header`].
    /// It carries the chain's `Lineage`; None starts a new chain.
    pub trace_header: Option<String>,
}

impl Provenance {
    /// An event accepted by the Invoke API.
    pub fn api(trace_header: Option<String>) -> Provenance {
        Provenance {
            source: "api".into(),
            source_arn: None,
            trace_header,
        }
    }
}

/// One event to queue.
#[derive(Debug, Clone)]
pub struct AsyncEvent {
    pub function: FunctionRef,
    /// The event JSON the function receives (at most 1 MB).
    pub payload: Bytes,
    /// The request id every attempt of this event runs with.
    pub request_id: String,
    pub provenance: Provenance,
}

/// An accepted (committed) event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub request_id: String,
    /// Its row in the queue.
    pub id: i64,
}

/// Pending events of one function and qualifier, for `lambdabox queue` and the dashboard.
pub type Lane = LaneSummary;

struct Shared {
    ctx: Context,
    engine: Engine,
    writer: writer::Writer,
    reads: Store,
    dispatch: mpsc::UnboundedSender<dispatcher::Msg>,
    settings: settings::Settings,
    timing: policy::Timing,
    rt: tokio::runtime::Handle,
    running: AtomicUsize,
}

/// Handle of the queue; cheap to clone.
#[derive(Clone)]
pub struct AsyncInvoke {
    shared: Arc<Shared>,
}

impl AsyncInvoke {
    /// Opens `<data>/async-queue.db`, starts the writer thread and the dispatcher (on `rt`),
    /// and registers Lambda functions as a destination kind.
    pub fn start(
        ctx: Context,
        engine: Engine,
        rt: tokio::runtime::Handle,
    ) -> Result<AsyncInvoke, Error> {
        let path = ctx.config.data_dir.join(async_events::FILE);
        let reads = async_events::open(&path)?;
        let conn = async_events::open_writer(&path)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let notify = tx.clone();
        let writer = writer::Writer::start(
            conn,
            Box::new(move |fresh| {
                let _ = notify.send(dispatcher::Msg::Fresh(fresh));
            }),
        )?;
        let shared = Arc::new(Shared {
            settings: settings::Settings::new(ctx.clone()),
            timing: policy::Timing::from(&ctx.config.async_invoke),
            ctx,
            engine,
            writer,
            reads,
            dispatch: tx,
            rt: rt.clone(),
            running: AtomicUsize::new(0),
        });
        rt.spawn(dispatcher::run(Arc::clone(&shared), rx));
        shared
            .ctx
            .destinations
            .register(Arc::new(lambda_destination::LambdaDestination::new(
                Arc::downgrade(&shared),
            )));
        Ok(AsyncInvoke { shared })
    }

    /// Queues one event; returns once it is committed. Errors: `RequestTooLarge` over 1 MB,
    /// `ResourceNotFound` for an unknown function or qualifier, `Service` when the queue
    /// cannot store it (nothing accepted).
    pub async fn enqueue(&self, ev: AsyncEvent) -> Result<Accepted, Error> {
        enqueue(&self.shared, ev).await
    }

    /// Every function and qualifier with pending events.
    pub async fn lanes(&self) -> Result<Vec<Lane>, Error> {
        Ok(self.shared.reads.call(|c| async_events::lanes(c)).await?)
    }

    /// Counters (function, name, value), of one function or all.
    pub async fn counters(
        &self,
        function: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>, Error> {
        let f = function.map(str::to_string);
        Ok(self
            .shared
            .reads
            .call(move |c| async_events::counters(c, f.as_deref()))
            .await?)
    }

    /// Attempts running now.
    pub fn running(&self) -> usize {
        self.shared.running.load(Ordering::Relaxed)
    }

    /// Stops starting attempts, waits (at most `wait`) for the running ones, then commits
    /// what is left to write and stops the writer. Unfinished events stay queued.
    pub async fn shutdown(&self, wait: std::time::Duration) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self
            .shared
            .dispatch
            .send(dispatcher::Msg::Shutdown(tx))
            .is_ok()
        {
            let _ = tokio::time::timeout(wait, rx).await;
        }
        let shared = Arc::clone(&self.shared);
        let _ = tokio::task::spawn_blocking(move || shared.writer.stop()).await;
    }
}

async fn enqueue(shared: &Shared, ev: AsyncEvent) -> Result<Accepted, Error> {
    if ev.payload.len() > MAX_ASYNC_PAYLOAD {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )));
    }
    // 404 before accepting: the function and its qualifier must exist.
    crate::services::functions::resolve_for_invoke(&shared.ctx, &ev.function).await?;
    let now = now_ms();
    let trace = ev
        .provenance
        .trace_header
        .as_deref()
        .and_then(TraceHeader::parse)
        .unwrap_or_else(|| TraceHeader::new_root(now / 1000));
    let name = ev.function.name.clone();
    let new = NewEvent {
        request_id: ev.request_id.clone(),
        function_name: name.clone(),
        qualifier: ev.function.qualifier.clone().unwrap_or_default(),
        payload: ev.payload,
        received_ms: now,
        source: ev.provenance.source,
        source_arn: ev.provenance.source_arn,
        trace: trace.canonical(),
    };
    let results = shared
        .writer
        .write(vec![Op::Insert(new), counter(&name, "received")])
        .await?;
    match results.first() {
        Some(OpResult::Inserted(id)) => {
            shared.engine.metrics().async_received(&name);
            Ok(Accepted {
                request_id: ev.request_id,
                id: *id,
            })
        }
        _ => Err(Error::Service(
            "the queue did not report the stored event".into(),
        )),
    }
}

/// An increment of one of a function's counters.
fn counter(function: &str, name: &str) -> Op {
    Op::Count {
        function_name: function.to_string(),
        name: name.to_string(),
        delta: 1,
    }
}
