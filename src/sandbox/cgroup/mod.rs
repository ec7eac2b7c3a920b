//! Per-environment cgroups: memory (swap off), pids and CPU proportional to memory, peak memory
//! and OOM kills read back, whole-environment kill and removal.
//!
//! v1 and v2 sit behind [`Backend`]/[`EnvCgroup`]; [`detect`] picks one from `/proc/self/mountinfo`
//! and `/proc/self/cgroup`. Groups live under the daemon's OWN cgroup in each controller
//! (`<mount>/<own path>/<parent>/<env id>`), so nested hosts (like this one, whose memory cgroup
//! is nested) keep the daemon's accounting. This is plain file I/O rather than cgroups-rs: the
//! crate drops rejected memory limits silently, cannot combine relative paths with a controller
//! subset, and cannot run over a fake hierarchy in a unit test (see SANDBOX-NOTES.md).
//!
//! Ordering rule: create and limit the group (memory, pids) BEFORE the environment's first
//! process is released (the helper attaches the cloned init by pid, then lets it run); the CPU
//! quota is applied right after the runtime's exec; read the peak and OOM count
//! AFTER the last process is reaped and BEFORE removing the group. A kill is followed by a
//! thaw: cgroup v1 frozen tasks do not die until thawed.
//!
//! Freezing (v1 `freezer.state`, v2 `cgroup.freeze`): a write asks the kernel to stop every
//! task; it returns at once and the tasks stop asynchronously. The control file is kept open
//! and rewritten with `pwrite`, like the peak counter.

mod pending;
mod v1;
mod v2;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use v1::V1;
pub use v2::V2;

use super::SandboxError;

/// AWS's ratio: 1,769 MB of memory buys one vCPU.
pub const MB_PER_VCPU: u64 = 1769;
const CPU_PERIOD_US: u64 = 100_000;

/// Limits for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: u64,
    pub pids_max: u64,
    /// CFS quota per 100 ms period, when CPU follows memory.
    pub cpu_quota_us: Option<u64>,
}

impl Limits {
    pub fn new(memory_mb: u64, pids_max: u64, cpu_share_of_memory: bool) -> Limits {
        Limits {
            memory_bytes: memory_mb * 1024 * 1024,
            pids_max,
            cpu_quota_us: cpu_share_of_memory.then(|| cpu_quota_us(memory_mb)),
        }
    }
}

/// CFS quota for `memory_mb` over a 100 ms period (at least 1 ms).
pub fn cpu_quota_us(memory_mb: u64) -> u64 {
    (CPU_PERIOD_US * memory_mb / MB_PER_VCPU).max(1000)
}

/// The hard CFS quota actually written: the proportional share, but never less than one
/// vCPU. Below that, a 128 MB function (7 % of a CPU) would take ten times longer to start;
/// the proportional share is still enforced as a weight (`cpu.shares` / `cpu.weight`), so
/// under contention functions share the CPU in proportion to their memory.
pub fn hard_quota_us(proportional_us: u64) -> u64 {
    proportional_us.max(CPU_PERIOD_US)
}

pub fn cpu_period_us() -> u64 {
    CPU_PERIOD_US
}

/// A detected cgroup setup that can make per-environment groups.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// Creates `<parent>/<id>` with `limits` applied and verified.
    fn create(&self, id: &str, limits: &Limits) -> Result<Box<dyn EnvCgroup>, SandboxError>;
    /// Kills what is left in groups under the parent (from a crash) and removes them.
    fn sweep(&self) -> Result<usize, SandboxError>;
    /// Removes the (empty) parent groups; errors are ignored.
    fn remove_parent(&self);
    /// e.g. "v1 (memory, pids, cpu)".
    fn describe(&self) -> String;
}

