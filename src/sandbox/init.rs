//! PID 1 of an environment: finishes the namespaces (hostname, loopback, the Runtime API
//! listener, `eth0` and the DNS sockets), waits for the function's `Finish` (a spare waits here,
//! already attached to its cgroup, until a function claims it), builds the root filesystem
//! (while the helper attaches it to the cgroup, on a plain launch), waits for "attached",
//! enters a cgroup namespace, forks the runtime as PID 2 and reaps every zombie until the
//! runtime exits; then it exits and the kernel kills the rest of the PID namespace. Nothing
//! of the function runs before `Finish`.
//!
//! Ordering rule (runtime process): stdin → /dev/null, fds ≥ 3 close-on-exec → identity
//! (groups, gid, uid, capabilities, no_new_privs) → rlimits → landlock → seccomp (LAST) → execve.
//! An exec failure is reported through a close-on-exec pipe, so `launch` returns it as an error.

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use super::network::plan;
use super::protocol::{self, Finish, InitReport, Launch, Prepare};
use super::{identity, landlock, rlimits, rootfs, seccomp, sys};

/// Runs the init; returns its exit status (the helper reads the runtime's status from `sock`).
pub fn run(prepare: &Prepare, sock: OwnedFd) -> i32 {
    let _ = sys::set_parent_death_signal(libc::SIGKILL);
    // Stdin is the helper's end of the daemon's control socket: do not keep it alive.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = sys::dup2(null.as_fd(), 0);
    }
    let slot = match sys::recv_msg(sock.as_fd(), 32) {
        Ok((go, _)) if go == b"go" => None,
        Ok((go, _)) => match std::str::from_utf8(&go)
            .ok()
            .and_then(|g| g.strip_prefix("go:"))
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(slot) => Some(slot),
            None => return 1,
        },
        _ => return 1,
    };
    let failed = |message: String| {
        let _ = protocol::send(sock.as_fd(), &InitReport::Failed { message }, &[]);
        1
    };
    let (listener, dns) = match namespaces(prepare, slot) {
        Ok(made) => made,
        Err(message) => return failed(message),
    };
    let finish = match protocol::recv::<Finish>(sock.as_fd()) {
        Ok(Some((finish, _))) => finish,
        _ => return 1,
    };
    let launch = Launch::join(prepare, finish);
    match setup(&launch, &sock, listener, dns) {
        Ok(runtime) => reap(runtime, &sock),
        Err(message) => failed(message),
    }
}

/// The Runtime API listener and the DNS sockets (UDP, TCP).
type Sockets = (Option<TcpListener>, Option<(UdpSocket, TcpListener)>);

/// The function-independent part: hostname, loopback and the Runtime API listener, `eth0`
/// and the DNS sockets.
fn namespaces(p: &Prepare, slot: Option<u32>) -> Result<Sockets, String> {
    sys::sethostname(&p.hostname).map_err(|e| format!("sethostname: {e}"))?;
    let listener = if p.own_netns {
        sys::loopback_up().map_err(|e| format!("loopback up: {e}"))?;
        let l = TcpListener::bind(("127.0.0.1", p.runtime_api_port))
            .map_err(|e| format!("bind runtime api 127.0.0.1:{}: {e}", p.runtime_api_port))?;
        Some(l)
    } else {
        None
    };
    let dns = match slot {
        Some(slot) => Some(internet(slot)?),
        None => None,
    };
    Ok((listener, dns))
}

/// Configures `eth0` (the environment's end of the veth pair) and binds the DNS sockets.
fn internet(slot: u32) -> Result<(UdpSocket, TcpListener), String> {
    let link = plan::link(slot);
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", "1");
    sys::add_ipv4(plan::PEER, link.env_addr, plan::LINK_PREFIX)
        .and_then(|()| sys::link_up(plan::PEER))
        .and_then(|()| sys::add_default_route(plan::PEER, link.host_addr))
        .map_err(|e| format!("configure {}: {e}", plan::PEER))?;
    let udp = UdpSocket::bind(("127.0.0.1", 53))
        .map_err(|e| format!("bind dns 127.0.0.1:53/udp: {e}"))?;
    let tcp = TcpListener::bind(("127.0.0.1", 53))
        .map_err(|e| format!("bind dns 127.0.0.1:53/tcp: {e}"))?;
    Ok((udp, tcp))
}

