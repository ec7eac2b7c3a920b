//! The `/opt` of a function: its layers merged in order, later layers winning on conflicts.
//!
//! Each layer is extracted once per digest in the code cache; a function with one layer
//! mounts that directory directly. With several, a merged tree is built once per ordered list
//! of digests (`opt-<digest of the list>` in the same cache) out of hard links to the
//! extracted layers, so building it copies no file data and mounting it costs the same
//! single bind as one layer.

use std::path::{Path, PathBuf};

use super::codecache::{CacheError, CodeCache};
use super::pkgfs;

/// Cache entry name of the merged tree for `shas` (in order).
pub fn merged_key(shas: &[&str]) -> String {
    format!(
        "opt-{}",
        crate::store::blobs::sha256_hex(shas.join(",").as_bytes())
    )
}

/// Returns the merged tree of the extracted layer directories `layers` (in order), building
/// it under `key` if needed.
pub fn ensure_merged(
    cache: &CodeCache,
    key: &str,
    layers: &[PathBuf],
) -> Result<PathBuf, CacheError> {
    cache.get_or_build(key, |tmp| {
        make_dir(tmp)?;
        layers.iter().try_for_each(|l| overlay(l, tmp))
    })
}

/// Lays the tree `src` over `dest`: directories merge, a file replaces whatever `dest` had
/// at its path (file or directory), a directory replaces a file.
fn overlay(src: &Path, dest: &Path) -> Result<(), CacheError> {
    let entries = std::fs::read_dir(src).map_err(|e| CacheError::Write(src.to_path_buf(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CacheError::Write(src.to_path_buf(), e))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| CacheError::Write(from.clone(), e))?;
        let existing = std::fs::symlink_metadata(&to).ok();
        if kind.is_dir() {
            match existing {
                Some(m) if m.is_dir() => {}
                Some(_) => {
                    remove(&to)?;
                    make_dir(&to)?;
                }
                None => make_dir(&to)?,
            }
            overlay(&from, &to)?;
        } else if kind.is_file() {
            if existing.is_some() {
                remove(&to)?;
            }
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(|e| CacheError::Write(to.clone(), e))?;
            }
        } else if kind.is_symlink() {
            // A layer's link is copied as a link (its target text); never followed here.
            if existing.is_some() {
                remove(&to)?;
            }
            pkgfs::copy_link(&from, &to)?;
        }
        // Extraction never creates special files; anything else is skipped.
    }
    Ok(())
}

fn make_dir(p: &Path) -> Result<(), CacheError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(p).map_err(|e| CacheError::Create(p.to_path_buf(), e))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| CacheError::Write(p.to_path_buf(), e))
}

fn remove(p: &Path) -> Result<(), CacheError> {
    pkgfs::remove(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, rel: &str, data: &str) {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, data).unwrap();
    }

    #[test]
    fn later_layers_win_and_trees_merge() {
        let t = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(t.path().join("cache"));
        let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
        write(&a, "python/x.py", "a");
        write(&a, "python/only_a.py", "a");
        write(&a, "bin/tool", "a-file");
        write(&b, "python/x.py", "b");
        write(&b, "python/only_b.py", "b");
        write(&b, "bin/tool/inner", "b-dir");
        write(&c, "conf", "c");
        let key = merged_key(&["1", "2", "3"]);
        let m = ensure_merged(&cache, &key, &[a.clone(), b.clone(), c.clone()]).unwrap();
        let read = |rel: &str| std::fs::read_to_string(m.join(rel)).unwrap();
        assert_eq!(read("python/x.py"), "b");
        assert_eq!(read("python/only_a.py"), "a");
        assert_eq!(read("python/only_b.py"), "b");
        assert_eq!(read("bin/tool/inner"), "b-dir");
        assert_eq!(read("conf"), "c");
        // The layer sources are untouched.
        assert_eq!(std::fs::read_to_string(a.join("python/x.py")).unwrap(), "a");
        // Built once: a second call returns the same tree.
        assert_eq!(ensure_merged(&cache, &key, &[]).unwrap(), m);
        assert_ne!(merged_key(&["2", "1"]), merged_key(&["1", "2"]));
    }

    #[test]
    fn links_merge_as_links_and_a_linked_directory_is_never_written_into() {
        let t = tempfile::tempdir().unwrap();
        let host = t.path().join("host");
        std::fs::create_dir(&host).unwrap();
        let cache = CodeCache::new(t.path().join("cache"));
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        write(&a, "lib/libfoo.so.1", "foo");
        std::os::unix::fs::symlink("libfoo.so.1", a.join("lib/libfoo.so")).unwrap();
        // layer a makes `bin` a link to a host directory; layer b then ships bin/tool
        std::os::unix::fs::symlink(&host, a.join("bin")).unwrap();
        write(&b, "bin/tool", "b");
        let m = ensure_merged(&cache, &merged_key(&["a", "b"]), &[a, b]).unwrap();
        assert_eq!(
            std::fs::read_link(m.join("lib/libfoo.so")).unwrap(),
            Path::new("libfoo.so.1")
        );
        assert!(!std::fs::symlink_metadata(m.join("bin"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(m.join("bin/tool")).unwrap(), "b");
        assert!(!host.join("tool").exists(), "wrote through a layer's link");
    }

    #[test]
    fn pinned_entries_survive_eviction() {
        let t = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(t.path().to_path_buf());
        std::fs::create_dir_all(cache.path("kept")).unwrap();
        std::fs::create_dir_all(cache.path("gone")).unwrap();
        let pins = cache.pin(vec!["kept".into()]);
        assert_eq!(cache.evict_idle(std::time::Duration::ZERO), 1);
        assert!(cache.path("kept").is_dir());
        assert!(!cache.path("gone").exists());
        drop(pins);
        assert_eq!(cache.evict_idle(std::time::Duration::ZERO), 1);
        assert!(!cache.path("kept").exists());
    }
}