/// One environment's group.
pub trait EnvCgroup: Send + Sync + std::fmt::Debug {
    /// Applies the CPU quota; called once the runtime was exec'd, so the platform's own set-up
    /// (mounts, landlock, seccomp) is not charged to the function's small share.
    fn enable_cpu_limit(&self) -> Result<(), SandboxError>;
    /// The `cgroup.procs` files a pid must be written to.
    fn procs_files(&self) -> Vec<PathBuf>;
    fn memory_peak_bytes(&self) -> u64;
    fn oom_killed(&self) -> bool;
    /// Kills every process in the group (v2: cgroup.kill; v1: each listed pid).
    fn kill_all(&self);
    /// True when the group can be frozen (v2 always; v1 with the freezer controller).
    fn can_freeze(&self) -> bool;
    /// Stops (`true`) or resumes (`false`) every process in the group.
    fn set_frozen(&self, frozen: bool) -> Result<(), SandboxError>;
    /// The kernel's view: `Some(true)` once every task is frozen, `None` without a freezer.
    fn is_frozen(&self) -> Option<bool>;
    /// True when a frozen task of the group holds a SIGKILL it cannot act on until thawed
    /// (v1 only; on v2 a fatal signal ends frozen tasks).
    fn killed_while_frozen(&self) -> bool;
    /// True when killed tasks of a frozen group stay alive until thawed (v1).
    fn frozen_tasks_outlive_kill(&self) -> bool;
    /// The file and value that thaw the group (the helper thaws after its own kill).
    fn thaw_file(&self) -> Option<(PathBuf, String)>;
    /// Removes the group; retries briefly while exiting tasks leave.
    fn remove(&self) -> Result<(), SandboxError>;
}

/// Picks the backend for this host, or `None` when no usable memory controller is writable.
pub fn detect(parent: &str) -> Option<Box<dyn Backend>> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let mounts = parse_mountinfo(&mountinfo);
    if let Some(v2) = mounts.iter().find(|m| m.fstype == "cgroup2") {
        let own_path = own_path(&own, None)?;
        let base = join_cgroup(&v2.mount_point, &own_path);
        let controllers = fs::read_to_string(base.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "memory") && writable(&base) {
            return Some(Box::new(V2::new(base, parent)));
        }
    }
    let mut dirs = Vec::new();
    for controller in ["memory", "pids", "cpu", "freezer"] {
        let Some(m) = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.options.split(',').any(|o| o == controller))
        else {
            continue;
        };
        let Some(own_path) = own_path(&own, Some(controller)) else {
            continue;
        };
        let base = join_cgroup(&m.mount_point, &own_path);
        if writable(&base) {
            dirs.push((controller, base.join(parent)));
        }
    }
    if dirs.iter().any(|(c, _)| *c == "memory") {
        return Some(Box::new(V1::new(dirs)));
    }
    None
}

/// Root can write any cgroup directory; others only a delegated one they own.
fn writable(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let uid = super::sys::geteuid();
    fs::metadata(dir).is_ok_and(|m| uid == 0 || (m.uid() == uid && m.mode() & 0o200 != 0))
}

fn join_cgroup(mount_point: &Path, own: &str) -> PathBuf {
    let rel = own.trim_start_matches('/');
    if rel.is_empty() {
        mount_point.to_path_buf()
    } else {
        mount_point.join(rel)
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct MountEntry {
    pub mount_point: PathBuf,
    pub fstype: String,
    pub options: String,
}

/// Cgroup mounts from `/proc/self/mountinfo` (fields after " - ": fstype, source, super options).
pub(crate) fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let mount_point = pre.split(' ').nth(4)?;
            let mut post = post.split(' ');
            let fstype = post.next()?;
            let _source = post.next()?;
            let options = post.next().unwrap_or("");
            (fstype == "cgroup" || fstype == "cgroup2").then(|| MountEntry {
                mount_point: PathBuf::from(mount_point.replace("\\040", " ")),
                fstype: fstype.to_string(),
                options: options.to_string(),
            })
        })
        .collect()
}

/// Our path in `controller`'s hierarchy (v1) or in the unified one (`None`).
pub(crate) fn own_path(proc_cgroup: &str, controller: Option<&str>) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_id, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        let hit = match controller {
            None => list.is_empty(),
            Some(c) => list.split(',').any(|x| x == c),
        };
        hit.then(|| path.to_string())
    })
}

pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), SandboxError> {
    let path = dir.join(file);
    fs::write(&path, value).map_err(|e| SandboxError::Cgroup(path, e))
}

pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A counter file read on every invocation (the memory peak), opened once and re-read with
/// `pread` at offset 0: a fresh open walks the cgroup filesystem, which cost ≈ 7 % of the
/// daemon's CPU on the warm path (BENCHMARKS.md). An open file does not keep the group
/// from being removed.
#[derive(Debug, Default)]
pub(crate) struct CounterFile {
    file: std::sync::OnceLock<Option<fs::File>>,
}

impl CounterFile {
    pub(crate) fn read_u64(&self, path: impl FnOnce() -> Option<PathBuf>) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let file = self
            .file
            .get_or_init(|| path().and_then(|p| fs::File::open(p).ok()))
            .as_ref()?;
        let mut buf = [0u8; 32];
        let n = file.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }
}