fn setup(
    launch: &Launch,
    sock: &OwnedFd,
    listener: Option<TcpListener>,
    dns: Option<(UdpSocket, TcpListener)>,
) -> Result<i32, String> {
    rootfs::build(launch)?;
    let ruleset = if launch.landlock {
        Some(landlock::ruleset(launch)?)
    } else {
        None
    };
    let programs: Vec<Vec<libc::sock_filter>> = launch
        .seccomp
        .as_ref()
        .map(|c| {
            c.programs
                .iter()
                .map(|p| seccomp::to_sock_filters(p))
                .collect()
        })
        .unwrap_or_default();
    let cstring = |s: &str| CString::new(s).map_err(|_| format!("{s:?} contains NUL"));
    let argv = launch
        .spec
        .argv
        .iter()
        .map(|a| cstring(a))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = launch
        .spec
        .env
        .iter()
        .map(|(k, v)| cstring(&format!("{k}={v}")))
        .collect::<Result<Vec<_>, _>>()?;
    let program = CString::new(
        std::path::Path::new(&launch.spec.argv[0])
            .as_os_str()
            .as_bytes(),
    )
    .map_err(|_| "argv[0] contains NUL".to_string())?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("open /dev/null: {e}"))?;
    let (err_r, err_w) = sys::pipe().map_err(|e| format!("pipe: {e}"))?;
    let (mut err_r, mut err_w) = (std::fs::File::from(err_r), std::fs::File::from(err_w));

    // Only once the helper has moved us into the environment's cgroup: make it our cgroup
    // root, then fork the runtime (which inherits the cgroup and its limits).
    match sys::recv_msg(sock.as_fd(), 16) {
        Ok((msg, _)) if msg == b"attached" => {}
        _ => return Err("the helper did not attach the environment to its cgroup".into()),
    }
    sys::unshare(libc::CLONE_NEWCGROUP).map_err(|e| format!("unshare cgroup namespace: {e}"))?;
    let Some(pid) = sys::fork().map_err(|e| format!("fork runtime: {e}"))? else {
        drop(err_r);
        let msg = exec_runtime(launch, ruleset, &programs, &null, &program, &argv, &envp);
        let _ = err_w.write_all(msg.as_bytes());
        sys::exit_now(127);
    };
    drop(err_w);
    drop(ruleset);
    let mut msg = String::new();
    let _ = err_r.read_to_string(&mut msg);
    if !msg.is_empty() {
        let _ = sys::waitpid(pid, false);
        return Err(msg);
    }
    let status = match &launch.seccomp {
        Some(_) => "on",
        None => "off",
    };
    let landlock = if launch.landlock {
        "on".to_string()
    } else {
        "off".to_string()
    };
    let mut fds: Vec<_> = listener.iter().map(|l| l.as_fd()).collect();
    if let Some((udp, tcp)) = &dns {
        fds.push(udp.as_fd());
        fds.push(tcp.as_fd());
    }
    protocol::send(
        sock.as_fd(),
        &InitReport::Ready {
            landlock: format!("landlock {landlock}, seccomp {status}"),
        },
        &fds,
    )
    .map_err(|e| format!("report ready: {e}"))?;
    Ok(pid)
}

/// In the forked runtime process; returns only on failure, with the reason.
fn exec_runtime(
    launch: &Launch,
    ruleset: Option<::landlock::RulesetCreated>,
    programs: &[Vec<libc::sock_filter>],
    null: &std::fs::File,
    program: &CString,
    argv: &[CString],
    envp: &[CString],
) -> String {
    let step = || -> Result<std::io::Error, String> {
        sys::dup2(null.as_fd(), 0).map_err(|e| format!("stdin: {e}"))?;
        sys::cloexec_from(3).map_err(|e| format!("close_range: {e}"))?;
        std::env::set_current_dir(&launch.spec.cwd)
            .map_err(|e| format!("chdir {}: {e}", launch.spec.cwd))?;
        identity::drop_to(launch.uid, launch.gid, launch.user_namespace)?;
        rlimits::apply(&launch.spec, !launch.cgroup_procs.is_empty())?;
        if let Some(ruleset) = ruleset {
            landlock::enforce(ruleset)?;
        }
        for p in programs {
            sys::install_seccomp(p).map_err(|e| format!("seccomp: {e}"))?;
        }
        Ok(sys::execve(program, argv, envp))
    };
    match step() {
        Ok(exec_err) => format!("exec {}: {exec_err}", launch.spec.argv[0]),
        Err(msg) => msg,
    }
}

/// Reaps every child; when the runtime exits, reports its status and returns.
fn reap(runtime: i32, sock: &OwnedFd) -> i32 {
    loop {
        match sys::waitpid(-1, false) {
            Ok(Some((pid, status))) if pid == runtime => {
                let _ = protocol::send(
                    sock.as_fd(),
                    &InitReport::Exited {
                        wait_status: status,
                    },
                    &[],
                );
                return 0;
            }
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
}
