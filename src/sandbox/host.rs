//! Facts about the host kernel that `lambdabox doctor` reports beside the sandbox's own
//! self-check ([`super::Sandbox::new`]'s [`super::Protections`]): which cgroup hierarchies are
//! mounted and with what options, which namespaces the kernel has, and whether it supports
//! `CLONE_INTO_CGROUP`. Read-only: reads `/proc`, never creates anything.

use std::path::PathBuf;

use super::cgroup::{own_path, parse_mountinfo};

/// What `doctor` prints about the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// `uname -r`.
    pub kernel_release: String,
    /// The cgroup2 mount point and its options, if mounted.
    pub cgroup2: Option<(PathBuf, String)>,
    /// Controllers enabled in this process's own cgroup2 group.
    pub cgroup2_controllers: Vec<String>,
    /// Controllers mounted as cgroup v1 hierarchies.
    pub cgroup1_controllers: Vec<String>,
    /// Namespace kinds the kernel has (`/proc/self/ns/<kind>` exists), with their presence.
    pub namespaces: Vec<(&'static str, bool)>,
    /// Unprivileged user namespaces allowed (root does not need them).
    pub unprivileged_userns: bool,
}

impl HostFacts {
    /// True when the cgroup2 mount has `favordynmods` (cheaper cgroup creation and
    /// process migration, kernel ≥ 6.0).
    pub fn favordynmods(&self) -> bool {
        self.cgroup2
            .as_ref()
            .is_some_and(|(_, o)| o.split(',').any(|x| x == "favordynmods"))
    }

    /// `CLONE_INTO_CGROUP` (clone3 straight into a cgroup2 group) needs kernel ≥ 5.7 and a
    /// cgroup2 hierarchy holding the controllers.
    pub fn clone_into_cgroup(&self) -> bool {
        kernel_at_least(&self.kernel_release, 5, 7) && !self.cgroup2_controllers.is_empty()
    }
}

/// True when `release` (e.g. `6.1.0-18-amd64`) is at least `major.minor`.
pub fn kernel_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// Reads the facts of this host.
pub fn probe() -> HostFacts {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let mounts = parse_mountinfo(&read("/proc/self/mountinfo"));
    let own = read("/proc/self/cgroup");
    let cgroup2 = mounts
        .iter()
        .find(|m| m.fstype == "cgroup2")
        .map(|m| (m.mount_point.clone(), m.options.clone()));
    let cgroup2_controllers = cgroup2
        .as_ref()
        .and_then(|(mp, _)| {
            let rel = own_path(&own, None)?;
            let dir = mp.join(rel.trim_start_matches('/'));
            Some(read(&dir.join("cgroup.controllers").to_string_lossy()))
        })
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut cgroup1_controllers: Vec<String> = mounts
        .iter()
        .filter(|m| m.fstype == "cgroup")
        .flat_map(|m| {
            m.options
                .split(',')
                .filter(|o| ["memory", "pids", "cpu", "freezer", "cpuacct", "cpuset"].contains(o))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    cgroup1_controllers.sort();
    cgroup1_controllers.dedup();
    let namespaces = ["user", "pid", "net", "mnt", "ipc", "uts", "cgroup"]
        .into_iter()
        .map(|k| (k, std::path::Path::new("/proc/self/ns").join(k).exists()))
        .collect();
    HostFacts {
        kernel_release: read("/proc/sys/kernel/osrelease").trim().to_string(),
        cgroup2,
        cgroup2_controllers,
        cgroup1_controllers,
        namespaces,
        unprivileged_userns: super::protections::user_namespaces_allowed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_compare_by_number() {
        assert!(kernel_at_least("6.1.0-18-amd64", 5, 7));
        assert!(kernel_at_least("5.7.0", 5, 7));
        assert!(!kernel_at_least("5.6.19", 5, 7));
        assert!(!kernel_at_least("4.19.0-26-amd64", 5, 7));
        assert!(kernel_at_least("6.18.44-fc-v1098", 6, 0));
    }

    #[test]
    fn this_host_is_probed() {
        let f = probe();
        assert!(!f.kernel_release.is_empty());
        assert!(f.namespaces.iter().any(|(k, on)| *k == "pid" && *on));
    }
}
