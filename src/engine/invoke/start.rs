//! Starting an execution environment for an invocation: room in the host budget (a spare's,
//! or reserved by admission with eviction), the function's code and layers from the cache and
//! its `/opt`, the launch plan, credentials, and the cold start itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::function::FunctionVersion;
use crate::domain::Error;
use crate::engine::admission;
use crate::engine::capacity::{Admission, EnvLease, ThrottleReason};
use crate::engine::codecache::{CacheError, Pins};
use crate::engine::launch::{self, InitType, Sources};
use crate::engine::live::{self, Started};
use crate::engine::optdir;
use crate::engine::output::Capture;
use crate::engine::platform::{LogStyle, Platform};
use crate::engine::Inner;
use crate::runtime::EnvInfo;
use crate::store::blobs;

/// Makes room for an on-demand environment (evicting idle ones, or throttling or waiting as
/// `admission` says) and starts it.
pub(super) async fn start_on_demand(
    inner: &Arc<Inner>,
    sandbox: Arc<crate::sandbox::Sandbox>,
    fv: &FunctionVersion,
    admission: Admission,
) -> Result<Started, Error> {
    if let Some(held) = crate::engine::spares::claim_for(inner, fv).await {
        let spare = Some(held.spare);
        return start(inner, sandbox, fv, held.lease, InitType::OnDemand, spare).await;
    }
    let mb = u64::from(fv.config.memory_size);
    let lease = match admission::reserve_env(inner, mb, admission).await {
        Ok(lease) => lease,
        Err(reason) => {
            inner.capacity.metrics.throttle(&fv.name, reason);
            if mb > inner.capacity.limits().memory_budget_mb {
                return Err(Error::TooManyRequests {
                    reason: reason.wire().into(),
                    message: format!(
                        "Rate Exceeded. (MemorySize {mb} MB is larger than this host's memory budget for execution environments, {} MB: config key engine.memory_budget_mb)",
                        inner.capacity.limits().memory_budget_mb
                    ),
                });
            }
            return Err(reason.error());
        }
    };
    start(inner, sandbox, fv, lease, InitType::OnDemand, None).await
}

