//! The control channel between the daemon (`launch`) and the sandbox helper, and between the
//! helper and the environment's init: one `SOCK_SEQPACKET` datagram per JSON message, fds as
//! `SCM_RIGHTS`.
//!
//! Ordering rule (daemon ↔ helper): `Launch` → `Ready` (fds: init pidfd [, runtime API listener])
//! or `Failed` → at the end `Exited`. A helper refuses to start unless its stdin is a seqpacket
//! socket whose peer is its parent with the same uid, and the first message carries [`MAGIC`].

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::seccomp::Compiled;
use super::spec::EnvSpec;
use super::sys;
use super::SandboxError;

/// Versioned magic the helper requires in the first message.
pub const MAGIC: &str = "lambdabox-sandbox-helper/1";
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

/// Everything the helper needs to build one environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launch {
    pub magic: String,
    pub spec: EnvSpec,
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
    /// Port of the in-namespace Runtime API listener (network `None`), or the host port.
    pub runtime_api_port: u16,
    pub hostname: String,
    /// What `/proc/sys/kernel/random/boot_id` reads inside (one per environment).
    pub boot_id: String,
    /// Internet-only networking: slots the helper may create the veth pair for (first that
    /// works). Empty for the other network modes.
    #[serde(default)]
    pub net_slots: Vec<u32>,
}

/// Helper → daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
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

    #[test]
    fn garbage_is_a_protocol_error() {
        let (a, b) = sys::seqpacket_pair().unwrap();
        sys::send_msg(a.as_fd(), b"not json", &[]).unwrap();
        assert!(matches!(
            recv::<Launch>(b.as_fd()),
            Err(SandboxError::Protocol(_))
        ));
    }
}
