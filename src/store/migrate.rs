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
    (10, include_str!("../../migrations/0010_logging_config.sql")),
    (12, include_str!("../../migrations/0012_iam.sql")),
    (13, include_str!("../../migrations/0013_user_roles.sql")),
    (
        14,
        include_str!("../../migrations/0014_layer_version_policies.sql"),
    ),
    (15, include_str!("../../migrations/0015_esm_metrics.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 15;

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

    #[test]
    fn logging_config_migration_normalizes_old_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut c = Connection::open(&path).unwrap();
        apply_list(&mut c, &path, &MIGRATIONS[..9]).unwrap();
        c.execute_batch(
            "INSERT INTO blobs (sha256, size, data, created_ms) VALUES ('aa', 1, x'00', 0);
             INSERT INTO functions (id, name, created_ms) VALUES (1, 'f', 0), (2, 'g', 0);
             INSERT INTO function_versions (function_id, version, version_num, config, code_sha256, code_size, revision_id, last_modified_ms) VALUES
               (1, '$LATEST', 0, '{\"logging\":{\"log_format\":\"Text\",\"application_log_level\":\"DEBUG\"}}', 'aa', 1, 'r', 0),
               (2, '$LATEST', 0, '{\"logging\":{\"log_format\":\"JSON\"},\"tracing_mode\":\"\"}', 'aa', 1, 'r', 0);",
        )
        .unwrap();
        apply(&mut c, &path).unwrap();
        let config = |id: i64| -> crate::domain::function::FunctionConfig {
            let s: String = c
                .query_row(
                    "SELECT config FROM function_versions WHERE function_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            serde_json::from_str(&s).unwrap()
        };
        let f = config(1);
        assert_eq!(f.logging.application_log_level, None);
        let g = config(2);
        assert_eq!(g.logging.application_log_level.as_deref(), Some("INFO"));
        assert_eq!(g.logging.system_log_level.as_deref(), Some("INFO"));
        assert_eq!(g.tracing_mode, "PassThrough");
    }
}
