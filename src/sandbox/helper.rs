//! The sandbox helper: `lambdabox __sandbox-helper`, spawned by `launch` (posix_spawn path, no
//! `pre_exec`) once per environment. Single-threaded, so it may clone freely.
//!
//! Guard against re-exec tricks: the helper only proceeds when its stdin is an `AF_UNIX`
//! `SOCK_SEQPACKET` socket whose peer is its own parent running as the same uid, and the first
//! message carries the versioned magic. Run by hand (`lambdabox __sandbox-helper`) it exits with
//! status 2 and does nothing; it is never setuid, so re-exec gives nothing the caller lacked.
//!
//! Ordering rule: clone the init into fresh namespaces → write uid/gid maps (user-namespace
//! path) → create the veth (internet) → release it ("go") → hand it the `Finish` → attach it to
//! the cgroup by pid while it builds its root → "attached" (the init forks the runtime only
//! after this) → relay its Ready/Failed → supervise until it exits, killing it if the daemon
//! goes away → report `Exited`. A spare attaches first, reports `Prepared` and waits (for the
//! daemon's `Finish`, the daemon going away, or the init dying) before it hands on `Finish`.

use std::fs;
use std::os::fd::{AsFd, OwnedFd};

use super::init;
use super::network::plan;
use super::protocol::{self, Finish, InitReport, Prepare, Reply, MAGIC};
use super::{sys, SandboxError};

/// Entry point of the hidden subcommand; returns the process exit status.
pub fn helper_main() -> i32 {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lambdabox sandbox helper: {e}");
            2
        }
    }
}

fn run() -> Result<i32, SandboxError> {
    let control = sys::std_fd(0);
    let refuse = || {
        SandboxError::Protocol("refusing to run: stdin is not the daemon's control socket".into())
    };
    let peer = sys::peer_info(control).map_err(|_| refuse())?;
    if !peer.is_seqpacket || peer.pid != sys::getppid() || peer.uid != sys::getuid() {
        return Err(refuse());
    }
    let Some((prepare, _)) = protocol::recv::<Prepare>(control)? else {
        return Err(refuse());
    };
    if prepare.magic != MAGIC {
        return Err(refuse());
    }
    // A launch sends its Finish right behind the Prepare; a spare gets it later.
    let early = if prepare.spare {
        None
    } else {
        match protocol::recv::<Finish>(control)? {
            Some((finish, _)) => Some(finish),
            None => return Ok(1),
        }
    };
    match start(&prepare, early) {
        Ok(started) => supervise(started, &prepare),
        Err(Stop::Failed(message)) => {
            protocol::send(control, &Reply::Failed { message }, &[])?;
            Ok(1)
        }
        Err(Stop::Exited(wait_status)) => {
            protocol::send(control, &Reply::Exited { wait_status }, &[])?;
            Ok(0)
        }
        Err(Stop::DaemonGone) => Ok(0),
    }
}

/// Why a start did not reach the supervising phase.
enum Stop {
    /// Reported to the daemon as `Failed`.
    Failed(String),
    /// A spare's init died before a function claimed it (reported as `Exited`).
    Exited(i32),
    /// A spare's daemon closed the control socket: the init was killed, nothing to report.
    DaemonGone,
}

struct Started {
    pid: i32,
    pidfd: OwnedFd,
    sock: OwnedFd,
}

