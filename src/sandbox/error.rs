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
    #[error("this environment's cgroup has no freezer")]
    NoFreezer,
}
