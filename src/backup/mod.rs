//! Online backup and restore of a data directory, as one zip archive.
//!
//! What a data directory must keep: the five SQLite databases (functions, versions, aliases,
//! layers and code blobs, schedules, keys in `lambdabox.db`; function logs in `logs.db`; the
//! asynchronous invocation queue in `async-queue.db`; SQS queues and messages in `sqs.db`;
//! buckets and object metadata in `s3.db`), the object files `s3.db` names (`s3`: copied
//! under a hold taken before its snapshot, so they match it) and the generated credentials
//! files. The code cache and the sandbox state are rebuilt,
//! so they are left out.
//!
//! Consistency: each database is copied with `VACUUM INTO` from its own connection, which
//! reads one snapshot (a read transaction in WAL mode) while the daemon keeps writing; every
//! write acknowledged before the backup started is in it. The databases are snapshotted one
//! after another, so a write that spans two files (none does today across `lambdabox.db`
//! and `sqs.db`) could be in one copy and not the other.
//!
//! Ordering rule of `restore`: take the data directory lock (a running daemon holds it) →
//! check the directory is empty (or `--force`) → unpack every file to a temporary name and
//! fsync it → remove the old databases *with their -wal/-shm files* (a stale WAL would be
//! replayed onto the restored file) → rename into place → fsync the directory.

pub mod s3;
pub mod scheduled;

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

/// Name of the manifest entry inside an archive.
pub const MANIFEST: &str = "lambdabox-backup.json";
/// Version of the archive layout (2: object files under `s3/objects/`; 1 is still read).
pub const FORMAT: u32 = 2;
/// The SQLite databases of a data directory, in the order they are copied.
pub const DATABASES: [&str; 5] = [
    "lambdabox.db",
    "sqs.db",
    "async-queue.db",
    "logs.db",
    s3::DB,
];
/// Small files copied as they are.
pub const FILES: [&str; 3] = ["admin-credentials", "aws-config", "dashboard-credentials"];
/// What is rebuilt on start and wiped by a forced restore.
const REBUILT_DIRS: [&str; 2] = ["cache", "sandbox"];

/// A failed backup or restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("cannot copy database {0}: {1}")]
    Sqlite(PathBuf, rusqlite::Error),
    #[error("{0} is not a lambdabox backup: {1}")]
    NotABackup(PathBuf, String),
    #[error(
        "{0} is not empty; restore into an empty directory or pass --force to replace its data"
    )]
    NotEmpty(PathBuf),
    #[error(
        "the backup was made by a newer lambdabox (schema {found}; this build knows up to {known}); restore it with that version"
    )]
    Newer { found: i64, known: i64 },
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
}

/// The archive's table of contents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// lambdabox version that wrote the archive.
    pub version: String,
    /// Milliseconds since the epoch when the backup started.
    pub created_ms: i64,
    /// `user_version` of `lambdabox.db` in the archive.
    pub schema_version: i64,
    /// Entry names, each a file of the data directory.
    pub files: Vec<String>,
    /// Object files in the archive (entries `s3/objects/<2 hex>/<id>`, not listed above).
    #[serde(default)]
    pub s3_objects: u64,
}

