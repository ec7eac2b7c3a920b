//! Resource limits for the runtime process: nofile 1024, no core dumps, file size bounded by
//! /tmp, a process count backstop (the pids cgroup is the real limit where cgroups exist), no
//! real-time or raised priorities, bounded locked memory and message queues.
//!
//! Ordering rule: applied after dropping identity (lowering needs no privilege) and before
//! landlock and seccomp.

use super::spec::EnvSpec;
use super::sys;

const MB: u64 = 1024 * 1024;

/// The limits for `spec`, as (resource, name, value).
pub fn for_spec(spec: &EnvSpec) -> Vec<(libc::__rlimit_resource_t, &'static str, u64)> {
    vec![
        (libc::RLIMIT_NOFILE, "nofile", 1024),
        (libc::RLIMIT_CORE, "core", 0),
        (libc::RLIMIT_FSIZE, "fsize", spec.tmp_mb * MB),
        (libc::RLIMIT_NPROC, "nproc", spec.pids_max),
        (libc::RLIMIT_MEMLOCK, "memlock", 8 * MB),
        (libc::RLIMIT_MSGQUEUE, "msgqueue", 800 * 1024),
        (libc::RLIMIT_RTPRIO, "rtprio", 0),
        (libc::RLIMIT_NICE, "nice", 0),
        (libc::RLIMIT_SIGPENDING, "sigpending", 8192),
    ]
}

pub fn apply(spec: &EnvSpec) -> Result<(), String> {
    for (resource, name, value) in for_spec(spec) {
        sys::set_rlimit(resource, value).map_err(|e| format!("setrlimit {name}={value}: {e}"))?;
    }
    Ok(())
}
