//! The SQLite store: one database file in WAL mode, a small connection pool, embedded
//! migrations, and the typed queries every service uses.
//!
//! Rules: every SQLite call runs on a blocking thread (`Store::call`), never on the async
//! executor; every write runs in an IMMEDIATE transaction and is durable (synchronous=FULL)
//! before the caller can answer success. No HTTP or sandbox code here.

pub mod aliases;
pub mod async_events;
pub mod blobs;
pub mod capacity_metrics;
pub mod concurrency;
pub mod esm;
pub mod event_invoke;
pub mod function_metrics;
pub mod function_urls;
pub mod functions;
pub mod http_apis;
pub mod iam;
pub mod key_owners;
pub mod keys;
pub mod layer_policies;
pub mod layers;
pub mod logs;
pub mod logs_query;
pub mod metrics;
mod migrate;
pub mod policies;
mod pool;
pub mod queues;
pub mod rules;
pub mod s3;
pub mod schedules;
pub mod secret_env;
pub mod testevents;
pub mod traces;
pub mod usage;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use migrate::SCHEMA_VERSION;
use pool::Pool;
pub use rusqlite::Connection;

use crate::domain;

/// A failure in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {0}: {1}")]
    Open(PathBuf, rusqlite::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the database {path} was written by a newer lambdabox (schema {found}; this build knows up to {known}). \
         Upgrade lambdabox, or restore a backup made with this version."
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database worker failed: {0}")]
    Worker(String),
    /// No pooled connection came free in time (every one is held by a slow call).
    #[error("no database connection came free within {0:?}")]
    Busy(std::time::Duration),
    /// A business rule checked inside a transaction failed.
    #[error(transparent)]
    Domain(#[from] domain::Error),
}

impl From<StoreError> for domain::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d,
            StoreError::Busy(waited) => {
                tracing::error!(?waited, "store busy: no connection came free");
                domain::Error::Unavailable("The lambdabox store is busy; retry the request.".into())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                domain::Error::Service("An internal error occurred in the lambdabox store.".into())
            }
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Arc<Pool>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut first = pool::connect(path)?;
        migrate::apply(&mut first, path)?;
        let pool = Pool::new(path.to_path_buf(), first, 4)?;
        Ok(Store {
            pool: Arc::new(pool),
        })
    }

    /// Opens (creating if needed) a database with its own migration list and `size`
    /// connections: the asynchronous invocation queue's file.
    pub fn open_with(
        path: &Path,
        migrations: &[(i64, &str)],
        size: usize,
    ) -> Result<Store, StoreError> {
        let mut first = pool::connect(path)?;
        migrate::apply_list(&mut first, path, migrations)?;
        let pool = Pool::new(path.to_path_buf(), first, size.max(1))?;
        Ok(Store {
            pool: Arc::new(pool),
        })
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// Runs `f` with a pooled connection on the current thread (for CLI commands and tests).
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError>,
    {
        self.pool.with(f)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        self.pool.path()
    }
}

/// Starts an IMMEDIATE transaction (takes the write lock up front, so it never has to be
/// upgraded and cannot deadlock with another writer).
pub fn write_tx(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}
