//! cgroup v2 (systemd hosts with `Delegate=yes`): one directory `<own>/<parent>/<id>` with
//! memory.max, memory.swap.max = 0, pids.max, cpu.max / cpu.weight; memory.peak and
//! memory.events (oom_kill) read back; cgroup.kill for the whole-environment kill;
//! `cgroup.freeze` (a core file of every non-root v2 group, no controller needed) to freeze,
//! with `frozen 1` in `cgroup.events` once every task stopped. Frozen v2 tasks still die on
//! SIGKILL.
//!
//! Ordering rule: controllers are enabled in `<own>/cgroup.subtree_control` and
//! `<own>/<parent>/cgroup.subtree_control` before the first environment group is made.

use std::path::{Path, PathBuf};

use super::{
    child_dirs, keyed_u64, kill_listed, remove_dir_retry, sweep_dir, write, Backend, ControlFile,
    CounterFile, EnvCgroup, Limits,
};
use crate::sandbox::SandboxError;

#[derive(Debug)]
pub struct V2 {
    own: PathBuf,
    parent: PathBuf,
}

impl V2 {
    /// `own` is the daemon's cgroup directory; `parent` the name for environment groups.
    pub fn new(own: PathBuf, parent: &str) -> V2 {
        let parent = own.join(parent);
        V2 { own, parent }
    }

    fn ensure_parent(&self) -> Result<(), SandboxError> {
        if !self.parent.is_dir() {
            std::fs::create_dir_all(&self.parent)
                .map_err(|e| SandboxError::CreateDir(self.parent.clone(), e))?;
        }
        for dir in [&self.own, &self.parent] {
            let available =
                std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
            let wanted: Vec<String> = ["memory", "pids", "cpu"]
                .iter()
                .filter(|c| available.split_whitespace().any(|a| a == **c))
                .map(|c| format!("+{c}"))
                .collect();
            let enabled =
                std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|w| !enabled.split_whitespace().any(|e| e == &w[1..]))
                .collect();
            if !missing.is_empty() {
                let line: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                write(dir, "cgroup.subtree_control", &line.join(" "))?;
            }
        }
        Ok(())
    }
}

impl Backend for V2 {
    fn create(&self, id: &str, limits: &Limits) -> Result<Box<dyn EnvCgroup>, SandboxError> {
        self.ensure_parent()?;
        let dir = self.parent.join(id);
        std::fs::create_dir(&dir).map_err(|e| SandboxError::CreateDir(dir.clone(), e))?;
        let group = V2Group::new(dir, limits.cpu_quota_us);
        apply(&group.dir, limits)?;
        Ok(Box::new(group))
    }

    fn sweep(&self) -> Result<usize, SandboxError> {
        let mut removed = 0;
        for dir in child_dirs(&self.parent) {
            if dir.join("cgroup.kill").exists() {
                let _ = write(&dir, "cgroup.kill", "1");
            }
            if dir.join("cgroup.freeze").exists() {
                let _ = write(&dir, "cgroup.freeze", "0");
            }
            kill_listed(&dir);
            removed += usize::from(sweep_dir(&dir));
        }
        Ok(removed)
    }

    fn remove_parent(&self) {
        let _ = std::fs::remove_dir(&self.parent);
    }

    fn describe(&self) -> String {
        let c =
            std::fs::read_to_string(self.parent.join("cgroup.subtree_control")).unwrap_or_default();
        format!(
            "v2 ({})",
            c.split_whitespace().collect::<Vec<_>>().join(", ")
        )
    }
}

fn apply(dir: &Path, limits: &Limits) -> Result<(), SandboxError> {
    let bytes = limits.memory_bytes.to_string();
    write(dir, "memory.max", &bytes)?;
    // Absent without swap accounting; then there is no swap to turn off.
    let _ = write(dir, "memory.swap.max", "0");
    let got = std::fs::read_to_string(dir.join("memory.max")).unwrap_or_default();
    if got.trim() != bytes {
        return Err(SandboxError::MemoryLimit(
            dir.to_path_buf(),
            limits.memory_bytes,
            got.trim().to_string(),
        ));
    }
    write(dir, "pids.max", &limits.pids_max.to_string())
}

