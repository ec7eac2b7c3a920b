//! The SQS service: queues and their messages, shared by the SQS API (both protocols), the
//! dashboard's Queues page and the event source mapping pollers.
//!
//! Writes go through the queue database's group-commit writer, so an answered SendMessage is
//! committed. Queue metadata is cached in memory (only this process writes it) and the cache
//! is updated after each committed queue write. Long polls wait on a per-queue `Notify`,
//! woken after every commit that may make a message available (send, visibility change,
//! FIFO delete, move), or at the next moment a delay or visibility timeout ends: they hold no
//! thread and no database connection while they wait.

mod attributes;
pub mod destination;
pub mod housekeeping;
mod messages;
pub mod moves;
mod queues;
pub mod receipt;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::domain::sqs::attributes::QueueAttributes;
use crate::domain::sqs::SqsError;
use crate::domain::Identity;
use crate::store::queues::{QueueDb, QueueRow};
use crate::store::StoreError;

pub use messages::{
    attributes_from_json, attributes_to_json, check_batch, ReceiveInput, ReceivedMessage,
    SendInput, Sent,
};

/// A queue as the service sees it: its row and its parsed attributes.
#[derive(Debug, Clone)]
pub struct Queue {
    pub row: QueueRow,
    pub attrs: QueueAttributes,
}

impl Queue {
    pub fn name(&self) -> &str {
        &self.row.name
    }
}

/// The queues of this daemon.
pub struct Queues {
    pub me: Identity,
    db: QueueDb,
    cache: Mutex<HashMap<String, Arc<Queue>>>,
    wakers: Mutex<HashMap<i64, Arc<Notify>>>,
    stopping: AtomicBool,
    stop: Notify,
}

impl Queues {
    /// Opens `<data_dir>/sqs.db`.
    pub fn open(me: Identity, data_dir: &std::path::Path) -> Result<Arc<Queues>, SqsError> {
        let db = QueueDb::open(data_dir).map_err(internal)?;
        Ok(Arc::new(Queues {
            me,
            db,
            cache: Mutex::new(HashMap::new()),
            wakers: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
        }))
    }

    /// Ends every long poll at once (the daemon is stopping; they answer with no messages).
    pub fn stop_waiting(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_waiters();
    }

    /// Ends long polls, commits what the writer holds, then stops it.
    pub fn shutdown(&self) {
        self.stop_waiting();
        self.db.writer.stop();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The queue named `name`.
    pub async fn queue(&self, name: &str) -> Result<Arc<Queue>, SqsError> {
        if let Some(q) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return Ok(q);
        }
        let n = name.to_string();
        let row = self
            .db
            .reads
            .call(move |c| crate::store::queues::queue_by_name(c, &n))
            .await
            .map_err(internal)?
            .ok_or_else(SqsError::no_queue)?;
        let q = Arc::new(self.parse(row)?);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), q.clone());
        }
        Ok(q)
    }

    /// The queue a queue URL names.
    pub async fn by_url(&self, url: &str) -> Result<Arc<Queue>, SqsError> {
        let name = crate::domain::sqs::name_from_url(&self.me, url)?;
        self.queue(&name).await
    }

    /// The queue an ARN names, if it exists.
    pub async fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let name = crate::domain::sqs::name_from_arn(&self.me, arn)?;
        self.queue(&name).await.ok()
    }

    fn parse(&self, row: QueueRow) -> Result<Queue, SqsError> {
        let attrs = QueueAttributes::from_json(&self.me, row.fifo, &row.attributes)?;
        Ok(Queue { row, attrs })
    }

    fn forget(&self, name: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(name);
        }
    }

    /// The queue's ARN.
    pub fn arn(&self, name: &str) -> String {
        crate::domain::sqs::queue_arn(&self.me, name)
    }

    fn waker(&self, queue_id: i64) -> Arc<Notify> {
        let mut w = match self.wakers.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        w.entry(queue_id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// Wakes the long polls of a queue (after a commit that may have made messages
    /// available).
    fn wake(&self, queue_id: i64) {
        let w = self
            .wakers
            .lock()
            .ok()
            .and_then(|w| w.get(&queue_id).cloned());
        if let Some(n) = w {
            n.notify_waiters();
        }
    }
}

/// A store failure as SQS reports it (logged; the client sees an internal error).
pub(crate) fn internal(e: StoreError) -> SqsError {
    tracing::error!(error = %e, "queue store failure");
    SqsError::Internal("An internal error occurred in the lambdabox queue store.".into())
}

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    crate::domain::function::now_ms()
}
