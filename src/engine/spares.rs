//! Spare environments ahead of cold starts (`engine.spare_environments`): per sandbox
//! [`Shape`] (memory size and network mode), a few sandboxes whose function-independent
//! set-up is done (helper, namespaces, uid, cgroup created, limited and joined, veth), so a
//! cold start only pays for the function's mounts and the runtime's exec.
//!
//! Sizing: each shape keeps as many spares as it had cold starts in the last minute, at most
//! `engine.spare_environments`; a shape without cold starts for a minute keeps none (the
//! reaper tears its spares down). A claim takes one and starts a refill in the background.
//!
//! Budget: every spare holds an [`EnvLease`] (its memory size and a uid), so spares count in
//! the host budget like live environments. A refill only reserves when nobody waits for room
//! and a quarter of the memory budget would stay free; admission tears spares down before it
//! evicts idle environments or throttles (`engine::admission`).
//!
//! Rule: a `Held` spare is dropped (which blocks for a few ms while its processes, cgroup,
//! veth and uid go) only on a blocking thread, through [`discard`]; its lease is released
//! after that, never before. The state lock is never held across an `.await` or a drop of a
//! spare.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::capacity::EnvLease;
use super::Inner;
use crate::domain::function::FunctionVersion;
use crate::sandbox::{Shape, Spare};

/// How far back cold starts count towards a shape's number of spares.
const DEMAND_WINDOW: Duration = Duration::from_secs(60);

/// One spare and its room in the host budget.
pub struct Held {
    /// Dropped first: the lease is released once the spare's processes are gone.
    pub spare: Spare,
    pub lease: EnvLease,
}

#[derive(Default)]
struct PerShape {
    ready: Vec<Held>,
    /// Spares being prepared now.
    filling: usize,
    /// Cold starts of this shape within [`DEMAND_WINDOW`].
    demand: VecDeque<Instant>,
}

impl PerShape {
    fn prune(&mut self, now: Instant) {
        while self
            .demand
            .front()
            .is_some_and(|t| now.duration_since(*t) > DEMAND_WINDOW)
        {
            self.demand.pop_front();
        }
    }

    fn target(&self, max: usize) -> usize {
        self.demand.len().min(max)
    }
}

#[derive(Default)]
struct State {
    shapes: HashMap<Shape, PerShape>,
    closed: bool,
}

/// The engine's spares.
pub struct Spares {
    max: usize,
    state: Mutex<State>,
    /// Notified whenever a fill ends (shutdown waits for the last one).
    filled: tokio::sync::Notify,
}

/// Counts for the dashboard and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpareCounts {
    /// Ready spares per shape label ("128 MB, internet").
    pub ready: Vec<(String, usize)>,
    pub filling: usize,
    pub max_per_shape: usize,
}

impl SpareCounts {
    pub fn total(&self) -> usize {
        self.ready.iter().map(|(_, n)| n).sum()
    }
}

