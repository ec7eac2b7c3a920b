//! Sandboxed execution environments: namespaces, cgroups, rlimits, landlock and seccomp.
//!
//! Owns everything between "start an environment from this spec" and the `exec` of the runtime.
//! Must not touch the database, HTTP or templates.
//!
//! Process model: `Sandbox::launch` (in the multi-threaded daemon) never forks itself; it
//! spawns `lambdabox __sandbox-helper` (posix_spawn, no `pre_exec`) with a seqpacket control
//! socket as stdin and the output pipe as stdout/stderr. The helper clones the environment's
//! init into new namespaces; the init builds the root and forks the runtime (PID 2).
//!
//! Spares (`start.rs`, `spare.rs`): `Sandbox::prepare` does the function-independent part of
//! a launch ahead of a request and `Sandbox::finish` the rest; `launch` is both at once.
//!
//! Ordering rule (the whole sandbox): cgroup created and limited → init cloned into namespaces
//! → mounts and pivot_root (while the helper attaches the init to the cgroup) → cgroup ns →
//! fork runtime → identity dropped → rlimits → landlock → seccomp (last) → execve → CPU quota.
//! Each step's module repeats the part of the rule it owns.

mod cgroup;
mod environment;
mod error;
mod helper;
pub mod host;
mod identity;
mod init;
mod landlock;
pub mod network;
mod protections;
mod protocol;
mod rlimits;
mod rootfs;
mod run;
mod seccomp;
mod spare;
mod spec;
mod start;
mod sys;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

pub use environment::{Environment, ExitInfo, ExitStatus, Freezer, Killer, MemoryProbe};
pub use error::SandboxError;
pub use helper::helper_main;
pub use protections::Protections;
pub use run::{sandbox_run, SandboxRunArgs};
pub use seccomp::POLICY_JSON as SECCOMP_POLICY_JSON;
pub use spare::{Shape, Spare, SpareNetwork};
pub use spec::{EnvSpec, Mount, NetworkPolicy};

use cgroup::Backend;
use identity::UidPool;

/// Port of the Runtime API inside an environment's own network namespace.
pub const RUNTIME_API_PORT: u16 = 9001;
/// The hidden subcommand that runs the helper.
pub const HELPER_ARG: &str = "__sandbox-helper";

/// Sandbox configuration from the daemon config.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// Uids handed out to environments (one per live environment).
    pub uid_range: (u32, u32),
    /// Name of the parent group under the daemon's own cgroup in each controller.
    pub cgroup_parent: String,
    /// Run even when a protection is missing (each is logged).
    pub allow_degraded: bool,
    /// Scratch directory (holds the empty mount point for environment roots).
    pub state_dir: PathBuf,
}

/// A probed, ready-to-launch sandbox. One per daemon.
#[derive(Debug)]
pub struct Sandbox {
    settings: SandboxSettings,
    helper_exe: PathBuf,
    root_dir: PathBuf,
    backend: Option<Arc<dyn Backend>>,
    seccomp: Option<seccomp::Compiled>,
    landlock: bool,
    user_namespace: bool,
    uids: UidPool,
    protections: Protections,
    /// Internet-only networking once [`Sandbox::enable_internet`] succeeded, else why not.
    internet: Result<network::Internet, String>,
}

