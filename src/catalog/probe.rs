//! Finding interpreters on the host and asking them their version.
//!
//! Only real ELF executables are accepted (a pyenv shim is a shell script and cannot be
//! mounted into a sandbox); symlinks (Debian's alternatives) are resolved to the real binary.
//! Versions come from the cheapest reliable source: a JDK's `release` file, else the
//! interpreter's own `--version`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// PATH plus the standard binary directories.
pub fn search_dirs() -> Vec<PathBuf> {
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

/// The first `name` in `dirs` that is a real executable.
pub fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
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

/// The newest pyenv install of python 3.`minor`.
pub fn find_pyenv(minor: u32) -> Option<PathBuf> {
    let prefix = format!("3.{minor}.");
    for root in pyenv_roots() {
        let Ok(entries) = std::fs::read_dir(root.join("versions")) else {
            continue;
        };
        let mut versions: Vec<(u32, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let patch = name.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((patch, e.path()))
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

fn run_version(bin: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(bin).args(args).output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some(text)
}

/// `v20.20.2` → `20.20.2`.
pub fn node_version(node: &Path) -> Option<String> {
    let v = run_version(node, &["--version"])?;
    let v = v.trim().strip_prefix('v')?;
    v.split('.').next()?.parse::<u32>().ok()?;
    Some(v.to_string())
}

/// Candidate node binaries: `node`, `nodeNN`, `node-NN` on the search path, and nvm installs.
pub fn node_candidates(dirs: &[PathBuf], majors: &[u32]) -> Vec<PathBuf> {
    let mut names = vec!["node".to_string()];
    for m in majors {
        names.push(format!("node{m}"));
        names.push(format!("node-{m}"));
    }
    let mut out: Vec<PathBuf> = names.iter().filter_map(|n| find_in(dirs, n)).collect();
    let mut nvm_roots = Vec::new();
    if let Some(d) = std::env::var_os("NVM_DIR") {
        nvm_roots.push(PathBuf::from(d));
    }
    if let Some(h) = std::env::var_os("HOME") {
        nvm_roots.push(PathBuf::from(h).join(".nvm"));
    }
    nvm_roots.push(PathBuf::from("/usr/local/nvm"));
    for root in nvm_roots {
        if let Ok(entries) = std::fs::read_dir(root.join("versions/node")) {
            let mut v: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            v.sort();
            v.reverse(); // newest patch of each major first
            out.extend(v.iter().filter_map(|d| real_binary(&d.join("bin/node"))));
        }
    }
    dedup(out)
}

/// Candidate java binaries: `$JAVA_HOME`, every JVM under `/usr/lib/jvm`, then PATH.
pub fn java_candidates(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(h) = std::env::var_os("JAVA_HOME") {
        out.extend(real_binary(&PathBuf::from(h).join("bin/java")));
    }
    for root in ["/usr/lib/jvm", "/opt/java"] {
        if let Ok(entries) = std::fs::read_dir(root) {
            let mut homes: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            homes.sort();
            out.extend(
                homes
                    .iter()
                    .filter_map(|h| real_binary(&h.join("bin/java"))),
            );
        }
    }
    out.extend(find_in(dirs, "java"));
    dedup(out)
}

/// The Java version of `java` (e.g. `17.0.15`, `1.8.0_392`): its home's `release` file,
/// else `java -version`.
pub fn java_version(java: &Path) -> Option<String> {
    let home = java.parent()?.parent()?;
    if let Ok(text) = std::fs::read_to_string(home.join("release")) {
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("JAVA_VERSION=") {
                return Some(v.trim_matches('"').to_string());
            }
        }
    }
    let out = run_version(java, &["-version"])?;
    let start = out.find('"')? + 1;
    let end = out[start..].find('"')? + start;
    Some(out[start..end].to_string())
}

/// `1.8.0_392` → 8, `17.0.15` → 17, `25` → 25.
pub fn java_major(version: &str) -> Option<u32> {
    let mut parts = version.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        return parts.next()?.parse().ok();
    }
    Some(first)
}

/// Candidate ruby binaries: `ruby`, `ruby3.N` on the search path, and rbenv installs.
pub fn ruby_candidates(dirs: &[PathBuf], minors: &[u32]) -> Vec<PathBuf> {
    let mut names = vec!["ruby".to_string()];
    names.extend(minors.iter().map(|m| format!("ruby3.{m}")));
    let mut out: Vec<PathBuf> = names.iter().filter_map(|n| find_in(dirs, n)).collect();
    if let Some(h) = std::env::var_os("HOME") {
        if let Ok(entries) = std::fs::read_dir(PathBuf::from(h).join(".rbenv/versions")) {
            let mut v: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            v.sort();
            v.reverse();
            out.extend(v.iter().filter_map(|d| real_binary(&d.join("bin/ruby"))));
        }
    }
    dedup(out)
}

/// `ruby 3.1.2p20 (2022-04-12 …)` → `3.1.2`.
pub fn ruby_version(ruby: &Path) -> Option<String> {
    let out = run_version(ruby, &["--version"])?;
    let v = out.trim().strip_prefix("ruby ")?;
    let v: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.split('.').count() >= 2).then_some(v)
}

/// `3.1.2` → `(3, 1)`; also `20.20.2` → `(20, 20)`.
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut it = version.split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next().unwrap_or("0").parse().ok()?;
    Some((a, b))
}

