//! The catalog of Lambda runtimes this host can run, detected once at start.
//!
//! Interpreters come from the host: explicit `runtimes.<id>` config entries first, then PATH,
//! `/usr/bin`, `/usr/local/bin` and pyenv installs. Shims and symlinks are resolved to the
//! real binary (a pyenv shim is a shell script and cannot be mounted into a sandbox), and
//! only ELF executables are accepted. `provided*` runtimes need no interpreter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Python minor versions lambdabox serves.
pub const PYTHON_MINORS: &[u32] = &[9, 10, 11, 12, 13];
/// Node major versions lambdabox serves.
pub const NODE_MAJORS: &[u32] = &[18, 20, 22];
/// Custom runtimes (the function brings its own `bootstrap`).
pub const PROVIDED: &[&str] = &["provided", "provided.al2", "provided.al2023"];

/// One runtime this host can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// Lambda runtime id, e.g. `python3.12`.
    pub id: String,
    /// The real interpreter binary (None for `provided*`).
    pub interpreter: Option<PathBuf>,
    /// Installation prefix holding the interpreter's libraries (e.g. `/usr`).
    pub prefix: Option<PathBuf>,
    /// Where it was found: `config`, `path`, `pyenv`, `builtin`.
    pub source: &'static str,
}

/// The detected runtimes, by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    runtimes: BTreeMap<String, RuntimeInfo>,
}

impl Catalog {
    /// Detects runtimes; `explicit` are the config's `runtimes.<id>` entries.
    pub fn detect(explicit: &BTreeMap<String, PathBuf>) -> Catalog {
        let mut runtimes = BTreeMap::new();
        for (id, path) in explicit {
            match real_binary(path) {
                Some(real) => {
                    runtimes.insert(id.clone(), info(id, real, "config"));
                }
                None => {
                    tracing::warn!(runtime = %id, path = %path.display(), "configured interpreter is not an executable ELF binary; ignored")
                }
            }
        }
        let path_dirs = search_dirs();
        for minor in PYTHON_MINORS {
            let id = format!("python3.{minor}");
            if runtimes.contains_key(&id) {
                continue;
            }
            let name = format!("python3.{minor}");
            let found = find_in(&path_dirs, &name)
                .map(|p| (p, "path"))
                .or_else(|| find_pyenv(*minor).map(|p| (p, "pyenv")));
            if let Some((p, source)) = found {
                runtimes.insert(id.clone(), info(&id, p, source));
            }
        }
        if let Some(node) = find_in(&path_dirs, "node") {
            if let Some(major) = node_major(&node) {
                let id = format!("nodejs{major}.x");
                if NODE_MAJORS.contains(&major) && !runtimes.contains_key(&id) {
                    runtimes.insert(id.clone(), info(&id, node, "path"));
                }
            }
        }
        for id in PROVIDED {
            runtimes.insert(
                (*id).to_string(),
                RuntimeInfo {
                    id: (*id).to_string(),
                    interpreter: None,
                    prefix: None,
                    source: "builtin",
                },
            );
        }
        Catalog { runtimes }
    }

    /// A catalog with exactly these runtimes (for tests).
    pub fn from_list(list: Vec<RuntimeInfo>) -> Catalog {
        Catalog {
            runtimes: list.into_iter().map(|r| (r.id.clone(), r)).collect(),
        }
    }

    /// Runtime ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.runtimes.keys().cloned().collect()
    }

    /// One runtime.
    pub fn get(&self, id: &str) -> Option<&RuntimeInfo> {
        self.runtimes.get(id)
    }

    /// Every runtime.
    pub fn all(&self) -> impl Iterator<Item = &RuntimeInfo> {
        self.runtimes.values()
    }
}

fn info(id: &str, interpreter: PathBuf, source: &'static str) -> RuntimeInfo {
    let prefix = interpreter
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    RuntimeInfo {
        id: id.to_string(),
        interpreter: Some(interpreter),
        prefix,
        source,
    }
}

fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in ["/usr/local/bin", "/usr/bin", "/bin"] {
        let d = PathBuf::from(d);
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().find_map(|d| real_binary(&d.join(name)))
}

/// Resolves symlinks and accepts only executable ELF files (not shims or scripts).
pub fn real_binary(path: &Path) -> Option<PathBuf> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return None;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(&real)
        .ok()?
        .read_exact(&mut magic)
        .ok()?;
    (magic == *b"\x7fELF").then_some(real)
}

fn pyenv_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(r) = std::env::var_os("PYENV_ROOT") {
        roots.push(PathBuf::from(r));
    }
    if let Some(h) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(h).join(".pyenv"));
    }
    roots.push(PathBuf::from("/root/.pyenv"));
    roots.push(PathBuf::from("/opt/pyenv"));
    roots
}

fn find_pyenv(minor: u32) -> Option<PathBuf> {
    let prefix = format!("3.{minor}.");
    for root in pyenv_roots() {
        let Ok(entries) = std::fs::read_dir(root.join("versions")) else {
            continue;
        };
        let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let patch = name.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((vec![patch], e.path()))
            })
            .collect();
        versions.sort();
        if let Some((_, dir)) = versions.last() {
            if let Some(bin) = real_binary(&dir.join("bin").join(format!("python3.{minor}"))) {
                return Some(bin);
            }
        }
    }
    None
}

fn node_major(node: &Path) -> Option<u32> {
    let out = Command::new(node).arg("--version").output().ok()?;
    let v = String::from_utf8_lossy(&out.stdout);
    v.trim().strip_prefix('v')?.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_is_always_there() {
        let c = Catalog::detect(&BTreeMap::new());
        for id in PROVIDED {
            assert!(c.get(id).is_some());
        }
    }

    #[test]
    fn scripts_are_not_interpreters() {
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3.12");
        std::fs::write(&shim, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(real_binary(&shim), None);
        let mut explicit = BTreeMap::new();
        explicit.insert("python3.12".to_string(), shim);
        let c = Catalog::detect(&explicit);
        if let Some(r) = c.get("python3.12") {
            assert_ne!(r.source, "config");
        }
    }

    #[test]
    fn finds_this_hosts_python() {
        // Debian's python3.11 is on every lambdabox development and CI machine.
        let c = Catalog::detect(&BTreeMap::new());
        let py = c.get("python3.11").expect("python3.11 detected");
        let interp = py.interpreter.as_ref().unwrap();
        assert!(interp.is_absolute());
        assert!(real_binary(interp).is_some());
    }
}
