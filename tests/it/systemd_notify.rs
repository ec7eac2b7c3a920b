//! The systemd notify protocol against a socket the test provides: READY=1 with a status once
//! the API listens, WATCHDOG=1 pings at half of WATCHDOG_USEC while the daemon answers, no
//! pings while the daemon is stopped (SIGSTOP: a hung process), pings again after SIGCONT,
//! STOPPING=1 on SIGTERM and a clean exit.
//!
//! WATCHDOG_USEC is 1 s: each ping follows a probe (an HTTP request to the daemon, a task on
//! the engine runtime, a store read) that must pass within the 500 ms interval, which a
//! loaded 2-core machine can miss at shorter intervals.

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fixture::Daemon;

/// Every datagram that arrives within `window`.
fn collect(sock: &UnixDatagram, window: Duration) -> Vec<String> {
    let deadline = Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => out.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => break,
        }
    }
    out
}

fn pings(msgs: &[String]) -> usize {
    msgs.iter()
        .filter(|m| m.lines().any(|l| l == "WATCHDOG=1"))
        .count()
}

#[test]
fn ready_watchdog_and_stopping_over_notify_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut d = Daemon::start_with(|c| {
        c.env("NOTIFY_SOCKET", &path)
            .env("WATCHDOG_USEC", "1000000")
            .env_remove("WATCHDOG_PID");
    });
    let first = collect(&sock, Duration::from_millis(2500));
    let ready = first
        .iter()
        .find(|m| m.lines().any(|l| l == "READY=1"))
        .unwrap_or_else(|| panic!("READY=1 sent: {first:?}"));
    assert!(
        ready.contains(&format!("STATUS=serving on http://127.0.0.1:{}", d.port)),
        "a status with the address: {ready}"
    );
    let n = pings(&first);
    assert!((3..=7).contains(&n), "a ping every 500 ms: {n} in 2.5 s");

    let pid = d.pid().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let _ = collect(&sock, Duration::from_millis(100));
    let stalled = collect(&sock, Duration::from_millis(1500));
    assert_eq!(
        pings(&stalled),
        0,
        "no pings from a stopped daemon: {stalled:?}"
    );
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    let resumed = collect(&sock, Duration::from_millis(1500));
    assert!(pings(&resumed) >= 2, "pings resume: {resumed:?}");

    let status = d
        .signal_and_wait("TERM", Duration::from_secs(20))
        .expect("stops on SIGTERM");
    assert!(status.success(), "exit 0: {status:?}");
    let last = collect(&sock, Duration::from_millis(200));
    let all: Vec<&String> = resumed.iter().chain(last.iter()).collect();
    assert!(
        all.iter().any(|m| m.lines().any(|l| l == "STOPPING=1")),
        "STOPPING=1 sent: {all:?}"
    );
}
