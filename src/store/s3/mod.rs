//! The object store's metadata, in its own database file (`<data>/s3.db`, schema in
//! `migrations/s3/`): buckets with their notification configuration (`buckets`), objects
//! (`objects`), multipart uploads and their parts (`uploads`), the bytes each bucket holds against its
//! quota (`quota`); and the object bytes as files
//! under `<data>/s3/` (`files`).
//!
//! Ordering rule of every write: the bytes are written to a temporary file, fsynced and
//! renamed into `objects/` first; only then is the row committed (one IMMEDIATE transaction,
//! `synchronous=FULL`); a file the row no longer names is removed after the commit. A crash
//! therefore leaves at worst an unreferenced file, which [`files::Files::sweep`] removes at
//! the next start. Why a file of its own: object writes must not wait behind the main
//! database's write lock (package blobs, the log writer), and the reverse.

pub mod buckets;
pub mod files;
pub mod objects;
pub mod quota;
pub mod uploads;

use std::path::Path;

use super::{Store, StoreError};
use crate::domain::s3::S3Error;

/// File name of the object store's database inside the data directory.
pub const FILE: &str = "s3.db";

/// Migrations of the object store's database.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/s3/0001_buckets.sql")),
    (
        2,
        include_str!("../../../migrations/s3/0002_bucket_bytes.sql"),
    ),
];

/// Opens (creating and migrating) `<data_dir>/s3.db`.
pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
    Store::open_with(&data_dir.join(FILE), MIGRATIONS, 4)
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> S3Error {
        match e {
            StoreError::Busy(_) => {
                S3Error::new("SlowDown", 503, "Please reduce your request rate.")
            }
            other => {
                tracing::error!(error = %other, "object store database failed");
                S3Error::internal("We encountered an internal error. Please try again.")
            }
        }
    }
}

impl From<rusqlite::Error> for S3Error {
    fn from(e: rusqlite::Error) -> S3Error {
        S3Error::from(StoreError::Sqlite(e))
    }
}

/// Starts an IMMEDIATE transaction.
pub fn tx(c: &mut rusqlite::Connection) -> Result<rusqlite::Transaction<'_>, S3Error> {
    Ok(super::write_tx(c)?)
}
