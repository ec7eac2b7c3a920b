//! The runtime clients embedded in the binary, and their installation into a directory that the
//! sandbox bind-mounts read-only at `/var/runtime`.
//!
//! Layout written: `<dir>/python/bootstrap.py` (which imports `<dir>/python/_lambdabox_bootstrap.py`,
//! byte-compiled by [`super::precompile`]), `<dir>/node/index.mjs`,
//! `<dir>/ruby/bootstrap.rb` and `<dir>/java/lambdabox-java-runtime.jar` (compiled from
//! `clients/java` by build.rs; absent when the build host had no JDK). Installation is
//! idempotent: a file whose content already matches is left alone; otherwise it is written to a
//! temporary name and renamed over, so a running environment never sees a half-written client.

use std::fs;
use std::path::Path;

use super::RuntimeError;

include!(concat!(env!("OUT_DIR"), "/java_client.rs"));

/// The Java client inside the runtime directory.
pub const JAVA_JAR: &str = "java/lambdabox-java-runtime.jar";

/// Every embedded client file: path relative to the runtime directory, content.
pub const FILES: &[(&str, &[u8])] = &[
    (
        "python/bootstrap.py",
        include_bytes!("clients/python/bootstrap.py"),
    ),
    (
        "python/_lambdabox_bootstrap.py",
        include_bytes!("clients/python/_lambdabox_bootstrap.py"),
    ),
    ("node/index.mjs", include_bytes!("clients/node/index.mjs")),
    (
        "ruby/bootstrap.rb",
        include_bytes!("clients/ruby/bootstrap.rb"),
    ),
    (JAVA_JAR, JAVA_CLIENT_JAR),
];

/// Writes the embedded clients under `dir` (created if missing).
pub fn install_clients(dir: &Path) -> Result<(), RuntimeError> {
    for (rel, content) in FILES {
        if content.is_empty() {
            continue; // the Java client when the build had no JDK
        }
        let path = dir.join(rel);
        if fs::read(&path).is_ok_and(|old| old == *content) {
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
        assert!(py.contains("import _lambdabox_bootstrap"));
        let py = fs::read_to_string(dir.path().join("python/_lambdabox_bootstrap.py"))
            .unwrap_or_default();
        assert!(py.contains("AWS_LAMBDA_RUNTIME_API"));
        assert!(dir.path().join("node/index.mjs").exists());
        assert!(dir.path().join("ruby/bootstrap.rb").exists());
        // Every lambdabox build host has a JDK (tests/run installs one): the jar is a zip.
        assert!(
            std::hint::black_box(JAVA_CLIENT_BUILT),
            "built without the Java client"
        );
        let jar = fs::read(dir.path().join(JAVA_JAR)).unwrap_or_default();
        assert!(jar.starts_with(b"PK"), "jar missing or not a zip");
    }
}
