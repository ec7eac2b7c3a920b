//! Identity and confinement calls: capabilities, ids, groups, rlimits, no_new_privs, seccomp
//! and landlock probes. Ordering is the callers' job (see `identity.rs`, `init.rs`).
#![allow(unsafe_code)]

use std::io;

use super::{check, check_long};

pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer args.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(|_| ())
}

/// Drops every capability from the bounding set (needs CAP_SETPCAP: call before setuid).
pub fn drop_bounding_set() -> io::Result<()> {
    for cap in 0..64 {
        // SAFETY: prctl with integer args.
        let ret = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINVAL) {
                break; // past the last capability the kernel knows
            }
            return Err(err);
        }
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Clears the effective, permitted, inheritable and ambient capability sets.
pub fn clear_capabilities() -> io::Result<()> {
    // SAFETY: prctl with integer args.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    })?;
    let header = CapHeader {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and two data structs match the v3 ABI layout.
    check_long(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) }).map(|_| ())
}

pub fn clear_groups() -> io::Result<()> {
    // SAFETY: a zero-length list with a NULL pointer is valid.
    check(unsafe { libc::setgroups(0, std::ptr::null()) }).map(|_| ())
}

pub fn set_ids(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: plain integer syscalls; gid first while we still may.
    check(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: as above.
    check(unsafe { libc::setresuid(uid, uid, uid) }).map(|_| ())
}

/// Sets soft and hard limit to `value`, or to the current hard limit if that is lower.
pub fn set_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: cur is a valid out-pointer.
    check(unsafe { libc::getrlimit(resource, &mut cur) })?;
    let value = value.min(cur.rlim_max);
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: lim is a valid rlimit.
    check(unsafe { libc::setrlimit(resource, &lim) }).map(|_| ())
}

/// Raises the soft limit of `resource` to its hard limit; returns the new soft limit.
pub fn raise_soft_limit(resource: libc::__rlimit_resource_t) -> io::Result<u64> {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: cur is a valid out-pointer.
    check(unsafe { libc::getrlimit(resource, &mut cur) })?;
    let lim = libc::rlimit {
        rlim_cur: cur.rlim_max,
        rlim_max: cur.rlim_max,
    };
    // SAFETY: lim is a valid rlimit.
    check(unsafe { libc::setrlimit(resource, &lim) })?;
    Ok(cur.rlim_max)
}

/// Installs a classic BPF seccomp program (the caller set no_new_privs already).
pub fn install_seccomp(program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points at `program`, which outlives the call; the kernel copies it.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    })
    .map(|_| ())
}

/// The landlock ABI version of the running kernel (0 when unsupported).
pub fn landlock_abi() -> u32 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with NULL attr and size 0 only queries.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    if ret < 0 {
        0
    } else {
        ret as u32
    }
}

/// Whether the kernel has seccomp filters (PR_GET_SECCOMP answers).
pub fn seccomp_available() -> bool {
    // SAFETY: prctl with integer args.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}
