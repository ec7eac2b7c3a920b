//! What the kernel offers and which protections are active: probed once by `Sandbox::new`,
//! printed by `serve` at start. A missing protection is fatal unless `allow_degraded` is set.

use std::fmt;

/// The active protections of a `Sandbox`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protections {
    /// true when not root: everything runs inside a user namespace.
    pub user_namespace: bool,
    /// e.g. "v1 (memory, pids, cpu)"; None when no cgroup is usable (rlimits only).
    pub cgroups: Option<String>,
    /// 0 when the kernel has no landlock.
    pub landlock_abi: u32,
    /// Syscalls the seccomp allow-list lets through and its deny rules; None when seccomp is
    /// unavailable.
    pub seccomp_rules: Option<(usize, usize)>,
    /// Human-readable list of what is missing.
    pub missing: Vec<String>,
}

impl Protections {
    /// True when every protection is active.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

impl fmt::Display for Protections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "namespaces: pid, mount, ipc, uts, net, cgroup")?;
        if self.user_namespace {
            write!(f, ", user (unprivileged)")?;
        }
        match &self.cgroups {
            Some(c) => write!(f, "; cgroups {c}")?,
            None => write!(f, "; cgroups none (rlimits only)")?,
        }
        match self.landlock_abi {
            0 => write!(f, "; landlock unavailable")?,
            abi if abi < 6 => write!(
                f,
                "; landlock abi {abi} (partial: no signal/socket scoping)"
            )?,
            abi => write!(f, "; landlock abi {abi}")?,
        }
        match self.seccomp_rules {
            Some((allowed, denied)) => write!(
                f,
                "; seccomp allow-list ({allowed} syscalls, {denied} deny rules)"
            )?,
            None => write!(f, "; seccomp unavailable")?,
        }
        write!(f, "; uid per environment, no capabilities, no_new_privs")?;
        if !self.missing.is_empty() {
            write!(f, "; MISSING: {}", self.missing.join(", "))?;
        }
        Ok(())
    }
}

/// Whether this kernel lets an unprivileged user create user namespaces.
pub fn user_namespaces_allowed() -> bool {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    read("/proc/sys/user/max_user_namespaces").map_or(true, |n| n > 0)
        && read("/proc/sys/kernel/unprivileged_userns_clone").map_or(true, |n| n > 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn display_names_missing_protections() {
        let p = Protections {
            user_namespace: true,
            cgroups: None,
            landlock_abi: 0,
            seccomp_rules: Some((280, 70)),
            missing: vec!["landlock".into()],
        };
        let s = p.to_string();
        assert!(s.contains("user (unprivileged)"));
        assert!(s.contains("rlimits only"));
        assert!(s.contains("MISSING: landlock"));
        assert!(!p.complete());
    }
}