/// Creates the environment's veth pair (the first candidate slot whose name is free) and
/// configures the host end; returns the slot and the namespace fd.
fn plumb(launch: &Prepare, pid: i32) -> Result<(u32, OwnedFd), String> {
    let ns = fs::File::open(format!("/proc/{pid}/ns/net"))
        .map_err(|e| format!("open the environment's network namespace: {e}"))?;
    let ns = OwnedFd::from(ns);
    let mut chosen = None;
    for slot in &launch.net_slots {
        let link = plan::link(*slot);
        match sys::create_veth(&link.host_if, plan::PEER, ns.as_fd()) {
            Ok(()) => {
                chosen = Some(link);
                break;
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
            Err(e) => return Err(format!("create veth {}: {e}", link.host_if)),
        }
    }
    let link = chosen.ok_or("no free network slot (every candidate veth name is taken)")?;
    let configure = || -> std::io::Result<()> {
        let _ = fs::write(
            format!("/sys/class/net/{}/ifalias", link.host_if),
            format!("lambdabox pid {}", std::process::id()),
        );
        let _ = fs::write(
            format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", link.host_if),
            "1",
        );
        sys::add_ipv4(&link.host_if, link.host_addr, plan::LINK_PREFIX)?;
        sys::link_up(&link.host_if)
    };
    if let Err(e) = configure() {
        let _ = sys::delete_link(&link.host_if);
        return Err(format!("configure veth {}: {e}", link.host_if));
    }
    Ok((link.slot, ns))
}

fn start(launch: &Prepare, early: Option<Finish>) -> Result<Started, Stop> {
    let control = sys::std_fd(0);
    if let Some(why) = early.as_ref().and_then(|f| f.mismatch(launch)) {
        return Err(Stop::Failed(why));
    }
    let (sock, init_sock) =
        sys::seqpacket_pair().map_err(|e| Stop::Failed(format!("socketpair: {e}")))?;
    let mut flags =
        libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if launch.own_netns {
        flags |= libc::CLONE_NEWNET;
    }
    if launch.user_namespace {
        flags |= libc::CLONE_NEWUSER;
    }
    let cloned =
        sys::clone_namespaces(flags).map_err(|e| Stop::Failed(format!("clone namespaces: {e}")))?;
    let pid = match cloned {
        None => {
            drop(sock);
            sys::exit_now(init::run(launch, init_sock));
        }
        Some(pid) => pid,
    };
    drop(init_sock);
    let pidfd = sys::pidfd_open(pid).map_err(|e| Stop::Failed(format!("pidfd_open: {e}")))?;
    let started = Started { pid, pidfd, sock };
    let fail = |msg: String| {
        let _ = sys::pidfd_kill(started.pidfd.as_fd(), libc::SIGKILL);
        let _ = sys::waitpid(pid, false);
        Stop::Failed(msg)
    };
    if launch.user_namespace {
        let maps = [
            ("setgroups", "deny\n".to_string()),
            (
                "uid_map",
                format!("{} {} 1\n", launch.uid, launch.outer_uid),
            ),
            (
                "gid_map",
                format!("{} {} 1\n", launch.gid, launch.outer_gid),
            ),
        ];
        for (file, contents) in maps {
            let path = format!("/proc/{pid}/{file}");
            fs::write(&path, contents).map_err(|e| fail(format!("write {path}: {e}")))?;
        }
    }
    let net = if launch.net_slots.is_empty() {
        None
    } else {
        Some(plumb(launch, pid).map_err(fail)?)
    };
    let go = match &net {
        Some((slot, _)) => format!("go:{slot}"),
        None => "go".to_string(),
    };
    sys::send_msg(started.sock.as_fd(), go.as_bytes(), &[])
        .map_err(|e| fail(format!("release init: {e}")))?;
    // The attach may wait ≈ 10 ms for an RCU grace period (cgroup v1). On a launch the init
    // builds its root meanwhile and only forks the runtime after "attached"; a spare pays it
    // before any request. If the init already failed, its own report (read below) explains
    // why better than ours. A failed hand-over of the Finish shows the same way.
    let attach = || {
        launch.cgroup_procs.iter().find_map(|procs| {
            fs::write(procs, pid.to_string())
                .err()
                .map(|e| format!("attach to {}: {e}", procs.display()))
        })
    };
    let attach_err = match early {
        Some(finish) => {
            let _ = protocol::send(started.sock.as_fd(), &finish, &[]);
            attach()
        }
        None => {
            if let Some(e) = attach() {
                return Err(fail(e));
            }
            quiet_output();
            let prepared = Reply::Prepared {
                init_pid: pid,
                slot: net.as_ref().map(|(slot, _)| *slot),
            };
            let mut fds = vec![started.pidfd.as_fd()];
            fds.extend(net.as_ref().map(|(_, ns)| ns.as_fd()));
            protocol::send(control, &prepared, &fds).map_err(|e| fail(e.to_string()))?;
            let finish = wait_for_finish(&started, launch)?;
            let _ = protocol::send(started.sock.as_fd(), &finish, &[]);
            None
        }
    };
    match attach_err {
        None => {
            let _ = sys::send_msg(started.sock.as_fd(), b"attached", &[]);
        }
        Some(_) => {
            let _ = sys::pidfd_kill(started.pidfd.as_fd(), libc::SIGKILL);
        }
    }
    quiet_output();
    match protocol::recv::<InitReport>(started.sock.as_fd()) {
        Ok(Some((InitReport::Ready { .. }, _))) if attach_err.is_some() => {
            Err(fail(attach_err.unwrap_or_default()))
        }
        Ok(Some((InitReport::Ready { landlock }, fds))) => {
            let mut send_fds = vec![started.pidfd.as_fd()];
            send_fds.extend(fds.iter().map(|f| f.as_fd()));
            if let Some((_, ns)) = &net {
                send_fds.push(ns.as_fd());
            }
            let ready = Reply::Ready {
                init_pid: pid,
                landlock,
                slot: net.as_ref().map(|(slot, _)| *slot),
            };
            protocol::send(control, &ready, &send_fds).map_err(|e| fail(e.to_string()))?;
            Ok(started)
        }
        Ok(Some((InitReport::Failed { message }, _))) => Err(fail(message)),
        Ok(Some((InitReport::Exited { wait_status }, _))) => Err(fail(format!(
            "environment exited during set-up (wait status {wait_status})"
        ))),
        other => {
            let how = match other {
                Err(e) => e.to_string(),
                _ => "no report".to_string(),
            };
            let status = sys::waitpid(pid, false)
                .ok()
                .flatten()
                .map_or(-1, |(_, s)| s);
            Err(Stop::Failed(attach_err.unwrap_or_else(|| {
                format!("environment init died during set-up ({how}, wait status {status})")
            })))
        }
    }
}

/// From here on only the environment's processes hold the output pipe.
fn quiet_output() {
    if let Ok(null) = fs::File::open("/dev/null") {
        let _ = sys::dup2(null.as_fd(), 1);
        let _ = sys::dup2(null.as_fd(), 2);
    }
}

/// A spare waits for the function's `Finish`; the init dying or the daemon going away ends it.
fn wait_for_finish(started: &Started, launch: &Prepare) -> Result<Finish, Stop> {
    let control = sys::std_fd(0);
    let gone = || {
        let _ = sys::pidfd_kill(started.pidfd.as_fd(), libc::SIGKILL);
        let _ = sys::waitpid(started.pid, false);
        Stop::DaemonGone
    };
    loop {
        let fds = [started.pidfd.as_fd(), control];
        let revents = match sys::poll(&fds, -1) {
            Ok(r) => r,
            Err(_) => return Err(gone()),
        };
        if revents[0] != 0 {
            let status = sys::waitpid(started.pid, false)
                .ok()
                .flatten()
                .map_or(-1, |(_, s)| s);
            return Err(Stop::Exited(status));
        }
        if revents.get(1).is_some_and(|r| *r != 0) {
            return match protocol::recv::<Finish>(control) {
                Ok(Some((finish, _))) => match finish.mismatch(launch) {
                    None => Ok(finish),
                    Some(why) => {
                        let _ = gone();
                        Err(Stop::Failed(why))
                    }
                },
                _ => Err(gone()),
            };
        }
    }
}

/// Waits for the init to exit; kills (and thaws) it if the daemon closes the control socket.
fn supervise(started: Started, launch: &Prepare) -> Result<i32, SandboxError> {
    let control = sys::std_fd(0);
    let mut daemon_alive = true;
    loop {
        let fds: Vec<_> = if daemon_alive {
            vec![started.pidfd.as_fd(), control]
        } else {
            vec![started.pidfd.as_fd()]
        };
        let revents = sys::poll(&fds, -1).map_err(SandboxError::Control)?;
        if revents[0] != 0 {
            break;
        }
        if daemon_alive && revents.get(1).is_some_and(|r| *r != 0) {
            // Nothing is expected from the daemon: data or EOF both mean "stop".
            let _ = sys::recv_msg(control, 64);
            daemon_alive = false;
            let _ = sys::pidfd_kill(started.pidfd.as_fd(), libc::SIGKILL);
            // The daemon may have died while the environment was frozen.
            if let Some((path, value)) = &launch.thaw {
                let _ = fs::write(path, value);
            }
        }
    }
    let init_status = sys::waitpid(started.pid, false)
        .map_err(SandboxError::Control)?
        .map_or(-1, |(_, s)| s);
    let wait_status = match protocol::recv::<InitReport>(started.sock.as_fd()) {
        Ok(Some((InitReport::Exited { wait_status }, _))) => wait_status,
        _ => init_status,
    };
    if daemon_alive {
        protocol::send(control, &Reply::Exited { wait_status }, &[])?;
    }
    Ok(0)
}
