//! The control channel between the daemon (`launch`) and the sandbox helper, and between the
//! helper and the environment's init: one `SOCK_SEQPACKET` datagram per JSON message, fds as
//! `SCM_RIGHTS`.
//!
//! Ordering rule (daemon ↔ helper): `Prepare` → [`Prepared` (fd: init pidfd), only for a
//! spare] → `Finish` → `Ready` (fds: init pidfd [, runtime API listener]) or `Failed` → at the
//! end `Exited`. A launch sends `Finish` right behind `Prepare`; a spare (`Prepare::spare`)
//! gets it when a function claims the spare, and until then only the function-independent
//! set-up is done (namespaces, uid maps, veth, cgroup attach, loopback and listeners).
//! Helper → init: `go[:slot]` → `Finish` → `attached`. A helper refuses to start unless its
//! stdin is a seqpacket socket whose peer is its parent with the same uid, and the first
//! message carries [`MAGIC`].

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::seccomp::Compiled;
use super::spec::{EnvSpec, NetworkPolicy};
use super::sys;
use super::SandboxError;

/// Versioned magic the helper requires in the first message.
pub const MAGIC: &str = "lambdabox-sandbox-helper/2";
/// Largest message accepted (a spec with its environment is far below this).
pub const MAX_MESSAGE: usize = 1 << 20;

/// Something to place in the new root that is not from the spec.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum RootEntry {
    /// Read-only bind of a host path at the same path inside (dir or file).
    Bind(PathBuf),
    /// A symlink `path -> target` (e.g. merged-/usr `/lib -> usr/lib`).
    Symlink { path: PathBuf, target: PathBuf },
    /// A generated file.
    File { path: PathBuf, contents: String },
}

/// The function-independent part of an environment: what the helper and the init set up
/// before any function is known (and, for a spare, before any request arrives).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepare {
    pub magic: String,
    /// Wait for `Finish` after the set-up (a spare), instead of reading it right away.
    pub spare: bool,
    /// The environment gets its own network namespace (every mode but `host`).
    pub own_netns: bool,
    pub uid: u32,
    pub gid: u32,
    /// Unprivileged path: clone a user namespace and map `uid` to `outer_uid`.
    pub user_namespace: bool,
    pub outer_uid: u32,
    pub outer_gid: u32,
    /// Empty host directory the new root's tmpfs is mounted on (inside the new mount ns).
    pub root_dir: PathBuf,
    pub root_entries: Vec<RootEntry>,
    pub cgroup_procs: Vec<PathBuf>,
    /// File and value that thaw the environment's cgroup: the helper writes it after killing a
    /// possibly frozen environment (cgroup v1 frozen tasks do not die until thawed).
    pub thaw: Option<(PathBuf, String)>,
    pub seccomp: Option<Compiled>,
    pub landlock: bool,
    /// Port of the in-namespace Runtime API listener (own network namespace), or the host port.
    pub runtime_api_port: u16,
    pub hostname: String,
    /// What `/proc/sys/kernel/random/boot_id` reads inside (one per environment).
    pub boot_id: String,
    /// Internet-only networking: slots the helper may create the veth pair for (first that
    /// works). Empty for the other network modes.
    #[serde(default)]
    pub net_slots: Vec<u32>,
}

/// The function-specific part: what to mount and run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finish {
    pub spec: EnvSpec,
}

impl Finish {
    /// Why this spec cannot finish an environment prepared as `p` (its network mode decides
    /// the namespaces and the veth, which already exist).
    pub fn mismatch(&self, p: &Prepare) -> Option<String> {
        let internet = matches!(self.spec.network, NetworkPolicy::Internet { .. });
        if self.spec.network.own_namespace() != p.own_netns || internet == p.net_slots.is_empty() {
            return Some(format!(
                "network mode {} does not match the prepared environment",
                self.spec.network.mode()
            ));
        }
        None
    }
}

/// Everything the init needs to build one environment: [`Prepare`] joined with [`Finish`].
#[derive(Debug, Clone)]
pub struct Launch {
    pub spec: EnvSpec,
    pub uid: u32,
    pub gid: u32,
    pub user_namespace: bool,
    pub root_dir: PathBuf,
    pub root_entries: Vec<RootEntry>,
    pub cgroup_procs: Vec<PathBuf>,
    pub seccomp: Option<Compiled>,
    pub landlock: bool,
    pub runtime_api_port: u16,
    pub boot_id: String,
}

impl Launch {
    pub fn join(p: &Prepare, f: Finish) -> Launch {
        Launch {
            spec: f.spec,
            uid: p.uid,
            gid: p.gid,
            user_namespace: p.user_namespace,
            root_dir: p.root_dir.clone(),
            root_entries: p.root_entries.clone(),
            cgroup_procs: p.cgroup_procs.clone(),
            seccomp: p.seccomp.clone(),
            landlock: p.landlock,
            runtime_api_port: p.runtime_api_port,
            boot_id: p.boot_id.clone(),
        }
    }
}