/// A new environment id.
pub(in crate::engine) fn new_env_id() -> String {
    format!("lbx-{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// Starts an environment of `fv` in the room `lease` holds (finishing `spare` when given:
/// the environment takes the spare's id).
pub(in crate::engine) async fn start(
    inner: &Arc<Inner>,
    sandbox: Arc<crate::sandbox::Sandbox>,
    fv: &FunctionVersion,
    lease: EnvLease,
    init_type: InitType,
    spare: Option<crate::sandbox::Spare>,
) -> Result<Started, Error> {
    let env_id = spare
        .as_ref()
        .map_or_else(new_env_id, |s| s.id().to_string());
    let (pins, code_dir, opt_dir) = match prepare_files(inner, fv).await {
        Ok(files) => files,
        Err(e) => {
            crate::engine::spares::discard_one(spare).await;
            return Err(e);
        }
    };
    let stream = launch::stream_name(&fv.version);
    let runtime = inner.ctx.catalog.get(&fv.config.runtime).cloned();
    let spec = launch::plan(
        &inner.ctx.config,
        &inner.ctx.identity,
        fv,
        runtime.as_ref(),
        &Sources {
            code_dir: &code_dir,
            opt_dir: &opt_dir,
            runtime_dir: &inner.runtime_dir,
        },
        &env_id,
        &stream,
    );
    let capture = Arc::new(Capture::new(
        inner.logs.clone(),
        fv.config.log_group(&fv.name),
        stream,
        inner.ctx.config.logs.max_bytes_per_invocation,
        inner.ctx.config.logs.capture_bytes_per_second,
        LogStyle::of(&fv.config.logging),
    ));
    let spec = match spec {
        Ok(mut s) => {
            launch::set_init_type(&mut s, init_type);
            s
        }
        Err(e) => {
            crate::engine::spares::discard_one(spare).await;
            // Nothing to start: report it like a runtime init failure.
            capture.platform(Platform::InitReport {
                init: Duration::ZERO,
                timed_out: false,
                error_type: &e.error_type,
                init_type: init_type.as_str(),
            });
            return Err(Error::InvalidRuntime(format!(
                "{}: {}",
                e.error_type, e.message
            )));
        }
    };
    let mut spec = spec;
    let (credentials, aws_api) =
        crate::engine::credentials::attach(&inner.ctx, fv, &env_id, &mut spec).await;
    let info = EnvInfo {
        function_name: fv.name.clone(),
        function_version: fv.version.clone(),
        handler: fv.config.handler.clone(),
        account_id: inner.ctx.identity.account_id.clone(),
        aws_api,
    };
    tracing::debug!(function = %fv.name, env = %env_id, "cold start");
    let settings = live::ApiSettings::from_config(&inner.ctx.config);
    let mut started = live::cold_start(
        sandbox,
        spec,
        info,
        capture,
        fv.revision_id.clone(),
        live::Room { lease, spare },
        settings,
    )
    .await
    .map_err(|e| match e {
        live::StartError::UidsExhausted => {
            inner
                .capacity
                .metrics
                .throttle(&fv.name, ThrottleReason::Uids);
            ThrottleReason::Uids.error()
        }
        other => Error::Service(format!("cannot start an execution environment: {other}")),
    })?;
    match &mut started {
        Started::Ready(live) | Started::Failed { live, .. } => {
            live.pins = Some(pins);
            live.credentials = credentials;
        }
    }
    Ok(started)
}

/// Extracts (or finds in the cache) the function's code and layers, and builds its `/opt`:
/// the pins that keep them cached while the environment lives, the code directory and the
/// `/opt` directory.
async fn prepare_files(
    inner: &Arc<Inner>,
    fv: &FunctionVersion,
) -> Result<(Pins, PathBuf, PathBuf), Error> {
    let code_sha = fv.code_sha256.clone();
    let layer_shas: Vec<String> = fv.config.layers.iter().map(|l| l.sha256.clone()).collect();
    if layer_shas.iter().any(String::is_empty) {
        return Err(Error::Service(format!(
            "the configuration of {}:{} names a layer that was never resolved; update the function's layers",
            fv.name, fv.version
        )));
    }
    let merged = (layer_shas.len() > 1)
        .then(|| optdir::merged_key(&layer_shas.iter().map(String::as_str).collect::<Vec<_>>()));
    let mut keys = vec![code_sha.clone()];
    keys.extend(layer_shas.iter().cloned());
    keys.extend(merged.iter().cloned());
    // Pin first: nothing this environment needs can be evicted from here on.
    let pins = inner.cache.pin(keys);
    let cache = inner.cache.clone();
    let store = inner.ctx.store.clone();
    let empty_opt = inner.empty_opt.clone();
    let (code_dir, opt_dir) = tokio::task::spawn_blocking(move || {
        let load = |sha: &str| {
            let sha = sha.to_string();
            let store = store.clone();
            move || {
                store
                    .call_blocking(|c| blobs::get(c, &sha))
                    .map_err(|e| CacheError::Load(sha.clone(), e.to_string()))?
                    .ok_or_else(|| CacheError::Load(sha.clone(), "no such blob".into()))
            }
        };
        let code_dir = cache.ensure(&code_sha, load(&code_sha))?;
        let layer_dirs = layer_shas
            .iter()
            .map(|sha| cache.ensure(sha, load(sha)))
            .collect::<Result<Vec<_>, _>>()?;
        let opt_dir = match (layer_dirs.as_slice(), merged) {
            ([], _) => empty_opt,
            ([only], _) => only.clone(),
            (many, Some(key)) => optdir::ensure_merged(&cache, &key, many)?,
            (_, None) => empty_opt,
        };
        Ok::<_, CacheError>((code_dir, opt_dir))
    })
    .await
    .map_err(|e| Error::Service(format!("code extraction task failed: {e}")))?
    .map_err(|e| {
        tracing::error!(function = %fv.name, error = %e, "cannot prepare the function's code");
        Error::Service(format!(
            "cannot prepare the function's code: {}",
            e.public_message()
        ))
    })?;
    Ok((pins, code_dir, opt_dir))
}