fn apply_cpu(dir: &Path, quota: u64) -> Result<(), SandboxError> {
    write(
        dir,
        "cpu.max",
        &format!("{} {}", super::hard_quota_us(quota), super::cpu_period_us()),
    )?;
    let weight = (100 * quota / super::cpu_period_us()).clamp(1, 10_000);
    write(dir, "cpu.weight", &weight.to_string())
}

#[derive(Debug)]
pub struct V2Group {
    dir: PathBuf,
    cpu_quota_us: Option<u64>,
    peak: CounterFile,
    freeze_file: ControlFile,
}

impl V2Group {
    /// The group at `dir` (already created).
    pub(crate) fn new(dir: PathBuf, cpu_quota_us: Option<u64>) -> V2Group {
        V2Group {
            dir,
            cpu_quota_us,
            peak: CounterFile::default(),
            freeze_file: ControlFile::default(),
        }
    }
}

impl EnvCgroup for V2Group {
    fn enable_cpu_limit(&self) -> Result<(), SandboxError> {
        self.cpu_quota_us
            .map_or(Ok(()), |q| apply_cpu(&self.dir, q))
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        vec![self.dir.join("cgroup.procs")]
    }

    fn memory_peak_bytes(&self) -> u64 {
        self.peak
            .read_u64(|| Some(self.dir.join("memory.peak")))
            .unwrap_or(0)
    }

    fn oom_killed(&self) -> bool {
        keyed_u64(&self.dir.join("memory.events"), "oom_kill").is_some_and(|n| n > 0)
    }

    fn kill_all(&self) {
        if write(&self.dir, "cgroup.kill", "1").is_err() {
            kill_listed(&self.dir);
        }
    }

    fn can_freeze(&self) -> bool {
        true
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), SandboxError> {
        self.freeze_file.write(
            &self.dir.join("cgroup.freeze"),
            if frozen { "1" } else { "0" },
        )
    }

    fn is_frozen(&self) -> Option<bool> {
        keyed_u64(&self.dir.join("cgroup.events"), "frozen").map(|v| v == 1)
    }

    /// A fatal signal ends a task of a frozen v2 group at once.
    fn killed_while_frozen(&self) -> bool {
        false
    }

    fn frozen_tasks_outlive_kill(&self) -> bool {
        false
    }

    fn thaw_file(&self) -> Option<(PathBuf, String)> {
        Some((self.dir.join("cgroup.freeze"), "0".into()))
    }

    fn remove(&self) -> Result<(), SandboxError> {
        remove_dir_retry(&self.dir)
    }
}

impl Drop for V2Group {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    /// A fake v2 hierarchy: plain directories and files, as the kernel would present them.
    fn fake() -> (tempfile::TempDir, V2) {
        let root = tempfile::tempdir().unwrap();
        let own = root.path().join("system.slice/lambdabox.service");
        fs::create_dir_all(&own).unwrap();
        fs::write(
            own.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        fs::write(own.join("cgroup.subtree_control"), "").unwrap();
        let v2 = V2::new(own, "lambdabox");
        (root, v2)
    }

    #[test]
    fn creates_group_with_limits() {
        let (_root, v2) = fake();
        // The kernel would create these when the controllers are enabled in the parent.
        fs::create_dir_all(&v2.parent).unwrap();
        fs::write(v2.parent.join("cgroup.controllers"), "cpu memory pids").unwrap();
        let group = v2.create("env-1", &Limits::new(1769, 64, true)).unwrap();
        assert!(
            !v2.parent.join("env-1/cpu.max").exists(),
            "cpu limited before exec"
        );
        group.enable_cpu_limit().unwrap();
        let dir = v2.parent.join("env-1");
        let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), (1769u64 * 1024 * 1024).to_string());
        assert_eq!(read("memory.swap.max"), "0");
        assert_eq!(read("pids.max"), "64");
        assert_eq!(read("cpu.max"), "100000 100000");
        assert_eq!(read("cpu.weight"), "100");
        let own_ctl = fs::read_to_string(v2.own.join("cgroup.subtree_control")).unwrap();
        assert_eq!(own_ctl, "+memory +pids +cpu");
        assert_eq!(group.procs_files(), vec![dir.join("cgroup.procs")]);

