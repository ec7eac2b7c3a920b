//! What one execution environment should look like, and the checks a spec must pass before
//! any process is started. Pure data: no system calls here.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::network::EgressRule;
use super::SandboxError;

/// Paths inside the sandbox that the sandbox itself builds; a spec cannot mount over them.
const RESERVED: &[&str] = &["/proc", "/dev", "/tmp", "/sys", "/etc"];

/// One bind mount from the host into the sandbox (read-only unless `writable`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub host: PathBuf,
    pub inside: PathBuf,
    pub writable: bool,
}

impl Mount {
    /// A read-only bind mount.
    pub fn ro(host: impl Into<PathBuf>, inside: impl Into<PathBuf>) -> Mount {
        Mount {
            host: host.into(),
            inside: inside.into(),
            writable: false,
        }
    }
}

/// The VPC analog: which network an environment sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum NetworkPolicy {
    /// Its own network namespace with only loopback (the Runtime API lives there).
    #[default]
    None,
    /// The host's network; with `tcp_connect_ports`, landlock allows TCP connect only there.
    Host { tcp_connect_ports: Option<Vec<u16>> },
    /// AWS's default outside a VPC: its own namespace with NAT to the outside, never the host,
    /// the LAN or any private/link-local range except what `private_allow` lists (a VPC
    /// network); with `egress` (security groups), only the destinations those rules allow.
    /// DNS at 127.0.0.1:53, served by the daemon.
    Internet {
        private_allow: Vec<EgressRule>,
        egress: Option<Vec<EgressRule>>,
    },
}

impl NetworkPolicy {
    /// The default internet-only network (no VPC).
    pub fn internet() -> NetworkPolicy {
        NetworkPolicy::Internet {
            private_allow: Vec::new(),
            egress: None,
        }
    }

    /// True when the environment gets its own network namespace.
    pub fn own_namespace(&self) -> bool {
        !matches!(self, NetworkPolicy::Host { .. })
    }

    /// The per-environment rules of an internet environment that needs its own chain.
    pub fn filter(&self) -> Option<(&[EgressRule], Option<&[EgressRule]>)> {
        match self {
            NetworkPolicy::Internet {
                private_allow,
                egress,
            } if !private_allow.is_empty() || egress.is_some() => {
                Some((private_allow.as_slice(), egress.as_deref()))
            }
            _ => None,
        }
    }

    /// e.g. "internet", "none", "host".
    pub fn mode(&self) -> &'static str {
        match self {
            NetworkPolicy::None => "none",
            NetworkPolicy::Host { .. } => "host",
            NetworkPolicy::Internet { .. } => "internet",
        }
    }
}

/// Everything needed to start one execution environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvSpec {
    pub id: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: String,
    pub mounts: Vec<Mount>,
    pub memory_mb: u64,
    pub tmp_mb: u64,
    pub pids_max: u64,
    pub cpu_share_of_memory: bool,
    pub network: NetworkPolicy,
    /// Set `AWS_ENDPOINT_URL` to the Runtime API's address (where the daemon also serves the
    /// AWS APIs to this environment).
    #[serde(default)]
    pub aws_endpoint: bool,
}

impl EnvSpec {
    /// A spec with lambdabox's defaults (128 MB, 512 MB /tmp, 1024 pids, no network).
    pub fn new(id: impl Into<String>, argv: Vec<String>) -> EnvSpec {
        EnvSpec {
            id: id.into(),
            argv,
            env: Vec::new(),
            cwd: "/var/task".into(),
            mounts: Vec::new(),
            memory_mb: 128,
            tmp_mb: 512,
            pids_max: 1024,
            cpu_share_of_memory: true,
            network: NetworkPolicy::None,
            aws_endpoint: false,
        }
    }

    /// Checks the spec; every launch calls this first.
    pub fn validate(&self) -> Result<(), SandboxError> {
        let bad = |m: String| Err(SandboxError::InvalidSpec(m));
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(format!("id {:?} must be 1-64 of [A-Za-z0-9_-]", self.id));
        }
        let Some(program) = self.argv.first() else {
            return bad("argv is empty".into());
        };
        if !program.starts_with('/') {
            return bad(format!("argv[0] {program:?} must be an absolute path"));
        }
        let strings = self.argv.iter().chain(std::iter::once(&self.cwd));
        let env = self.env.iter().flat_map(|(k, v)| [k, v]);
        if strings.chain(env).any(|s| s.contains('\0')) {
            return bad("argv, env and cwd must not contain NUL".into());
        }
        if let Some((k, _)) = self
            .env
            .iter()
            .find(|(k, _)| k.is_empty() || k.contains('='))
        {
            return bad(format!("env name {k:?} is empty or contains '='"));
        }
        if !is_clean_absolute(Path::new(&self.cwd)) {
            return bad(format!("cwd {:?} must be a clean absolute path", self.cwd));
        }
        if self.memory_mb < 16 || self.memory_mb > 10240 {
            return bad(format!("memory_mb {} outside 16..=10240", self.memory_mb));
        }
        if self.tmp_mb < 1 || self.tmp_mb > 10240 {
            return bad(format!("tmp_mb {} outside 1..=10240", self.tmp_mb));
        }
        if self.pids_max < 1 {
            return bad("pids_max must be at least 1".into());
        }
        let mut seen = Vec::new();
        for m in &self.mounts {
            validate_mount(m)?;
            if seen.contains(&&m.inside) {
                return bad(format!("{} mounted twice", m.inside.display()));
            }
            seen.push(&m.inside);
        }
        Ok(())
    }
}

