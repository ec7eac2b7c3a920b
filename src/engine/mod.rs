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

mod admission;
pub mod bandwidth;
pub mod capacity;
pub mod capture_rate;
pub mod codecache;
mod concurrency;
mod credentials;
mod dns;
mod frozen_watch;
pub mod function_metrics;
mod invoke;
mod launch;
mod live;
pub mod logwriter;
mod optdir;
pub mod otlp;
pub mod output;
mod pkgfs;
pub mod platform;
pub mod provisioned;
pub mod report;
pub mod spans;
pub mod spares;
mod streaming;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use capacity::{Admission, ThrottleReason};
pub use concurrency::ProvisionedView;
pub use invoke::{InvokeRequest, InvokeResult};
use live::Live;
pub use spans::Queued;
pub use streaming::{Piece, Start, Streaming};

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
    /// The sandbox, or why there is none; taken away at shutdown so its cgroup parent is
    /// removed once the last environment is gone.
    sandbox: Mutex<Result<Arc<Sandbox>, String>>,
    /// Exit watches of every environment started, to wait for their clean-up at shutdown.
    exits: Mutex<Vec<tokio::sync::watch::Receiver<Option<crate::sandbox::ExitInfo>>>>,
    cache: CodeCache,
    runtime_dir: PathBuf,
    empty_opt: PathBuf,
    pools: Mutex<HashMap<(String, String), PoolState>>,
    active: AtomicUsize,
    logs: LogWriter,
    /// The OTLP exporter of trace spans (`tracing.otlp_endpoint`).
    otlp: Option<otlp::Exporter>,
    shutting_down: std::sync::atomic::AtomicBool,
    /// Admission: concurrency pools and the host budget of live environments.
    capacity: Arc<capacity::Capacity>,
    /// Provisioned concurrency environments.
    provisioned: Arc<provisioned::Provisioned>,
    /// Functions whose share was last applied to `capacity` (to reset removed ones).
    share_names: Mutex<Vec<String>>,
    /// Spare environments ahead of cold starts (`engine.spare_environments`).
    spares: spares::Spares,
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
        precompile_python_client(&runtime_dir, &ctx.catalog);
        let empty_opt = data.join("cache").join("empty-opt");
        std::fs::create_dir_all(&empty_opt)
            .map_err(|e| Error::Service(format!("cannot create {}: {e}", empty_opt.display())))?;
        let logs = {
            let _guard = rt.enter();
            LogWriter::start(ctx.logs.clone(), ctx.config.logs.max_bytes_per_group)
        };
        let otlp = match &ctx.config.tracing.otlp_endpoint {
            Some(endpoint) => Some(otlp::Exporter::start(endpoint.clone()).map_err(|e| {
                Error::Service(format!("cannot start the OTLP exporter thread: {e}"))
            })?),
            None => None,
        };
        let limits = capacity::Limits::resolve(&ctx.config, capacity::limits::host_memory_mb());
        tracing::info!(
            account = limits.account,
            min_unreserved = limits.min_unreserved,
            memory_budget_mb = limits.memory_budget_mb,
            environments = limits.environments,
            "capacity"
        );
        let capacity = Arc::new(capacity::Capacity::new(limits));
        let shares = ctx
            .store
            .call_blocking(|c| crate::store::concurrency::shares(c))
            .map_err(Error::from)?;
        for (name, share) in &shares {
            capacity.set_share(name, *share);
        }
        let inner = Arc::new(Inner {
            capacity,
            provisioned: Arc::default(),
            share_names: Mutex::new(shares.into_keys().collect()),
            spares: spares::Spares::new(ctx.config.engine.spare_environments),
            cache: CodeCache::new(data.join("cache").join("code")),
            runtime_dir,
            empty_opt,
            sandbox: Mutex::new(sandbox.map(Arc::new)),
            exits: Mutex::new(Vec::new()),
            pools: Mutex::new(HashMap::new()),
            active: AtomicUsize::new(0),
            logs,
            otlp,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            ctx,
        });
        let engine = Engine { inner, rt };
        engine.rt.spawn(reaper(Arc::downgrade(&engine.inner)));
        engine
            .rt
            .spawn(provisioned::supervise(Arc::downgrade(&engine.inner)));
        engine
            .rt
            .spawn(capacity::metrics::flusher(Arc::downgrade(&engine.inner)));
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

    /// The function log writer (drop count, queue depth, invocation totals).
    pub fn log_writer(&self) -> &LogWriter {
        &self.inner.logs
    }

    /// Records spans made outside an invocation (an async attempt's destination deliveries),
    /// as the invocation's own are: log database, then the OTLP exporter if configured.
    pub fn record_spans(&self, spans: Vec<crate::store::traces::Span>) {
        invoke::record_spans(&self.inner, spans);
    }

    /// The recorder of capacity and asynchronous-queue metrics.
    pub fn metrics(&self) -> &capacity::metrics::Recorder {
        &self.inner.capacity.metrics
    }

    /// Number of idle warm environments.
    pub fn idle(&self) -> usize {
        self.inner
            .pools
            .lock()
            .map(|p| p.values().map(|s| s.idle.len()).sum())
            .unwrap_or(0)
    }

    /// Spare environments ready now, per shape, and how many are being prepared.
    pub fn spares(&self) -> spares::SpareCounts {
        self.inner.spares.counts()
    }

    /// Kills every idle environment and refuses new ones, waits (at most 10 s) until every
    /// environment is torn down and its cgroup removed, then writes the remaining logs.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        // Spares first, and the ones still being prepared: no cgroup, veth or uid of a spare
        // outlives the sandbox.
        let inner = Arc::clone(&self.inner);
        let _ = self
            .rt
            .spawn(async move {
                spares::discard(inner.spares.close()).await;
                inner.spares.wait_fills(Duration::from_secs(10)).await;
                spares::discard(inner.spares.close()).await;
            })
            .await;
        let idle: Vec<Live> = match self.inner.pools.lock() {
            Ok(mut p) => p.drain().flat_map(|(_, s)| s.idle).collect(),
            Err(_) => Vec::new(),
        };
        for l in &idle {
            l.kill();
        }
        drop(idle);
        let provisioned = self.inner.provisioned.drain();
        for l in &provisioned {
            l.kill();
        }
        drop(provisioned);
        let exits: Vec<_> = self
            .inner
            .exits
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default();
        let inner = Arc::clone(&self.inner);
        let _ = self
            .rt
            .spawn(async move {
                let all = async {
                    for mut rx in exits {
                        let _ = rx.wait_for(Option::is_some).await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(10), all).await;
                if let Ok(mut s) = inner.sandbox.lock() {
                    *s = Err("lambdabox is shutting down".into());
                }
                inner.logs.flush().await;
                capacity::metrics::flush(&inner).await;
            })
            .await;
    }

    /// Waits until every log line produced so far is in the store.
    pub async fn flush_logs(&self) {
        let logs = self.inner.logs.clone();
        let _ = self.rt.spawn(async move { logs.flush().await }).await;
    }
}