/// Writes a consistent copy of `data_dir` to `to` (atomically: a temporary sibling renamed
/// into place, so `to` is never a half-written archive).
pub fn create(data_dir: &Path, to: &Path) -> Result<Manifest, BackupError> {
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| BackupError::Write(parent.clone(), e))?;
    let stem = format!(".lambdabox-backup-{}", uuid::Uuid::new_v4().simple());
    let parts = parent.join(format!("{stem}.d"));
    let tmp = parent.join(format!("{stem}.zip"));
    let result = create_in(data_dir, to, &parts, &tmp);
    let _ = std::fs::remove_dir_all(&parts);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn create_in(
    data_dir: &Path,
    to: &Path,
    parts: &Path,
    tmp: &Path,
) -> Result<Manifest, BackupError> {
    std::fs::create_dir(parts).map_err(|e| BackupError::Write(parts.to_path_buf(), e))?;
    let mut manifest = Manifest {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").into(),
        created_ms: crate::domain::function::now_ms(),
        schema_version: 0,
        files: Vec::new(),
        s3_objects: 0,
    };
    // Before the snapshot of s3.db: every file it names then stays readable until the end.
    let _hold = s3::hold(data_dir)?;
    for db in DATABASES {
        let src = data_dir.join(db);
        if !src.exists() {
            continue;
        }
        let copy = parts.join(db);
        let version = vacuum_into(&src, &copy)?;
        if db == DATABASES[0] {
            manifest.schema_version = version;
        }
        manifest.files.push(db.into());
    }
    if !manifest.files.iter().any(|f| f == DATABASES[0]) {
        return Err(BackupError::NotABackup(
            data_dir.to_path_buf(),
            format!("no {} in this data directory", DATABASES[0]),
        ));
    }
    for name in FILES {
        let src = data_dir.join(name);
        if src.is_file() {
            std::fs::copy(&src, parts.join(name)).map_err(|e| BackupError::Read(src, e))?;
            manifest.files.push(name.into());
        }
    }
    let objects = if manifest.files.iter().any(|f| f == s3::DB) {
        s3::named_files(data_dir, &parts.join(s3::DB))?
    } else {
        Vec::new()
    };
    manifest.s3_objects = objects.len() as u64;
    // Key secrets are in the archive: owner-only, like the data directory.
    let out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(tmp)
            .map_err(|e| BackupError::Write(tmp.to_path_buf(), e))?
    };
    let werr =
        |e: zip::result::ZipError| BackupError::Write(tmp.to_path_buf(), std::io::Error::other(e));
    let mut zip = zip::ZipWriter::new(out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
        .unix_permissions(0o600);
    zip.start_file(MANIFEST, opts).map_err(werr)?;
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::Write(tmp.to_path_buf(), e.into()))?;
    zip.write_all(&json)
        .map_err(|e| BackupError::Write(tmp.to_path_buf(), e))?;
    for name in &manifest.files {
        let p = parts.join(name);
        let mut f = File::open(&p).map_err(|e| BackupError::Read(p.clone(), e))?;
        zip.start_file(name.as_str(), opts).map_err(werr)?;
        std::io::copy(&mut f, &mut zip).map_err(|e| BackupError::Write(tmp.to_path_buf(), e))?;
    }
    let stored = opts.compression_method(zip::CompressionMethod::Stored);
    let files = crate::store::s3::files::Files::at(data_dir);
    for (id, path) in &objects {
        // opened by id, not by the path listed: a removal since may have moved it to held/
        let mut f = files
            .open_file(id)
            .map_err(|e| BackupError::Read(path.clone(), e))?;
        zip.start_file(s3::entry(id), stored).map_err(werr)?;
        std::io::copy(&mut f, &mut zip).map_err(|e| BackupError::Write(tmp.to_path_buf(), e))?;
    }
    let out = zip.finish().map_err(werr)?;
    out.sync_all()
        .map_err(|e| BackupError::Write(tmp.to_path_buf(), e))?;
    drop(out);
    std::fs::rename(tmp, to).map_err(|e| BackupError::Write(to.to_path_buf(), e))?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))?;
    Ok(manifest)
}

/// Copies one live database into `dest` (a new file) and returns its `user_version`.
fn vacuum_into(src: &Path, dest: &Path) -> Result<i64, BackupError> {
    let sq = |e| BackupError::Sqlite(src.to_path_buf(), e);
    let conn = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sq)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sq)?;
    let dest_text = dest.to_string_lossy().into_owned();
    conn.execute("VACUUM INTO ?1", [dest_text]).map_err(sq)?;
    let copy = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sq)?;
    let version: i64 = copy
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sq)?;
    Ok(version)
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    let d = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(d)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackupError::Write(d.to_path_buf(), e))
}

