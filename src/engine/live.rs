//! A live execution environment as the engine holds it, and its cold start: launch the
//! sandbox, serve the Runtime API on the listener it hands back, capture its output, watch
//! for its exit, and wait until the runtime asks for work (or reports an init error).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::capacity::{Dying, EnvLease};
use super::frozen_watch::FrozenWatch;
use super::output::{Capture, OutputReader};
use crate::config::Config;
use crate::runtime::{ConnLimits, EnvInfo, IdleFreezer, InitOutcome, RuntimeApi, ServeOptions};
use crate::sandbox::{
    EnvSpec, ExitInfo, ExitStatus, Freezer, Killer, MemoryProbe, Sandbox, SandboxError, Spare,
};

/// Longest the Init phase may take (AWS: 10 s for on-demand functions).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// One running environment.
pub struct Live {
    pub id: String,
    pub api: RuntimeApi,
    pub killer: Killer,
    pub probe: MemoryProbe,
    pub capture: Arc<Capture>,
    pub reader: OutputReader,
    pub exit: watch::Receiver<Option<ExitInfo>>,
    /// Revision of the function version this environment runs.
    pub revision: String,
    pub last_used: Instant,
    /// Init duration, reported once by the first invocation.
    pub init: Option<Duration>,
    /// Keeps the code and layers this environment mounts in the cache while it lives.
    pub pins: Option<super::codecache::Pins>,
    /// MB of the memory budget this environment holds (its MemorySize).
    pub memory_mb: u64,
    /// Set for a provisioned environment: its place in its provisioned set.
    pub slot: Option<super::provisioned::Slot>,
    /// The environment's execution-role session: revoked when the environment is dropped.
    pub credentials: Option<crate::services::iam::sessions::SessionGuard>,
    /// Marks the environment's budget lease dying when it is killed.
    pub dying: Dying,
}

/// How a cold start ended.
pub enum Started {
    Ready(Live),
    /// The runtime reported an init error, exited, or took too long.
    Failed {
        live: Live,
        error_type: String,
        body: bytes::Bytes,
        init: Duration,
        timed_out: bool,
    },
}

/// Why no environment could be started at all.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Sandbox(String),
    /// Every sandbox uid is in use (admission normally prevents it).
    #[error("no free sandbox uid")]
    UidsExhausted,
}

/// Credentials must outlive the longest invocation (15 minutes) with room to spare.
const CREDENTIALS_MARGIN_MS: i64 = 20 * 60 * 1000;

impl Live {
    /// True when the environment's credentials expire too soon for another invocation.
    pub fn credentials_expiring(&self) -> bool {
        self.credentials
            .as_ref()
            .is_some_and(|g| g.expiring(crate::services::iam::now_ms(), CREDENTIALS_MARGIN_MS))
    }

    /// Kills every process of the environment; idempotent.
    pub fn kill(&self) {
        tracing::debug!(env = %self.id, "killing environment");
        self.dying.mark();
        self.killer.kill();
        self.api.shutdown();
    }

    /// Waits (bounded) for the exit status after the runtime went away.
    pub async fn exit_info(&mut self, wait: Duration) -> Option<ExitInfo> {
        let mut rx = self.exit.clone();
        let r = tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await;
        match r {
            Ok(Ok(v)) => *v,
            _ => None,
        }
    }

    /// Peak memory in MB, as the REPORT line shows it.
    pub fn max_memory_mb(&self) -> u64 {
        self.probe.peak_bytes().div_ceil(1024 * 1024)
    }
}

/// How the engine serves each environment's Runtime API (from the daemon config).
#[derive(Debug, Clone, Copy)]
pub struct ApiSettings {
    pub limits: ConnLimits,
    /// Freeze environments while their runtime waits on `/next` (`sandbox.freeze_idle`).
    pub freeze_idle: bool,
}

