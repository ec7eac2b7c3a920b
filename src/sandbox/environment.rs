//! One running execution environment as the daemon sees it: the helper process, the control
//! socket, the Runtime API listener, the output pipe, the cgroup and a pidfd of the
//! environment's init (PID 1 of its PID namespace).
//!
//! Ordering rule for teardown: wait for the helper's `Exited` (the init and so every process of
//! the PID namespace is gone) → reap the helper → read peak memory and OOM count → remove the
//! cgroup. Killing = SIGKILL to the init through its pidfd (no pid reuse race), which makes the
//! kernel kill the whole PID namespace; on v2 `cgroup.kill` as well; then a thaw, because a
//! frozen cgroup v1 task only dies once thawed.

use std::fs::File;
use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Child;
use std::sync::Arc;

use super::cgroup::EnvCgroup;
use super::identity::UidLease;
use super::protocol::{self, Reply};
use super::sys;

/// How the runtime ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

impl ExitStatus {
    pub fn from_wait_status(status: i32) -> ExitStatus {
        if libc::WIFSIGNALED(status) {
            ExitStatus::Signal(libc::WTERMSIG(status))
        } else {
            ExitStatus::Code(libc::WEXITSTATUS(status))
        }
    }

    /// Shell convention: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit status {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// What `Environment::wait` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub status: ExitStatus,
    pub oom_killed: bool,
    pub memory_peak_bytes: u64,
}

/// Kills a whole environment from any thread; idempotent.
#[derive(Debug, Clone)]
pub struct Killer {
    init: Arc<OwnedFd>,
    cgroup: Option<Arc<dyn EnvCgroup>>,
}

impl Killer {
    pub fn kill(&self) {
        let _ = sys::pidfd_kill(self.init.as_fd(), libc::SIGKILL);
        if let Some(cg) = &self.cgroup {
            cg.kill_all();
            if cg.can_freeze() {
                let _ = cg.set_frozen(false);
            }
        }
    }
}

/// Freezes and thaws every process of an environment from any thread (cgroup v1 `freezer`,
/// v2 `cgroup.freeze`). A freeze returns at once; the kernel stops the tasks asynchronously.
#[derive(Debug, Clone)]
pub struct Freezer {
    cgroup: Arc<dyn EnvCgroup>,
}

impl Freezer {
    pub fn freeze(&self) -> Result<(), super::SandboxError> {
        self.cgroup.set_frozen(true)
    }

    pub fn thaw(&self) -> Result<(), super::SandboxError> {
        self.cgroup.set_frozen(false)
    }

    /// `Some(true)` once the kernel reports every task frozen.
    pub fn is_frozen(&self) -> Option<bool> {
        self.cgroup.is_frozen()
    }

    /// True when a task was sent SIGKILL while frozen and waits for a thaw to die (v1).
    pub fn killed_while_frozen(&self) -> bool {
        self.cgroup.killed_while_frozen()
    }

    /// True when this host's freezer keeps killed tasks alive until a thaw (v1), so a frozen
    /// environment must be watched for kills from outside.
    pub fn needs_kill_watch(&self) -> bool {
        self.cgroup.frozen_tasks_outlive_kill()
    }
}

/// A running environment. Dropping it without `wait` kills it and cleans up.
/// Reads an environment's peak memory use (0 without a memory cgroup).
#[derive(Debug, Clone)]
pub struct MemoryProbe {
    cgroup: Option<Arc<dyn EnvCgroup>>,
}

impl MemoryProbe {
    /// Peak memory of the environment so far, in bytes.
    pub fn peak_bytes(&self) -> u64 {
        self.cgroup.as_ref().map_or(0, |c| c.memory_peak_bytes())
    }
}

#[derive(Debug)]
pub struct Environment {
    pub(crate) helper: Child,
    pub(crate) control: OwnedFd,
    pub(crate) init: Arc<OwnedFd>,
    pub(crate) init_pid: i32,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) addr: String,
    pub(crate) output: Option<File>,
    pub(crate) cgroup: Option<Arc<dyn EnvCgroup>>,
    pub(crate) uid: Option<UidLease>,
    pub(crate) landlock_status: String,
    pub(crate) finished: Option<ExitInfo>,
    /// Internet-only networking: the veth, rules and namespace, released after the processes.
    pub(crate) net: Option<super::network::NetLease>,
    /// Internet-only networking: the DNS sockets inside the namespace (UDP, TCP).
    pub(crate) dns: Option<(std::net::UdpSocket, TcpListener)>,
}

