//! What one environment's processes can make the daemon hold through its Runtime API, and the
//! accept loop that enforces it.
//!
//! Function code reaches `$AWS_LAMBDA_RUNTIME_API` directly (it is plain TCP inside the
//! environment), so everything a connection costs the daemon is bounded per environment:
//! - at most [`ConnLimits::max_connections`] connections are served at once; past that the
//!   loop stops accepting until one closes, so further connects wait in the kernel's listen
//!   backlog of the environment's own socket and cost the daemon nothing (no fd, no task);
//! - a request head must arrive within [`ConnLimits::header_timeout`] and fit in
//!   [`ConnLimits::max_head_bytes`] (hyper's read buffer: answered 431 and closed past it).
//!   The timer also runs while a keep-alive connection sits idle between requests, so idle
//!   connections are closed after the same time (a runtime is never idle: it parks on `/next`);
//! - accept errors (EMFILE when the daemon's own limit is reached, ECONNABORTED…) back off
//!   from 1 ms to 100 ms and recover; they never end or spin the loop.
//!
//! Worst case per environment: `max_connections` fds and tasks, and
//! `max_connections × (max_head_bytes + write buffer)` bytes of buffers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use super::{router, Shared};

/// AWS's header limit on the Runtime API (Go's `DefaultMaxHeaderBytes`); awslambdaric sends
/// X-Ray error causes up to 1 MiB in a header.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 1024 * 1024 + 8 * 1024;

/// Per-environment bounds on Runtime API connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections served at once (a runtime needs one, each extension one more).
    pub max_connections: usize,
    /// Time a request head may take to arrive, and the idle time of a keep-alive connection.
    pub header_timeout: Duration,
    /// Largest request head, in bytes (at least 8 KiB, hyper's minimum buffer).
    pub max_head_bytes: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 8,
            header_timeout: Duration::from_secs(15),
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
        }
    }
}

impl ConnLimits {
    /// The same limits with values the server can use (at least one connection, hyper's
    /// minimum buffer, a timeout of at least 1 ms).
    pub fn sane(self) -> ConnLimits {
        ConnLimits {
            max_connections: self.max_connections.max(1),
            header_timeout: self.header_timeout.max(Duration::from_millis(1)),
            max_head_bytes: self.max_head_bytes.max(8 * 1024),
        }
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(1);
const BACKOFF_MAX: Duration = Duration::from_millis(100);

/// Accepts and serves connections until aborted.
pub(super) async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    limits: ConnLimits,
) {
    let limits = limits.sane();
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .auto_date_header(false)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = BACKOFF_MIN;
    loop {
        // Wait for a free slot BEFORE accepting: what is over the cap stays in the kernel.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = BACKOFF_MIN;
                stream
            }
            Err(e) => {
                drop(slot);
                if backoff == BACKOFF_MIN {
                    tracing::warn!(error = %e, "runtime api accept failed; backing off");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        shared.open.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on runtime api connection");
        }
        let conn_shared = Arc::clone(&shared);
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| router::handle(Arc::clone(&conn_shared), req)),
        );
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "runtime api connection ended with an error");
            }
            shared.open.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;
    use crate::runtime::api::{RuntimeApi, ServeOptions};
    use crate::runtime::EnvInfo;

    fn serve(limits: ConnLimits) -> (RuntimeApi, std::net::SocketAddr) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServeOptions {
            limits,
            freezer: None,
        };
        let api = RuntimeApi::serve_with(listener, EnvInfo::default(), options).unwrap();
        (api, addr)
    }

    /// True once the server closed `s` (EOF or reset) within `wait`.
    fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
        s.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
                Err(_) => return true,
            }
        }
    }

    async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(f).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_over_the_cap_wait_in_the_kernel() {
        let limits = ConnLimits {
            max_connections: 4,
            ..ConnLimits::default()
        };
        let (api, addr) = serve(limits);
        let held = blocking(move || {
            (0..64)
                .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok())
                .collect::<Vec<_>>()
        })
        .await;
        assert!(held.len() >= 4, "only {} connects succeeded", held.len());
        // The accept loop takes the first 4 when it gets to them (bounded wait), then no more.
        let deadline = Instant::now() + Duration::from_secs(10);
        while api.connections_open() < 4 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(api.connections_open(), 4);
        assert_eq!(api.connections_accepted(), 4);
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(10);
        while api.connections_open() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The queued ones were accepted one by one as slots freed, and all closed.
        assert_eq!(api.connections_open(), 0);
        // A well-behaved runtime still gets served afterwards.
        let reply = blocking(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        })
        .await;
        assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_and_oversized_heads_and_idle_connections_are_closed() {
        let limits = ConnLimits {
            max_connections: 8,
            header_timeout: Duration::from_millis(400),
            max_head_bytes: 16 * 1024,
        };
        let (api, addr) = serve(limits);
        let results = blocking(move || {
            // A head that never ends, one header line at a time.
            let mut slow = TcpStream::connect(addr).unwrap();
            slow.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n")
                .unwrap();
            let t0 = Instant::now();
            let mut slow_closed = false;
            while t0.elapsed() < Duration::from_secs(5) {
                if slow.write_all(b"X-Pad: a\r\n").is_err()
                    || closed_within(&mut slow, Duration::from_millis(50))
                {
                    slow_closed = true;
                    break;
                }
            }
            let slow_after = t0.elapsed();
            // A head larger than the cap.
            let mut big = TcpStream::connect(addr).unwrap();
            big.write_all(b"GET /x HTTP/1.1\r\n").unwrap();
            let pad = format!("X-Pad: {}\r\n", "a".repeat(4000));
            let mut answer = String::new();
            for _ in 0..16 {
                if big.write_all(pad.as_bytes()).is_err() {
                    break;
                }
            }
            big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 64];
            if let Ok(n) = big.read(&mut buf) {
                answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            }
            // A connection that sends nothing at all.
            let mut idle = TcpStream::connect(addr).unwrap();
            let idle_closed = closed_within(&mut idle, Duration::from_secs(5));
            (slow_closed, slow_after, answer, idle_closed)
        })
        .await;
        let (slow_closed, slow_after, answer, idle_closed) = results;
        assert!(slow_closed, "endless head kept open");
        assert!(
            slow_after < Duration::from_secs(4),
            "closed after {slow_after:?}"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "{answer}"
        );
        assert!(idle_closed, "idle connection kept open");
        let deadline = Instant::now() + Duration::from_secs(5);
        while api.connections_open() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(api.connections_open(), 0);
    }
}
