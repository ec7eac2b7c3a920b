//! The `[server]` section: the HTTP front door's listen address, threads and body budget.

use serde::{Deserialize, Serialize};

/// Threads and memory of the HTTP front door. `0` means "from the core count".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP worker threads (each one serves many connections); 0 = one per core, at least 2.
    pub workers: usize,
    /// Threads for heavy request work (zip checks, base64 and JSON of large bodies, code
    /// hashing), so a 50 MB upload never stalls a worker; 0 = one per core, at least 2.
    pub blocking_threads: usize,
    /// MB of request bodies all requests in flight may hold together; past it new bodies
    /// are refused with a retryable 503 ServiceUnavailable. At least 70 (one largest upload).
    pub body_budget_mb: usize,
    /// Seconds a client has to send a complete request head (answered 408 after).
    pub header_timeout_secs: u64,
    /// Seconds an idle keep-alive connection is kept.
    pub keep_alive_secs: u64,
    /// Seconds a request body may stop arriving before the request fails and the connection
    /// is closed.
    pub body_idle_timeout_secs: u64,
    /// Connections one client address may hold open at once (0 = no limit); more are closed
    /// as soon as they are accepted. Behind a reverse proxy every client shares its address.
    pub max_connections_per_client: usize,
    /// Base domain of function URLs served by Host header: a request for
    /// `<url-id>.lambda-url.<region>.<url_base_domain>` goes to that URL (may carry a
    /// `:port`). Unset: URLs are served, and reported, only under `/lambda-url/<url-id>/`.
    pub url_base_domain: Option<String>,
    /// Seconds SIGTERM waits for in-flight requests (a synchronous invoke included) before
    /// the daemon stops them; new connections are refused from the signal on. Keep it below
    /// the unit's `TimeoutStopSec`.
    pub shutdown_grace_secs: u64,
}

impl ServerConfig {
    fn cores() -> usize {
        std::thread::available_parallelism().map_or(2, usize::from)
    }

    /// The HTTP worker count in effect.
    pub fn effective_workers(&self) -> usize {
        if self.workers == 0 {
            Self::cores().max(2)
        } else {
            self.workers
        }
    }

    /// The heavy-work thread count in effect.
    pub fn effective_blocking_threads(&self) -> usize {
        if self.blocking_threads == 0 {
            Self::cores().max(2)
        } else {
            self.blocking_threads
        }
    }

    /// The body budget in bytes.
    pub fn body_budget_bytes(&self) -> usize {
        self.body_budget_mb.saturating_mul(1_000_000)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: 0,
            blocking_threads: 0,
            body_budget_mb: 320,
            header_timeout_secs: 5,
            keep_alive_secs: 5,
            body_idle_timeout_secs: 30,
            max_connections_per_client: 128,
            url_base_domain: None,
            shutdown_grace_secs: 20,
        }
    }
}
