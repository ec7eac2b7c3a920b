//! A fixed-size pool of SQLite connections with the pragmas every connection needs.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

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

/// Connections are handed out one caller at a time; callers wait when all are busy.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    available: Condvar,
}

impl Pool {
    pub fn new(path: PathBuf, first: Connection, size: usize) -> Result<Pool, StoreError> {
        let mut conns = vec![first];
        for _ in 1..size {
            conns.push(connect(&path)?);
        }
        Ok(Pool {
            path,
            idle: Mutex::new(conns),
            available: Condvar::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Borrows a connection for `f` and returns it afterwards, even if `f` fails.
    pub fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError>,
    {
        let mut conn = {
            let mut idle = self
                .idle
                .lock()
                .map_err(|_| StoreError::Worker("connection pool poisoned".into()))?;
            loop {
                if let Some(c) = idle.pop() {
                    break c;
                }
                idle = self
                    .available
                    .wait(idle)
                    .map_err(|_| StoreError::Worker("connection pool poisoned".into()))?;
            }
        };
        let result = f(&mut conn);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
            self.available.notify_one();
        }
        result
    }
}
