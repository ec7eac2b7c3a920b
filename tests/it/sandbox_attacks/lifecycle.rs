//! Lifecycle: the helper refuses to run outside its protocol, and a restarted daemon sweeps
//! cgroups (and their processes) left behind by a crash.

use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use super::support::{cgroup_dir, Fixture};
use lambdabox::sandbox::{Sandbox, SandboxSettings};

#[test]
fn sandbox_helper_refuses_to_run_outside_its_protocol() {
    let bin = env!("CARGO_BIN_EXE_lambdabox");
    // stdin not a socket
    let out = Command::new(bin)
        .arg("__sandbox-helper")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing"));
    // a stream socket whose peer is not the parent protocol
    let (ours, theirs) = UnixStream::pair().unwrap();
    let out = Command::new(bin)
        .arg("__sandbox-helper")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .output()
        .unwrap();
    drop(ours);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sandbox_new_sweeps_leftovers_from_a_crash() {
    let fx = Fixture::new();
    // A leftover environment group with a live process in it, as a crashed daemon leaves it.
    let leftover = cgroup_dir("pids", &fx.parent).join("crashed-env");
    std::fs::create_dir_all(&leftover).unwrap();
    let mut orphan = Command::new("/bin/sleep").arg("60").spawn().unwrap();
    std::fs::write(leftover.join("cgroup.procs"), orphan.id().to_string()).unwrap();
    let settings = SandboxSettings {
        uid_range: (64000, 64003),
        cgroup_parent: fx.parent.clone(),
        allow_degraded: false,
        state_dir: fx.dir.path().join("state2"),
    };
    let restarted = Sandbox::new(settings).unwrap();
    assert!(!leftover.exists(), "leftover group not removed");
    let status = orphan.wait().unwrap();
    assert!(!status.success(), "orphan survived the sweep");
    assert!(
        restarted.protections().complete(),
        "{}",
        restarted.protections()
    );
    let text = restarted.protections().to_string();
    let cgroups = text.contains("cgroups v1") || text.contains("cgroups v2");
    assert!(text.contains("landlock abi") && cgroups, "{text}");
}
