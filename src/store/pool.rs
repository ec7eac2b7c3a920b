//! A fixed-size pool of SQLite connections with the pragmas every connection needs.
//!
//! Two promises keep the pool alive under faults: a panic inside a pooled call never loses
//! the connection for good (the pool drops the possibly half-used connection, so SQLite rolls
//! back any open transaction, and opens a fresh one in its place), and a caller never waits
//! forever for a connection (after [`ACQUIRE_TIMEOUT`] it gets [`StoreError::Busy`], which
//! the API answers with a 503 `ServiceException`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::StoreError;

/// How long a caller waits for a free connection before it is told the store is busy.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);

/// Opens one connection with WAL (size-limited), foreign keys, a busy timeout and full
/// durability.
pub fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError::Open(path.to_path_buf(), e))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // After a checkpoint resets the WAL, SQLite truncates it to this size (64 MiB) instead
    // of keeping its largest size forever.
    conn.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
    Ok(conn)
}

/// The connections not in use, and how many were lost (a failed reopen) and must be opened
/// again on demand.
struct Slots {
    idle: Vec<Connection>,
    missing: usize,
}

/// Connections are handed out one caller at a time; callers wait when all are busy.
pub struct Pool {
    path: PathBuf,
    slots: Mutex<Slots>,
    available: Condvar,
    timeout: Duration,
}

/// How a caller got its connection.
enum Lease {
    Idle(Connection),
    /// A lost slot: the caller opens the connection itself (outside the lock).
    Reopen,
}

impl Pool {
    pub fn new(path: PathBuf, first: Connection, size: usize) -> Result<Pool, StoreError> {
        Pool::with_timeout(path, first, size, ACQUIRE_TIMEOUT)
    }

    /// A pool whose callers give up after `timeout` (tests use a short one).
    pub fn with_timeout(
        path: PathBuf,
        first: Connection,
        size: usize,
        timeout: Duration,
    ) -> Result<Pool, StoreError> {
        let mut idle = vec![first];
        for _ in 1..size {
            idle.push(connect(&path)?);
        }
        Ok(Pool {
            path,
            slots: Mutex::new(Slots { idle, missing: 0 }),
            available: Condvar::new(),
            timeout,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn poisoned() -> StoreError {
        StoreError::Worker("connection pool poisoned".into())
    }

    fn lease(&self) -> Result<Lease, StoreError> {
        let deadline = Instant::now() + self.timeout;
        let mut slots = self.slots.lock().map_err(|_| Pool::poisoned())?;
        loop {
            if let Some(c) = slots.idle.pop() {
                return Ok(Lease::Idle(c));
            }
            if slots.missing > 0 {
                slots.missing -= 1;
                return Ok(Lease::Reopen);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy(self.timeout));
            }
            slots = self
                .available
                .wait_timeout(slots, left)
                .map_err(|_| Pool::poisoned())?
                .0;
        }
    }

    /// Puts `conn` back, or records a lost slot when there is none.
    fn give_back(&self, conn: Option<Connection>) {
        if let Ok(mut slots) = self.slots.lock() {
            match conn {
                Some(c) => slots.idle.push(c),
                None => slots.missing += 1,
            }
            self.available.notify_one();
        }
    }

    /// Borrows a connection for `f` and returns it afterwards, even if `f` fails or panics.
    pub fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError>,
    {
        let mut conn = match self.lease()? {
            Lease::Idle(c) => c,
            Lease::Reopen => match connect(&self.path) {
                Ok(c) => c,
                Err(e) => {
                    self.give_back(None);
                    return Err(e);
                }
            },
        };
        match catch_unwind(AssertUnwindSafe(|| f(&mut conn))) {
            Ok(result) => {
                self.give_back(Some(conn));
                result
            }
            Err(panic) => {
                let what = panic_message(&panic);
                tracing::error!(panic = %what, "a store call panicked; its connection is replaced");
                // Dropping the connection rolls back whatever transaction it had open.
                drop(conn);
                match connect(&self.path) {
                    Ok(fresh) => self.give_back(Some(fresh)),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot reopen a store connection; will retry");
                        self.give_back(None);
                    }
                }
                Err(StoreError::Worker(format!("a store call panicked: {what}")))
            }
        }
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(dir: &Path, size: usize, timeout: Duration) -> Pool {
        let path = dir.join("p.db");
        let first = connect(&path).unwrap();
        first
            .execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        Pool::with_timeout(path, first, size, timeout).unwrap()
    }

    fn count(p: &Pool) -> i64 {
        p.with(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .unwrap()
    }

    #[test]
    fn a_panic_inside_a_call_keeps_the_pool_whole_and_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = pool(dir.path(), 2, Duration::from_secs(5));
        // more panics than connections: each one must give its slot back
        for i in 0..5 {
            let r: Result<(), StoreError> = p.with(|c| {
                let tx = c.transaction()?;
                tx.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                panic!("boom {i}");
            });
            let err = r.unwrap_err().to_string();
            assert!(err.contains("panicked: boom"), "{err}");
        }
        // the half-done transactions were rolled back, and N more calls all work
        for i in 0..20 {
            p.with(|c| {
                c.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(count(&p), 20);
        assert_eq!(p.slots.lock().unwrap().idle.len(), 2);
    }

    #[test]
    fn concurrent_calls_survive_panics_on_other_threads() {
        let dir = tempfile::tempdir().unwrap();
        let p = std::sync::Arc::new(pool(dir.path(), 2, Duration::from_secs(10)));
        let threads: Vec<_> = (0..8)
            .map(|n| {
                let p = std::sync::Arc::clone(&p);
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let _ = p.with(|c| {
                            if (n + i) % 3 == 0 {
                                panic!("thread {n} round {i}");
                            }
                            c.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                            Ok(())
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let expected = (0..8)
            .flat_map(|n| (0..10).map(move |i| (n + i) % 3 != 0))
            .filter(|ok| *ok)
            .count() as i64;
        assert_eq!(count(&p), expected);
    }

    #[test]
    fn a_caller_gives_up_instead_of_waiting_forever() {
        let dir = tempfile::tempdir().unwrap();
        let p = std::sync::Arc::new(pool(dir.path(), 1, Duration::from_millis(200)));
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let p = std::sync::Arc::clone(&p);
            std::thread::spawn(move || {
                p.with(|_| {
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .unwrap();
            })
        };
        held_rx.recv().unwrap();
        let started = Instant::now();
        let r = p.with(|_| Ok(()));
        assert!(matches!(r, Err(StoreError::Busy(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        release_tx.send(()).unwrap();
        holder.join().unwrap();
        // once the connection is back, calls work again
        assert_eq!(count(&p), 0);
    }

    #[test]
    fn a_lost_slot_is_reopened_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let p = pool(dir.path(), 1, Duration::from_millis(200));
        // simulate a reopen that failed after a panic
        let c = p.slots.lock().unwrap().idle.pop().unwrap();
        drop(c);
        p.give_back(None);
        assert_eq!(count(&p), 0);
        assert_eq!(p.slots.lock().unwrap().idle.len(), 1);
    }
}
