//! The catalog of Lambda runtimes this host can run, detected once at start.
//!
//! - [`table`]: every runtime id of AWS's runtime table, what serves it, what to install when
//!   it is missing, and AWS's deprecation dates.
//! - [`probe`]: finding interpreters (PATH, `/usr/bin`, `/usr/local/bin`, pyenv, nvm, rbenv,
//!   `/usr/lib/jvm`) and asking their versions.
//!
//! Explicit `runtimes.<id>` config entries come first and may map any interpreter of the right
//! language to an id (Debian 12's ruby 3.1 for `ruby3.2`, say): the admin's choice is kept,
//! and the version it really runs is shown beside it. Only ELF executables are accepted.
//! `provided*` runtimes need no interpreter.

pub mod probe;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::domain::{validate, Error};
pub use probe::real_binary;
use probe::{find_in, search_dirs};
use table::{Family, RUNTIMES};

/// Python minor versions lambdabox serves.
pub const PYTHON_MINORS: &[u32] = &[9, 10, 11, 12, 13, 14];
/// Node major versions lambdabox serves.
pub const NODE_MAJORS: &[u32] = &[18, 20, 22, 24];
/// Java major versions lambdabox serves (`java8.al2`, `java11`, …).
pub const JAVA_MAJORS: &[u32] = &[8, 11, 17, 21, 25];
/// Ruby 3.x minor versions lambdabox serves.
pub const RUBY_MINORS: &[u32] = &[2, 3, 4];
/// Custom runtimes (the function brings its own `bootstrap`).
pub const PROVIDED: &[&str] = &["provided", "provided.al2", "provided.al2023"];

/// One runtime this host can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// Lambda runtime id, e.g. `python3.12`.
    pub id: String,
    /// The real interpreter binary (None for `provided*`).
    pub interpreter: Option<PathBuf>,
    /// Installation prefix holding the interpreter's libraries (e.g. `/usr`, a JDK home).
    pub prefix: Option<PathBuf>,
    /// Where it was found: `config`, `path`, `pyenv`, `nvm`, `jvm`, `builtin`.
    pub source: &'static str,
    /// The interpreter's own version (`3.11.2`, `17.0.15`), when known.
    pub version: Option<String>,
    /// Host directories outside `/usr` the installation needs (bound read-only).
    pub host_paths: Vec<PathBuf>,
}

impl RuntimeInfo {
    /// A runtime served by `interpreter` (its prefix is the directory above `bin/`).
    pub fn new(id: &str, interpreter: PathBuf, source: &'static str) -> RuntimeInfo {
        let prefix = interpreter
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        RuntimeInfo {
            id: id.to_string(),
            interpreter: Some(interpreter),
            prefix,
            source,
            version: None,
            host_paths: Vec::new(),
        }
    }

    fn builtin(id: &str) -> RuntimeInfo {
        RuntimeInfo {
            id: id.to_string(),
            interpreter: None,
            prefix: None,
            source: "builtin",
            version: None,
            host_paths: Vec::new(),
        }
    }
}

/// Whether the host serves a runtime id, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability<'a> {
    Available(&'a RuntimeInfo),
    /// Not here; what to install (and what detection noticed, e.g. a ruby of another version).
    Missing(String),
}

/// The detected runtimes, by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    runtimes: BTreeMap<String, RuntimeInfo>,
    /// Per missing id, what detection found that is relevant (appended to the install hint).
    notes: BTreeMap<String, String>,
}

impl Catalog {
    /// Detects runtimes; `explicit` are the config's `runtimes.<id>` entries.
    pub fn detect(explicit: &BTreeMap<String, PathBuf>) -> Catalog {
        let mut c = Catalog::default();
        for (id, path) in explicit {
            c.add_explicit(id, path);
        }
        let dirs = search_dirs();
        c.detect_python(&dirs);
        c.detect_node(&dirs);
        c.detect_java(&dirs);
        c.detect_ruby(&dirs);
        if let Some(dotnet) = find_in(&dirs, "dotnet") {
            for id in ["dotnet8", "dotnet10"] {
                c.note(
                    id,
                    format!(
                        "a .NET host exists at {}, but lambdabox carries no .NET runtime client",
                        dotnet.display()
                    ),
                );
            }
        }
        for id in PROVIDED {
            c.runtimes
                .insert((*id).to_string(), RuntimeInfo::builtin(id));
        }
        c
    }