impl ApiSettings {
    pub fn from_config(config: &Config) -> ApiSettings {
        let r = &config.runtime_api;
        ApiSettings {
            limits: ConnLimits {
                max_connections: r.max_connections,
                header_timeout: Duration::from_millis(r.header_timeout_ms),
                max_head_bytes: r.max_header_bytes,
            },
            freeze_idle: config.sandbox.freeze_idle,
        }
    }
}

/// The sandbox's cgroup freezer as the Runtime API's idle hook.
#[derive(Debug)]
struct IdleCgroupFreezer {
    env: String,
    freezer: Freezer,
    /// Set where killed tasks of a frozen group live on until thawed (cgroup v1).
    watch: Option<&'static FrozenWatch>,
}

impl IdleFreezer for IdleCgroupFreezer {
    fn freeze(&self) {
        if let Err(e) = self.freezer.freeze() {
            tracing::warn!(env = %self.env, error = %e, "cannot freeze idle environment");
            return;
        }
        if let Some(watch) = self.watch {
            watch.watch(&self.env, &self.freezer);
        }
    }

    fn thaw(&self) {
        if let Some(watch) = self.watch {
            watch.unwatch(&self.env);
        }
        if let Err(e) = self.freezer.thaw() {
            tracing::warn!(env = %self.env, error = %e, "cannot thaw environment");
        }
    }
}

impl Drop for IdleCgroupFreezer {
    fn drop(&mut self) {
        if let Some(watch) = self.watch {
            watch.unwatch(&self.env);
        }
    }
}

/// Where a cold start runs: its room in the host budget (released by the waiter thread once
/// the environment's processes are gone) and the spare to finish, if one was claimed.
pub struct Room {
    pub lease: EnvLease,
    pub spare: Option<Spare>,
}