fn read_manifest(from: &Path) -> Result<(zip::ZipArchive<File>, Manifest), BackupError> {
    let not = |m: String| BackupError::NotABackup(from.to_path_buf(), m);
    let f = File::open(from).map_err(|e| BackupError::Read(from.to_path_buf(), e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| not(e.to_string()))?;
    let manifest: Manifest = {
        let mut entry = zip
            .by_name(MANIFEST)
            .map_err(|_| not(format!("it has no {MANIFEST}")))?;
        let mut text = Vec::new();
        entry
            .by_ref()
            .take(1 << 20)
            .read_to_end(&mut text)
            .map_err(|e| not(e.to_string()))?;
        serde_json::from_slice(&text).map_err(|e| not(e.to_string()))?
    };
    if !(1..=FORMAT).contains(&manifest.format) {
        return Err(not(format!(
            "archive format {} (this build reads {FORMAT})",
            manifest.format
        )));
    }
    let known = |n: &str| DATABASES.contains(&n) || FILES.contains(&n);
    if let Some(bad) = manifest.files.iter().find(|n| !known(n)) {
        return Err(not(format!("unexpected entry {bad:?}")));
    }
    if !manifest.files.iter().any(|f| f == DATABASES[0]) {
        return Err(not(format!("it holds no {}", DATABASES[0])));
    }
    Ok((zip, manifest))
}

/// True when `dir` holds anything but the lock file.
fn has_data(dir: &Path) -> Result<bool, BackupError> {
    let entries = std::fs::read_dir(dir).map_err(|e| BackupError::Read(dir.to_path_buf(), e))?;
    Ok(entries
        .flatten()
        .any(|e| e.file_name() != crate::lock::LOCK_FILE))
}

/// Restores the archive `from` into `data_dir`. Refuses while a daemon holds the directory,
/// and refuses a directory with data in it unless `force`.
pub fn restore(from: &Path, data_dir: &Path, force: bool) -> Result<Manifest, BackupError> {
    let (mut zip, manifest) = read_manifest(from)?;
    if manifest.schema_version > crate::store::SCHEMA_VERSION {
        return Err(BackupError::Newer {
            found: manifest.schema_version,
            known: crate::store::SCHEMA_VERSION,
        });
    }
    std::fs::create_dir_all(data_dir).map_err(|e| BackupError::Write(data_dir.to_path_buf(), e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| BackupError::Write(data_dir.to_path_buf(), e))?;
    }
    let _lock = crate::lock::acquire(data_dir)?;
    if has_data(data_dir)? && !force {
        return Err(BackupError::NotEmpty(data_dir.to_path_buf()));
    }
    let stem = format!(".restore-{}", uuid::Uuid::new_v4().simple());
    let mut staged = Vec::new();
    let staged_s3 = data_dir.join(format!("{stem}-s3"));
    let result = (|| {
        let mut unpacked = 0u64;
        for i in 0..zip.len() {
            let mut entry = zip
                .by_index(i)
                .map_err(|e| BackupError::NotABackup(from.to_path_buf(), e.to_string()))?;
            let name = entry.name().to_string();
            if !name.starts_with("s3/") {
                continue;
            }
            let id = s3::entry_id(&name).ok_or_else(|| {
                BackupError::NotABackup(from.to_path_buf(), format!("unexpected entry {name:?}"))
            })?;
            s3::unpack(&staged_s3, id, &mut entry)?;
            unpacked += 1;
        }
        if unpacked != manifest.s3_objects {
            return Err(BackupError::NotABackup(
                from.to_path_buf(),
                format!(
                    "it holds {unpacked} object files where its manifest counts {}",
                    manifest.s3_objects
                ),
            ));
        }
        if unpacked > 0 {
            s3::sync_tree(&staged_s3)?;
        }
        for name in &manifest.files {
            let tmp = data_dir.join(format!("{stem}-{name}"));
            staged.push(tmp.clone());
            let mut entry = zip
                .by_name(name)
                .map_err(|e| BackupError::NotABackup(from.to_path_buf(), format!("{name}: {e}")))?;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| BackupError::Write(tmp.clone(), e))?;
            std::io::copy(&mut entry, &mut out).map_err(|e| BackupError::Write(tmp.clone(), e))?;
            out.sync_all()
                .map_err(|e| BackupError::Write(tmp.clone(), e))?;
        }
        // The old data goes only once the new data is safely on disk.
        for db in DATABASES {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                remove_file_if_present(&data_dir.join(format!("{db}{suffix}")))?;
            }
        }
        for name in FILES {
            remove_file_if_present(&data_dir.join(name))?;
        }
        for d in REBUILT_DIRS.iter().chain(&["s3"]) {
            let p = data_dir.join(d);
            if p.exists() {
                std::fs::remove_dir_all(&p).map_err(|e| BackupError::Write(p.clone(), e))?;
            }
        }
        if unpacked > 0 {
            let dest = data_dir.join("s3");
            std::fs::rename(&staged_s3, &dest).map_err(|e| BackupError::Write(dest, e))?;
        }
        for (name, tmp) in manifest.files.iter().zip(&staged) {
            let dest = data_dir.join(name);
            std::fs::rename(tmp, &dest).map_err(|e| BackupError::Write(dest, e))?;
        }
        sync_dir(data_dir)
    })();
    if result.is_err() {
        for tmp in &staged {
            let _ = std::fs::remove_file(tmp);
        }
    }
    let _ = std::fs::remove_dir_all(&staged_s3);
    result.map(|()| manifest)
}

fn remove_file_if_present(p: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackupError::Write(p.to_path_buf(), e)),
    }
}

/// The `user_version` of an existing database file, without creating or changing it.
pub fn schema_version(db: &Path) -> Result<Option<i64>, BackupError> {
    if !db.exists() {
        return Ok(None);
    }
    let sq = |e| BackupError::Sqlite(db.to_path_buf(), e);
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sq)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sq)?;
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sq)?;
    Ok(Some(v))
}

#[cfg(test)]
mod tests;
