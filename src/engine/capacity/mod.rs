//! Admission control: the account's concurrency pool, reserved and provisioned shares, and the
//! host budget of live environments (sum of `MemorySize`, and sandbox uids).
//!
//! Concurrency: a function with reserved concurrency `r` runs at most `r` invocations and no
//! other function can use them; a function without one first uses its provisioned share
//! (`Share::dedicated`), then the unreserved pool (account limit minus every dedicated share).
//! An invocation holds a [`Permit`] for its whole run; dropping it releases the unit.
//!
//! Two admission modes ([`Admission`]): `Throttle` answers at once (429 with a reason) when no
//! unit is free; `Wait` queues for one. Waiters are served first-in first-out per pool, and a
//! released unit is handed straight to the oldest waiter: a synchronous caller never takes a
//! unit while someone waits for that pool, so queued async and poller work is never starved
//! by synchronous traffic, and one function's waiters never take another's reserved units.
//!
//! Environments: an [`EnvLease`] (MemorySize MB and one uid) is held by every environment
//! from launch until its processes are gone; the lease is dropped by the environment's waiter
//! thread. The same FIFO rule applies to environment waiters (`engine::admission` evicts idle
//! environments and queues). A killed environment's lease is marked dying ([`Dying`]) until
//! its processes (and cgroup, network) are gone, so admission can tell memory that is about to
//! be free from memory in use and wait for it rather than throttle.
//!
//! Rule: the state lock is never held across an `.await`, and nothing that can take the lock
//! again (a `Permit` or `EnvLease` drop) is dropped while it is held.

mod lease;
pub mod limits;
pub mod metrics;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{oneshot, Notify};

pub use lease::{Dying, EnvLease};
pub use limits::Limits;

use crate::domain::concurrency::Share;
use crate::domain::Error;

/// What an invocation does when no capacity is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Admission {
    /// Answer at once with `TooManyRequestsException` (synchronous callers).
    #[default]
    Throttle,
    /// Wait, in first-in first-out order, for a unit and for room to start an environment
    /// (async events, queue pollers). Returns an error at once only when the call can never
    /// be admitted as configured: reserved concurrency 0, or a MemorySize above the whole
    /// memory budget. Dropping the future leaves the queue.
    Wait,
}

/// Why an invocation was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleReason {
    /// The function's reserved concurrency is in use (or 0).
    Reserved,
    /// The unreserved pool of the account is in use.
    Account,
    /// Starting an environment would exceed the host memory budget.
    Memory,
    /// Every sandbox uid is held by a live environment.
    Uids,
}

impl ThrottleReason {
    pub const ALL: [ThrottleReason; 4] = [
        ThrottleReason::Reserved,
        ThrottleReason::Account,
        ThrottleReason::Memory,
        ThrottleReason::Uids,
    ];

    /// The `Reason` member of AWS's `TooManyRequestsException`.
    pub fn wire(self) -> &'static str {
        match self {
            ThrottleReason::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            _ => "ConcurrentInvocationLimitExceeded",
        }
    }

    /// The reason as the Throttles metric records it (finer than the wire reason).
    pub fn metric(self) -> &'static str {
        match self {
            ThrottleReason::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            ThrottleReason::Account => "ConcurrentInvocationLimitExceeded",
            ThrottleReason::Memory => "HostMemoryBudgetExceeded",
            ThrottleReason::Uids => "SandboxUidsExhausted",
        }
    }

    fn index(self) -> usize {
        match self {
            ThrottleReason::Reserved => 0,
            ThrottleReason::Account => 1,
            ThrottleReason::Memory => 2,
            ThrottleReason::Uids => 3,
        }
    }

    /// The error the caller gets.
    pub fn error(self) -> Error {
        let message = match self {
            ThrottleReason::Reserved | ThrottleReason::Account => "Rate Exceeded.".to_string(),
            ThrottleReason::Memory => {
                "Rate Exceeded. (the host's memory budget for execution environments is in use)"
                    .to_string()
            }
            ThrottleReason::Uids => {
                "Rate Exceeded. (every sandbox uid is held by a live execution environment)"
                    .to_string()
            }
        };
        Error::TooManyRequests {
            reason: self.wire().into(),
            message,
        }
    }
}