/// Starts an environment from `spec` (finishing the room's spare when there is one) and
/// waits for the runtime's first `/next`.
pub async fn cold_start(
    sandbox: Arc<Sandbox>,
    spec: EnvSpec,
    info: EnvInfo,
    capture: Arc<Capture>,
    revision: String,
    room: Room,
    settings: ApiSettings,
) -> Result<Started, StartError> {
    let Room { lease, spare } = room;
    let t0 = Instant::now();
    let id = spec.id.clone();
    let memory_mb = lease.mb();
    let upstreams = sandbox
        .internet()
        .map(|i| i.settings.dns_servers.clone())
        .unwrap_or_default();
    let mut env = tokio::task::spawn_blocking(move || match spare {
        // A spare that does not fit or whose helper went away is gone; a plain launch then
        // starts the environment under the same id (the spare's cgroup is removed by now).
        Some(spare) => match sandbox.finish(spare, &spec) {
            Err(e @ (SandboxError::InvalidSpec(_) | SandboxError::Protocol(_))) => {
                tracing::warn!(env = %spec.id, error = %e, "spare environment unusable; launching without it");
                sandbox.launch(&spec)
            }
            other => other,
        },
        None => sandbox.launch(&spec),
    })
    .await
        .map_err(|e| StartError::Sandbox(format!("sandbox launch task failed: {e}")))?
        .map_err(|e| match e {
            SandboxError::UidsExhausted(..) => StartError::UidsExhausted,
            other => {
                // The detail (host paths, cgroups) is for the operator, not the API client.
                tracing::error!(env = %id, error = %other, "cannot start an execution environment");
                StartError::Sandbox(other.public_message())
            }
        })?;
    let killer = env.killer();
    let probe = env.memory_probe();
    let listener = env
        .runtime_api_listener()
        .ok_or_else(|| StartError::Sandbox("the sandbox gave no Runtime API listener".into()))?;
    let output = env
        .output()
        .ok_or_else(|| StartError::Sandbox("the sandbox gave no output pipe".into()))?;
    let freezer = env
        .freezer()
        .filter(|_| settings.freeze_idle)
        .map(|freezer| {
            let watch = if freezer.needs_kill_watch() {
                FrozenWatch::global()
            } else {
                None
            };
            Arc::new(IdleCgroupFreezer {
                env: id.clone(),
                freezer,
                watch,
            }) as Arc<dyn IdleFreezer>
        });
    let options = ServeOptions {
        limits: settings.limits,
        freezer,
    };
    let api = RuntimeApi::serve_with(listener, info, options).map_err(|e| {
        killer.kill();
        StartError::Sandbox(e.to_string())
    })?;
    let reader = OutputReader::spawn(output, Arc::clone(&capture)).map_err(|e| {
        killer.kill();
        StartError::Sandbox(format!("cannot read the environment's output: {e}"))
    })?;
    let (tx, rx) = watch::channel(None);
    let dying = lease.dying();
    if let Some((udp, tcp)) = env.dns_sockets() {
        if let Err(e) = super::dns::spawn(udp, tcp, Arc::new(upstreams), rx.clone()) {
            killer.kill();
            return Err(StartError::Sandbox(format!(
                "cannot serve the environment's DNS: {e}"
            )));
        }
    }
    let waiter = std::thread::Builder::new()
        .name(format!("wait-{id}"))
        .stack_size(128 * 1024)
        .spawn(move || {
            let info = env.wait();
            // Room in the budget is free before anyone sees the exit.
            drop(lease);
            let _ = tx.send(Some(info));
        });
    if let Err(e) = waiter {
        killer.kill();
        return Err(StartError::Sandbox(format!(
            "cannot start a waiter thread: {e}"
        )));
    }
    let mut live = Live {
        id,
        api,
        killer,
        probe,
        capture,
        reader,
        exit: rx,
        revision,
        last_used: Instant::now(),
        init: None,
        pins: None,
        memory_mb,
        slot: None,
        credentials: None,
        dying,
    };
    let mut exit = live.exit.clone();
    let outcome = tokio::select! {
        o = live.api.wait_ready() => Some(o),
        _ = exit.wait_for(Option::is_some) => None,
        _ = tokio::time::sleep(INIT_TIMEOUT) => Some(InitOutcome::Closed),
    };
    let init = t0.elapsed();
    live.init = Some(init);
    match outcome {
        Some(InitOutcome::Ready) => Ok(Started::Ready(live)),
        Some(InitOutcome::InitError { error_type, body }) => Ok(Started::Failed {
            live,
            error_type,
            body,
            init,
            timed_out: false,
        }),
        Some(InitOutcome::Closed) if init >= INIT_TIMEOUT => Ok(Started::Failed {
            live,
            error_type: "Sandbox.Timedout".into(),
            body: bytes::Bytes::new(),
            init,
            timed_out: true,
        }),
        Some(InitOutcome::Closed) | None => {
            live.reader.drain().await;
            let how = match live.exit_info(Duration::from_secs(2)).await {
                Some(i) => describe_exit(&i),
                None => "signal: killed".into(),
            };
            let error_type = "Runtime.ExitError".to_string();
            let body = serde_json::json!({
                "errorType": error_type,
                "errorMessage": format!("Runtime exited with error: {how}"),
            })
            .to_string();
            Ok(Started::Failed {
                live,
                error_type,
                body: body.into(),
                init,
                timed_out: false,
            })
        }
    }
}

/// `exit status 1` / `signal: killed`, as AWS words a runtime's end.
pub fn describe_exit(i: &ExitInfo) -> String {
    match i.status {
        ExitStatus::Code(c) => format!("exit status {c}"),
        ExitStatus::Signal(9) => "signal: killed".into(),
        ExitStatus::Signal(s) => format!("signal: {}", signal_name(s)),
    }
}

fn signal_name(s: i32) -> String {
    match s {
        6 => "aborted".into(),
        11 => "segmentation fault".into(),
        15 => "terminated".into(),
        2 => "interrupt".into(),
        7 => "bus error".into(),
        other => format!("signal {other}"),
    }
}
