//! The runtime's identity: an unprivileged uid/gid from the configured range, no supplementary
//! groups, every capability gone (bounding, ambient, effective, permitted, inheritable) and
//! `no_new_privs`, so no setuid binary or file capability can give anything back.
//!
//! Ordering rule: drop the bounding set while CAP_SETPCAP is still held, then groups, gid,
//! uid, then clear the remaining sets; all of it after the mounts and before landlock/seccomp.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::{sys, SandboxError};

/// Drops the calling process to `uid`/`gid` with no capabilities.
/// In a user namespace `setgroups` is already denied by the helper (`/proc/<pid>/setgroups`).
pub fn drop_to(uid: u32, gid: u32, user_namespace: bool) -> Result<(), String> {
    sys::drop_bounding_set().map_err(|e| format!("drop capability bounding set: {e}"))?;
    if !user_namespace {
        sys::clear_groups().map_err(|e| format!("setgroups: {e}"))?;
    }
    sys::set_ids(uid, gid).map_err(|e| format!("setresuid/setresgid {uid}/{gid}: {e}"))?;
    sys::clear_capabilities().map_err(|e| format!("clear capabilities: {e}"))?;
    sys::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))
}

/// Hands out uids from the configured range, one per live environment.
#[derive(Debug, Clone)]
pub struct UidPool {
    range: (u32, u32),
    used: Arc<Mutex<BTreeSet<u32>>>,
}

/// A uid in use; returned to the pool on drop.
#[derive(Debug)]
pub struct UidLease {
    pub uid: u32,
    used: Arc<Mutex<BTreeSet<u32>>>,
}

impl UidPool {
    pub fn new(range: (u32, u32)) -> UidPool {
        UidPool {
            range,
            used: Arc::default(),
        }
    }

    pub fn lease(&self) -> Result<UidLease, SandboxError> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let free = (self.range.0..=self.range.1).find(|u| !used.contains(u));
        let uid = free.ok_or(SandboxError::UidsExhausted(self.range.0, self.range.1))?;
        used.insert(uid);
        Ok(UidLease {
            uid,
            used: self.used.clone(),
        })
    }
}

impl Drop for UidLease {
    fn drop(&mut self) {
        self.used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.uid);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_unique_and_returned() {
        let pool = UidPool::new((100, 101));
        let a = pool.lease().unwrap();
        let b = pool.lease().unwrap();
        assert_ne!(a.uid, b.uid);
        assert!(pool.lease().is_err());
        drop(a);
        assert_eq!(pool.lease().unwrap().uid, 100);
    }
}
