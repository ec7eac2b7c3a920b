//! Provisioned concurrency: environments of a version or alias initialised ahead of demand
//! (`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`), kept at the requested count
//! and used first by invocations of that qualifier; when all are busy the invocation spills
//! over to on-demand environments.
//!
//! One supervisor task (`supervise`) owns the count: it re-reads the configurations when one
//! was written or any function, version or alias changed (the version cache's generation),
//! resolves each qualifier to its versions (a weighted alias splits the count by weight),
//! kills environments nobody wants and starts the missing ones. Each environment carries a
//! [`Slot`]; whenever one dies, is killed or is not returned, dropping its slot wakes the
//! supervisor, which starts a replacement. Status: `IN_PROGRESS` until the requested count
//! is allocated, then `READY`; `FAILED` (with the init error) when an environment failed to
//! initialise, until the configuration is written again.
//!
//! Rule: the sets lock is never held across an `.await`, and no `Live` (whose slot takes
//! the lock when dropped) is dropped while it is held.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::admission;
use super::capacity::Admission;
use super::invoke::{self, InitType};
use super::live::{Live, Started};
use super::Inner;
use crate::domain::function::FunctionVersion;
use crate::domain::Error;
use crate::services::functions::is_alias_name;
use crate::store::{aliases as astore, functions as fstore};

/// What Get/ListProvisionedConcurrencyConfigs report besides the stored request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Ready,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "IN_PROGRESS",
            Status::Ready => "READY",
            Status::Failed => "FAILED",
        }
    }
}

/// The live state of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub allocated: u32,
    pub status: Status,
    pub reason: Option<String>,
}

struct Target {
    version: FunctionVersion,
    want: u32,
}

#[derive(Default)]
struct Set {
    requested: u32,
    last_modified_ms: i64,
    targets: Vec<Target>,
    idle: Vec<Live>,
    /// Environments alive (idle or busy) per revision.
    live: HashMap<String, u32>,
    starting: HashMap<String, u32>,
    failed: Option<String>,
    ready_once: bool,
}

impl Set {
    fn allocated(&self) -> u32 {
        self.live.values().sum()
    }

    fn want(&self, revision: &str) -> u32 {
        self.targets
            .iter()
            .filter(|t| t.version.revision_id == revision)
            .map(|t| t.want)
            .sum()
    }
}

type Sets = HashMap<String, HashMap<String, Set>>;

/// The provisioned environments of the engine.
#[derive(Default)]
pub struct Provisioned {
    sets: Mutex<Sets>,
    any: AtomicBool,
    dirty: AtomicBool,
    wake: Notify,
}

/// A provisioned environment's place in its set.
pub struct Slot {
    owner: Weak<Provisioned>,
    function: String,
    qualifier: String,
    revision: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(p) = self.owner.upgrade() else {
            return;
        };
        if let Some(set) = p
            .lock()
            .get_mut(&self.function)
            .and_then(|q| q.get_mut(&self.qualifier))
        {
            if let Some(n) = set.live.get_mut(&self.revision) {
                *n = n.saturating_sub(1);
            }
        }
        p.wake.notify_one();
    }
}

impl Provisioned {
    fn lock(&self) -> MutexGuard<'_, Sets> {
        self.sets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the supervisor to re-read the configurations.
    pub fn changed(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Takes an idle provisioned environment of `function:qualifier` running `fv`.
    pub fn acquire(
        &self,
        function: &str,
        qualifier: Option<&str>,
        fv: &FunctionVersion,
    ) -> Option<(Live, f64)> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        let q = qualifier?;
        let mut sets = self.lock();
        let set = sets.get_mut(function)?.get_mut(q)?;
        let pos = set
            .idle
            .iter()
            .rposition(|l| l.revision == fv.revision_id && l.exit.borrow().is_none())?;
        let live = set.idle.swap_remove(pos);
        let allocated = set.allocated().max(1);
        let busy = allocated.saturating_sub(u32::try_from(set.idle.len()).unwrap_or(0));
        Some((live, f64::from(busy) / f64::from(allocated)))
    }