/// Helper → daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// A spare is ready for its `Finish`: attached to its cgroup, networking in place; fds: the
    /// init's pidfd (so the daemon can kill a spare it drops), with internet networking the
    /// netns fd of its veth (`slot`).
    Prepared {
        init_pid: i32,
        #[serde(default)]
        slot: Option<u32>,
    },
    /// The runtime was exec'd; fds: init pidfd, then the listener when the env has its own
    /// netns; with internet networking also the DNS UDP socket, DNS TCP listener and netns fd.
    Ready {
        init_pid: i32,
        landlock: String,
        #[serde(default)]
        slot: Option<u32>,
    },
    Failed {
        message: String,
    },
    /// The runtime's raw wait status (or the init's, when the init itself was killed).
    Exited {
        wait_status: i32,
    },
}

/// Init → helper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum InitReport {
    Ready { landlock: String },
    Failed { message: String },
    Exited { wait_status: i32 },
}

pub fn send<T: Serialize>(
    sock: BorrowedFd<'_>,
    msg: &T,
    fds: &[BorrowedFd<'_>],
) -> Result<(), SandboxError> {
    let bytes =
        serde_json::to_vec(msg).map_err(|e| SandboxError::Protocol(format!("encode: {e}")))?;
    sys::send_msg(sock, &bytes, fds).map_err(SandboxError::Control)
}

/// Receives one message; `Ok(None)` on EOF (peer closed).
pub fn recv<T: DeserializeOwned>(
    sock: BorrowedFd<'_>,
) -> Result<Option<(T, Vec<OwnedFd>)>, SandboxError> {
    // A peer that exits with our message still unread makes the next read fail once with
    // ECONNRESET (unix sockets report it before the queued data); what it sent is still there.
    let (bytes, fds) = match sys::recv_msg(sock, MAX_MESSAGE) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => sys::recv_msg(sock, MAX_MESSAGE),
        other => other,
    }
    .map_err(SandboxError::Control)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let msg = serde_json::from_slice(&bytes)
        .map_err(|e| SandboxError::Protocol(format!("decode: {e}")))?;
    Ok(Some((msg, fds)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;

    #[test]
    fn messages_and_fds_cross_a_seqpacket_pair() {
        let (a, b) = sys::seqpacket_pair().unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"passed").unwrap();
        let reply = Reply::Ready {
            init_pid: 42,
            landlock: "on".into(),
            slot: None,
        };
        send(a.as_fd(), &reply, &[file.as_fd()]).unwrap();
        let (got, fds) = recv::<Reply>(b.as_fd()).unwrap().unwrap();
        assert!(matches!(got, Reply::Ready { init_pid: 42, .. }));
        assert_eq!(fds.len(), 1);
        let mut passed = std::fs::File::from(fds.into_iter().next().unwrap());
        passed.rewind().unwrap();
        let mut s = String::new();
        passed.read_to_string(&mut s).unwrap();
        assert_eq!(s, "passed");
        drop(a);
        assert!(recv::<Reply>(b.as_fd()).unwrap().is_none(), "EOF expected");
    }

    #[test]
    fn a_report_survives_the_peer_closing_with_unread_data() {
        let (a, b) = sys::seqpacket_pair().unwrap();
        sys::send_msg(a.as_fd(), b"attached", &[]).unwrap();
        send(
            b.as_fd(),
            &InitReport::Failed {
                message: "why".into(),
            },
            &[],
        )
        .unwrap();
        drop(b); // closes with "attached" unread
        let got = recv::<InitReport>(a.as_fd()).unwrap();
        assert!(matches!(got, Some((InitReport::Failed { message }, _)) if message == "why"));
    }

    fn prepare(own_netns: bool, net_slots: Vec<u32>) -> Prepare {
        Prepare {
            magic: MAGIC.into(),
            spare: true,
            own_netns,
            uid: 1,
            gid: 1,
            user_namespace: false,
            outer_uid: 0,
            outer_gid: 0,
            root_dir: "/r".into(),
            root_entries: Vec::new(),
            cgroup_procs: Vec::new(),
            thaw: None,
            seccomp: None,
            landlock: true,
            runtime_api_port: 9001,
            hostname: "h".into(),
            boot_id: "b".into(),
            net_slots,
        }
    }

    #[test]
    fn a_finish_must_match_the_prepared_network() {
        let finish = |network: NetworkPolicy| {
            let mut spec = EnvSpec::new("h", vec!["/x".into()]);
            spec.network = network;
            Finish { spec }
        };
        let loopback = prepare(true, Vec::new());
        let internet = prepare(true, vec![3, 4]);
        let host = NetworkPolicy::Host {
            tcp_connect_ports: None,
        };
        assert!(finish(NetworkPolicy::None).mismatch(&loopback).is_none());
        assert!(finish(NetworkPolicy::internet())
            .mismatch(&internet)
            .is_none());
        assert!(finish(NetworkPolicy::internet())
            .mismatch(&loopback)
            .is_some());
        assert!(finish(NetworkPolicy::None).mismatch(&internet).is_some());
        assert!(finish(host).mismatch(&loopback).is_some());
        let joined = Launch::join(&internet, finish(NetworkPolicy::internet()));
        assert_eq!((joined.uid, joined.boot_id.as_str()), (1, "b"));
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let (a, b) = sys::seqpacket_pair().unwrap();
        sys::send_msg(a.as_fd(), b"not json", &[]).unwrap();
        assert!(matches!(
            recv::<Prepare>(b.as_fd()),
            Err(SandboxError::Protocol(_))
        ));
    }
}
