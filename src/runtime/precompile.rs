//! Byte-compiling the embedded python client for the host's interpreters.
//!
//! Python compiles the script it is started with at every start, but loads an imported
//! module's cached bytecode from `__pycache__` when that is fresh. The sandbox mounts the
//! clients read-only, so an interpreter inside it cannot write that cache: before this step
//! every cold start of a python function compiled the whole client (≈ 6 ms of CPU on a quiet
//! machine, more than the rest of the client's start-up). `bootstrap.py` is therefore a
//! three-line script that imports `_lambdabox_bootstrap`, and [`precompile_python`] runs each
//! host python once with `py_compile` (which writes
//! `__pycache__/_lambdabox_bootstrap.<tag>.pyc` atomically) when that file is missing or
//! stale. Best effort: a failure only means the slower start of before, never a wrong one
//! (python checks the cached file's source mtime and size itself and ignores a stale one).
//!
//! The bytecode records the source path the sandbox sees (`/var/runtime/python/…`, py_compile's
//! `dfile`), never the host path: a traceback inside shows the same path as before, and the data
//! dir's location stays unknown to function code (the host-facts attack test checks it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The python client module, relative to the runtime directory.
pub const PYTHON_MODULE: &str = "python/_lambdabox_bootstrap.py";

/// What [`precompile_python`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Interpreters that wrote the cache.
    pub compiled: usize,
    /// Interpreters whose cache was already fresh.
    pub fresh: usize,
    /// `interpreter: why` for each one that failed.
    pub errors: Vec<String>,
}

/// Byte-compiles `<dir>/python/_lambdabox_bootstrap.py` for each interpreter (path and, when
/// known, its version such as `3.11.2`) whose cache file is missing or stale. Blocking: it
/// runs the interpreters (call it off the request path).
pub fn precompile_python(dir: &Path, interpreters: &[(PathBuf, Option<String>)]) -> Report {
    let source = dir.join(PYTHON_MODULE);
    let mut report = Report::default();
    let mut seen: Vec<&Path> = Vec::new();
    for (interpreter, version) in interpreters {
        if seen.contains(&interpreter.as_path()) {
            continue;
        }
        seen.push(interpreter);
        if version
            .as_deref()
            .and_then(|v| cache_file(dir, v))
            .is_some_and(|pyc| is_fresh(&pyc, &source))
        {
            report.fresh += 1;
            continue;
        }
        match compile(interpreter, &source) {
            Ok(()) => report.compiled += 1,
            Err(e) => report
                .errors
                .push(format!("{}: {e}", interpreter.display())),
        }
    }
    report
}

/// Where CPython `version` (`3.11.2`) keeps the module's bytecode.
pub fn cache_file(dir: &Path, version: &str) -> Option<PathBuf> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse::<u32>().ok()?;
    let minor = parts.next()?.parse::<u32>().ok()?;
    Some(
        dir.join("python/__pycache__")
            .join(format!("_lambdabox_bootstrap.cpython-{major}{minor}.pyc")),
    )
}

/// True when `pyc` is a timestamp-checked cache of `source` as it is now (the check python
/// itself makes: PEP 552 flags 0, then the source's mtime and size, little-endian u32s).
pub fn is_fresh(pyc: &Path, source: &Path) -> bool {
    let (Ok(header), Ok(meta)) = (fs::read(pyc), fs::metadata(source)) else {
        return false;
    };
    let Some(head) = header.get(..16) else {
        return false;
    };
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as u32);
    word(4) == 0 && Some(word(8)) == mtime && word(12) == meta.len() as u32
}

fn compile(interpreter: &Path, source: &Path) -> Result<(), String> {
    let out = Command::new(interpreter)
        .args([
            "-I",
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], dfile=sys.argv[2], doraise=True)",
        ])
        .arg(source)
        .arg(format!("{}/{PYTHON_MODULE}", super::command::RUNTIME_DIR))
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{} ({})",
            out.status,
            err.lines().next_back().unwrap_or("no output")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_file_names_follow_the_cpython_tag() {
        let dir = Path::new("/r");
        assert_eq!(
            cache_file(dir, "3.11.2"),
            Some(PathBuf::from(
                "/r/python/__pycache__/_lambdabox_bootstrap.cpython-311.pyc"
            ))
        );
        assert_eq!(
            cache_file(dir, "3.13.0rc1").map(|p| p.display().to_string()),
            Some("/r/python/__pycache__/_lambdabox_bootstrap.cpython-313.pyc".into())
        );
        assert_eq!(cache_file(dir, "weird"), None);
    }

    #[test]
    fn compiles_once_then_finds_the_cache_fresh() {
        let python = Path::new("/usr/bin/python3");
        let Some(version) = Command::new(python)
            .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        else {
            println!("SKIP: no /usr/bin/python3");
            return;
        };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        crate::runtime::install_clients(dir.path()).unwrap_or_else(|e| panic!("install: {e}"));
        let interpreters = vec![
            (python.to_path_buf(), Some(version.clone())),
            (python.to_path_buf(), Some(version.clone())),
        ];
        let first = precompile_python(dir.path(), &interpreters);
        assert_eq!(
            first,
            Report {
                compiled: 1,
                fresh: 0,
                errors: vec![]
            }
        );
        let pyc = cache_file(dir.path(), &version).unwrap_or_default();
        assert!(is_fresh(&pyc, &dir.path().join(PYTHON_MODULE)), "{pyc:?}");
        // The bytecode names the path inside the sandbox, never the host directory.
        let code = fs::read(&pyc).unwrap_or_default();
        let has = |needle: &[u8]| code.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"/var/runtime/python/_lambdabox_bootstrap.py"));
        assert!(!has(dir.path().to_string_lossy().as_bytes()));
        let second = precompile_python(dir.path(), &interpreters);
        assert_eq!(
            second,
            Report {
                compiled: 0,
                fresh: 1,
                errors: vec![]
            }
        );
        // A changed source makes the cache stale (python would ignore it; so do we).
        let source = dir.path().join(PYTHON_MODULE);
        let mut text = fs::read(&source).unwrap_or_default();
        text.extend_from_slice(b"\n# changed\n");
        fs::write(&source, text).unwrap_or_else(|e| panic!("write: {e}"));
        assert!(!is_fresh(&pyc, &source));
        let missing =
            precompile_python(dir.path(), &[(PathBuf::from("/nonexistent/python3"), None)]);
        assert_eq!(missing.compiled, 0);
        assert_eq!(missing.errors.len(), 1, "{missing:?}");
    }
}
