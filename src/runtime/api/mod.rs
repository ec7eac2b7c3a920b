//! The Runtime API server of one execution environment.
//!
//! [`RuntimeApi::serve`] adopts a listener the sandbox bound inside the environment's network
//! namespace and serves HTTP/1.1 (keep-alive, `TCP_NODELAY`) on it from a tokio task. The
//! engine then calls [`RuntimeApi::wait_ready`] once, [`RuntimeApi::invoke`] once per
//! invocation (never two at a time), and [`RuntimeApi::shutdown`] when the environment goes.
//! Timeouts are the engine's: it races `invoke` against a timer and kills the environment.
//!
//! Ordering: `serve` must run inside a tokio runtime; `shutdown` (or drop) stops accepting and
//! fails whatever is outstanding, but lets open connections finish their current request.
//!
//! Requests to other paths are the environment's AWS API calls, forwarded to the daemon when
//! [`EnvInfo::aws_api`] is set (`aws`).
//!
//! Function code can reach this server directly, so [`ServeOptions::limits`] bounds what one
//! environment can make the daemon hold (connections, head size, header and idle time; see
//! `limits`), and an optional [`IdleFreezer`] stops the environment while its runtime waits on
//! `/next` (see `freeze`).
//!
//! ```no_run
//! # async fn engine(listener: std::net::TcpListener) -> Result<(), lambdabox::runtime::RuntimeError> {
//! use lambdabox::runtime::{EnvInfo, InitOutcome, Invocation, InvokeOutcome, RuntimeApi};
//! use std::time::Duration;
//!
//! let api = RuntimeApi::serve(listener, EnvInfo::default())?;
//! // … start the runtime process with AWS_LAMBDA_RUNTIME_API pointing at the listener …
//! match tokio::time::timeout(Duration::from_secs(10), api.wait_ready()).await {
//!     Ok(InitOutcome::Ready) => {}
//!     Ok(InitOutcome::InitError { .. }) | Ok(InitOutcome::Closed) | Err(_) => return Ok(()),
//! }
//! let inv = Invocation { request_id: "…".into(), ..Invocation::default() };
//! match tokio::time::timeout(Duration::from_secs(3), api.invoke(inv)).await {
//!     Ok(InvokeOutcome::Response(_body)) => {}
//!     Ok(InvokeOutcome::Error { .. }) => {}                // 200 + X-Amz-Function-Error
//!     Ok(InvokeOutcome::Streamed(_end)) => {}            // chunks went to `inv.stream`
//!     Ok(InvokeOutcome::ResponseTooLarge) => {}            // Function.ResponseSizeTooLarge
//!     Ok(InvokeOutcome::Closed) | Err(_) => api.shutdown(), // crash or timeout: kill the env
//! }
//! # Ok(())
//! # }
//! ```

mod aws;
mod body;
mod error;
mod extensions;
mod freeze;
mod limits;
mod router;
mod state;
pub mod stream;
mod types;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::AbortHandle;

pub use aws::AwsApi;
pub use error::ApiError;
pub use freeze::IdleFreezer;
pub use limits::{ConnLimits, DEFAULT_MAX_HEAD_BYTES};
pub use stream::{StreamEnd, StreamPart, StreamSink, MAX_STREAMED_BYTES};
pub use types::{EnvInfo, InitOutcome, Invocation, InvokeOutcome, MAX_RESPONSE_BYTES};

use super::RuntimeError;
use extensions::Extensions;
use state::State;

/// State shared by the engine-facing handle and the connection tasks.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    info: EnvInfo,
    extensions: Extensions,
    connections: AtomicU64,
    /// Connections open right now (at most `limits.max_connections`).
    open: AtomicU64,
    /// Forwards the environment's AWS API calls (`aws`), when it has credentials.
    aws: Option<aws::Proxy>,
}

/// How a Runtime API server is run: its limits and whether the environment is frozen while idle.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub limits: ConnLimits,
    /// Frozen when the runtime waits on `/next` with nothing to deliver, thawed when an event is
    /// handed over or the server shuts down.
    pub freezer: Option<Arc<dyn IdleFreezer>>,
}

/// Handle on one environment's Runtime API server.
#[derive(Debug)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
    readiness: watch::Receiver<Option<InitOutcome>>,
    accept: AbortHandle,
}

impl RuntimeApi {
    /// Serves the Runtime API on `listener` from a spawned task, with the default limits and
    /// no freezing. Must be called inside a tokio runtime.
    pub fn serve(
        listener: std::net::TcpListener,
        info: EnvInfo,
    ) -> Result<RuntimeApi, RuntimeError> {
        RuntimeApi::serve_with(listener, info, ServeOptions::default())
    }

    /// Like [`RuntimeApi::serve`], with explicit limits and freezer.
    pub fn serve_with(
        listener: std::net::TcpListener,
        info: EnvInfo,
        options: ServeOptions,
    ) -> Result<RuntimeApi, RuntimeError> {
        let handle =
            tokio::runtime::Handle::try_current().map_err(|_| RuntimeError::NoTokioRuntime)?;
        listener
            .set_nonblocking(true)
            .map_err(RuntimeError::Listener)?;
        let listener = {
            let _guard = handle.enter();
            tokio::net::TcpListener::from_std(listener).map_err(RuntimeError::Listener)?
        };
        let state = State::with_freezer(options.freezer);
        let readiness = state.readiness();
        let aws = info.aws_api.clone().map(aws::Proxy::new);
        let shared = Arc::new(Shared {
            aws,
            state: Mutex::new(state),
            info,
            extensions: Extensions::default(),
            connections: AtomicU64::new(0),
            open: AtomicU64::new(0),
        });
        let accept = handle
            .spawn(limits::accept_loop(
                listener,
                Arc::clone(&shared),
                options.limits,
            ))
            .abort_handle();
        Ok(RuntimeApi {
            shared,
            readiness,
            accept,
        })
    }

    /// Waits until the runtime asked for work (`Ready`), reported an init error, or the server
    /// was shut down. Can be called again; answers the same outcome.
    pub async fn wait_ready(&self) -> InitOutcome {
        let mut rx = self.readiness.clone();
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or(InitOutcome::Closed)
    }

    /// Hands `inv` to the runtime (on its pending or next `GET /next`) and waits for the outcome.
    /// Dropping the future does not withdraw the invocation: the engine kills the environment.
    pub async fn invoke(&self, inv: Invocation) -> InvokeOutcome {
        let rx = match self.lock().invoke(inv) {
            Ok(rx) => rx,
            Err(outcome) => return outcome,
        };
        rx.await.unwrap_or(InvokeOutcome::Closed)
    }

    /// Waits until the runtime parks on `GET /next` again after its last invocation (true), or
    /// the server shuts down (false). A runtime that crashes after posting an error never does.
    pub async fn wait_parked(&self) -> bool {
        let (mut parked, mut closed) = {
            let s = self.lock();
            (s.parked(), s.closed())
        };
        tokio::select! {
            r = parked.wait_for(|p| *p) => r.is_ok(),
            _ = closed.wait_for(|c| *c) => false,
        }
    }

    /// Stops accepting connections and fails what is outstanding: a waiting `invoke` ends
    /// `Closed`, parked `/next` polls get a 500, extensions get their `SHUTDOWN` event.
    pub fn shutdown(&self) {
        self.accept.abort();
        self.lock().close();
    }

    /// Connections accepted so far: a runtime that keeps its connection alive stays at 1
    /// (plus one per extension).
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Connections open right now (never more than the limit).
    pub fn connections_open(&self) -> u64 {
        self.shared.open.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shutdown();
    }
}
