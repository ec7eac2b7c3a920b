//! Object bytes on disk: `<data>/s3/objects/<2 hex>/<32 hex>` (one file per object or part,
//! never changed once in place) and `<data>/s3/tmp/` for files being written.
//!
//! Ordering rule: a new file is written in `tmp/`, fsynced, renamed into `objects/` and its
//! directory fsynced ([`Files::place`]) before any row names it. A file is removed only after
//! the commit that stopped naming it. [`Files::sweep`] (at start) empties `tmp/` and removes
//! files no row names: what a crash between rename and commit left behind.
//!
//! Backups ([`Files::hold`]): a backup creates `holds/<pid>-<id>` *before* it snapshots
//! `s3.db`, and removes it when done. While a hold of a live process exists, a removed file
//! is moved to `held/` instead of unlinked, so every file the snapshot names stays readable
//! ([`Files::find`]); once no hold is left, `held/` is emptied at the next removal. A hold
//! whose process is gone (a killed backup) is ignored and deleted.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The object store's directory.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

impl Files {
    /// Creates `<data_dir>/s3/{objects,tmp}` if needed.
    pub fn open(data_dir: &Path) -> io::Result<Files> {
        let root = data_dir.join("s3");
        fs::create_dir_all(root.join("objects"))?;
        fs::create_dir_all(root.join("tmp"))?;
        Ok(Files { root })
    }

    /// The directory as it is, without creating anything (backups).
    pub fn at(data_dir: &Path) -> Files {
        Files {
            root: data_dir.join("s3"),
        }
    }

    /// Where a file removed during a backup waits.
    fn held_path(&self, id: &str) -> PathBuf {
        self.root.join("held").join(id)
    }

    /// The file `id` as a backup reads it: in place, or held since the snapshot.
    pub fn find(&self, id: &str) -> Option<PathBuf> {
        [self.path(id), self.held_path(id)]
            .into_iter()
            .find(|p| p.is_file())
    }

    /// Opens file `id` where it is now: in place, or in `held/` if a removal during a backup
    /// moved it there after [`Files::find`] saw it (files only ever move that way).
    pub fn open_file(&self, id: &str) -> io::Result<fs::File> {
        match fs::File::open(self.path(id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::File::open(self.held_path(id)),
            other => other,
        }
    }

    /// Keeps removed files readable until the returned hold is dropped (backups).
    pub fn hold(&self) -> io::Result<Hold> {
        let dir = self.root.join("holds");
        fs::create_dir_all(&dir)?;
        fs::create_dir_all(self.root.join("held"))?;
        let path = dir.join(format!("{}-{}", std::process::id(), Files::new_id()));
        fs::File::create(&path)?.sync_all()?;
        fs::File::open(&dir)?.sync_all()?;
        Ok(Hold { path })
    }

    /// True while a live process holds removals; stale holds are deleted.
    fn held(&self) -> bool {
        let Ok(entries) = fs::read_dir(self.root.join("holds")) else {
            return false;
        };
        let mut live = false;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().unwrap_or("");
            if !pid.is_empty() && Path::new("/proc").join(pid).exists() {
                live = true;
            } else {
                let _ = fs::remove_file(e.path());
            }
        }
        live
    }

    /// Empties `held/` (no backup needs its files any more).
    fn release_held(&self) {
        if let Ok(entries) = fs::read_dir(self.root.join("held")) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// A new file id.
    pub fn new_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// Where a file being written lives until it is placed.
    pub fn tmp_path(&self, id: &str) -> PathBuf {
        self.root.join("tmp").join(id)
    }

    /// Where a placed file lives.
    pub fn path(&self, id: &str) -> PathBuf {
        let shard = id.get(..2).unwrap_or("00");
        self.root.join("objects").join(shard).join(id)
    }

    /// Moves a written (and fsynced) temporary file into place and makes the rename durable.
    pub fn place(&self, id: &str) -> io::Result<()> {
        let to = self.path(id);
        let dir = to
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        fs::create_dir_all(&dir)?;
        fs::rename(self.tmp_path(id), &to)?;
        fs::File::open(&dir)?.sync_all()
    }

    /// A new placed file with the same bytes as `id` (a hard link: files never change).
    pub fn link(&self, id: &str) -> io::Result<String> {
        let new = Files::new_id();
        fs::hard_link(self.path(id), self.tmp_path(&new))?;
        self.place(&new)?;
        Ok(new)
    }

    /// Removes placed files (missing ones are fine); during a backup they are moved to
    /// `held/` instead.
    pub fn remove(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let held = self.held();
        if !held {
            self.release_held();
        }
        for id in ids {
            let done = if held {
                fs::rename(self.path(id), self.held_path(id))
            } else {
                fs::remove_file(self.path(id))
            };
            if let Err(e) = done {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(file = %id, error = %e, "cannot remove an object file");
                }
            }
        }
    }

    /// Removes a temporary file (missing is fine).
    pub fn discard(&self, id: &str) {
        let _ = fs::remove_file(self.tmp_path(id));
    }

    /// Start-up: empties `tmp/` and removes placed files not in `known`. Returns how many
    /// files were removed.
    pub fn sweep(&self, known: &HashSet<String>) -> io::Result<usize> {
        let mut removed = 0;
        if !self.held() {
            self.release_held();
        }
        for e in fs::read_dir(self.root.join("tmp"))? {
            let e = e?;
            if fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        for shard in fs::read_dir(self.root.join("objects"))? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for f in fs::read_dir(shard.path())? {
                let f = f?;
                let name = f.file_name().to_string_lossy().into_owned();
                if !known.contains(&name) && fs::remove_file(f.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// A backup's hold on removals; dropping it lets them go on.
#[derive(Debug)]
pub struct Hold {
    path: PathBuf,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_link_and_sweep() {
        let dir = std::env::temp_dir().join(format!("lbx-s3-files-{}", Files::new_id()));
        let f = Files::open(&dir).unwrap();
        let a = Files::new_id();
        fs::write(f.tmp_path(&a), b"hello").unwrap();
        f.place(&a).unwrap();
        let b = f.link(&a).unwrap();
        assert_eq!(fs::read(f.path(&b)).unwrap(), b"hello");
        fs::write(f.tmp_path("partial"), b"x").unwrap();
        let known: HashSet<String> = [a.clone()].into_iter().collect();
        assert_eq!(f.sweep(&known).unwrap(), 2);
        assert!(f.path(&a).exists());
        assert!(!f.path(&b).exists());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn removals_wait_while_a_backup_holds_them() {
        let dir = std::env::temp_dir().join(format!("lbx-s3-hold-{}", Files::new_id()));
        let f = Files::open(&dir).unwrap();
        let a = Files::new_id();
        fs::write(f.tmp_path(&a), b"kept for the backup").unwrap();
        f.place(&a).unwrap();
        let hold = f.hold().unwrap();
        f.remove(std::slice::from_ref(&a));
        assert!(!f.path(&a).exists());
        let found = f.find(&a).unwrap();
        assert_eq!(fs::read(found).unwrap(), b"kept for the backup");
        drop(hold);
        // A stale hold (no such process) does not keep files.
        fs::write(dir.join("s3/holds/999999999-x"), b"").unwrap();
        let b = Files::new_id();
        fs::write(f.tmp_path(&b), b"x").unwrap();
        f.place(&b).unwrap();
        f.remove(std::slice::from_ref(&b));
        assert!(f.find(&a).is_none() && f.find(&b).is_none());
        let _ = fs::remove_dir_all(dir);
    }
}