impl Spares {
    pub fn new(max_per_shape: u32) -> Spares {
        Spares {
            max: max_per_shape as usize,
            state: Mutex::default(),
            filled: tokio::sync::Notify::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a cold start of `shape` and takes a ready spare of it, if one is alive; dead
    /// spares found on the way are returned in `dead` for [`discard`].
    pub fn claim(&self, shape: Shape, dead: &mut Vec<Held>) -> Option<Held> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let mut st = self.lock();
        if st.closed {
            return None;
        }
        let per = st.shapes.entry(shape).or_default();
        per.prune(now);
        per.demand.push_back(now);
        while let Some(h) = per.ready.pop() {
            if h.spare.alive() {
                return Some(h);
            }
            dead.push(h);
        }
        None
    }

    /// How many spares of `shape` to start making now (counted as filling from here on).
    pub fn start_fill(&self, shape: Shape) -> usize {
        let mut st = self.lock();
        if st.closed {
            return 0;
        }
        let max = self.max;
        let Some(per) = st.shapes.get_mut(&shape) else {
            return 0;
        };
        per.prune(Instant::now());
        let n = per
            .target(max)
            .saturating_sub(per.ready.len() + per.filling);
        per.filling += n;
        n
    }

    /// A fill produced `made` (or nothing): keeps it when its shape still wants it, else
    /// returns it for [`discard`]. The fill still counts until [`Spares::end_fill`].
    pub fn offer(&self, shape: Shape, made: Option<Held>) -> Option<Held> {
        let mut st = self.lock();
        let closed = st.closed;
        let max = self.max;
        match (st.shapes.get_mut(&shape), made) {
            (Some(per), Some(h)) if !closed && per.ready.len() < per.target(max) => {
                per.ready.push(h);
                None
            }
            (_, other) => other,
        }
    }

    /// A fill ended (after its unwanted spare, if any, was torn down).
    pub fn end_fill(&self, shape: Shape) {
        if let Some(per) = self.lock().shapes.get_mut(&shape) {
            per.filling = per.filling.saturating_sub(1);
        }
        self.filled.notify_waiters();
    }

    /// Spares beyond their shape's current demand (none after a quiet minute).
    pub fn trim(&self) -> Vec<Held> {
        let now = Instant::now();
        let mut out = Vec::new();
        let max = self.max;
        let mut st = self.lock();
        for per in st.shapes.values_mut() {
            per.prune(now);
            let keep = per.target(max);
            while per.ready.len() > keep {
                // The oldest spares are at the front.
                out.push(per.ready.remove(0));
            }
        }
        st.shapes
            .retain(|_, p| !p.ready.is_empty() || p.filling > 0 || !p.demand.is_empty());
        out
    }

    /// Spares to tear down so that `mb` of memory and `envs` uids come free (all of them if
    /// they do not add up to that).
    pub fn reclaim(&self, mb: u64, envs: u32) -> Vec<Held> {
        let mut out = Vec::new();
        let (mut freed_mb, mut freed) = (0u64, 0u32);
        let mut st = self.lock();
        for per in st.shapes.values_mut() {
            while freed_mb < mb || freed < envs {
                let Some(h) = per.ready.pop() else { break };
                freed_mb += h.lease.mb();
                freed += 1;
                out.push(h);
            }
        }
        out
    }

    /// Refuses new spares and returns every ready one (shutdown).
    pub fn close(&self) -> Vec<Held> {
        let mut st = self.lock();
        st.closed = true;
        st.shapes
            .values_mut()
            .flat_map(|p| std::mem::take(&mut p.ready))
            .collect()
    }

    /// Spares being prepared right now.
    pub fn filling(&self) -> usize {
        self.lock().shapes.values().map(|p| p.filling).sum()
    }

    /// Waits (at most `limit`) until no spare is being prepared.
    pub async fn wait_fills(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.filled.notified();
            if self.filling() == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    pub fn counts(&self) -> SpareCounts {
        let st = self.lock();
        let mut ready: Vec<(Shape, usize)> = st
            .shapes
            .iter()
            .filter(|(_, p)| !p.ready.is_empty())
            .map(|(s, p)| (*s, p.ready.len()))
            .collect();
        ready.sort();
        SpareCounts {
            ready: ready.into_iter().map(|(s, n)| (s.label(), n)).collect(),
            filling: st.shapes.values().map(|p| p.filling).sum(),
            max_per_shape: self.max,
        }
    }
}

/// The `/metrics` lines: `lambdabox_spare_environments{shape="128 MB, internet"}` (ready) and
/// `lambdabox_spare_environments_preparing`.
pub fn prometheus(c: &SpareCounts) -> String {
    let mut out = String::from(
        "# HELP lambdabox_spare_environments Spare environments ready for a cold start, per memory size and network mode.\n\
         # TYPE lambdabox_spare_environments gauge\n",
    );
    for (shape, n) in &c.ready {
        out.push_str(&format!(
            "lambdabox_spare_environments{{shape=\"{shape}\"}} {n}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP lambdabox_spare_environments_preparing Spare environments being prepared.\n\
         # TYPE lambdabox_spare_environments_preparing gauge\n\
         lambdabox_spare_environments_preparing {}\n",
        c.filling
    ));
    out
}

/// Tears spares down on a blocking thread; resolves once they are gone (processes, cgroup,
/// veth, uid, then their room in the budget).
pub async fn discard(spares: Vec<Held>) {
    if spares.is_empty() {
        return;
    }
    let _ = tokio::task::spawn_blocking(move || drop(spares)).await;
}

/// Tears down one spare, if any (see [`discard`]).
pub async fn discard_one(spare: Option<Spare>) {
    if let Some(spare) = spare {
        let _ = tokio::task::spawn_blocking(move || drop(spare)).await;
    }
}

/// The shape of an on-demand environment of `fv` (as `launch::plan` builds its spec), when
/// its network can be prepared ahead.
fn shape_of(inner: &Inner, fv: &FunctionVersion) -> Option<Shape> {
    let vpc = &fv.config.vpc;
    let network =
        super::launch::network_policy(&inner.ctx.config, &vpc.subnet_ids, &vpc.security_group_ids)
            .ok()?;
    Shape::new(
        u64::from(fv.config.memory_size),
        super::launch::PIDS_MAX,
        true,
        &network,
    )
}

/// A cold start of `fv`: takes a ready spare of its shape (if any) and refills.
pub(super) async fn claim_for(inner: &Arc<Inner>, fv: &FunctionVersion) -> Option<Held> {
    if !inner.spares.enabled() {
        return None;
    }
    let shape = shape_of(inner, fv)?;
    let mut dead = Vec::new();
    let got = inner.spares.claim(shape, &mut dead);
    discard(dead).await;
    refill(inner, shape);
    got
}

/// Starts making the spares `shape` lacks, in the background.
pub(super) fn refill(inner: &Arc<Inner>, shape: Shape) {
    let n = inner.spares.start_fill(shape);
    for _ in 0..n {
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            let made = make_one(&inner, shape).await;
            let unwanted = inner.spares.offer(shape, made);
            discard(unwanted.into_iter().collect()).await;
            inner.spares.end_fill(shape);
        });
    }
}

/// Reserves room (without evicting, queueing or taking the last quarter of the memory
/// budget) and prepares one spare.
async fn make_one(inner: &Arc<Inner>, shape: Shape) -> Option<Held> {
    if inner
        .shutting_down
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return None;
    }
    let cap = &inner.capacity;
    let limits = cap.limits();
    let now = cap.snapshot();
    let headroom = limits.memory_budget_mb / 4;
    if now.env_mb + shape.memory_mb + headroom > limits.memory_budget_mb
        || now.envs + 1 >= limits.environments
    {
        return None;
    }
    let lease = cap.try_reserve_env(shape.memory_mb, None).ok()?;
    let sandbox = inner.sandbox().ok()?;
    let id = super::invoke::new_env_id();
    let prepared = tokio::task::spawn_blocking(move || {
        let r = sandbox.prepare(&id, shape);
        (r, id)
    })
    .await;
    match prepared {
        Ok((Ok(spare), _)) => Some(Held { spare, lease }),
        Ok((Err(e), id)) => {
            tracing::warn!(env = %id, shape = %shape.label(), error = %e, "cannot prepare a spare environment");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "spare environment task failed");
            None
        }
    }
}
