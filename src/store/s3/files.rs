//! Object bytes on disk: `<data>/s3/objects/<2 hex>/<32 hex>` (one file per object or part,
//! never changed once in place) and `<data>/s3/tmp/` for files being written.
//!
//! Ordering rule: a new file is written in `tmp/`, fsynced, renamed into `objects/` and its
//! directory fsynced ([`Files::place`]) before any row names it. A file is removed only after
//! the commit that stopped naming it. [`Files::sweep`] (at start) empties `tmp/` and removes
//! files no row names: what a crash between rename and commit left behind.

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

    /// Removes placed files (missing ones are fine).
    pub fn remove(&self, ids: &[String]) {
        for id in ids {
            if let Err(e) = fs::remove_file(self.path(id)) {
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
}
