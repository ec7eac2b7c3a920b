//! The queue's group-commit writer: one thread that owns the only write connection of the
//! queue database. It takes every job waiting at the moment it is free (up to
//! [`MAX_BATCH_OPS`] operations or [`MAX_BATCH_BYTES`] of payload), applies them in one
//! transaction with one fsync, and only then acknowledges each job and tells the dispatcher
//! about the events just inserted. So a 202 means committed, and concurrent enqueues share
//! a commit instead of waiting for one each.
//!
//! Ordering rule: acknowledgements and the dispatcher's notice are sent after the commit,
//! never before. A failed batch is retried one job per transaction, so one bad job cannot
//! fail the others.

use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::domain::Error;
use crate::store::async_events::{self, NewEvent, Op, OpResult, QueuedEvent};
use crate::store::Connection;

/// Most operations one transaction takes.
pub const MAX_BATCH_OPS: usize = 2048;
/// Most payload bytes one transaction takes (a single larger job still goes alone).
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

type Ack = oneshot::Sender<Result<Vec<OpResult>, Error>>;

enum Job {
    Write { ops: Vec<Op>, ack: Option<Ack> },
    Stop,
}

/// Where committed inserts are announced (the dispatcher).
pub type OnCommit = Box<dyn Fn(Vec<QueuedEvent>) + Send>;

/// Handle of the writer thread.
pub struct Writer {
    tx: Mutex<mpsc::Sender<Job>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the thread on `conn`.
    pub fn start(conn: Connection, on_commit: OnCommit) -> Result<Writer, Error> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("async-queue-writer".into())
            .spawn(move || run(conn, rx, on_commit))
            .map_err(|e| Error::Service(format!("cannot start the queue writer: {e}")))?;
        Ok(Writer {
            tx: Mutex::new(tx),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn send(&self, job: Job) -> bool {
        match self.tx.lock() {
            Ok(tx) => tx.send(job).is_ok(),
            Err(_) => false,
        }
    }

    /// Applies `ops` and waits until they are committed.
    pub async fn write(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, Error> {
        let (ack, done) = oneshot::channel();
        if !self.send(Job::Write {
            ops,
            ack: Some(ack),
        }) {
            return Err(stopped());
        }
        done.await.map_err(|_| stopped())?
    }

    /// Applies `ops` without waiting (counters, bookkeeping whose loss a crash may cost).
    pub fn write_later(&self, ops: Vec<Op>) {
        let _ = self.send(Job::Write { ops, ack: None });
    }

    /// Commits everything sent so far, then stops the thread.
    pub fn stop(&self) {
        self.send(Job::Stop);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn stopped() -> Error {
    Error::Service(
        "the asynchronous invocation queue is shutting down; retry against the restarted daemon."
            .into(),
    )
}

fn payload_bytes(ops: &[Op]) -> usize {
    ops.iter()
        .map(|o| match o {
            Op::Insert(e) => e.payload.len(),
            _ => 0,
        })
        .sum()
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>, on_commit: OnCommit) {
    let mut stopping = false;
    while !stopping {
        let Ok(first) = rx.recv() else { return };
        let mut jobs: Vec<(Vec<Op>, Option<Ack>)> = Vec::new();
        let (mut n_ops, mut n_bytes) = (0usize, 0usize);
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Stop => stopping = true,
                Job::Write { ops, ack } => {
                    n_ops += ops.len();
                    n_bytes += payload_bytes(&ops);
                    jobs.push((ops, ack));
                }
            }
            if stopping || n_ops >= MAX_BATCH_OPS || n_bytes >= MAX_BATCH_BYTES {
                break;
            }
            next = rx.try_recv().ok();
        }
        if stopping {
            // Whatever was sent before the stop is committed too.
            while let Ok(Job::Write { ops, ack }) = rx.try_recv() {
                jobs.push((ops, ack));
            }
        }
        if !jobs.is_empty() {
            commit(&mut conn, jobs, &on_commit);
        }
    }
}

fn commit(conn: &mut Connection, jobs: Vec<(Vec<Op>, Option<Ack>)>, on_commit: &OnCommit) {
    let all: Vec<Op> = jobs
        .iter()
        .flat_map(|(ops, _)| ops.iter().cloned())
        .collect();
    match async_events::write_batch(conn, &all) {
        Ok(results) => {
            let mut results = results.into_iter();
            let mut fresh = Vec::new();
            for (ops, ack) in jobs {
                let mine: Vec<OpResult> = results.by_ref().take(ops.len()).collect();
                collect_fresh(&ops, &mine, &mut fresh);
                if let Some(a) = ack {
                    let _ = a.send(Ok(mine));
                }
            }
            if !fresh.is_empty() {
                on_commit(fresh);
            }
        }
        Err(e) if jobs.len() > 1 => {
            tracing::warn!(error = %e, jobs = jobs.len(), "queue batch failed; committing its jobs one by one");
            for job in jobs {
                commit(conn, vec![job], on_commit);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot write to the asynchronous invocation queue");
            for (_, ack) in jobs {
                if let Some(a) = ack {
                    let _ = a.send(Err(Error::Service(
                        "lambdabox could not store the event in its queue; nothing was accepted. Retry later.".into(),
                    )));
                }
            }
        }
    }
}

fn collect_fresh(ops: &[Op], results: &[OpResult], out: &mut Vec<QueuedEvent>) {
    for (op, r) in ops.iter().zip(results) {
        if let (Op::Insert(e), OpResult::Inserted(id)) = (op, r) {
            out.push(queued(*id, e));
        }
    }
}

fn queued(id: i64, e: &NewEvent) -> QueuedEvent {
    QueuedEvent {
        id,
        request_id: e.request_id.clone(),
        function_name: e.function_name.clone(),
        qualifier: e.qualifier.clone(),
        payload: e.payload.clone(),
        received_ms: e.received_ms,
        due_ms: e.received_ms,
        attempts: 0,
        backoffs: 0,
        source: e.source.clone(),
        source_arn: e.source_arn.clone(),
        trace: e.trace.clone(),
        last_response: None,
    }
}