/// Which kind of unit a permit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// From the function's own share (reserved or provisioned).
    Dedicated,
    /// From the unreserved pool.
    Pool,
}

struct Waiter {
    id: u64,
    tx: oneshot::Sender<Unit>,
}

struct PoolWaiter {
    id: u64,
    function: String,
    tx: oneshot::Sender<Unit>,
}

#[derive(Default)]
struct FnState {
    share: Share,
    dedicated_used: u32,
    pool_used: u32,
    /// Waiters of a function with reserved concurrency.
    waiters: VecDeque<Waiter>,
}

impl FnState {
    fn in_flight(&self) -> u32 {
        self.dedicated_used + self.pool_used
    }
}

struct State {
    unreserved_cap: u32,
    unreserved_used: u32,
    in_flight: u32,
    functions: HashMap<String, FnState>,
    /// Waiters of functions without reserved concurrency, oldest first.
    pool_waiters: VecDeque<PoolWaiter>,
    next_id: u64,
    env_mb: u64,
    envs: u32,
    /// Of `env_mb`/`envs`: held by environments already killed, not yet gone.
    dying_mb: u64,
    dying_envs: u32,
    env_queue: VecDeque<(u64, Arc<Notify>)>,
}

/// Counts at one moment, for the dashboard and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub in_flight: u32,
    pub unreserved_cap: u32,
    pub unreserved_used: u32,
    pub waiting: u32,
    pub env_mb: u64,
    pub envs: u32,
}

/// The admission state of the engine.
pub struct Capacity {
    state: Mutex<State>,
    env_waiting: AtomicUsize,
    /// Notified whenever an environment's lease is released.
    released: Notify,
    limits: Limits,
    pub metrics: metrics::Recorder,
}

/// One admitted invocation's unit of concurrency.
pub struct Permit {
    cap: Arc<Capacity>,
    function: String,
    unit: Unit,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.cap.release(&self.function, self.unit);
    }
}

/// What a refused environment reservation lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    /// MB beyond the budget.
    pub mb: u64,
    /// Environments beyond the uid range.
    pub envs: u32,
    /// Others wait ahead of this caller: it must not evict or take anything.
    pub behind: bool,
    /// What is lacking is held by killed environments that are about to be gone.
    pub dying: bool,
}

impl Short {
    pub fn reason(&self) -> ThrottleReason {
        if self.mb == 0 && self.envs > 0 {
            ThrottleReason::Uids
        } else {
            ThrottleReason::Memory
        }
    }
}

/// A place in the environment queue; leaves it on drop.
pub struct EnvTicket {
    cap: Arc<Capacity>,
    pub id: u64,
    notify: Arc<Notify>,
}

impl EnvTicket {
    /// Waits until something changed that may let this ticket through.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }
}

impl Drop for EnvTicket {
    fn drop(&mut self) {
        let mut st = self.cap.lock();
        let before = st.env_queue.len();
        st.env_queue.retain(|(id, _)| *id != self.id);
        if st.env_queue.len() != before {
            self.cap.env_waiting.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some((_, n)) = st.env_queue.front() {
            n.notify_one();
        }
    }
}

/// A queued admission; leaves the queue (or gives back a unit handed to it) on drop.
struct Waiting<'a> {
    cap: &'a Capacity,
    id: u64,
    function: &'a str,
    rx: Option<oneshot::Receiver<Unit>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else { return };
        let mut st = self.cap.lock();
        if !st.remove_waiter(self.id, self.function) {
            // Not queued any more: a unit was handed over (under this lock) and never taken.
            if let Ok(unit) = rx.try_recv() {
                st.release(self.function, unit);
            }
        }
    }
}

