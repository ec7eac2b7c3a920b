//! Execution-environment pools, concurrency accounting and the invocation lifecycle.
//!
//! One pool per function version (keyed by name and version, stamped with the version's
//! RevisionId). An invocation takes an idle warm environment or cold-starts one; each
//! environment runs one invocation at a time. A changed RevisionId retires the pool's
//! environments; a crash, OOM or timeout kills the environment so the next invoke is cold;
//! idle environments are reaped after `engine.idle_timeout_secs`.
//!
//! All engine work runs on the engine's own multi-threaded tokio runtime; the API awaits it.
//! Must not touch SQL strings or raw syscalls.

pub mod codecache;
mod invoke;
mod launch;
mod live;
pub mod logwriter;
pub mod output;
pub mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use invoke::{InvokeRequest, InvokeResult};
use live::Live;

use crate::domain::Error;
use crate::sandbox::Sandbox;
use crate::services::Context;
use codecache::CodeCache;
use logwriter::LogWriter;

/// Idle environments of one function version.
struct PoolState {
    revision: String,
    idle: Vec<Live>,
}

/// Shared engine state.
pub struct Inner {
    ctx: Context,
    sandbox: Result<Arc<Sandbox>, String>,
    cache: CodeCache,
    runtime_dir: PathBuf,
    empty_opt: PathBuf,
    pools: Mutex<HashMap<(String, String), PoolState>>,
    active: AtomicUsize,
    logs: LogWriter,
    shutting_down: std::sync::atomic::AtomicBool,
}

/// The engine: cheap to clone, usable from any runtime.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    rt: tokio::runtime::Handle,
}

impl Engine {
    /// Builds the engine on `rt`. A sandbox that could not be set up is kept as its error:
    /// the API keeps working and every invoke explains why functions cannot run.
    pub fn start(
        ctx: Context,
        sandbox: Result<Sandbox, String>,
        rt: tokio::runtime::Handle,
    ) -> Result<Engine, Error> {
        let data = &ctx.config.data_dir;
        let runtime_dir = data.join("runtime");
        crate::runtime::install_clients(&runtime_dir).map_err(|e| {
            Error::Service(format!(
                "cannot install the runtime clients in {}: {e}",
                runtime_dir.display()
            ))
        })?;
        let empty_opt = data.join("cache").join("empty-opt");
        std::fs::create_dir_all(&empty_opt)
            .map_err(|e| Error::Service(format!("cannot create {}: {e}", empty_opt.display())))?;
        let logs = {
            let _guard = rt.enter();
            LogWriter::start(ctx.store.clone())
        };
        let inner = Arc::new(Inner {
            cache: CodeCache::new(data.join("cache").join("code")),
            runtime_dir,
            empty_opt,
            sandbox: sandbox.map(Arc::new),
            pools: Mutex::new(HashMap::new()),
            active: AtomicUsize::new(0),
            logs,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            ctx,
        });
        let engine = Engine { inner, rt };
        engine.rt.spawn(reaper(Arc::downgrade(&engine.inner)));
        Ok(engine)
    }

    /// Runs one synchronous invocation.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeResult, Error> {
        let inner = Arc::clone(&self.inner);
        self.rt
            .spawn(async move { invoke::run(inner, req).await })
            .await
            .map_err(|e| Error::Service(format!("invocation task failed: {e}")))?
    }

    /// Number of environments currently running an invocation.
    pub fn active(&self) -> usize {
        self.inner.active.load(Ordering::Relaxed)
    }

    /// Number of idle warm environments.
    pub fn idle(&self) -> usize {
        self.inner
            .pools
            .lock()
            .map(|p| p.values().map(|s| s.idle.len()).sum())
            .unwrap_or(0)
    }

    /// Kills every idle environment and refuses new ones; waits for logs to be written.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let idle: Vec<Live> = match self.inner.pools.lock() {
            Ok(mut p) => p.drain().flat_map(|(_, s)| s.idle).collect(),
            Err(_) => Vec::new(),
        };
        for l in &idle {
            l.kill();
        }
        let logs = self.inner.logs.clone();
        let _ = self.rt.spawn(async move { logs.flush().await }).await;
    }

    /// Waits until every log line produced so far is in the store.
    pub async fn flush_logs(&self) {
        let logs = self.inner.logs.clone();
        let _ = self.rt.spawn(async move { logs.flush().await }).await;
    }
}