    /// Returns a healthy provisioned environment after an invocation; gives it back when its
    /// set no longer wants it (the caller kills it).
    pub fn release(&self, live: Live) -> Option<Live> {
        let Some(slot) = &live.slot else {
            return Some(live);
        };
        let (function, qualifier, revision) = (
            slot.function.clone(),
            slot.qualifier.clone(),
            slot.revision.clone(),
        );
        let mut sets = self.lock();
        match sets.get_mut(&function).and_then(|q| q.get_mut(&qualifier)) {
            Some(set) if set.live.get(&revision).copied().unwrap_or(0) <= set.want(&revision) => {
                set.idle.push(live);
                None
            }
            _ => Some(live),
        }
    }

    /// The live state of one configuration (`None` before the supervisor has seen it).
    pub fn report(&self, function: &str, qualifier: &str, requested: u32) -> Report {
        let sets = self.lock();
        let Some(set) = sets.get(function).and_then(|q| q.get(qualifier)) else {
            return Report {
                allocated: 0,
                status: Status::InProgress,
                reason: None,
            };
        };
        let allocated = set.allocated();
        let status = if set.failed.is_some() {
            Status::Failed
        } else if set.requested == requested && (allocated >= requested || set.ready_once) {
            Status::Ready
        } else {
            Status::InProgress
        };
        Report {
            allocated,
            status,
            reason: set.failed.clone(),
        }
    }

    /// Drops every set of a deleted function; returns their idle environments to kill.
    pub fn retire_function(&self, function: &str) -> Vec<Live> {
        let removed = self.lock().remove(function);
        removed
            .map(|qs| qs.into_values().flat_map(|s| s.idle).collect())
            .unwrap_or_default()
    }

    /// Every idle provisioned environment (shutdown).
    pub fn drain(&self) -> Vec<Live> {
        let mut sets = self.lock();
        self.any.store(false, Ordering::SeqCst);
        sets.values_mut()
            .flat_map(|qs| qs.values_mut())
            .flat_map(|s| std::mem::take(&mut s.idle))
            .collect()
    }
}