impl Capacity {
    pub fn new(limits: Limits) -> Capacity {
        Capacity {
            state: Mutex::new(State {
                unreserved_cap: limits.account,
                unreserved_used: 0,
                in_flight: 0,
                functions: HashMap::new(),
                pool_waiters: VecDeque::new(),
                next_id: 0,
                env_mb: 0,
                envs: 0,
                dying_mb: 0,
                dying_envs: 0,
                env_queue: VecDeque::new(),
            }),
            env_waiting: AtomicUsize::new(0),
            released: Notify::new(),
            limits,
            metrics: metrics::Recorder::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a function's reservation and provisioned total.
    pub fn set_share(&self, function: &str, share: Share) {
        let mut st = self.lock();
        let was_reserved = st
            .functions
            .get(function)
            .is_some_and(|f| f.share.reserved.is_some());
        st.functions.entry(function.to_string()).or_default().share = share;
        match (was_reserved, share.reserved.is_some()) {
            (false, true) => {
                let (mine, rest): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut st.pool_waiters)
                    .into_iter()
                    .partition(|w| w.function == function);
                st.pool_waiters = rest;
                if let Some(f) = st.functions.get_mut(function) {
                    f.waiters
                        .extend(mine.into_iter().map(|w| Waiter { id: w.id, tx: w.tx }));
                }
            }
            (true, false) => {
                let moved: Vec<Waiter> = st
                    .functions
                    .get_mut(function)
                    .map(|f| f.waiters.drain(..).collect())
                    .unwrap_or_default();
                st.pool_waiters
                    .extend(moved.into_iter().map(|w| PoolWaiter {
                        id: w.id,
                        function: function.to_string(),
                        tx: w.tx,
                    }));
            }
            _ => {}
        }
        let dedicated: u64 = st
            .functions
            .values()
            .map(|f| u64::from(f.share.dedicated()))
            .sum();
        st.unreserved_cap =
            u32::try_from(u64::from(self.limits.account).saturating_sub(dedicated)).unwrap_or(0);
        st.serve_reserved(function);
        st.pump();
    }

    /// Admits one invocation of `function`.
    pub async fn admit(
        self: &Arc<Self>,
        function: &str,
        mode: Admission,
    ) -> Result<Permit, ThrottleReason> {
        let (id, rx) = {
            let mut st = self.lock();
            match st.try_admit(function) {
                Ok(unit) => {
                    let counts = st.counts(function);
                    drop(st);
                    return Ok(self.admitted(function, unit, counts));
                }
                Err(reason) => {
                    let never = reason == ThrottleReason::Reserved
                        && st
                            .functions
                            .get(function)
                            .is_some_and(|f| f.share.reserved == Some(0));
                    if mode == Admission::Throttle || never {
                        drop(st);
                        self.metrics.throttle(function, reason);
                        return Err(reason);
                    }
                    st.enqueue(function)
                }
            }
        };
        let mut waiting = Waiting {
            cap: self,
            id,
            function,
            rx: Some(rx),
        };
        let got = match waiting.rx.as_mut() {
            Some(rx) => rx.await,
            None => return Err(ThrottleReason::Account),
        };
        waiting.rx = None;
        match got {
            Ok(unit) => {
                let counts = self.lock().counts(function);
                Ok(self.admitted(function, unit, counts))
            }
            // The queue was dropped (the function was deleted).
            Err(_) => Err(ThrottleReason::Account),
        }
    }

    fn admitted(self: &Arc<Self>, function: &str, unit: Unit, counts: (u32, u32, u32)) -> Permit {
        self.metrics
            .concurrency(function, counts.0, counts.1, counts.2);
        Permit {
            cap: Arc::clone(self),
            function: function.to_string(),
            unit,
        }
    }

    fn release(&self, function: &str, unit: Unit) {
        self.lock().release(function, unit);
    }

    /// Reserves room for one environment of `mb`. `ticket` is the caller's place in the
    /// environment queue, if it has one; without one it may only pass when nobody waits.
    pub fn try_reserve_env(
        self: &Arc<Self>,
        mb: u64,
        ticket: Option<&EnvTicket>,
    ) -> Result<EnvLease, Short> {
        let mut st = self.lock();
        let first = match st.env_queue.front() {
            None => true,
            Some((id, _)) => ticket.is_some_and(|t| t.id == *id),
        };
        let mb_over = (st.env_mb + mb).saturating_sub(self.limits.memory_budget_mb);
        let envs_over = (st.envs + 1).saturating_sub(self.limits.environments);
        if !first || mb_over > 0 || envs_over > 0 {
            return Err(Short {
                mb: mb_over,
                envs: envs_over,
                behind: !first,
                dying: st.dying_envs > 0 && st.dying_mb >= mb_over && st.dying_envs >= envs_over,
            });
        }
        st.env_mb += mb;
        st.envs += 1;
        if let Some(t) = ticket {
            if st.env_queue.front().is_some_and(|(id, _)| *id == t.id) {
                st.env_queue.pop_front();
                self.env_waiting.fetch_sub(1, Ordering::SeqCst);
            }
            if let Some((_, n)) = st.env_queue.front() {
                n.notify_one();
            }
        }
        Ok(EnvLease::new(Arc::clone(self), mb))
    }

    /// Takes a place at the end of the environment queue.
    pub fn enqueue_env(self: &Arc<Self>) -> EnvTicket {
        let mut st = self.lock();
        st.next_id += 1;
        let id = st.next_id;
        let notify = Arc::new(Notify::new());
        st.env_queue.push_back((id, Arc::clone(&notify)));
        self.env_waiting.fetch_add(1, Ordering::SeqCst);
        if st.env_queue.len() == 1 {
            notify.notify_one();
        }
        EnvTicket {
            cap: Arc::clone(self),
            id,
            notify,
        }
    }

    /// An environment became idle (and so evictable): wakes the first environment waiter.
    pub fn env_idle(&self) {
        if self.env_waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        if let Some((_, n)) = self.lock().env_queue.front() {
            n.notify_one();
        }
    }

    /// Current counts.
    pub fn snapshot(&self) -> Snapshot {
        let st = self.lock();
        Snapshot {
            in_flight: st.in_flight,
            unreserved_cap: st.unreserved_cap,
            unreserved_used: st.unreserved_used,
            waiting: u32::try_from(
                st.pool_waiters.len()
                    + st.functions
                        .values()
                        .map(|f| f.waiters.len())
                        .sum::<usize>(),
            )
            .unwrap_or(u32::MAX),
            env_mb: st.env_mb,
            envs: st.envs,
        }
    }

    /// Whether an invocation of `function` would be admitted now without waiting (queue
    /// pollers check it before they receive, so that a throttled function's messages stay
    /// in the queue instead of waiting in flight).
    pub fn would_admit(&self, function: &str) -> bool {
        let st = self.lock();
        let pool_free = st.unreserved_used < st.unreserved_cap && st.pool_waiters.is_empty();
        match st.functions.get(function) {
            None => pool_free,
            Some(f) => match f.share.reserved {
                Some(r) => f.dedicated_used < r && f.waiters.is_empty(),
                None => f.dedicated_used < f.share.provisioned || pool_free,
            },
        }
    }

    /// Invocations of `function` running now.
    pub fn in_flight(&self, function: &str) -> u32 {
        self.lock()
            .functions
            .get(function)
            .map_or(0, FnState::in_flight)
    }
}

impl State {
    fn try_admit(&mut self, function: &str) -> Result<Unit, ThrottleReason> {
        if !self.functions.contains_key(function) {
            self.functions
                .insert(function.to_string(), FnState::default());
        }
        let pool_free = self.unreserved_used < self.unreserved_cap && self.pool_waiters.is_empty();
        let Some(f) = self.functions.get_mut(function) else {
            return Err(ThrottleReason::Account);
        };
        let unit = match f.share.reserved {
            Some(r) if f.dedicated_used < r && f.waiters.is_empty() => Unit::Dedicated,
            Some(_) => return Err(ThrottleReason::Reserved),
            None if f.dedicated_used < f.share.provisioned => Unit::Dedicated,
            None if pool_free => Unit::Pool,
            None => return Err(ThrottleReason::Account),
        };
        match unit {
            Unit::Dedicated => f.dedicated_used += 1,
            Unit::Pool => {
                f.pool_used += 1;
                self.unreserved_used += 1;
            }
        }
        self.in_flight += 1;
        Ok(unit)
    }

