//! Embedded, numbered SQL migrations (`migrations/NNNN_*.sql`), tracked with
//! `PRAGMA user_version`. Each migration runs in its own transaction; a database whose
//! version is newer than this build knows is refused, never touched.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_layers.sql")),
    (3, include_str!("../../migrations/0003_dashboard.sql")),
    (4, include_str!("../../migrations/0004_concurrency.sql")),
    (5, include_str!("../../migrations/0005_async_config.sql")),
    (
        6,
        include_str!("../../migrations/0006_event_source_mappings.sql"),
    ),
    (7, include_str!("../../migrations/0007_scheduler.sql")),
    (8, include_str!("../../migrations/0008_function_urls.sql")),
    (9, include_str!("../../migrations/0009_http_apis.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 9;

/// Migrations of the asynchronous invocation queue's own database file.
pub const QUEUE_MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../../migrations/queue/0001_events.sql"))];

/// Brings the main database up to [`SCHEMA_VERSION`].
pub fn apply(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    apply_list(conn, path, MIGRATIONS)
}

/// Brings a database up to the last version of `migrations` (numbered from 1, in order).
pub fn apply_list(
    conn: &mut Connection,
    path: &Path,
    migrations: &[(i64, &str)],
) -> Result<(), StoreError> {
    let known = migrations.last().map_or(0, |(v, _)| *v);
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > known {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    for (version, sql) in migrations {
        if *version <= current {
            continue;
        }
        let tx = super::write_tx(conn)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, db = %path.display(), "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut c = Connection::open(&path).unwrap();
        apply(&mut c, &path).unwrap();
        apply(&mut c, &path).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = apply(&mut c, &path).unwrap_err();
        assert!(err.to_string().contains("newer lambdabox"), "{err}");
    }
}