/// A control file written on every invocation (the freezer), opened once and rewritten with
/// `pwrite` at offset 0.
#[derive(Debug, Default)]
pub(crate) struct ControlFile {
    file: std::sync::OnceLock<Option<fs::File>>,
}

impl ControlFile {
    pub(crate) fn write(&self, path: &Path, value: &str) -> Result<(), SandboxError> {
        use std::os::unix::fs::FileExt;
        let file = self
            .file
            .get_or_init(|| fs::OpenOptions::new().write(true).open(path).ok())
            .as_ref()
            .ok_or_else(|| {
                SandboxError::Cgroup(path.to_path_buf(), io::Error::from(io::ErrorKind::NotFound))
            })?;
        file.write_at(value.as_bytes(), 0)
            .map(|_| ())
            .map_err(|e| SandboxError::Cgroup(path.to_path_buf(), e))
    }
}

/// Value of `key` in a flat keyed file (`memory.events`, `memory.oom_control`).
pub(crate) fn keyed_u64(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// Kills every pid listed in `dir/cgroup.procs`.
pub(crate) fn kill_listed(dir: &Path) {
    if let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = super::sys::kill(pid, libc::SIGKILL);
        }
    }
}

/// rmdir with a short retry while the last tasks finish leaving (EBUSY).
pub(crate) fn remove_dir_retry(dir: &Path) -> Result<(), SandboxError> {
    let mut last = None;
    for attempt in 0..50 {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                last = Some(e);
                kill_listed(dir);
                std::thread::sleep(std::time::Duration::from_millis(if attempt < 10 {
                    1
                } else {
                    10
                }));
            }
            Err(e) => return Err(SandboxError::Cgroup(dir.to_path_buf(), e)),
        }
    }
    Err(SandboxError::Cgroup(
        dir.to_path_buf(),
        last.unwrap_or_else(|| io::Error::other("busy")),
    ))
}

/// Longest a start-up sweep waits for one leftover group's tasks to leave. After a `kill -9`
/// of the daemon its environments' processes are killed too, but on a loaded host they may
/// take seconds to exit (and release their memory charge) before rmdir succeeds.
const SWEEP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Removes a leftover environment group during a sweep: kills its tasks and retries rmdir
/// for up to [`SWEEP_WAIT`]. A group that stays busy is left behind with a warning (it has a
/// unique name, so it cannot clash with a new group, and the next start retries it); the
/// sandbox stays usable. Returns whether it was removed.
pub(crate) fn sweep_dir(dir: &Path) -> bool {
    let deadline = std::time::Instant::now() + SWEEP_WAIT;
    loop {
        match remove_dir_retry(dir) {
            Ok(()) => return true,
            Err(e) if std::time::Instant::now() >= deadline => {
                tracing::warn!(group = %dir.display(), error = %e, "cannot remove a cgroup left by an earlier run; left in place");
                return false;
            }
            Err(_) => kill_listed(dir),
        }
    }
}

/// Child directories of `dir` (the leftover environment groups during a sweep).
pub(crate) fn child_dirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 cgroup2 rw
35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct
";
    const PROC_CGROUP: &str = "4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/user.slice\n";

    #[test]
    fn parses_mountinfo_and_own_paths() {
        let m = parse_mountinfo(MOUNTINFO);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].fstype, "cgroup2");
        assert_eq!(
            m[2].mount_point,
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
        assert!(m[2].options.split(',').any(|o| o == "cpu"));
        assert_eq!(
            own_path(PROC_CGROUP, Some("memory")).as_deref(),
            Some("/process_api/abc")
        );
        assert_eq!(own_path(PROC_CGROUP, Some("cpu")).as_deref(), Some("/"));
        assert_eq!(own_path(PROC_CGROUP, None).as_deref(), Some("/user.slice"));
        assert_eq!(
            join_cgroup(Path::new("/sys/fs/cgroup/memory"), "/process_api/abc"),
            PathBuf::from("/sys/fs/cgroup/memory/process_api/abc")
        );
    }

    #[test]
    fn cpu_follows_memory() {
        assert_eq!(cpu_quota_us(1769), 100_000);
        assert_eq!(cpu_quota_us(3538), 200_000);
        assert_eq!(cpu_quota_us(128), 7235);
        assert_eq!(cpu_quota_us(16), 1000);
        assert_eq!(hard_quota_us(cpu_quota_us(128)), 100_000);
        assert_eq!(hard_quota_us(cpu_quota_us(3538)), 200_000);
        assert_eq!(Limits::new(128, 10, false).cpu_quota_us, None);
    }
}
