//! The object store in a backup. `s3.db` is snapshotted like the other databases, but only
//! after a hold (`store::s3::files::Files::hold`) is taken, so that every file the snapshot
//! names stays readable while it is copied even if the daemon deletes or overwrites the
//! object meanwhile. Each named file (objects and parts of uploads in progress) goes into
//! the archive as `s3/objects/<2 hex>/<id>`, stored uncompressed; the manifest counts them.
//! Restore unpacks them into a staged directory that replaces `<data>/s3` whole.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::BackupError;
use crate::store::s3::files::{Files, Hold};

/// The database of the object store.
pub const DB: &str = "s3.db";
/// Entry prefix of object files in an archive.
pub const PREFIX: &str = "s3/objects/";

/// The archive entry of file `id`.
pub fn entry(id: &str) -> String {
    format!("{PREFIX}{}/{id}", id.get(..2).unwrap_or("00"))
}

/// The file id of an entry this module writes (`s3/objects/<2 hex>/<32 hex>`), if it is one.
pub fn entry_id(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(PREFIX)?;
    let (shard, id) = rest.split_once('/')?;
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    (shard.len() == 2 && id.len() == 32 && hex(shard) && hex(id) && id.starts_with(shard))
        .then_some(id)
}

/// Takes the hold before the snapshot (none when the data directory has no object store).
pub fn hold(data_dir: &Path) -> Result<Option<Hold>, BackupError> {
    if !data_dir.join(DB).exists() || !data_dir.join("s3").is_dir() {
        return Ok(None);
    }
    let files = Files::at(data_dir);
    files
        .hold()
        .map(Some)
        .map_err(|e| BackupError::Write(data_dir.join("s3/holds"), e))
}

/// The files the snapshot `copy` of `s3.db` names, each with where to read it now.
pub fn named_files(data_dir: &Path, copy: &Path) -> Result<Vec<(String, PathBuf)>, BackupError> {
    let sq = |e| BackupError::Sqlite(copy.to_path_buf(), e);
    let c = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sq)?;
    let mut st = c
        .prepare("SELECT file FROM objects UNION SELECT file FROM parts ORDER BY 1")
        .map_err(sq)?;
    let ids = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sq)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sq)?;
    let files = Files::at(data_dir);
    ids.into_iter()
        .map(|id| match files.find(&id) {
            Some(p) => Ok((id, p)),
            None => Err(BackupError::Read(
                files.path(&id),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "an object file that s3.db names is missing (the object store is damaged)",
                ),
            )),
        })
        .collect()
}

/// Unpacks entry `id` from `reader` into `staged/objects/<2 hex>/<id>`, fsynced.
pub fn unpack(staged: &Path, id: &str, reader: &mut impl std::io::Read) -> Result<(), BackupError> {
    let dir = staged.join("objects").join(id.get(..2).unwrap_or("00"));
    std::fs::create_dir_all(&dir).map_err(|e| BackupError::Write(dir.clone(), e))?;
    let dest = dir.join(id);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&dest)
        .map_err(|e| BackupError::Write(dest.clone(), e))?;
    std::io::copy(reader, &mut out).map_err(|e| BackupError::Write(dest.clone(), e))?;
    out.flush()
        .and_then(|()| out.sync_all())
        .map_err(|e| BackupError::Write(dest, e))
}

/// fsyncs the staged tree's directories (shards, `objects`, the root).
pub fn sync_tree(staged: &Path) -> Result<(), BackupError> {
    let objects = staged.join("objects");
    if let Ok(shards) = std::fs::read_dir(&objects) {
        for s in shards.flatten() {
            sync(&s.path())?;
        }
    }
    if objects.is_dir() {
        sync(&objects)?;
    }
    sync(staged)
}

fn sync(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackupError::Write(dir.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_round_trip_and_nothing_else_passes() {
        let id = "ab0123456789abcdef0123456789abcd";
        assert_eq!(entry(id), format!("s3/objects/ab/{id}"));
        assert_eq!(entry_id(&entry(id)), Some(id));
        assert_eq!(entry_id("s3/objects/ab/../../lambdabox.db"), None);
        assert_eq!(
            entry_id("s3/objects/cd/ab0123456789abcdef0123456789abcd"),
            None
        );
        assert_eq!(
            entry_id("s3/objects/AB/AB0123456789ABCDEF0123456789ABCD"),
            None
        );
        assert_eq!(entry_id("lambdabox.db"), None);
    }
}
