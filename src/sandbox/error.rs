//! The sandbox's error type: one enum, each variant naming what failed.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while probing, launching or tearing down a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("invalid environment spec: {0}")]
    InvalidSpec(String),
    #[error("sandbox protections missing and allow_degraded is off: {0}")]
    Degraded(String),
    #[error("create directory {0}: {1}")]
    CreateDir(PathBuf, #[source] io::Error),
    #[error("cgroup {0}: {1}")]
    Cgroup(PathBuf, #[source] io::Error),
    #[error("cgroup {0}: memory limit not applied (asked {1}, kernel has {2})")]
    MemoryLimit(PathBuf, u64, String),
    #[error("seccomp policy: {0}")]
    SeccompPolicy(String),
    #[error("no free sandbox uid in {0}..={1}")]
    UidsExhausted(u32, u32),
    #[error("bind runtime api listener: {0}")]
    Listener(#[source] io::Error),
    #[error("spawn sandbox helper {0}: {1}")]
    SpawnHelper(PathBuf, #[source] io::Error),
    #[error("sandbox control channel: {0}")]
    Control(#[source] io::Error),
    #[error("sandbox helper protocol: {0}")]
    Protocol(String),
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    #[error("internet-only networking: {0}")]
    Network(String),
    #[error("this environment's cgroup has no freezer")]
    NoFreezer,
}

impl SandboxError {
    /// What an API client is told when an environment cannot start: never a path or a cgroup
    /// of the daemon's host (the full error goes to the daemon's log). A runtime that could
    /// not be executed is the function's own problem and is named (its path is the one inside
    /// the environment).
    pub fn public_message(&self) -> String {
        match self {
            SandboxError::Setup(m)
                if m.starts_with("exec /var/task/") || m.starts_with("exec /opt/") =>
            {
                m.clone()
            }
            SandboxError::UidsExhausted(..) => {
                "no sandbox uid is free: too many environments are running".into()
            }
            SandboxError::Network(m) if m.starts_with("unavailable: ") => format!(
                "internet-only networking is unavailable on this host: {}",
                &m["unavailable: ".len()..]
            ),
            SandboxError::Degraded(_) => {
                "the sandbox is missing protections this host needs; the daemon's log names them"
                    .into()
            }
            _ => "the sandbox could not start the environment; the daemon's log has the details"
                .into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_messages_name_no_host_path() {
        let host = PathBuf::from("/srv/lambdabox/data/sandbox");
        let errs = [
            SandboxError::CreateDir(
                host.clone(),
                io::Error::from(io::ErrorKind::PermissionDenied),
            ),
            SandboxError::Cgroup(host.join("cg"), io::Error::from(io::ErrorKind::Other)),
            SandboxError::Setup(format!(
                "mount {} on /var/task: No such file",
                host.display()
            )),
            SandboxError::SpawnHelper(host.clone(), io::Error::from(io::ErrorKind::NotFound)),
        ];
        for e in errs {
            assert!(!e.public_message().contains("/srv/lambdabox"), "{e}");
        }
        let exec =
            SandboxError::Setup("exec /var/task/bootstrap: Permission denied (os error 13)".into());
        assert!(exec.public_message().contains("/var/task/bootstrap"));
    }
}