impl Environment {
    /// The Runtime API listener (inside the env's network namespace, or on host loopback).
    pub fn runtime_api_listener(&mut self) -> Option<TcpListener> {
        self.listener.take()
    }

    /// The DNS sockets at 127.0.0.1:53 inside an internet environment's namespace (UDP,
    /// TCP), for the daemon to serve.
    pub fn dns_sockets(&mut self) -> Option<(std::net::UdpSocket, TcpListener)> {
        self.dns.take()
    }

    /// The environment's address and host interface with internet-only networking.
    pub fn network_link(&self) -> Option<(std::net::Ipv4Addr, String)> {
        self.net
            .as_ref()
            .map(|n| (n.link.env_addr, n.link.host_if.clone()))
    }

    /// What the sandbox set as `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api_addr(&self) -> String {
        self.addr.clone()
    }

    /// Read end of the single pipe that is the runtime's stdout and stderr.
    pub fn output(&mut self) -> Option<File> {
        self.output.take()
    }

    /// The environment's freezer, when its cgroup can be frozen.
    pub fn freezer(&self) -> Option<Freezer> {
        let cgroup = self.cgroup.as_ref().filter(|c| c.can_freeze())?;
        Some(Freezer {
            cgroup: Arc::clone(cgroup),
        })
    }

    pub fn killer(&self) -> Killer {
        Killer {
            init: self.init.clone(),
            cgroup: self.cgroup.clone(),
        }
    }

    /// Host pid of the environment's init (PID 1 inside).
    pub fn init_pid(&self) -> i32 {
        self.init_pid
    }

    /// The uid the runtime runs as (inside the sandbox).
    pub fn uid(&self) -> Option<u32> {
        self.uid.as_ref().map(|l| l.uid)
    }

    /// e.g. "landlock on, seccomp on".
    pub fn confinement(&self) -> &str {
        &self.landlock_status
    }

    /// A handle that reads the environment's peak memory from any thread, after `wait` has
    /// taken the environment away.
    pub fn memory_probe(&self) -> MemoryProbe {
        MemoryProbe {
            cgroup: self.cgroup.clone(),
        }
    }

    pub fn memory_peak_bytes(&self) -> u64 {
        self.cgroup.as_ref().map_or(0, |c| c.memory_peak_bytes())
    }

    /// Blocks until every process of the environment is gone and its cgroup removed.
    pub fn wait(mut self) -> ExitInfo {
        self.finish(None)
    }

    /// `timeout_secs`: how long to wait for the helper's report (None = as long as it runs).
    fn finish(&mut self, timeout_secs: Option<u64>) -> ExitInfo {
        if let Some(info) = self.finished {
            return info;
        }
        let _ = sys::set_recv_timeout(self.control.as_fd(), timeout_secs);
        let status = match protocol::recv::<Reply>(self.control.as_fd()) {
            Ok(Some((Reply::Exited { wait_status }, _))) => {
                ExitStatus::from_wait_status(wait_status)
            }
            _ => {
                // The helper died, hung or spoke out of turn: make sure nothing survives.
                self.killer().kill();
                let _ = self.helper.kill();
                ExitStatus::Signal(libc::SIGKILL)
            }
        };
        let _ = self.helper.wait();
        let (oom_killed, memory_peak_bytes) = match &self.cgroup {
            Some(cg) => {
                let info = (cg.oom_killed(), cg.memory_peak_bytes());
                let _ = cg.remove();
                info
            }
            None => (false, 0),
        };
        self.dns = None;
        self.net = None;
        self.uid = None;
        let info = ExitInfo {
            status,
            oom_killed,
            memory_peak_bytes,
        };
        self.finished = Some(info);
        info
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        if self.finished.is_none() {
            self.killer().kill();
            // Killed: the helper reports within milliseconds; never block a dropper for long.
            self.finish(Some(10));
        }
    }
}
