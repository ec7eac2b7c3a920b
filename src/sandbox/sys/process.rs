//! Processes: clone into namespaces, fork, pidfds, signals, waiting, polling, exec.
//! `clone_namespaces` and `fork` must only be called from a single-threaded process.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{check, check_long};

pub fn getppid() -> i32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getppid() }
}

pub fn getuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getuid() }
}

pub fn getgid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getgid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::geteuid() }
}

/// `clone(flags | SIGCHLD)` without a new stack: fork semantics plus namespace flags.
/// Returns `Some(pid)` in the parent, `None` in the child.
/// Only call from a single-threaded process (the helper).
pub fn clone_namespaces(flags: libc::c_int) -> io::Result<Option<i32>> {
    // SAFETY: a raw clone with a NULL stack behaves like fork(); the caller is single-threaded,
    // so the child's copy of the heap and locks is consistent. All pointer args are NULL.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    let pid = check_long(ret)?;
    Ok(if pid == 0 { None } else { Some(pid as i32) })
}

/// Plain fork for the single-threaded init. `Some(pid)` in the parent, `None` in the child.
pub fn fork() -> io::Result<Option<i32>> {
    // SAFETY: called only from the single-threaded sandbox init.
    let pid = check(unsafe { libc::fork() })?;
    Ok(if pid == 0 { None } else { Some(pid) })
}

pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags, returns a new fd.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` through a pidfd; a process that already exited is not an error.
pub fn pidfd_kill(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: NULL siginfo is allowed; the fd is borrowed for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    match check_long(ret) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        other => other.map(|_| ()),
    }
}

pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: plain unshare(2).
    check(unsafe { libc::unshare(flags) }).map(|_| ())
}

pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain kill(2).
    check(unsafe { libc::kill(pid, sig) }).map(|_| ())
}

/// `waitpid`; returns `Some((pid, raw status))`, or `None` with WNOHANG and nothing ready.
pub fn waitpid(pid: i32, nohang: bool) -> io::Result<Option<(i32, i32)>> {
    let mut status = 0;
    let flags = if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: status is a valid out-pointer.
        let ret = unsafe { libc::waitpid(pid, &mut status, flags | libc::__WALL) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(if ret == 0 { None } else { Some((ret, status)) });
    }
}

/// Waits until one of `fds` is readable (or hung up); returns their `revents`.
pub fn poll(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<Vec<i16>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: pfds is a valid array of pfds.len() entries.
        let ret = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(pfds.iter().map(|p| p.revents).collect());
    }
}

pub fn set_parent_death_signal(sig: i32) -> io::Result<()> {
    // SAFETY: prctl with integer args.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(|_| ())
}

/// Marks every fd >= `from` close-on-exec.
pub fn cloexec_from(from: u32) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            from,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    })
    .map(|_| ())
}

pub fn dup2(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 on a valid fd; replacing `to` is the intent.
    check(unsafe { libc::dup2(from.as_raw_fd(), to) }).map(|_| ())
}

/// `execve`; only returns on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = envp.iter().map(|a| a.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of NUL-terminated strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// Exits immediately without running destructors or atexit handlers (forked children).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// Borrow a raw fd that the process owns for its whole life (0, 1, 2).
pub fn std_fd(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: only used for the standard fds, which stay open for the process's life.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Sets the calling thread's nice value (on Linux `PRIO_PROCESS` with `who = 0` is the calling
/// thread only, not its whole process). Raising it needs no privilege.
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    // SAFETY: plain integer arguments; no memory is passed.
    check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(|_| ())
}

/// The calling thread's nice value.
pub fn thread_nice() -> io::Result<i32> {
    // SAFETY: errno is thread-local; clearing it tells a -1 nice value from an error.
    let value = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    if value == -1 && io::Error::last_os_error().raw_os_error().unwrap_or(0) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}
