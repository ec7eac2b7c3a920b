//! Tasks killed while frozen. On cgroup v1 a frozen task does not die when it is sent SIGKILL:
//! the signal stays pending (the `SigPnd`/`ShdPnd` masks of `/proc/<pid>/status`) until the
//! group is thawed, so an idle environment killed from outside (an operator, the OOM killer)
//! would look alive until its next invocation. Reading the masks finds such a group, and a
//! thaw lets the kernel finish the kill. (On v2 a fatal signal ends frozen tasks at once.)

use std::path::Path;

/// Bit of SIGKILL (signal 9) in the kernel's pending-signal masks.
const SIGKILL_BIT: u64 = 1 << (libc::SIGKILL - 1);

/// True when a `/proc/<pid>/status` text shows SIGKILL pending for the thread or its process.
pub(crate) fn status_has_sigkill(status: &str) -> bool {
    status.lines().any(|line| {
        let Some((key, value)) = line.split_once(':') else {
            return false;
        };
        matches!(key, "SigPnd" | "ShdPnd")
            && u64::from_str_radix(value.trim(), 16).is_ok_and(|mask| mask & SIGKILL_BIT != 0)
    })
}

/// True when any process listed in the `cgroup.procs` file `procs` has SIGKILL pending.
/// Processes that are already gone count as not killed (they need no thaw).
pub(crate) fn any_task_killed(procs: &Path) -> bool {
    let Ok(list) = std::fs::read_to_string(procs) else {
        return false;
    };
    list.split_whitespace().any(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|status| status_has_sigkill(&status))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sigkill_in_either_mask() {
        let quiet = "Name:\tsleep\nState:\tD (disk sleep)\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";
        assert!(!status_has_sigkill(quiet));
        let killed =
            "State:\tD (disk sleep)\nSigPnd:\t0000000000000100\nShdPnd:\t0000000000000000\n";
        assert!(status_has_sigkill(killed));
        let shared = "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n";
        assert!(status_has_sigkill(shared));
        // SIGTERM (bit 0x4000) and SIGSTOP pending are not a kill.
        assert!(!status_has_sigkill(
            "SigPnd:\t0000000000004000\nShdPnd:\t0000000000040000\n"
        ));
        assert!(!status_has_sigkill("SigPnd:\tnot-hex\n"));
    }

    #[test]
    fn a_missing_procs_file_kills_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!any_task_killed(&dir.path().join("cgroup.procs")));
        std::fs::write(dir.path().join("cgroup.procs"), "999999999\n").unwrap();
        assert!(!any_task_killed(&dir.path().join("cgroup.procs")));
    }
}
