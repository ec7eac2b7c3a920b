//! The environment's filesystem: a fresh tmpfs root holding read-only bind mounts of only what
//! the runtime needs, generated /etc files, a sized /tmp, a minimal /dev and a /proc for the new
//! PID namespace; then `pivot_root` and a detached unmount of the old root.
//!
//! Runs in the environment's init (PID 1, own mount namespace) before landlock and seccomp.
//! Ordering rule: make `/` private → tmpfs root → scratch tmpfs (`/.lbx`) → system binds →
//! spec mounts (parents first) → /etc files → /tmp, /dev, /proc and its masks → scratch
//! detached → root read-only → pivot_root. Mount targets are created without following
//! symlinks, so nothing is ever created on the host through the new tree.
//!
//! No host facts inside: `/proc/self/mountinfo` shows, for a bind mount, the source's path
//! inside its file system, i.e. the host path of the data directory and the code's digest.
//! So read-only directory mounts of the spec are overlayfs mounts whose only (read-only)
//! layers are given as `/proc/self/fd/N` of directories the init opened: mountinfo shows
//! `overlay` and those fd paths, nothing of the host. Likewise the masks over /proc come
//! from a scratch tmpfs that is detached once they are bound: a per-environment
//! `/proc/sys/kernel/random/boot_id`, a neutral `/proc/cmdline`, and empty files and
//! directories over the /proc entries container runtimes hide (kcore, keys, kallsyms,
//! timer_list, sched_debug, acpi, scsi …); /proc/sys, bus, fs, irq and sysrq-trigger are
//! read-only.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};

use super::protocol::{Launch, RootEntry};
use super::sys;

/// Devices bound from the host's /dev.
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// /proc files hidden behind an empty read-only file (as container runtimes mask them).
const MASKED_FILES: &[&str] = &[
    "kcore",
    "keys",
    "key-users",
    "kallsyms",
    "modules",
    "latency_stats",
    "timer_list",
    "timer_stats",
    "sched_debug",
    "config.gz",
];
/// /proc directories hidden behind an empty read-only directory.
const MASKED_DIRS: &[&str] = &["acpi", "asound", "scsi", "firmware"];
/// /proc entries bound read-only onto themselves.
const READ_ONLY: &[&str] = &["sys", "sysrq-trigger", "bus", "fs", "irq"];
/// What `/proc/cmdline` reads inside.
const CMDLINE: &str = "lambdabox\n";
/// Scratch tmpfs, relative to the new root; detached before pivot_root.
const SCRATCH: &str = ".lbx";

type R<T> = Result<T, String>;

fn cstr(p: &Path) -> R<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| format!("path {} contains NUL", p.display()))
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

fn mnt(
    src: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> R<()> {
    let src_c = src.map(cstr).transpose()?;
    let target_c = cstr(target)?;
    let fs_c = fstype.map(c);
    let data_c = data.map(c);
    sys::mount(
        src_c.as_deref(),
        &target_c,
        fs_c.as_deref(),
        flags,
        data_c.as_deref(),
    )
    .map_err(|e| {
        format!(
            "mount {} on {}: {e}",
            src.map_or("-".into(), |s| s.display().to_string()),
            target.display()
        )
    })
}

/// Creates `inside` under `root` component by component, refusing to walk through symlinks.
fn make_dirs(root: &Path, inside: &Path) -> R<PathBuf> {
    let mut cur = root.to_path_buf();
    for comp in inside.components() {
        let Component::Normal(n) = comp else { continue };
        cur.push(n);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("mount path {} crosses a symlink", inside.display()))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("{} is not a directory", cur.display())),
            Err(_) => {
                same_mount(root, &cur, inside)?;
                fs::create_dir(&cur).map_err(|e| format!("mkdir {}: {e}", cur.display()))?
            }
        }
    }
    Ok(cur)
}

/// Refuses to create `path` unless its parent is on the root tmpfs itself: nothing is ever
/// created inside a bind-mounted host directory (which would write to the host).
fn same_mount(root: &Path, path: &Path, inside: &Path) -> R<()> {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| {
        fs::metadata(p)
            .map(|m| m.dev())
            .map_err(|e| format!("stat {}: {e}", p.display()))
    };
    let parent = path.parent().unwrap_or(root);
    if dev(parent)? != dev(root)? {
        return Err(format!(
            "mount path {} lies inside another mount",
            inside.display()
        ));
    }
    Ok(())
}