fn validate_mount(m: &Mount) -> Result<(), SandboxError> {
    let bad = |m: String| Err(SandboxError::InvalidSpec(m));
    if !is_clean_absolute(&m.host) {
        return bad(format!(
            "mount source {} must be a clean absolute path",
            m.host.display()
        ));
    }
    if !is_clean_absolute(&m.inside) || m.inside == Path::new("/") {
        return bad(format!(
            "mount target {} must be a clean absolute path below /",
            m.inside.display()
        ));
    }
    if RESERVED.iter().any(|r| m.inside.starts_with(r)) && !is_etc_dir_mount(m) {
        return bad(format!(
            "mount target {} is reserved by the sandbox",
            m.inside.display()
        ));
    }
    if !m.host.exists() {
        return bad(format!("mount source {} does not exist", m.host.display()));
    }
    Ok(())
}

/// A read-only bind of a host directory `/etc/<name>` at its own path (Debian's JDK links its
/// configuration into `/etc/java-17-openjdk`), never over a file the sandbox generates.
fn is_etc_dir_mount(m: &Mount) -> bool {
    const GENERATED: &[&str] = &["passwd", "group", "hosts", "hostname", "nsswitch.conf"];
    let mut comps = m.inside.components();
    let shape = comps.next() == Some(Component::RootDir)
        && comps.next() == Some(Component::Normal("etc".as_ref()));
    let name = comps.next();
    let exact = comps.next().is_none();
    match name {
        Some(Component::Normal(n)) if shape && exact => {
            !m.writable
                && m.host == m.inside
                && m.host.is_dir()
                && !GENERATED.iter().any(|g| n == *g)
        }
        _ => false,
    }
}

/// Absolute, and made only of normal components (no `.`, `..`).
pub(crate) fn is_clean_absolute(p: &Path) -> bool {
    let mut comps = p.components();
    comps.next() == Some(Component::RootDir) && comps.all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec() -> EnvSpec {
        EnvSpec::new("env-1", vec!["/bin/true".into()])
    }

    #[test]
    fn default_spec_is_valid() {
        assert!(spec().validate().is_ok());
    }

    #[test]
    fn rejects_bad_ids_and_argv() {
        let mut s = spec();
        s.id = "../x".into();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.argv = vec!["true".into()];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.argv.clear();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.env = vec![("A=B".into(), "c".into())];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.argv.push("a\0b".into());
        assert!(s.validate().is_err());
    }

    #[test]
    fn rejects_escaping_or_reserved_mounts() {
        for inside in [
            "/var/../etc",
            "relative",
            "/",
            "/proc/x",
            "/dev",
            "/tmp",
            "/etc/passwd",
        ] {
            let mut s = spec();
            s.mounts = vec![Mount::ro("/usr", inside)];
            assert!(s.validate().is_err(), "{inside} accepted");
        }
        // a host /etc directory at its own path, read-only, is allowed (JDK configuration)
        let mut s = spec();
        s.mounts = vec![Mount::ro("/etc/ssl", "/etc/ssl")];
        assert!(s.validate().is_ok());
        for (host, inside, writable) in [
            ("/etc/ssl", "/etc/other", false),
            ("/etc/ssl", "/etc/ssl", true),
            ("/etc/passwd", "/etc/passwd", false),
            ("/etc/ssl/certs", "/etc/ssl/certs", false),
        ] {
            let mut s = spec();
            let mut m = Mount::ro(host, inside);
            m.writable = writable;
            s.mounts = vec![m];
            assert!(s.validate().is_err(), "{host} on {inside} accepted");
        }
        let mut s = spec();
        s.mounts = vec![Mount::ro("/usr/../etc", "/var/task")];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.mounts = vec![Mount::ro("/nonexistent-lambdabox", "/var/task")];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.mounts = vec![
            Mount::ro("/usr", "/var/task"),
            Mount::ro("/usr", "/var/task"),
        ];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.mounts = vec![Mount::ro("/usr", "/var/task"), Mount::ro("/usr", "/opt")];
        assert!(s.validate().is_ok());
    }

    #[test]
    fn rejects_out_of_range_limits() {
        let mut s = spec();
        s.memory_mb = 20000;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.tmp_mb = 0;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.pids_max = 0;
        assert!(s.validate().is_err());
    }
}