impl Inner {
    /// Takes an idle environment of this version, retiring environments of older revisions.
    fn acquire(&self, name: &str, version: &str, revision: &str) -> Option<Live> {
        let mut retired = Vec::new();
        let got = {
            let Ok(mut pools) = self.pools.lock() else {
                return None;
            };
            let state = pools
                .entry((name.to_string(), version.to_string()))
                .or_insert_with(|| PoolState {
                    revision: revision.to_string(),
                    idle: Vec::new(),
                });
            if state.revision != revision {
                retired = std::mem::take(&mut state.idle);
                state.revision = revision.to_string();
            }
            state.idle.pop()
        };
        for l in retired {
            l.kill();
        }
        got
    }

    /// Returns a healthy environment to its pool (or retires it if the version changed).
    fn release(&self, name: &str, version: &str, mut live: Live) {
        if self.shutting_down.load(Ordering::SeqCst) {
            live.kill();
            return;
        }
        live.last_used = Instant::now();
        if let Ok(mut pools) = self.pools.lock() {
            if let Some(state) = pools.get_mut(&(name.to_string(), version.to_string())) {
                if state.revision == live.revision {
                    state.idle.push(live);
                    return;
                }
            }
        }
        live.kill();
    }

    /// Kills idle environments unused for longer than `max_idle`; returns how many.
    fn reap(&self, max_idle: Duration) -> usize {
        let mut dead = Vec::new();
        if let Ok(mut pools) = self.pools.lock() {
            for state in pools.values_mut() {
                let (old, keep): (Vec<Live>, Vec<Live>) = std::mem::take(&mut state.idle)
                    .into_iter()
                    .partition(|l| l.last_used.elapsed() > max_idle);
                state.idle = keep;
                dead.extend(old);
            }
            pools.retain(|_, s| !s.idle.is_empty());
        }
        let n = dead.len();
        for l in dead {
            l.kill();
        }
        n
    }

    /// Drops every idle environment of a function (after a delete).
    pub fn retire_function(&self, name: &str) {
        let mut dead = Vec::new();
        if let Ok(mut pools) = self.pools.lock() {
            pools.retain(|(n, _), s| {
                if n == name {
                    dead.append(&mut s.idle);
                    false
                } else {
                    true
                }
            });
        }
        for l in dead {
            l.kill();
        }
    }
}

impl Engine {
    /// Retires the warm environments of a deleted function.
    pub fn retire_function(&self, name: &str) {
        self.inner.retire_function(name);
    }
}

/// How often old log events and invocation records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

async fn reaper(inner: std::sync::Weak<Inner>) {
    let mut last_prune: Option<Instant> = None;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let Some(inner) = inner.upgrade() else { return };
        if last_prune.map_or(true, |t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            let days = i64::from(inner.ctx.config.logs.retention_days);
            let before = crate::domain::function::now_ms() - days * 86_400_000;
            match inner
                .ctx
                .store
                .call(move |c| crate::store::logs::prune(c, before))
                .await
            {
                Ok(n) if n > 0 => tracing::info!(deleted = n, days, "pruned old function logs"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune old function logs"),
            }
        }
        let max_idle = Duration::from_secs(inner.ctx.config.engine.idle_timeout_secs);
        let n = inner.reap(max_idle);
        if n > 0 {
            tracing::debug!(reaped = n, "reaped idle environments");
        }
    }
}