/// Creates the mount point for `host` (dir or empty file) at `inside` under `root`.
fn make_target(root: &Path, host: &Path, inside: &Path) -> R<PathBuf> {
    if fs::metadata(host)
        .map_err(|e| format!("{}: {e}", host.display()))?
        .is_dir()
    {
        return make_dirs(root, inside);
    }
    let parent = inside.parent().unwrap_or(Path::new("/"));
    let dir = make_dirs(root, parent)?;
    let name = inside
        .file_name()
        .ok_or_else(|| format!("{} has no name", inside.display()))?;
    let target = dir.join(name);
    if fs::symlink_metadata(&target).is_err() {
        same_mount(root, &target, inside)?;
        fs::File::create(&target).map_err(|e| format!("create {}: {e}", target.display()))?;
    }
    Ok(target)
}

/// Bind `host` on `target`, then remount it read-only (unless writable), nosuid and (unless a
/// device) nodev, keeping flags the kernel locks in a user namespace.
fn bind(host: &Path, target: &Path, writable: bool, device: bool) -> R<()> {
    mnt(Some(host), target, None, libc::MS_BIND | libc::MS_REC, None)?;
    let locked = sys::statvfs_flags(&cstr(target)?)
        .map_err(|e| format!("statvfs {}: {e}", target.display()))?;
    let mut flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_NOSUID;
    for (st, ms) in [
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_RDONLY, libc::MS_RDONLY),
    ] {
        if locked & st != 0 {
            flags |= ms;
        }
    }
    if !writable {
        flags |= libc::MS_RDONLY;
    }
    if !device {
        flags |= libc::MS_NODEV;
    }
    mnt(None, target, None, flags, None)
}

/// Builds the tree at `launch.root_dir` and pivots into it. The caller is in fresh mount, PID
/// (and maybe user) namespaces with CAP_SYS_ADMIN there.
pub fn build(launch: &Launch) -> R<()> {
    let root = launch.root_dir.as_path();
    mnt(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )?;
    mnt(
        Some(Path::new("tmpfs")),
        root,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("size=4m,mode=755"),
    )?;

    for entry in &launch.root_entries {
        match entry {
            RootEntry::Bind(path) => {
                let target = make_target(root, path, path)?;
                bind(path, &target, false, false)?;
            }
            RootEntry::Symlink { path, target } => {
                let parent = path.parent().unwrap_or(Path::new("/"));
                let dir = make_dirs(root, parent)?;
                let name = path
                    .file_name()
                    .ok_or_else(|| format!("{} has no name", path.display()))?;
                symlink(target, dir.join(name))
                    .map_err(|e| format!("symlink {}: {e}", path.display()))?;
            }
            RootEntry::File { path, contents } => {
                let parent = path.parent().unwrap_or(Path::new("/"));
                let dir = make_dirs(root, parent)?;
                let name = path
                    .file_name()
                    .ok_or_else(|| format!("{} has no name", path.display()))?;
                fs::write(dir.join(name), contents)
                    .map_err(|e| format!("write {}: {e}", path.display()))?;
            }
        }
    }

    let scratch = make_dirs(root, Path::new(SCRATCH))?;
    mnt(
        Some(Path::new("tmpfs")),
        &scratch,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        Some("size=64k,mode=755"),
    )?;
    let empty = scratch.join("empty");
    fs::create_dir(&empty).map_err(|e| format!("mkdir {}: {e}", empty.display()))?;

    let mut mounts: Vec<_> = launch.spec.mounts.iter().collect();
    mounts.sort_by_key(|m| m.inside.components().count());
    for m in mounts {
        let target = make_target(root, &m.host, &m.inside)?;
        if m.writable || !m.host.is_dir() || overlay(&m.host, &empty, &target).is_err() {
            bind(&m.host, &target, m.writable, false)?;
        }
    }

    let tmp = make_dirs(root, Path::new("/tmp"))?;
    let tmp_opts = format!("size={}m,mode=1777", launch.spec.tmp_mb);
    mnt(
        Some(Path::new("tmpfs")),
        &tmp,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&tmp_opts),
    )?;

    build_dev(root, launch.spec.memory_mb)?;

    let proc_dir = make_dirs(root, Path::new("/proc"))?;
    let proc_flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    mnt(
        Some(Path::new("proc")),
        &proc_dir,
        Some("proc"),
        proc_flags,
        None,
    )?;
    mask_proc(&proc_dir, &scratch, &launch.boot_id)?;
    sys::umount_detach(&cstr(&scratch)?).map_err(|e| format!("detach scratch: {e}"))?;
    fs::remove_dir(&scratch).map_err(|e| format!("rmdir {}: {e}", scratch.display()))?;

    make_dirs(root, Path::new("/var"))?;
    let ro = libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    mnt(None, root, None, ro, None)?;
    pivot(root)
}