    /// (function in flight, account in flight, unreserved in use)
    fn counts(&self, function: &str) -> (u32, u32, u32) {
        let f = self.functions.get(function).map_or(0, FnState::in_flight);
        (f, self.in_flight, self.unreserved_used)
    }

    fn enqueue(&mut self, function: &str) -> (u64, oneshot::Receiver<Unit>) {
        self.next_id += 1;
        let id = self.next_id;
        let (tx, rx) = oneshot::channel();
        match self.functions.get_mut(function) {
            Some(f) if f.share.reserved.is_some() => f.waiters.push_back(Waiter { id, tx }),
            _ => self.pool_waiters.push_back(PoolWaiter {
                id,
                function: function.to_string(),
                tx,
            }),
        }
        (id, rx)
    }

    /// Removes a waiter; false when it was no longer queued.
    fn remove_waiter(&mut self, id: u64, function: &str) -> bool {
        if let Some(pos) = self.pool_waiters.iter().position(|w| w.id == id) {
            self.pool_waiters.remove(pos);
            return true;
        }
        if let Some(f) = self.functions.get_mut(function) {
            if let Some(pos) = f.waiters.iter().position(|w| w.id == id) {
                f.waiters.remove(pos);
                return true;
            }
        }
        false
    }

    fn release(&mut self, function: &str, unit: Unit) {
        let State {
            functions,
            pool_waiters,
            ..
        } = self;
        let Some(f) = functions.get_mut(function) else {
            return;
        };
        match unit {
            Unit::Dedicated => {
                let within = f.dedicated_used <= f.share.dedicated();
                if within {
                    // Hand the unit to the oldest waiter of this function.
                    if f.share.reserved.is_some() {
                        while let Some(w) = f.waiters.pop_front() {
                            if w.tx.send(Unit::Dedicated).is_ok() {
                                return;
                            }
                        }
                    } else {
                        while let Some(pos) =
                            pool_waiters.iter().position(|w| w.function == function)
                        {
                            if let Some(w) = pool_waiters.remove(pos) {
                                if w.tx.send(Unit::Dedicated).is_ok() {
                                    return;
                                }
                            }
                        }
                    }
                }
                f.dedicated_used = f.dedicated_used.saturating_sub(1);
            }
            Unit::Pool => {
                f.pool_used = f.pool_used.saturating_sub(1);
                self.unreserved_used = self.unreserved_used.saturating_sub(1);
            }
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.pump();
    }

    /// Serves the waiters of a reserved function while it has free units.
    fn serve_reserved(&mut self, function: &str) {
        let Some(f) = self.functions.get_mut(function) else {
            return;
        };
        let Some(r) = f.share.reserved else { return };
        while f.dedicated_used < r {
            let Some(w) = f.waiters.pop_front() else {
                break;
            };
            if w.tx.send(Unit::Dedicated).is_ok() {
                f.dedicated_used += 1;
                self.in_flight += 1;
            }
        }
    }

    /// Serves pool waiters: anyone whose function has a free provisioned share, then the
    /// oldest ones while the unreserved pool has room.
    fn pump(&mut self) {
        if self.pool_waiters.is_empty() {
            return;
        }
        let mut i = 0;
        while i < self.pool_waiters.len() {
            let free_dedicated = self
                .functions
                .get(&self.pool_waiters[i].function)
                .is_some_and(|f| {
                    f.share.reserved.is_none() && f.dedicated_used < f.share.provisioned
                });
            let head_pool = i == 0 && self.unreserved_used < self.unreserved_cap;
            if !free_dedicated && !head_pool {
                i += 1;
                continue;
            }
            let Some(w) = self.pool_waiters.remove(i) else {
                break;
            };
            let unit = if free_dedicated {
                Unit::Dedicated
            } else {
                Unit::Pool
            };
            if w.tx.send(unit).is_err() {
                continue;
            }
            let f = self.functions.entry(w.function).or_default();
            match unit {
                Unit::Dedicated => f.dedicated_used += 1,
                Unit::Pool => {
                    f.pool_used += 1;
                    self.unreserved_used += 1;
                }
            }
            self.in_flight += 1;
            // Restart: the head may have changed.
            i = 0;
        }
    }
}

#[cfg(test)]
mod tests;