    /// A catalog with exactly these runtimes (for tests).
    pub fn from_list(list: Vec<RuntimeInfo>) -> Catalog {
        Catalog {
            runtimes: list.into_iter().map(|r| (r.id.clone(), r)).collect(),
            notes: BTreeMap::new(),
        }
    }

    /// Runtime ids this host runs, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.runtimes.keys().cloned().collect()
    }

    /// One runtime.
    pub fn get(&self, id: &str) -> Option<&RuntimeInfo> {
        self.runtimes.get(id)
    }

    /// Every runtime this host runs.
    pub fn all(&self) -> impl Iterator<Item = &RuntimeInfo> {
        self.runtimes.values()
    }

    /// Every id of AWS's table with whether this host serves it.
    pub fn table(&self) -> Vec<(&'static table::Spec, Availability<'_>)> {
        RUNTIMES
            .iter()
            .map(|s| (s, self.availability(s.id)))
            .collect()
    }

    /// Whether `id` is served here, or what to install for it.
    pub fn availability(&self, id: &str) -> Availability<'_> {
        if let Some(r) = self.runtimes.get(id) {
            return Availability::Available(r);
        }
        let install = table::spec(id).map_or("nothing lambdabox serves", |s| s.install);
        match self.notes.get(id) {
            Some(n) => Availability::Missing(format!("{install}; {n}")),
            None => Availability::Missing(install.to_string()),
        }
    }

    /// CreateFunction/UpdateFunctionConfiguration's check: a Lambda runtime id (AWS's enum),
    /// and one this host serves — else what to install, in the error message.
    pub fn check(&self, id: &str) -> Result<(), Error> {
        validate::known_runtime(id)?;
        if let Availability::Missing(install) = self.availability(id) {
            let here = self.ids();
            return Err(Error::InvalidParameterValue(format!(
                "The runtime parameter of {id} is not supported on this lambdabox host. It needs {install}. Runtimes available here: {}. Install the interpreter or set runtimes.\"{id}\" in the config.",
                if here.is_empty() { "none".to_string() } else { here.join(", ") }
            )));
        }
        Ok(())
    }

    /// `lambdabox runtimes`: every id of AWS's table, whether this host serves it (and with
    /// what) or what to install, and AWS's dates. `today` is `YYYY-MM-DD`.
    pub fn listing(&self, today: &str) -> String {
        let mut out =
            String::from("RUNTIME           STATUS       INTERPRETER, OR WHAT TO INSTALL\n");
        for (spec, avail) in self.table() {
            let (status, detail) = match (&avail, spec.family) {
                (Availability::Available(r), _) => ("available", describe(r)),
                (Availability::Missing(_), Family::Retired) => {
                    ("retired", spec.install.to_string())
                }
                (Availability::Missing(install), _) => ("missing", install.clone()),
            };
            out.push_str(&format!("{:<17} {:<12} {detail}\n", spec.id, status));
            if let Some(d) = spec.deprecation {
                let word = if spec.deprecated_on(today) {
                    "deprecated"
                } else {
                    "deprecation"
                };
                out.push_str(&format!(
                    "{:<30} AWS {word} {d}, blocks create {}, update {}\n",
                    "",
                    spec.block_create.unwrap_or("-"),
                    spec.block_update.unwrap_or("-")
                ));
            }
        }
        out
    }

    fn note(&mut self, id: &str, text: String) {
        self.notes.entry(id.to_string()).or_insert(text);
    }

    fn add_explicit(&mut self, id: &str, path: &Path) {
        let Some(real) = real_binary(path) else {
            tracing::warn!(runtime = %id, path = %path.display(), "configured interpreter is not an executable ELF binary; ignored");
            return;
        };
        let mut info = RuntimeInfo::new(id, real.clone(), "config");
        match table::Spec::family_of(id) {
            Some(Family::Java(want)) => {
                info.version = probe::java_version(&real);
                if let Some(v) = &info.version {
                    if probe::java_major(v) != Some(want) {
                        tracing::warn!(runtime = %id, version = %v, "configured Java is another major version; used as configured");
                    }
                }
                info.host_paths = java_home(&real)
                    .map(|h| probe::etc_links(&h))
                    .unwrap_or_default();
                if !crate::runtime::clients::JAVA_CLIENT_BUILT {
                    self.note(id, java_not_built());
                    return;
                }
            }
            Some(Family::Ruby(want)) => {
                info.version = probe::ruby_version(&real);
                if let Some(v) = &info.version {
                    if probe::major_minor(v) != Some((3, want)) {
                        tracing::warn!(runtime = %id, version = %v, "configured ruby is another version; used as configured (gems built for {id} may not load)");
                    }
                }
            }
            Some(Family::Node(_)) => info.version = probe::node_version(&real),
            Some(Family::Dotnet(_) | Family::Retired) => {
                tracing::warn!(runtime = %id, "lambdabox has no runtime client for {id}; configured interpreter ignored");
                return;
            }
            _ => {}
        }
        self.runtimes.insert(id.to_string(), info);
    }

    fn detect_python(&mut self, dirs: &[PathBuf]) {
        for minor in PYTHON_MINORS {
            let id = format!("python3.{minor}");
            if self.runtimes.contains_key(&id) {
                continue;
            }
            let found = find_in(dirs, &id)
                .map(|p| (p, "path"))
                .or_else(|| probe::find_pyenv(*minor).map(|p| (p, "pyenv")));
            if let Some((p, source)) = found {
                self.runtimes
                    .insert(id.clone(), RuntimeInfo::new(&id, p, source));
            }
        }
    }

    fn detect_node(&mut self, dirs: &[PathBuf]) {
        for node in probe::node_candidates(dirs, NODE_MAJORS) {
            let Some(version) = probe::node_version(&node) else {
                continue;
            };
            let Some((major, _)) = probe::major_minor(&version) else {
                continue;
            };
            let id = format!("nodejs{major}.x");
            if NODE_MAJORS.contains(&major) && !self.runtimes.contains_key(&id) {
                let source = if node.to_string_lossy().contains("/.nvm/") {
                    "nvm"
                } else {
                    "path"
                };
                let mut info = RuntimeInfo::new(&id, node, source);
                info.version = Some(version);
                self.runtimes.insert(id, info);
            }
        }
    }

    fn detect_java(&mut self, dirs: &[PathBuf]) {
        let built = crate::runtime::clients::JAVA_CLIENT_BUILT;
        for java in probe::java_candidates(dirs) {
            let Some(version) = probe::java_version(&java) else {
                continue;
            };
            let Some(major) = probe::java_major(&version) else {
                continue;
            };
            let id = java_id(major);
            if !JAVA_MAJORS.contains(&major) || self.runtimes.contains_key(&id) {
                continue;
            }
            if !built {
                self.note(&id, java_not_built());
                continue;
            }
            let mut info = RuntimeInfo::new(&id, java.clone(), "jvm");
            info.version = Some(version);
            info.host_paths = java_home(&java)
                .map(|h| probe::etc_links(&h))
                .unwrap_or_default();
            self.runtimes.insert(id, info);
        }
    }

    fn detect_ruby(&mut self, dirs: &[PathBuf]) {
        for ruby in probe::ruby_candidates(dirs, &[1, 2, 3, 4, 5]) {
            let Some(version) = probe::ruby_version(&ruby) else {
                continue;
            };
            let Some((3, minor)) = probe::major_minor(&version) else {
                continue;
            };
            let id = format!("ruby3.{minor}");
            if RUBY_MINORS.contains(&minor) {
                self.runtimes.entry(id.clone()).or_insert_with(|| {
                    let mut info = RuntimeInfo::new(&id, ruby, "path");
                    info.version = Some(version);
                    info
                });
                continue;
            }
            // A ruby of a version AWS has no runtime for (Debian 12's 3.1): say how to map it.
            for m in RUBY_MINORS {
                self.note(
                    &format!("ruby3.{m}"),
                    format!(
                        "this host has ruby {version} at {}, which an admin may map explicitly: runtimes.\"ruby3.{m}\" = \"{}\"",
                        ruby.display(),
                        ruby.display()
                    ),
                );
            }
        }
    }
}

