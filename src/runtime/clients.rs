//! The runtime clients embedded in the binary, and their installation into a directory that the
//! sandbox bind-mounts read-only at `/var/runtime`.
//!
//! Layout written: `<dir>/python/bootstrap.py`, `<dir>/node/index.mjs`. Installation is
//! idempotent: a file whose content already matches is left alone; otherwise it is written to a
//! temporary name and renamed over, so a running environment never sees a half-written client.

use std::fs;
use std::path::Path;

use super::RuntimeError;

/// Every embedded client file: path relative to the runtime directory, content.
pub const FILES: &[(&str, &str)] = &[
    (
        "python/bootstrap.py",
        include_str!("clients/python/bootstrap.py"),
    ),
    ("node/index.mjs", include_str!("clients/node/index.mjs")),
];

/// Writes the embedded clients under `dir` (created if missing).
pub fn install_clients(dir: &Path) -> Result<(), RuntimeError> {
    for (rel, content) in FILES {
        let path = dir.join(rel);
        if fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| RuntimeError::CreateDir(parent.to_path_buf(), e))?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, content).map_err(|e| RuntimeError::WriteFile(tmp.clone(), e))?;
        fs::rename(&tmp, &path).map_err(|e| RuntimeError::WriteFile(path.clone(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_idempotently() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        assert!(install_clients(dir.path()).is_ok());
        assert!(install_clients(dir.path()).is_ok());
        let py = fs::read_to_string(dir.path().join("python/bootstrap.py")).unwrap_or_default();
        assert!(py.contains("AWS_LAMBDA_RUNTIME_API"));
        assert!(dir.path().join("node/index.mjs").exists());
    }
}