/// A read-only overlay of `host` (plus the empty `empty`) on `target`, its layers named by
/// `/proc/self/fd` paths so that mountinfo shows no host path.
fn overlay(host: &Path, empty: &Path, target: &Path) -> R<()> {
    use std::os::fd::AsRawFd;
    let open = |p: &Path| fs::File::open(p).map_err(|e| format!("open {}: {e}", p.display()));
    let (lower, blank) = (open(host)?, open(empty)?);
    let data = format!(
        "lowerdir=/proc/self/fd/{}:/proc/self/fd/{}",
        lower.as_raw_fd(),
        blank.as_raw_fd()
    );
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    mnt(
        Some(Path::new("overlay")),
        target,
        Some("overlay"),
        flags,
        Some(&data),
    )
}

/// Masks and read-only binds over the environment's /proc (see the module doc). The mask
/// sources live on the scratch tmpfs.
fn mask_proc(proc_dir: &Path, scratch: &Path, boot_id: &str) -> R<()> {
    let write = |name: &str, contents: &str| -> R<PathBuf> {
        let p = scratch.join(name);
        fs::write(&p, contents).map_err(|e| format!("write {}: {e}", p.display()))?;
        Ok(p)
    };
    let blank_file = write("blank", "")?;
    let blank_dir = scratch.join("blank.d");
    fs::create_dir(&blank_dir).map_err(|e| format!("mkdir {}: {e}", blank_dir.display()))?;
    for name in READ_ONLY {
        let p = proc_dir.join(name);
        if p.exists() {
            bind(&p, &p, false, false)?;
        }
    }
    let boot = proc_dir.join("sys/kernel/random/boot_id");
    if boot.exists() {
        bind(
            &write("boot_id", &format!("{boot_id}\n"))?,
            &boot,
            false,
            false,
        )?;
    }
    let cmdline = proc_dir.join("cmdline");
    if cmdline.exists() {
        bind(&write("cmdline", CMDLINE)?, &cmdline, false, false)?;
    }
    for name in MASKED_FILES {
        let p = proc_dir.join(name);
        if p.is_file() {
            bind(&blank_file, &p, false, false)?;
        }
    }
    for name in MASKED_DIRS {
        let p = proc_dir.join(name);
        if p.is_dir() {
            bind(&blank_dir, &p, false, false)?;
        }
    }
    Ok(())
}

fn build_dev(root: &Path, shm_mb: u64) -> R<()> {
    let dev = make_dirs(root, Path::new("/dev"))?;
    let flags = libc::MS_NOSUID | libc::MS_NOEXEC;
    mnt(
        Some(Path::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        flags,
        Some("size=64k,mode=755"),
    )?;
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        let target = dev.join(name);
        fs::File::create(&target).map_err(|e| format!("create {}: {e}", target.display()))?;
        bind(&host, &target, true, true)?;
    }
    let shm = dev.join("shm");
    fs::create_dir(&shm).map_err(|e| format!("mkdir {}: {e}", shm.display()))?;
    let opts = format!("size={shm_mb}m,mode=1777");
    mnt(
        Some(Path::new("tmpfs")),
        &shm,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&opts),
    )?;
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(target, dev.join(name)).map_err(|e| format!("symlink /dev/{name}: {e}"))?;
    }
    let ro = libc::MS_REMOUNT | libc::MS_RDONLY | flags;
    mnt(None, &dev, None, ro, Some("size=64k,mode=755"))
}