impl Sandbox {
    /// Probes the kernel, compiles the seccomp policy and sweeps cgroups left by a crash.
    pub fn new(settings: SandboxSettings) -> Result<Sandbox, SandboxError> {
        let root_dir = settings.state_dir.join("root");
        std::fs::create_dir_all(&root_dir)
            .map_err(|e| SandboxError::CreateDir(root_dir.clone(), e))?;
        let user_namespace = sys::geteuid() != 0;
        let mut missing = Vec::new();
        if user_namespace && !protections::user_namespaces_allowed() {
            missing.push(
                "user namespaces (not root and unprivileged user namespaces are disabled)".into(),
            );
        }
        let landlock_abi = sys::landlock_abi();
        if landlock_abi == 0 {
            missing.push("landlock (enable CONFIG_SECURITY_LANDLOCK and lsm=landlock)".into());
        }
        let compiled = seccomp::compile(seccomp::native_arch())?;
        let seccomp = sys::seccomp_available().then_some(compiled);
        if seccomp.is_none() {
            missing.push("seccomp (kernel built without CONFIG_SECCOMP_FILTER)".into());
        }
        let backend: Option<Arc<dyn Backend>> =
            cgroup::detect(&settings.cgroup_parent).map(Arc::from);
        if let Some(b) = &backend {
            b.sweep()?;
        } else if !user_namespace {
            missing.push("cgroups (no writable memory controller)".into());
        }
        if !missing.is_empty() && !settings.allow_degraded {
            return Err(SandboxError::Degraded(missing.join("; ")));
        }
        for m in &missing {
            tracing::warn!(missing = %m, "sandbox protection missing; running degraded (allow_degraded)");
        }
        let protections = Protections {
            user_namespace,
            cgroups: backend.as_ref().map(|b| b.describe()),
            landlock_abi,
            seccomp_rules: seccomp.as_ref().map(|c| (c.allowed, c.denied)),
            missing,
        };
        Ok(Sandbox {
            uids: UidPool::new(settings.uid_range),
            helper_exe: PathBuf::from("/proc/self/exe"),
            root_dir,
            backend,
            seccomp,
            landlock: landlock_abi > 0,
            user_namespace,
            protections,
            settings,
            internet: Err("not enabled on this sandbox".into()),
        })
    }

    /// Sets up internet-only networking (root only: nftables rules, IPv4 forwarding, a sweep
    /// of leftovers). On failure, environments that ask for it fail with the reason.
    pub fn enable_internet(&mut self, settings: network::InternetSettings) -> Result<(), String> {
        let enabled = network::Internet::enable(settings);
        let result = enabled.as_ref().map(|_| ()).map_err(Clone::clone);
        self.internet = enabled;
        result
    }

    /// Internet-only networking, when it is ready.
    pub fn internet(&self) -> Result<&network::Internet, &str> {
        self.internet.as_ref().map_err(String::as_str)
    }

    /// Uses another binary as the helper (tests: the `lambdabox` binary instead of the test
    /// runner). The binary must dispatch `__sandbox-helper` to [`helper_main`].
    pub fn set_helper_exe(&mut self, path: impl Into<PathBuf>) {
        self.helper_exe = path.into();
    }

    pub fn protections(&self) -> &Protections {
        &self.protections
    }

    pub fn settings(&self) -> &SandboxSettings {
        &self.settings
    }
}

/// An fd standing in for the init's pidfd until the helper sends the real one.
pub(crate) fn placeholder_fd() -> Result<OwnedFd, SandboxError> {
    let f = std::fs::File::open("/dev/null").map_err(SandboxError::Control)?;
    Ok(OwnedFd::from(f))
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(b) = &self.backend {
            b.remove_parent();
        }
    }
}

/// Raises the daemon's own open-file soft limit to its hard limit (as Go and systemd
/// services do): every environment holds a few fds in the daemon (control socket, output
/// pipe, pidfd, cgroup files, at most `runtime_api.max_connections` Runtime API connections),
/// and a soft limit of 1024 would cap a busy host at a hundred or so environments.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    sys::raise_soft_limit(libc::RLIMIT_NOFILE)
}

/// Lowers the calling thread's CPU priority to `nice` (for the daemon's bulk-work threads, so
/// a large upload yields the CPU to the invoke path).
pub fn set_thread_nice(nice: i32) -> std::io::Result<()> {
    sys::set_thread_nice(nice)
}

/// The calling thread's nice value.
pub fn thread_nice() -> std::io::Result<i32> {
    sys::thread_nice()
}

/// True when `path` is the helper subcommand argument (for `main`).
pub fn is_helper_invocation(arg: Option<&str>) -> bool {
    arg == Some(HELPER_ARG)
}