fn describe(r: &RuntimeInfo) -> String {
    match &r.interpreter {
        None => "the function's own bootstrap".into(),
        Some(p) => {
            let mut d = p.display().to_string();
            match &r.version {
                Some(v) => d.push_str(&format!(" ({v}, {})", r.source)),
                None => d.push_str(&format!(" ({})", r.source)),
            }
            d
        }
    }
}

/// `8` → `java8.al2`, `21` → `java21`.
pub fn java_id(major: u32) -> String {
    if major == 8 {
        "java8.al2".into()
    } else {
        format!("java{major}")
    }
}

fn java_home(java: &Path) -> Option<PathBuf> {
    java.parent()?.parent().map(Path::to_path_buf)
}

fn java_not_built() -> String {
    "this lambdabox binary was built without a JDK (javac), so it carries no Java runtime client: rebuild it with openjdk-17-jdk-headless installed".into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3.12");
        std::fs::write(&shim, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut explicit = BTreeMap::new();
        explicit.insert("python3.12".to_string(), shim);
        let c = Catalog::detect(&explicit);
        if let Some(r) = c.get("python3.12") {
            assert_ne!(r.source, "config");
        }
    }

    #[test]
    fn finds_this_hosts_python_and_java() {
        // Debian's python3.11 and openjdk 17 are on every lambdabox development and CI machine.
        let c = Catalog::detect(&BTreeMap::new());
        let py = c.get("python3.11").expect("python3.11 detected");
        let interp = py.interpreter.as_ref().unwrap();
        assert!(interp.is_absolute());
        assert!(real_binary(interp).is_some());
        let java = c.get("java17").expect("java17 detected");
        assert!(java.version.as_deref().unwrap().starts_with("17"));
        assert!(
            java.host_paths
                .iter()
                .any(|p| p.starts_with("/etc/java-17-openjdk")),
            "Debian's JDK links its conf into /etc: {:?}",
            java.host_paths
        );
    }

    #[test]
    fn missing_runtimes_name_what_to_install() {
        let c = Catalog::from_list(vec![RuntimeInfo::builtin("provided.al2023")]);
        let e = c.check("java21").unwrap_err().to_string();
        assert!(e.contains("openjdk-21-jre-headless"), "{e}");
        assert!(e.contains("provided.al2023"), "{e}");
        assert!(c.check("provided.al2023").is_ok());
        let e = c.check("cobol").unwrap_err().to_string();
        assert!(e.contains("Member must satisfy enum value set"), "{e}");
        let table = c.table();
        assert!(table.len() >= validate::KNOWN_RUNTIMES.len());
        assert!(matches!(
            c.availability("dotnet8"),
            Availability::Missing(s) if s.contains(".NET")
        ));
        let list = c.listing("2026-12-01");
        assert!(list.contains("provided.al2023   available"), "{list}");
        assert!(list.contains("go1.x             retired"), "{list}");
        assert!(list.contains("AWS deprecated 2025-12-15"), "{list}");
    }

    #[test]
    fn explicit_ruby_mapping_is_kept_with_its_real_version() {
        let dirs = search_dirs();
        let Some(ruby) = find_in(&dirs, "ruby") else {
            panic!("ruby is installed on every lambdabox development and CI machine (tests/run)");
        };
        let mut explicit = BTreeMap::new();
        explicit.insert("ruby3.2".to_string(), ruby.clone());
        let c = Catalog::detect(&explicit);
        let r = c.get("ruby3.2").expect("mapped");
        assert_eq!(r.source, "config");
        assert_eq!(r.interpreter.as_deref(), Some(ruby.as_path()));
        assert!(r.version.as_deref().is_some_and(|v| v.starts_with("3.")));
    }
}