/// `pivot_root(".", ".")` then detach the old root that now sits on top: no path leads back.
fn pivot(root: &Path) -> R<()> {
    std::env::set_current_dir(root).map_err(|e| format!("chdir {}: {e}", root.display()))?;
    sys::pivot_root(&c("."), &c(".")).map_err(|e| format!("pivot_root: {e}"))?;
    sys::umount_detach(&c(".")).map_err(|e| format!("detach old root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))
}

/// The entries every environment gets, computed on the host (the daemon side).
pub fn system_entries(hostname: &str, uid: u32, gid: u32) -> Vec<RootEntry> {
    let mut out = Vec::new();
    for p in [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    ] {
        push_host(&mut out, p);
    }
    for p in [
        "/etc/ld.so.cache",
        "/etc/ssl/certs",
        "/etc/ssl/openssl.cnf",
        "/etc/ca-certificates",
        "/etc/pki/tls/certs",
        "/etc/localtime",
        "/etc/resolv.conf",
        "/etc/alternatives",
    ] {
        push_host(&mut out, p);
    }
    let file = |path: &str, contents: String| RootEntry::File {
        path: path.into(),
        contents,
    };
    out.push(file("/etc/passwd", format!(
        "root:x:0:0:root:/root:/usr/sbin/nologin\nsbx_user:x:{uid}:{gid}:lambda sandbox:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )));
    out.push(file(
        "/etc/group",
        format!("root:x:0:\nsbx_user:x:{gid}:\nnogroup:x:65534:\n"),
    ));
    out.push(file(
        "/etc/hosts",
        format!("127.0.0.1 localhost {hostname}\n::1 localhost ip6-localhost ip6-loopback\n"),
    ));
    out.push(file("/etc/hostname", format!("{hostname}\n")));
    out.push(file(
        "/etc/nsswitch.conf",
        "passwd: files\ngroup: files\nhosts: files dns\n".into(),
    ));
    out
}

/// Internet-only networking: `/etc/resolv.conf` names the daemon's resolver inside the
/// environment's namespace instead of the host's file (whose resolvers it cannot reach).
pub fn use_own_resolver(entries: &mut Vec<RootEntry>) {
    let resolv = Path::new("/etc/resolv.conf");
    entries.retain(|e| match e {
        RootEntry::Bind(p)
        | RootEntry::Symlink { path: p, .. }
        | RootEntry::File { path: p, .. } => p != resolv,
    });
    entries.push(RootEntry::File {
        path: "/etc/resolv.conf".into(),
        contents: "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n".into(),
    });
}

/// A host path as a symlink (copied as is) or a read-only bind; skipped when absent.
fn push_host(out: &mut Vec<RootEntry>, p: &str) {
    let path = Path::new(p);
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            if let Ok(target) = fs::read_link(path) {
                out.push(RootEntry::Symlink {
                    path: path.into(),
                    target,
                });
            }
        }
        Ok(_) => out.push(RootEntry::Bind(path.into())),
        Err(_) => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn make_dirs_refuses_symlinks() {
        let root = tempfile::tempdir().unwrap();
        symlink("/etc", root.path().join("evil")).unwrap();
        assert!(make_dirs(root.path(), Path::new("/evil/x")).is_err());
        assert!(!Path::new("/etc/x").exists());
        let made = make_dirs(root.path(), Path::new("/var/task")).unwrap();
        assert!(made.is_dir());
    }

    #[test]
    fn system_entries_name_the_sandbox_user() {
        let entries = system_entries("env-1", 61000, 61000);
        let passwd = entries.iter().find_map(|e| match e {
            RootEntry::File { path, contents } if path == Path::new("/etc/passwd") => {
                Some(contents)
            }
            _ => None,
        });
        assert!(passwd.unwrap().contains("sbx_user:x:61000:61000"));
        assert!(entries.iter().any(|e| matches!(e, RootEntry::Bind(p) | RootEntry::Symlink { path: p, .. } if p == Path::new("/usr"))));
    }
}
