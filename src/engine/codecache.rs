//! The extracted-code cache: one read-only directory per package digest under
//! `<data>/cache/code/<sha256>`, shared by every environment and function that uses it.
//!
//! Extraction writes to a temporary sibling and renames it into place, so a directory that
//! exists is complete. Ordering rule for a power cut: every file and directory of the
//! sibling is fsynced *before* the rename, and the cache directory after it
//! ([`sync_tree`]), so a renamed entry can never hold truncated files. The cache can be wiped at any time; it is rebuilt from the blobs in
//! SQLite on the next cold start. Sizes are enforced while decompressing (the declared sizes
//! of a zip can lie), and entry names are re-checked.
//!
//! Entries in use by a live environment are pinned ([`CodeCache::pin`]); unpinned entries
//! not used for a while are evicted ([`CodeCache::evict_idle`]). Pin before `ensure`, so an
//! entry can never be evicted between its extraction and its mount.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::pkgfs;
use crate::domain::zipcheck::{safe_name, MAX_UNZIPPED};

/// A failure while extracting a package.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create {0}: {1}")]
    Create(PathBuf, std::io::Error),
    #[error("package {0} is not a readable zip: {1}")]
    Zip(String, String),
    #[error("cannot load package {0} from the store: {1}")]
    Load(String, String),
    #[error("package {0} has an entry name that escapes the package: {1:?}")]
    UnsafeName(String, String),
    #[error("package {0} unzips to more than {MAX_UNZIPPED} bytes")]
    TooLarge(String),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("package entry {0} would be written through a link the package contains")]
    ThroughLink(PathBuf),
    #[error("package {0} has a link with an empty, NUL-holding or too long target: {1}")]
    BadLink(String, PathBuf),
}