impl Inner {
    /// The sandbox, or why functions cannot run.
    fn sandbox(&self) -> Result<Arc<Sandbox>, String> {
        match self.sandbox.lock() {
            Ok(s) => s.clone(),
            Err(_) => Err("the sandbox state is poisoned".into()),
        }
    }

    /// Remembers an environment so that shutdown can wait for its clean-up.
    fn track(&self, live: &Live) {
        if let Ok(mut e) = self.exits.lock() {
            e.retain(|rx| rx.borrow().is_none());
            e.push(live.exit.clone());
        }
    }

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
            // An idle environment whose processes died (killed from outside, crashed after
            // answering) is discarded, not handed out.
            loop {
                match state.idle.pop() {
                    Some(l) if l.exit.borrow().is_some() || l.credentials_expiring() => {
                        retired.push(l)
                    }
                    other => break other,
                }
            }
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
            // The reaper may have dropped the (then empty) pool while this one was busy; an
            // acquire since then would have stamped the newer revision, so recreating it with
            // this environment's revision is safe.
            let state = pools
                .entry((name.to_string(), version.to_string()))
                .or_insert_with(|| PoolState {
                    revision: live.revision.clone(),
                    idle: Vec::new(),
                });
            if state.revision == live.revision {
                state.idle.push(live);
                return;
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
        let provisioned = self.inner.provisioned.retire_function(name);
        for l in &provisioned {
            l.kill();
        }
        drop(provisioned);
        self.inner
            .capacity
            .set_share(name, crate::domain::concurrency::Share::default());
        self.inner.provisioned.changed();
    }
}

/// How often (at most) the code cache is checked for entries to evict.
const EVICT_EVERY: Duration = Duration::from_secs(60);

/// How often old log events and invocation records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How often log groups are checked against their byte quota and the log WAL against its
/// size bound.
const QUOTA_EVERY: Duration = Duration::from_secs(60);