/// Directories under `/etc` that files of the installation `home` link to (Debian's JDK keeps
/// its `conf/` and `lib/jvm.cfg` in `/etc/java-17-openjdk`): the sandbox must bind them, or the
/// interpreter cannot start. Directories every sandbox already has are left out.
pub fn etc_links(home: &Path) -> Vec<PathBuf> {
    let mut found = BTreeSet::new();
    walk_links(home, 0, &mut found);
    found.into_iter().collect()
}

const ETC_ALREADY_BOUND: &[&str] = &["ssl", "ca-certificates", "alternatives", "pki"];

fn walk_links(dir: &Path, depth: usize, found: &mut BTreeSet<PathBuf>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            walk_links(&e.path(), depth + 1, found);
        } else if kind.is_symlink() {
            let Ok(target) = std::fs::read_link(e.path()) else {
                continue;
            };
            let mut comps = target.components();
            let root = comps.next();
            let etc = comps.next();
            let top = comps.next();
            if root == Some(std::path::Component::RootDir)
                && etc.is_some_and(|c| c.as_os_str() == "etc")
            {
                if let Some(std::path::Component::Normal(top)) = top {
                    let name = top.to_string_lossy();
                    let dir = Path::new("/etc").join(top);
                    if !ETC_ALREADY_BOUND.contains(&name.as_ref()) && dir.is_dir() {
                        found.insert(dir);
                    }
                }
            }
        }
    }
}

fn dedup(list: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    list.into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_parse() {
        assert_eq!(java_major("1.8.0_392"), Some(8));
        assert_eq!(java_major("17.0.15"), Some(17));
        assert_eq!(java_major("25"), Some(25));
        assert_eq!(java_major("21.0.1+12"), Some(21));
        assert_eq!(major_minor("3.1.2"), Some((3, 1)));
    }

    #[test]
    fn finds_etc_links_but_not_already_bound_ones() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("lib/security")).unwrap();
        std::os::unix::fs::symlink("/etc/ssl/certs/x", t.path().join("lib/security/cacerts"))
            .unwrap();
        std::os::unix::fs::symlink("/etc/apt/sources.list", t.path().join("lib/x")).unwrap();
        std::os::unix::fs::symlink("/etc/does-not-exist/y", t.path().join("lib/y")).unwrap();
        assert_eq!(etc_links(t.path()), vec![PathBuf::from("/etc/apt")]);
    }

    #[test]
    fn scripts_are_not_interpreters() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3.12");
        std::fs::write(&shim, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(real_binary(&shim), None);
    }
}