        assert!(!group.oom_killed());
        fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert!(group.oom_killed());
        fs::write(dir.join("memory.peak"), "123456\n").unwrap();
        assert_eq!(group.memory_peak_bytes(), 123456);
        group.kill_all();
        assert_eq!(read("cgroup.kill"), "1");
    }

    #[test]
    fn freeze_writes_cgroup_freeze_and_reads_cgroup_events() {
        let (_root, v2) = fake();
        fs::create_dir_all(&v2.parent).unwrap();
        fs::write(v2.parent.join("cgroup.controllers"), "cpu memory pids").unwrap();
        let group = v2.create("env-f", &Limits::new(128, 10, false)).unwrap();
        let dir = v2.parent.join("env-f");
        fs::write(dir.join("cgroup.freeze"), "0").unwrap();
        fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        assert!(group.can_freeze());
        group.set_frozen(true).unwrap();
        assert_eq!(fs::read_to_string(dir.join("cgroup.freeze")).unwrap(), "1");
        assert_eq!(group.is_frozen(), Some(false));
        fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        assert_eq!(group.is_frozen(), Some(true));
        group.set_frozen(false).unwrap();
        assert_eq!(fs::read_to_string(dir.join("cgroup.freeze")).unwrap(), "0");
        assert_eq!(
            group.thaw_file(),
            Some((dir.join("cgroup.freeze"), "0".into()))
        );
    }

    /// The real v2 freezer on this host's cgroup2 mount (hybrid hosts have an empty one at
    /// /sys/fs/cgroup/unified; `cgroup.freeze` needs no controller): a spinning child uses no
    /// CPU while frozen and spins again after the thaw.
    #[test]
    fn real_cgroup2_freeze_stops_and_resumes_a_process() {
        let Some(mount) = cgroup2_mount() else {
            eprintln!("SKIP: no cgroup2 mount on this host");
            return;
        };
        if crate::sandbox::sys::geteuid() != 0 {
            eprintln!("SKIP: not root");
            return;
        }
        let dir = mount.join(format!("lambdabox-v2-freeze-test-{}", std::process::id()));
        fs::create_dir(&dir).unwrap();
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("while :; do :; done")
            .spawn()
            .unwrap();
        fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();
        let group = V2Group::new(dir.clone(), None);
        // CPU ticks (utime + stime) the child has used so far.
        let stat = format!("/proc/{}/stat", child.id());
        let read = || {
            let text = fs::read_to_string(&stat).unwrap_or_default();
            let after = text.rsplit_once(')').map_or("", |(_, a)| a);
            let f: Vec<&str> = after.split_whitespace().collect();
            let tick = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
            tick(11) + tick(12)
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        group.set_frozen(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while group.is_frozen() != Some(true) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(group.is_frozen(), Some(true));
        let a = read();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let b = read();
        group.set_frozen(false).unwrap();
        // Thawed, the child spins as soon as it gets a CPU (a loaded host may make it wait).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut c = read();
        while c <= b && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            c = read();
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = fs::remove_dir(&dir);
        assert_eq!(a, b, "the child used CPU while frozen");
        assert!(
            c > b,
            "the child did not run after the thaw ({b} -> {c} ticks)"
        );
    }

    fn cgroup2_mount() -> Option<PathBuf> {
        let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
        super::super::parse_mountinfo(&text)
            .into_iter()
            .find(|m| m.fstype == "cgroup2")
            .map(|m| m.mount_point)
    }

    #[test]
    fn no_cpu_limit_when_not_proportional() {
        let (_root, v2) = fake();
        v2.create("env-2", &Limits::new(128, 10, false))
            .unwrap()
            .enable_cpu_limit()
            .unwrap();
        assert!(!v2.parent.join("env-2/cpu.max").exists());
    }

    #[test]
    fn sweep_removes_leftover_groups() {
        let (_root, v2) = fake();
        fs::create_dir_all(v2.parent.join("old-env")).unwrap();
        fs::create_dir_all(v2.parent.join("old-env-2")).unwrap();
        assert_eq!(v2.sweep().unwrap(), 2);
        assert!(child_dirs(&v2.parent).is_empty());
    }

    #[test]
    fn rejected_memory_limit_is_an_error() {
        let (_root, v2) = fake();
        // A memory.max that is a directory cannot be written: the limit is not applied.
        fs::create_dir_all(v2.parent.join("env-3/memory.max")).unwrap();
        let err = Limits::new(128, 10, false);
        let dir = v2.parent.join("env-3");
        assert!(apply(&dir, &err).is_err());
    }
}