/// Keeps logs.db within bounds: each group within `logs.max_bytes_per_group` (oldest events
/// first), the WAL truncated when large, metric minutes older than `metrics.retention_days`.
async fn bound_logs(inner: &Inner, prune_metrics: bool) {
    let max = inner.ctx.config.logs.max_bytes_per_group;
    let wal = std::path::PathBuf::from(format!("{}-wal", inner.ctx.logs.path().display()));
    let days = i64::from(inner.ctx.config.metrics.retention_days);
    let before = crate::domain::function::now_ms() - days * 86_400_000;
    let r = inner
        .ctx
        .logs
        .call(move |c| {
            let n = crate::store::logs::prune_quota(c, max)?;
            let m = if prune_metrics {
                crate::store::function_metrics::prune(c, before, crate::store::logs::PRUNE_BATCH)?
            } else {
                0
            };
            crate::store::logs::bound_wal(c, &wal)?;
            Ok((n, m))
        })
        .await;
    match r {
        Ok((n, m)) => {
            if n > 0 {
                tracing::info!(
                    deleted = n,
                    max_bytes = max,
                    "pruned log groups over their quota"
                );
            }
            if m > 0 {
                tracing::info!(deleted = m, days, "pruned old function metrics");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot bound the function log database"),
    }
}

async fn reaper(inner: std::sync::Weak<Inner>) {
    let mut last_prune: Option<Instant> = None;
    let mut last_quota: Option<Instant> = None;
    let mut last_evict = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let Some(inner) = inner.upgrade() else { return };
        if last_quota.map_or(true, |t| t.elapsed() >= QUOTA_EVERY) {
            let hourly = last_prune.map_or(true, |t| t.elapsed() >= PRUNE_EVERY);
            last_quota = Some(Instant::now());
            bound_logs(&inner, hourly).await;
        }
        if last_prune.map_or(true, |t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            let days = i64::from(inner.ctx.config.logs.retention_days);
            let before = crate::domain::function::now_ms() - days * 86_400_000;
            let now = crate::domain::function::now_ms();
            match inner
                .ctx
                .store
                .call(move |c| {
                    // Dashboard state with its own lifetime: expired sessions, failed
                    // sign-ins older than a day, saved test events of deleted functions.
                    crate::store::users::prune(c, now, now - 86_400_000)?;
                    crate::store::testevents::prune_orphans(c)
                })
                .await
            {
                Ok(()) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune dashboard state"),
            }
            match inner
                .ctx
                .logs
                .call(move |c| {
                    let n = crate::store::logs::prune(c, before, now)?;
                    let usage_before = now - crate::store::usage::RETENTION_DAYS * 86_400_000;
                    crate::store::usage::prune(c, usage_before)?;
                    Ok::<_, crate::store::StoreError>(n + crate::store::traces::prune(c, before)?)
                })
                .await
            {
                Ok(n) if n > 0 => tracing::info!(deleted = n, days, "pruned old function logs"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune old function logs"),
            }
        }
        let idle = Duration::from_secs(inner.ctx.config.engine.code_cache_idle_secs);
        if last_evict.elapsed() >= idle.min(EVICT_EVERY) {
            last_evict = Instant::now();
            let cache = inner.cache.clone();
            if let Ok(n) = tokio::task::spawn_blocking(move || cache.evict_idle(idle)).await {
                if n > 0 {
                    tracing::info!(removed = n, "evicted unused extracted code and layers");
                }
            }
        }
        spares::discard(inner.spares.trim()).await;
        let max_idle = Duration::from_secs(inner.ctx.config.engine.idle_timeout_secs);
        let n = inner.reap(max_idle);
        if n > 0 {
            tracing::debug!(reaped = n, "reaped idle environments");
        }
    }
}

/// Byte-compiles the python client for the catalog's python interpreters, on a thread of its
/// own (it runs them; cold starts before it finishes compile the client in memory as before).
fn precompile_python_client(runtime_dir: &std::path::Path, catalog: &crate::catalog::Catalog) {
    let interpreters: Vec<_> = catalog
        .all()
        .filter(|r| r.id.starts_with("python3."))
        .filter_map(|r| Some((r.interpreter.clone()?, r.version.clone())))
        .collect();
    if interpreters.is_empty() {
        return;
    }
    let dir = runtime_dir.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("precompile".into())
        .spawn(move || {
            let report = crate::runtime::precompile::precompile_python(&dir, &interpreters);
            for e in &report.errors {
                tracing::warn!(error = %e, "cannot byte-compile the python runtime client");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the python client's byte-compilation");
    }
}
