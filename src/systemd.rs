//! The systemd service protocol (`sd_notify`, the `sd-notify` crate): `READY=1` once the API
//! listens and the sandbox self-check is done, `STATUS=` lines that say what the daemon
//! holds, `STOPPING=1` when a stop begins, and `WATCHDOG=1` pings while the daemon answers.
//!
//! A ping is sent only after a probe passed: a real HTTP request to the daemon's own
//! `/health` (through the accept loop and an HTTP worker), a task on the engine runtime and a
//! read of the store, each within half the watchdog interval. A hung loop, a stuck worker
//! pool or a wedged database therefore stop the pings, and systemd restarts the service
//! (`WatchdogSec=` in the unit, `Restart=on-failure`). Without `NOTIFY_SOCKET` (run by hand,
//! or `Type=simple`) every call here does nothing.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Tells systemd the service is up, with a first status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells systemd a stop has begun.
pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// A new status line (shown by `systemctl status`).
pub fn status(text: &str) {
    send(&[NotifyState::Status(text)]);
}

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// How often to ping: half of `WATCHDOG_USEC`, if systemd asked for pings. As
/// sd_watchdog_enabled(3) reads them: `WATCHDOG_PID`, when set, must be this process.
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(50)))
}

/// Pings every `every` while `probe` passes within `every`; `status` is sent with each ping
/// (systemd shows the newest). Runs until the daemon stops.
pub async fn watchdog<P, F, S>(every: Duration, probe: P, status: S, ping: impl Fn(&str))
where
    P: Fn() -> F,
    F: Future<Output = Result<(), String>>,
    S: Fn() -> String,
{
    let mut failing = false;
    loop {
        let started = tokio::time::Instant::now();
        match tokio::time::timeout(every, probe()).await {
            Ok(Ok(())) => {
                if failing {
                    tracing::info!("the watchdog probe passes again");
                    failing = false;
                }
                ping(&status());
            }
            Ok(Err(why)) => {
                if !failing {
                    tracing::error!(%why, "watchdog probe failed: no ping to systemd until it passes");
                }
                failing = true;
            }
            Err(_) => {
                if !failing {
                    tracing::error!(
                        timeout_ms = every.as_millis() as u64,
                        "watchdog probe timed out: no ping to systemd until it passes"
                    );
                }
                failing = true;
            }
        }
        tokio::time::sleep_until(started + every).await;
    }
}

/// Sends `WATCHDOG=1` with a status line.
pub fn ping(status: &str) {
    send(&[NotifyState::Watchdog, NotifyState::Status(status)]);
}

/// `GET /health` on the daemon's own address: `Ok` when it answers 200.
pub async fn probe_http(addr: SocketAddr) -> Result<(), String> {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: lambdabox\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("cannot send the health request: {e}"))?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)
        .await
        .map_err(|e| format!("no health answer: {e}"))?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "health answered {}",
            String::from_utf8_lossy(&head).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn pings_only_while_the_probe_passes() {
        let calls = Arc::new(AtomicUsize::new(0));
        let pings = Arc::new(Mutex::new(Vec::new()));
        let (c, p) = (calls.clone(), pings.clone());
        let every = Duration::from_millis(40);
        let task = tokio::spawn(async move {
            watchdog(
                every,
                move || {
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    async move {
                        match n {
                            // probes 3 and 4 fail, probe 5 hangs past the interval
                            3 | 4 => Err("store down".to_string()),
                            5 => {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                Ok(())
                            }
                            _ => Ok(()),
                        }
                    }
                },
                || "ok".to_string(),
                move |s: &str| p.lock().unwrap().push(s.to_string()),
            )
            .await
        });
        // Seven probes take 280 ms; a loaded machine may be slower, so wait for them (but less
        // than the hung probe's 5 s: without the interval's timeout there would be only six).
        let started = std::time::Instant::now();
        while calls.load(Ordering::SeqCst) < 7 && started.elapsed() < Duration::from_secs(3) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        task.abort();
        let n = calls.load(Ordering::SeqCst);
        let sent = pings.lock().unwrap().len();
        assert!(n >= 7, "probed every interval ({n})");
        // the probe under way when the task stopped may not have pinged yet
        assert!(
            sent == n - 3 || sent == n - 4,
            "no ping for the failed and the hung probes ({sent} of {n})"
        );
    }

    #[tokio::test]
    async fn http_probe_fails_without_a_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert!(probe_http(addr).await.is_err());
    }
}
