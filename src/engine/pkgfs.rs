//! Filesystem steps of writing an extracted package that never follow a link the package
//! supplied. Packages keep their symlinks (as on AWS: a layer's `libfoo.so -> libfoo.so.1`
//! must load); a link is only ever *resolved* inside an environment's mount namespace, where
//! `/` is the sandbox's own root. The daemon creates links, never opens through them:
//! directories are walked with `symlink_metadata`, files are created `O_CREAT|O_EXCL|
//! O_NOFOLLOW`, and a link's target is stored as the bytes the zip holds, unchecked (an
//! absolute or `..` target is harmless where it is resolved).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::codecache::CacheError;

/// Longest link target accepted (Linux's PATH_MAX less the NUL).
pub const MAX_LINK_TARGET: usize = 4095;

/// True when a zip entry's unix mode says "symbolic link".
pub fn is_link_mode(mode: Option<u32>) -> bool {
    mode.is_some_and(|m| m & 0o170000 == 0o120000)
}

/// Creates `rel` (and its parents) under `dest` as real directories (mode 0755). An existing
/// component that is not a real directory — a link the package made — is an error, so nothing
/// is ever created through a link.
pub fn make_dirs(dest: &Path, rel: &Path) -> Result<PathBuf, CacheError> {
    let mut cur = dest.to_path_buf();
    for comp in rel.components() {
        let Component::Normal(part) = comp else {
            continue;
        };
        cur.push(part);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            // Named relative to the package: the error reaches API clients.
            Ok(_) => {
                let entry = cur
                    .strip_prefix(dest)
                    .map_or_else(|_| cur.clone(), Path::to_path_buf);
                return Err(CacheError::ThroughLink(entry));
            }
            Err(_) => {
                std::fs::create_dir(&cur).map_err(|e| CacheError::Create(cur.clone(), e))?;
                std::fs::set_permissions(&cur, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| CacheError::Write(cur.clone(), e))?;
            }
        }
    }
    Ok(cur)
}

/// Creates a new regular file; fails if anything (a file, a link) is already at `path`.
pub fn create_file(path: &Path) -> Result<File, CacheError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o644)
        .open(path)
        .map_err(|e| CacheError::Write(path.to_path_buf(), e))
}

/// Writes the link entry `entry` (its data is the target) at `path`.
pub fn extract_link(entry: &mut impl Read, path: &Path, label: &str) -> Result<(), CacheError> {
    let mut target = Vec::new();
    entry
        .take(MAX_LINK_TARGET as u64 + 1)
        .read_to_end(&mut target)
        .map_err(|e| CacheError::Zip(label.to_string(), e.to_string()))?;
    if target.is_empty() || target.len() > MAX_LINK_TARGET || target.contains(&0) {
        return Err(CacheError::BadLink(label.to_string(), path.to_path_buf()));
    }
    let target: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(target);
    std::os::unix::fs::symlink(&target, path).map_err(|e| CacheError::Write(path.to_path_buf(), e))
}

/// Copies the link `from` to `to` (same target text), for merged layer trees.
pub fn copy_link(from: &Path, to: &Path) -> Result<(), CacheError> {
    let target = std::fs::read_link(from).map_err(|e| CacheError::Write(from.to_path_buf(), e))?;
    std::os::unix::fs::symlink(target, to).map_err(|e| CacheError::Write(to.to_path_buf(), e))
}

/// Removes whatever is at `p` — a directory tree, a file or a link — without following a
/// link (a link to a directory is removed as a link).
pub fn remove(p: &Path) -> Result<(), CacheError> {
    let is_dir = std::fs::symlink_metadata(p)
        .map(|m| m.is_dir())
        .map_err(|e| CacheError::Write(p.to_path_buf(), e))?;
    let r = if is_dir {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    };
    r.map_err(|e| CacheError::Write(p.to_path_buf(), e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn never_writes_through_a_link() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let dest = t.path().join("pkg");
        std::fs::create_dir(&dest).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("lib")).unwrap();
        assert!(matches!(
            make_dirs(&dest, Path::new("lib/sub")),
            Err(CacheError::ThroughLink(_))
        ));
        std::os::unix::fs::symlink(outside.join("f"), dest.join("f")).unwrap();
        assert!(create_file(&dest.join("f")).is_err());
        assert!(!outside.join("f").exists() && !outside.join("sub").exists());
        // removing a link to a directory removes the link only
        std::fs::write(outside.join("keep"), b"x").unwrap();
        remove(&dest.join("lib")).unwrap();
        assert!(outside.join("keep").exists());
    }

    #[test]
    fn links_keep_their_target_text() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("l");
        extract_link(&mut &b"../../../etc/shadow"[..], &p, "t").unwrap();
        assert_eq!(
            std::fs::read_link(&p).unwrap(),
            Path::new("../../../etc/shadow")
        );
        let q = t.path().join("q");
        copy_link(&p, &q).unwrap();
        assert_eq!(
            std::fs::read_link(&q).unwrap(),
            Path::new("../../../etc/shadow")
        );
        assert!(extract_link(&mut &b"a\0b"[..], &t.path().join("n"), "t").is_err());
        assert!(extract_link(&mut &b""[..], &t.path().join("e"), "t").is_err());
        assert!(
            is_link_mode(Some(0o120777)) && !is_link_mode(Some(0o100644)) && !is_link_mode(None)
        );
    }
}
