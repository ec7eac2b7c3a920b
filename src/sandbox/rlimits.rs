//! Resource limits for the runtime process: nofile 1024, no core dumps, file size bounded by
//! /tmp, a process count backstop (the pids cgroup is the real limit where cgroups exist), no
//! real-time or raised priorities, bounded locked memory and message queues.
//!
//! Ordering rule: applied after dropping identity (lowering needs no privilege) and before
//! landlock and seccomp.

use super::spec::EnvSpec;
use super::sys;

const MB: u64 = 1024 * 1024;

/// The limits for `spec`, as (resource, name, value). Without a memory cgroup (unprivileged
/// path, no delegation) RLIMIT_DATA caps each process's private writable memory at the
/// function's memory size: a per-process backstop, not a total.
pub fn for_spec(
    spec: &EnvSpec,
    memory_cgroup: bool,
) -> Vec<(libc::__rlimit_resource_t, &'static str, u64)> {
    let mut limits = vec![
        (libc::RLIMIT_NOFILE, "nofile", 1024),
        (libc::RLIMIT_CORE, "core", 0),
        (libc::RLIMIT_FSIZE, "fsize", spec.tmp_mb * MB),
        (libc::RLIMIT_NPROC, "nproc", spec.pids_max),
        (libc::RLIMIT_MEMLOCK, "memlock", 8 * MB),
        (libc::RLIMIT_MSGQUEUE, "msgqueue", 800 * 1024),
        (libc::RLIMIT_RTPRIO, "rtprio", 0),
        (libc::RLIMIT_NICE, "nice", 0),
        (libc::RLIMIT_SIGPENDING, "sigpending", 8192),
    ];
    if !memory_cgroup {
        limits.push((libc::RLIMIT_DATA, "data", spec.memory_mb * MB));
    }
    limits
}

pub fn apply(spec: &EnvSpec, memory_cgroup: bool) -> Result<(), String> {
    for (resource, name, value) in for_spec(spec, memory_cgroup) {
        sys::set_rlimit(resource, value).map_err(|e| format!("setrlimit {name}={value}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_limit_only_without_a_memory_cgroup() {
        let spec = EnvSpec::new("e", vec!["/bin/true".into()]);
        let names = |cg| {
            for_spec(&spec, cg)
                .into_iter()
                .map(|(_, n, _)| n)
                .collect::<Vec<_>>()
        };
        assert!(!names(true).contains(&"data"));
        assert!(names(false).contains(&"data"));
        assert!(for_spec(&spec, true).contains(&(libc::RLIMIT_NOFILE, "nofile", 1024)));
        assert!(for_spec(&spec, true).contains(&(libc::RLIMIT_FSIZE, "fsize", 512 * MB)));
    }
}