impl CacheError {
    /// What an API client is told: what is wrong with the package, never a path on the
    /// daemon's host (the full error goes to the daemon's log).
    pub fn public_message(&self) -> String {
        match self {
            CacheError::Create(..) | CacheError::Write(..) => {
                "lambdabox could not write the extracted code to its own disk; the daemon's log has the details".into()
            }
            CacheError::ThroughLink(entry) => format!(
                "package entry {} would be written through a file or link the package contains; no name in the zip may be both a file (or link) and a directory",
                entry.display()
            ),
            CacheError::BadLink(label, path) => format!(
                "package {label} has a link with an empty, NUL-holding or too long target: {}",
                path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
            other => other.to_string(),
        }
    }
}

/// Handle to the cache directory.
#[derive(Debug, Clone)]
pub struct CodeCache {
    root: PathBuf,
    pins: Arc<Mutex<HashMap<String, usize>>>,
}

/// Entries a live environment uses; dropping it unpins them.
#[derive(Debug)]
pub struct Pins {
    registry: Arc<Mutex<HashMap<String, usize>>>,
    keys: Vec<String>,
}

impl Drop for Pins {
    fn drop(&mut self) {
        if let Ok(mut m) = self.registry.lock() {
            for k in &self.keys {
                if let Some(n) = m.get_mut(k) {
                    *n -= 1;
                    if *n == 0 {
                        m.remove(k);
                    }
                }
            }
        }
    }
}

impl CodeCache {
    pub fn new(root: PathBuf) -> CodeCache {
        CodeCache {
            root,
            pins: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Pins `keys` (entry names) until the returned guard is dropped.
    pub fn pin(&self, keys: Vec<String>) -> Pins {
        if let Ok(mut m) = self.pins.lock() {
            for k in &keys {
                *m.entry(k.clone()).or_insert(0) += 1;
            }
        }
        Pins {
            registry: Arc::clone(&self.pins),
            keys,
        }
    }

    /// Marks an entry as just used (its mtime), for [`CodeCache::evict_idle`].
    pub fn touch(&self, key: &str) {
        if let Ok(f) = std::fs::File::open(self.root.join(key)) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Removes entries that no live environment pins and that were not used for `idle`,
    /// and leftovers of interrupted extractions; returns how many.
    pub fn evict_idle(&self, idle: Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        let pinned: Vec<String> = self
            .pins
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut removed = 0;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if pinned.contains(&name) {
                continue;
            }
            let age = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .unwrap_or(Duration::ZERO);
            if age < idle {
                continue;
            }
            if std::fs::remove_dir_all(e.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Directory of an extracted package, if present.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(sha256)
    }

    /// Returns the extracted directory of `sha256`, extracting `zip()` first if needed.
    pub fn ensure<F>(&self, sha256: &str, zip: F) -> Result<PathBuf, CacheError>
    where
        F: FnOnce() -> Result<Vec<u8>, CacheError>,
    {
        self.get_or_build(sha256, |tmp| extract(&zip()?, tmp, sha256))
    }

    /// Returns the entry `key`, building it first with `build` if needed. `build` fills a
    /// temporary sibling that is renamed into place, so an entry that exists is complete.
    pub fn get_or_build<F>(&self, key: &str, build: F) -> Result<PathBuf, CacheError>
    where
        F: FnOnce(&Path) -> Result<(), CacheError>,
    {
        let dir = self.path(key);
        if dir.is_dir() {
            self.touch(key);
            return Ok(dir);
        }
        std::fs::create_dir_all(&self.root)
            .map_err(|e| CacheError::Create(self.root.clone(), e))?;
        let tmp = self
            .root
            .join(format!(".tmp-{key}-{}", uuid::Uuid::new_v4().simple()));
        if let Err(e) = build(&tmp).and_then(|()| sync_tree(&tmp)) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => {
                sync_dir(&self.root)?;
                Ok(dir)
            }
            Err(_) if dir.is_dir() => {
                // Another builder won the race; its copy is identical.
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(dir)
            }
            Err(e) => Err(CacheError::Write(dir, e)),
        }
    }
}

/// Extracts `bytes` into `dest`, enforcing names and the real decompressed size.
pub fn extract(bytes: &[u8], dest: &Path, label: &str) -> Result<(), CacheError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| CacheError::Zip(label.to_string(), e.to_string()))?;
    std::fs::create_dir_all(dest).map_err(|e| CacheError::Create(dest.to_path_buf(), e))?;
    set_mode(dest, 0o755)?;
    let mut budget = MAX_UNZIPPED;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| CacheError::Zip(label.to_string(), e.to_string()))?;
        let name = entry.name().to_string();
        if !safe_name(&name) {
            return Err(CacheError::UnsafeName(label.to_string(), name));
        }
        let Some(rel) = entry.enclosed_name() else {
            return Err(CacheError::UnsafeName(label.to_string(), name));
        };
        let target = dest.join(&rel);
        if entry.is_dir() {
            pkgfs::make_dirs(dest, &rel)?;
            continue;
        }
        pkgfs::make_dirs(dest, rel.parent().unwrap_or(Path::new("")))?;
        if pkgfs::is_link_mode(entry.unix_mode()) {
            // Kept as a link (see `pkgfs`): resolved only inside the sandbox.
            pkgfs::extract_link(&mut entry, &target, label)?;
            continue;
        }
        let mut out = pkgfs::create_file(&target)?;
        let mut limited = (&mut entry).take(budget + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut written: u64 = 0;
        loop {
            let n = limited
                .read(&mut buf)
                .map_err(|e| CacheError::Zip(label.to_string(), e.to_string()))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > budget {
                return Err(CacheError::TooLarge(label.to_string()));
            }
            out.write_all(&buf[..n])
                .map_err(|e| CacheError::Write(target.clone(), e))?;
        }
        budget -= written;
        // Keep the executable bits (a `bootstrap` must stay executable); never setuid/setgid.
        let exec = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        set_mode(&target, if exec { 0o755 } else { 0o644 })?;
    }
    Ok(())
}

/// Makes a built tree durable: fsyncs every regular file and directory below `root`
/// (children before their directory), never opening through a link.
pub fn sync_tree(root: &Path) -> Result<(), CacheError> {
    let meta = std::fs::symlink_metadata(root).map_err(|e| CacheError::Write(root.into(), e))?;
    if meta.is_dir() {
        let entries = std::fs::read_dir(root).map_err(|e| CacheError::Write(root.into(), e))?;
        for e in entries {
            let e = e.map_err(|e| CacheError::Write(root.into(), e))?;
            sync_tree(&e.path())?;
        }
        sync_dir(root)
    } else if meta.is_file() {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(root)
            .map_err(|e| CacheError::Write(root.into(), e))?;
        f.sync_all().map_err(|e| CacheError::Write(root.into(), e))
    } else {
        // A link lives in its directory's data: the directory's fsync covers it.
        Ok(())
    }
}

/// Fsyncs a directory (its entries: names created or renamed in it).
fn sync_dir(dir: &Path) -> Result<(), CacheError> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
        .open(dir)
        .map_err(|e| CacheError::Write(dir.into(), e))?;
    f.sync_all().map_err(|e| CacheError::Write(dir.into(), e))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), CacheError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| CacheError::Write(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn zip_with(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data, mode) in entries {
                let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn extracts_once_and_keeps_exec_bits() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(dir.path().join("code"));
        let z = zip_with(&[
            ("bootstrap", b"#!/bin/sh\n", 0o755),
            ("lib/a.txt", b"a", 0o644),
        ]);
        let p = cache.ensure("abc", || Ok(z.clone())).unwrap();
        let mode = std::fs::metadata(p.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(std::fs::read(p.join("lib/a.txt")).unwrap(), b"a");
        // Second call does not need the bytes.
        let again = cache
            .ensure("abc", || Err(CacheError::TooLarge("unused".into())))
            .unwrap();
        assert_eq!(p, again);
    }

    fn zip_with_links(files: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data) in files {
                let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            for (name, target) in links {
                w.add_symlink(*name, *target, zip::write::SimpleFileOptions::default())
                    .unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn keeps_links_as_links_and_never_writes_through_one() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let z = zip_with_links(
            &[("lib/libfoo.so.1.0.0", b"ELF")],
            &[
                ("lib/libfoo.so.1", "libfoo.so.1.0.0"),
                ("lib/libfoo.so", "libfoo.so.1"),
                ("etc-shadow", "/etc/shadow"),
                ("up", "../../../../.."),
            ],
        );
        let p = dir.path().join("a");
        extract(&z, &p, "t").unwrap();
        let link = |rel: &str| std::fs::read_link(p.join(rel)).unwrap();
        assert_eq!(link("lib/libfoo.so"), Path::new("libfoo.so.1"));
        assert_eq!(link("etc-shadow"), Path::new("/etc/shadow"));
        assert_eq!(link("up"), Path::new("../../../../.."));
        assert_eq!(std::fs::read(p.join("lib/libfoo.so")).unwrap(), b"ELF");
        // a link to a host directory, then an entry below it: refused, nothing written there
        let target = outside.to_string_lossy().into_owned();
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            w.add_symlink(
                "evil",
                target.as_str(),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            w.start_file("evil/x", zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"owned").unwrap();
            w.finish().unwrap();
        }
        assert!(extract(&buf.into_inner(), &dir.path().join("b"), "t").is_err());
        assert!(!outside.join("x").exists());
        // evicting an entry that holds a link to a host directory leaves that directory alone
        std::fs::write(outside.join("keep"), b"k").unwrap();
        let cache = CodeCache::new(dir.path().join("cache"));
        let z = zip_with_links(&[], &[("host", target.as_str())]);
        cache.ensure("l1", || Ok(z)).unwrap();
        assert_eq!(cache.evict_idle(Duration::ZERO), 1);
        assert!(outside.join("keep").exists());
    }

    #[test]
    fn a_broken_package_is_explained_without_host_paths() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(dir.path().join("code"));
        // "a" is a file, then "a/b" needs it to be a directory.
        let z = zip_with(&[("a", b"x", 0o644), ("a/b", b"y", 0o644)]);
        let err = cache.ensure("abc", || Ok(z.clone())).unwrap_err();
        let public = err.public_message();
        assert!(public.contains("package entry a "), "{public}");
        assert!(
            !public.contains(&dir.path().display().to_string()),
            "{public}"
        );
        assert!(!public.contains("os error"), "{public}");
        let create = CacheError::Create(
            dir.path().join("x"),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(!create
            .public_message()
            .contains(&dir.path().display().to_string()));
    }

    #[test]
    fn a_built_entry_is_synced_before_it_is_renamed_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(dir.path().join("code"));
        // files, directories and links of a built tree all survive the sync and the rename
        let r = cache.get_or_build("k", |tmp| {
            std::fs::create_dir_all(tmp.join("d")).unwrap();
            std::fs::write(tmp.join("d/f"), b"x").unwrap();
            std::os::unix::fs::symlink("/nonexistent", tmp.join("link")).unwrap();
            Ok(())
        });
        let p = r.unwrap();
        assert_eq!(std::fs::read(p.join("d/f")).unwrap(), b"x");
        assert!(std::fs::symlink_metadata(p.join("link"))
            .unwrap()
            .file_type()
            .is_symlink());
        // sync_tree on a missing tree fails, and get_or_build then leaves nothing behind
        assert!(sync_tree(&dir.path().join("missing")).is_err());
        let r = cache.get_or_build("gone", |tmp| {
            std::fs::create_dir_all(tmp).unwrap();
            std::fs::remove_dir(tmp).unwrap();
            Ok(())
        });
        assert!(r.is_err());
        assert!(!cache.path("gone").exists());
        let leftovers: Vec<_> = std::fs::read_dir(cache.root())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn refuses_setuid_and_traversal() {
        let dir = tempfile::tempdir().unwrap();
        let z = zip_with(&[("su", b"x", 0o4755)]);
        extract(&z, &dir.path().join("a"), "t").unwrap();
        let mode = std::fs::metadata(dir.path().join("a/su"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7000, 0);
        let z = zip_with(&[("../evil", b"x", 0o644)]);
        assert!(extract(&z, &dir.path().join("b"), "t").is_err());
        assert!(!dir.path().join("evil").exists());
    }
}