/// The supervisor: runs until the engine is dropped or shuts down.
pub async fn supervise(inner: Weak<Inner>) {
    let mut generation = u64::MAX;
    loop {
        let Some(engine) = inner.upgrade() else {
            return;
        };
        if engine.shutting_down.load(Ordering::SeqCst) {
            let idle = engine.provisioned.drain();
            kill_all(idle);
            return;
        }
        let p = Arc::clone(&engine.provisioned);
        let g = engine.ctx.versions.generation();
        if g != generation || p.dirty.swap(false, Ordering::SeqCst) {
            generation = g;
            if let Err(e) = reload(&engine).await {
                tracing::warn!(error = %e, "cannot read the provisioned concurrency configurations");
                p.dirty.store(true, Ordering::SeqCst);
            }
        }
        reconcile(&engine);
        drop(engine);
        tokio::select! {
            _ = p.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

fn kill_all(lives: Vec<Live>) {
    for l in &lives {
        l.kill();
    }
    drop(lives);
}

/// Re-reads the configurations and every function's share of the account pool.
async fn reload(inner: &Arc<Inner>) -> Result<(), Error> {
    super::concurrency::apply_shares(inner).await?;
    let rows = crate::services::concurrency::all_provisioned(&inner.ctx).await?;
    let mut wanted: Vec<(String, String, u32, i64, Vec<Target>)> = Vec::new();
    for row in rows {
        let (name, q) = (row.function.clone(), row.qualifier.clone());
        let targets = inner
            .ctx
            .store
            .call(move |c| {
                let versions: Vec<(String, f64)> = if is_alias_name(&q) {
                    match astore::get(c, &name, &q)? {
                        Some(a) => {
                            let extra: f64 = a.routing.values().sum();
                            std::iter::once((a.function_version, 1.0 - extra))
                                .chain(a.routing)
                                .collect()
                        }
                        None => Vec::new(),
                    }
                } else {
                    vec![(q.clone(), 1.0)]
                };
                let mut out = Vec::new();
                for (v, w) in versions {
                    if let Some(fv) = fstore::get_version(c, &name, &v)? {
                        out.push((fv, w));
                    }
                }
                Ok(out)
            })
            .await?;
        wanted.push((
            row.function,
            row.qualifier,
            row.requested,
            row.last_modified_ms,
            split(row.requested, targets),
        ));
    }
    let mut retired = Vec::new();
    {
        let mut sets = inner.provisioned.lock();
        let keep: Vec<(String, String)> =
            wanted.iter().map(|w| (w.0.clone(), w.1.clone())).collect();
        for (name, qs) in sets.iter_mut() {
            qs.retain(|q, s| {
                let kept = keep.iter().any(|(n, k)| n == name && k == q);
                if !kept {
                    retired.append(&mut s.idle);
                }
                kept
            });
        }
        sets.retain(|_, qs| !qs.is_empty());
        for (name, q, requested, last_modified_ms, targets) in wanted {
            let set = sets.entry(name).or_default().entry(q).or_default();
            let same_targets = set.targets.len() == targets.len()
                && set.targets.iter().zip(&targets).all(|(a, b)| {
                    a.version.revision_id == b.version.revision_id && a.want == b.want
                });
            if set.last_modified_ms != last_modified_ms || !same_targets {
                set.failed = None;
                set.ready_once = false;
            }
            set.requested = requested;
            set.last_modified_ms = last_modified_ms;
            set.targets = targets;
        }
        inner
            .provisioned
            .any
            .store(!sets.is_empty(), Ordering::SeqCst);
    }
    kill_all(retired);
    Ok(())
}

/// Splits `n` environments over versions by weight (the primary gets the rest).
fn split(n: u32, versions: Vec<(FunctionVersion, f64)>) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    let mut left = n;
    for (i, (version, w)) in versions.into_iter().enumerate() {
        let want = if i == 0 {
            0
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let share = (f64::from(n) * w).round() as u32;
            share.min(left)
        };
        left -= want;
        out.push(Target { version, want });
    }
    if let Some(first) = out.first_mut() {
        first.want = left;
    }
    out.retain(|t| t.want > 0);
    out
}

/// Kills what nobody wants and starts what is missing.
fn reconcile(inner: &Arc<Inner>) {
    let mut kill = Vec::new();
    let mut start: Vec<(String, String, FunctionVersion)> = Vec::new();
    {
        let mut sets = inner.provisioned.lock();
        for (name, qs) in sets.iter_mut() {
            for (q, set) in qs.iter_mut() {
                // `live` counts down when a killed environment's slot drops (after the
                // lock is released); `remaining` is what stays alive after this round.
                let mut remaining = set.live.clone();
                for l in std::mem::take(&mut set.idle) {
                    let left = remaining.entry(l.revision.clone()).or_default();
                    if l.exit.borrow().is_some() || *left > set.want(&l.revision) {
                        *left = left.saturating_sub(1);
                        kill.push(l);
                    } else {
                        set.idle.push(l);
                    }
                }
                if set.allocated() >= set.requested && set.failed.is_none() {
                    set.ready_once = true;
                }
                if set.failed.is_some() {
                    continue;
                }
                for t in &set.targets {
                    let rev = &t.version.revision_id;
                    let have = remaining.get(rev).copied().unwrap_or(0)
                        + set.starting.get(rev).copied().unwrap_or(0);
                    for _ in have..t.want {
                        *set.starting.entry(rev.clone()).or_default() += 1;
                        start.push((name.clone(), q.clone(), t.version.clone()));
                    }
                }
            }
        }
    }
    kill_all(kill);
    for (name, q, fv) in start {
        let inner = Arc::clone(inner);
        tokio::spawn(async move { provision_one(inner, name, q, fv).await });
    }
}

/// Starts one provisioned environment of `fv` for `name:qualifier`.
async fn provision_one(inner: Arc<Inner>, name: String, qualifier: String, fv: FunctionVersion) {
    let result = start_one(&inner, &fv).await;
    let rev = fv.revision_id.clone();
    let mut unwanted: Option<Live> = None;
    {
        let mut sets = inner.provisioned.lock();
        let set = sets.get_mut(&name).and_then(|q| q.get_mut(&qualifier));
        match (set, result) {
            (Some(set), Ok(mut live)) => {
                if let Some(n) = set.starting.get_mut(&rev) {
                    *n = n.saturating_sub(1);
                }
                if set.live.get(&rev).copied().unwrap_or(0) < set.want(&rev) {
                    *set.live.entry(rev.clone()).or_default() += 1;
                    live.slot = Some(Slot {
                        owner: Arc::downgrade(&inner.provisioned),
                        function: name.clone(),
                        qualifier: qualifier.clone(),
                        revision: rev.clone(),
                    });
                    let mut exit = live.exit.clone();
                    let owner = Arc::downgrade(&inner.provisioned);
                    tokio::spawn(async move {
                        let _ = exit.wait_for(Option::is_some).await;
                        if let Some(p) = owner.upgrade() {
                            p.wake.notify_one();
                        }
                    });
                    set.idle.push(live);
                } else {
                    unwanted = Some(live);
                }
            }
            (Some(set), Err(why)) => {
                if let Some(n) = set.starting.get_mut(&rev) {
                    *n = n.saturating_sub(1);
                }
                tracing::warn!(function = %name, qualifier = %qualifier, reason = %why, "provisioned environment failed");
                set.failed = Some(why);
            }
            (None, Ok(live)) => unwanted = Some(live),
            (None, Err(_)) => {}
        }
    }
    if let Some(l) = unwanted {
        l.kill();
    }
    inner.provisioned.wake.notify_one();
}

/// Reserves room (waiting for it) and initialises one environment.
async fn start_one(inner: &Arc<Inner>, fv: &FunctionVersion) -> Result<Live, String> {
    let sandbox = inner
        .sandbox()
        .map_err(|why| format!("functions cannot run on this host: {why}"))?;
    let mb = u64::from(fv.config.memory_size);
    let lease = admission::reserve_env(inner, mb, Admission::Wait)
        .await
        .map_err(|r| format!("no room for the environment: {}", r.metric()))?;
    match invoke::start(inner, sandbox, fv, lease, InitType::Provisioned, None).await {
        Ok(Started::Ready(mut live)) => {
            inner.track(&live);
            // Provisioned environments report no Init Duration on their first invocation.
            live.init = None;
            Ok(live)
        }
        Ok(Started::Failed {
            live,
            error_type,
            init,
            ..
        }) => {
            inner.track(&live);
            live.capture
                .platform(super::platform::Platform::InitReport {
                    init,
                    timed_out: false,
                    error_type: &error_type,
                    init_type: InitType::Provisioned.as_str(),
                });
            live.kill();
            Err(format!("FUNCTION_ERROR_INIT_FAILURE: {error_type}"))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fv(rev: &str) -> FunctionVersion {
        FunctionVersion {
            name: "f".into(),
            version: rev.into(),
            config: Default::default(),
            code_sha256: String::new(),
            code_size: 0,
            revision_id: rev.into(),
            last_modified_ms: 0,
        }
    }

    #[test]
    fn a_weighted_alias_splits_the_count() {
        let t = split(10, vec![(fv("1"), 0.7), (fv("2"), 0.3)]);
        assert_eq!(
            t.iter()
                .map(|t| (t.version.version.as_str(), t.want))
                .collect::<Vec<_>>(),
            vec![("1", 7), ("2", 3)]
        );
        let t = split(1, vec![(fv("1"), 0.9), (fv("2"), 0.1)]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].want, 1);
    }

    #[test]
    fn status_follows_allocation_and_failure() {
        let p = Provisioned::default();
        assert_eq!(p.report("f", "prod", 2).status, Status::InProgress);
        {
            let mut sets = p.lock();
            let s = sets
                .entry("f".into())
                .or_default()
                .entry("prod".into())
                .or_default();
            s.requested = 2;
            s.live.insert("r".into(), 2);
        }
        let r = p.report("f", "prod", 2);
        assert_eq!((r.allocated, r.status), (2, Status::Ready));
        p.lock()
            .get_mut("f")
            .unwrap()
            .get_mut("prod")
            .unwrap()
            .failed = Some("x".into());
        assert_eq!(p.report("f", "prod", 2).status, Status::Failed);
    }
}
