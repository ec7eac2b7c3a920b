//! The queue database's group-commit writer: one thread owns its only write connection. It
//! takes every job waiting when it is free (at most [`MAX_JOBS`]), runs each inside its own
//! savepoint of one `BEGIN IMMEDIATE` transaction, commits once (one fsync for the whole
//! group), and only then answers each job. So an acknowledged SendMessage is on disk, and
//! concurrent producers share commits instead of waiting for one each.
//!
//! Ordering rule: a job's answer is sent after the COMMIT that holds its changes, never
//! before. A job that fails rolls back to its savepoint: only its own changes are undone.

use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// Most jobs one transaction takes.
pub const MAX_JOBS: usize = 256;

type Done = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Done + Send>;

enum Msg {
    Job(Job),
    Stop,
}

/// Handle of the writer thread.
pub struct Writer {
    tx: Mutex<mpsc::Sender<Msg>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the thread on `conn` (which must not be used elsewhere).
    pub fn start(conn: Connection, name: &str) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Worker(format!("cannot start the queue writer: {e}")))?;
        Ok(Writer {
            tx: Mutex::new(tx),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `f` in the next group's transaction and returns its result once committed.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (ack, done) = oneshot::channel();
        let job: Job = Box::new(move |conn: &Connection| -> Done {
            let result = in_savepoint(conn, f);
            Box::new(move |committed: Result<(), String>| {
                let out = match (result, committed) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => Err(StoreError::Worker(e)),
                    (Err(e), _) => Err(e),
                };
                let _ = ack.send(out);
            })
        });
        let sent = self
            .tx
            .lock()
            .map(|tx| tx.send(Msg::Job(job)).is_ok())
            .unwrap_or(false);
        if !sent {
            return Err(stopped());
        }
        done.await.map_err(|_| stopped())?
    }

    /// Commits what was sent so far, then stops the thread.
    pub fn stop(&self) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(Msg::Stop);
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Worker("the queue writer has stopped (lambdabox is shutting down)".into())
}

fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("SAVEPOINT job")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Msg>) {
    let mut stopping = false;
    while !stopping {
        let Ok(first) = rx.recv() else { return };
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Msg::Job(j) => jobs.push(j),
                Msg::Stop => stopping = true,
            }
            if stopping || jobs.len() >= MAX_JOBS {
                break;
            }
            next = rx.try_recv().ok();
        }
        if stopping {
            while let Ok(Msg::Job(j)) = rx.try_recv() {
                jobs.push(j);
            }
        }
        if !jobs.is_empty() {
            commit(&conn, jobs);
        }
    }
}

fn commit(conn: &Connection, jobs: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let why = format!("cannot start a queue transaction: {e}");
        tracing::error!(error = %why, "queue writer");
        for j in jobs {
            // Each job still runs (outside a transaction it would autocommit): answer it
            // with the failure instead, without running it.
            drop(j);
        }
        return;
    }
    let done: Vec<Done> = jobs.into_iter().map(|j| j(conn)).collect();
    let outcome = conn.execute_batch("COMMIT").map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        tracing::error!(error = %e, "queue commit failed; nothing of this group was stored");
        format!("the queue database could not commit: {e}")
    });
    for d in done {
        d(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = crate::store::pool::connect(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .unwrap();
        let w = std::sync::Arc::new(Writer::start(conn, "test-writer").unwrap());
        let mut tasks = Vec::new();
        for i in 0..50i64 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                w.run(move |c| Ok(c.execute("INSERT INTO t (v) VALUES (?1)", [i % 40])?))
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 40, "duplicates fail alone, the others commit");
        w.stop();
        let c = Connection::open(&path).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 40);
        assert!(w.run(|_| Ok(())).await.is_err(), "a stopped writer refuses");
    }
}
