//! The dispatcher: one task that decides which queued event runs next.
//!
//! Events are grouped in lanes (function, qualifier). A lane keeps in memory only the events
//! about to run (fresh ones straight from the writer, with their payload, or a page read from
//! the database) and remembers whether more are due on disk and when the next delayed one is
//! due; the database is the queue, memory is a window onto it, bounded by
//! [`LANE_WINDOW`] events per lane and [`MEMORY_BUDGET`] payload bytes overall. Free slots
//! (`async_invoke.max_concurrency`) go to lanes in turn; a lane never holds more slots than
//! its function's reserved concurrency (at least one, so that a function reserved at 0 still
//! sees its events refused and handed to its destinations), so a function at its limit, whose
//! attempts wait for capacity (`Admission::Wait`), cannot take the slots of the others.
//!
//! Rule: an event is in `loaded` from the moment it is taken into memory until its attempt's
//! database update (reschedule or delete) is committed; a page read skips loaded events, so
//! no event runs twice at once. A lane with loaded events is never forgotten.
//!
//! An attempt holds its slot (a [`Slot`]) only while the function runs: it gives it back
//! when the engine answers, before the destinations and the queue update, so the next event
//! does not wait for a commit. Its event stays loaded until [`Msg::Done`]; shutdown waits for
//! every Done.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::Shared;
use crate::domain::function::now_ms;
use crate::store::async_events::{self, QueuedEvent};

/// Events one lane holds in memory at most.
pub const LANE_WINDOW: usize = 64;
/// Payload bytes held in memory (not yet running) across all lanes at most.
pub const MEMORY_BUDGET: usize = 64 * 1024 * 1024;

type LaneKey = (String, String);

/// What the dispatcher is told.
pub enum Msg {
    /// Events just committed by the writer.
    Fresh(Vec<QueuedEvent>),
    /// An attempt's function has run (or the attempt ended without running it): its slot is
    /// free. Sent once per attempt, always before its `Done`.
    Released { lane: LaneKey },
    /// An attempt is over and its database update committed; `next_due` when the event
    /// stays queued.
    Done {
        lane: LaneKey,
        id: i64,
        next_due: Option<i64>,
    },
    /// Stop starting attempts; answer once none runs.
    Shutdown(oneshot::Sender<()>),
}

#[derive(Default)]
struct Lane {
    ready: VecDeque<QueuedEvent>,
    loaded: HashSet<i64>,
    running: usize,
    /// Due events may be on disk that are not in `ready`.
    on_disk: bool,
    /// Earliest due time of a delayed event on disk.
    next_disk_due: Option<i64>,
    in_turn: bool,
}

impl Lane {
    fn has_work(&self) -> bool {
        !self.ready.is_empty() || self.on_disk
    }

    fn idle(&self) -> bool {
        self.ready.is_empty()
            && self.running == 0
            && self.loaded.is_empty()
            && !self.on_disk
            && self.next_disk_due.is_none()
    }
}

/// An attempt's claim on a dispatcher slot, given back exactly once: by [`Slot::release`]
/// when the function has run, or when the attempt ends (also by a panic's unwinding).
pub struct Slot {
    lane: Option<LaneKey>,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Slot {
    /// Frees the slot; later calls do nothing.
    pub fn release(&mut self) {
        if let Some(lane) = self.lane.take() {
            let _ = self.tx.send(Msg::Released { lane });
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

struct Dispatcher {
    shared: Arc<Shared>,
    lanes: HashMap<LaneKey, Lane>,
    turns: VecDeque<LaneKey>,
    timers: BinaryHeap<Reverse<(i64, LaneKey)>>,
    /// Slots held (attempts whose function has not finished).
    running: usize,
    /// Attempts started whose `Done` has not arrived.
    inflight: usize,
    max: usize,
    memory: usize,
    shutdown: Option<oneshot::Sender<()>>,
    stopping: bool,
}

/// Runs the dispatcher until shutdown.
pub async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let max = shared.ctx.config.async_invoke.max_concurrency as usize;
    let mut d = Dispatcher {
        shared,
        lanes: HashMap::new(),
        turns: VecDeque::new(),
        timers: BinaryHeap::new(),
        running: 0,
        inflight: 0,
        max,
        memory: 0,
        shutdown: None,
        stopping: false,
    };
    d.recover().await;
    loop {
        let wait = d.timers.peek().map(|Reverse((due, _))| {
            Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0))
        });
        let msg = match wait {
            Some(w) => tokio::select! {
                m = rx.recv() => m.map(Some),
                _ = tokio::time::sleep(w) => Some(None),
            },
            None => rx.recv().await.map(Some),
        };
        let Some(first) = msg else { return };
        if let Some(m) = first {
            d.handle(m);
        }
        while let Ok(m) = rx.try_recv() {
            d.handle(m);
        }
        d.fire_timers(now_ms());
        d.schedule().await;
        if d.stopping && d.inflight == 0 {
            if let Some(tx) = d.shutdown.take() {
                let _ = tx.send(());
            }
            return;
        }
    }
}

impl Dispatcher {
    /// After a start: every lane with queued events, due now or later.
    async fn recover(&mut self) {
        match self.shared.reads.call(|c| async_events::lanes(c)).await {
            Ok(lanes) => {
                let total: u64 = lanes.iter().map(|l| l.pending).sum();
                if total > 0 {
                    tracing::info!(
                        events = total,
                        lanes = lanes.len(),
                        "resuming queued asynchronous events"
                    );
                }
                for l in lanes {
                    let key = (l.function_name, l.qualifier);
                    self.lanes.entry(key.clone()).or_default().next_disk_due = Some(l.next_due_ms);
                    self.timers.push(Reverse((l.next_due_ms, key)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the asynchronous invocation queue; queued events wait for the next start")
            }
        }
    }

    fn turn(&mut self, key: &LaneKey) {
        if let Some(l) = self.lanes.get_mut(key) {
            if !l.in_turn && l.has_work() {
                l.in_turn = true;
                self.turns.push_back(key.clone());
            }
        }
    }

    fn handle(&mut self, m: Msg) {
        match m {
            Msg::Fresh(events) => {
                for ev in events {
                    let key = (ev.function_name.clone(), ev.qualifier.clone());
                    let fits = self.memory + ev.payload.len() <= MEMORY_BUDGET;
                    let lane = self.lanes.entry(key.clone()).or_default();
                    if lane.loaded.contains(&ev.id) {
                        continue;
                    }
                    if self.stopping || lane.on_disk || lane.ready.len() >= LANE_WINDOW || !fits {
                        lane.on_disk = true;
                    } else {
                        self.memory += ev.payload.len();
                        lane.loaded.insert(ev.id);
                        lane.ready.push_back(ev);
                    }
                    self.turn(&key);
                }
            }
            Msg::Released { lane } => {
                self.running = self.running.saturating_sub(1);
                if let Some(l) = self.lanes.get_mut(&lane) {
                    l.running = l.running.saturating_sub(1);
                }
                self.turn(&lane);
            }
            Msg::Done { lane, id, next_due } => {
                self.inflight = self.inflight.saturating_sub(1);
                if let Some(l) = self.lanes.get_mut(&lane) {
                    l.loaded.remove(&id);
                    if let Some(due) = next_due {
                        l.next_disk_due = Some(l.next_disk_due.map_or(due, |d| d.min(due)));
                        self.timers.push(Reverse((due, lane.clone())));
                    }
                    if l.idle() {
                        self.lanes.remove(&lane);
                    } else {
                        self.turn(&lane);
                    }
                }
            }
            Msg::Shutdown(tx) => {
                self.stopping = true;
                self.shutdown = Some(tx);
            }
        }
    }

    fn fire_timers(&mut self, now: i64) {
        while let Some(Reverse((due, _))) = self.timers.peek() {
            if *due > now {
                break;
            }
            let Some(Reverse((_, key))) = self.timers.pop() else {
                break;
            };
            if let Some(l) = self.lanes.get_mut(&key) {
                if l.next_disk_due.is_some_and(|d| d <= now) {
                    l.next_disk_due = None;
                    l.on_disk = true;
                }
            }
            self.turn(&key);
        }
    }

    async fn schedule(&mut self) {
        while !self.stopping && self.running < self.max {
            let Some(key) = self.turns.pop_front() else {
                return;
            };
            let Some(lane) = self.lanes.get_mut(&key) else {
                continue;
            };
            lane.in_turn = false;
            let running = lane.running;
            let cap = self
                .shared
                .settings
                .reserved(&key.0)
                .await
                .map_or(self.max, |r| (r as usize).clamp(1, self.max));
            if running >= cap {
                // Turned again when one of its attempts ends.
                continue;
            }
            let Some(lane) = self.lanes.get_mut(&key) else {
                continue;
            };
            if lane.ready.is_empty() && lane.on_disk {
                self.refill(&key).await;
            }
            let Some(lane) = self.lanes.get_mut(&key) else {
                continue;
            };
            if let Some(ev) = lane.ready.pop_front() {
                self.memory = self.memory.saturating_sub(ev.payload.len());
                lane.running += 1;
                self.running += 1;
                self.inflight += 1;
                start(&self.shared, key.clone(), ev);
            }
            if self.lanes.get(&key).is_some_and(Lane::idle) {
                self.lanes.remove(&key);
            } else {
                self.turn(&key);
            }
        }
    }

    /// Reads the next page of due events of a lane from the database.
    async fn refill(&mut self, key: &LaneKey) {
        let Some(lane) = self.lanes.get(key) else {
            return;
        };
        let room = (MEMORY_BUDGET.saturating_sub(self.memory) / (256 * 1024)).clamp(1, LANE_WINDOW);
        let limit = room + lane.loaded.len();
        let (f, q) = key.clone();
        let now = now_ms();
        let page = self
            .shared
            .reads
            .call(move |c| {
                let due = async_events::due(c, &f, &q, now, limit)?;
                let next = if due.len() < limit {
                    async_events::next_due_after(c, &f, &q, now)?
                } else {
                    None
                };
                Ok((due, next))
            })
            .await;
        let Some(lane) = self.lanes.get_mut(key) else {
            return;
        };
        match page {
            Ok((rows, next)) => {
                lane.on_disk = rows.len() >= limit;
                for ev in rows {
                    if lane.loaded.contains(&ev.id) || lane.ready.len() >= room {
                        continue;
                    }
                    self.memory += ev.payload.len();
                    lane.loaded.insert(ev.id);
                    lane.ready.push_back(ev);
                }
                if let Some(due) = next {
                    lane.next_disk_due = Some(due);
                    self.timers.push(Reverse((due, key.clone())));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, function = %key.0, "cannot read queued events; trying again in a second");
                lane.on_disk = false;
                let due = now + 1000;
                lane.next_disk_due = Some(due);
                self.timers.push(Reverse((due, key.clone())));
            }
        }
    }
}

/// Runs one attempt on the engine's runtime and reports it back, even if it panicked.
fn start(shared: &Arc<Shared>, lane: LaneKey, ev: QueuedEvent) {
    let sh = Arc::clone(shared);
    sh.running.fetch_add(1, Ordering::Relaxed);
    let id = ev.id;
    let rt = shared.rt.clone();
    let slot = Slot {
        lane: Some(lane.clone()),
        tx: sh.dispatch.clone(),
    };
    rt.spawn(async move {
        let inner = Arc::clone(&sh);
        let next_due = match tokio::spawn(async move { super::attempt::run(&inner, ev, slot).await }).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, event = id, "an asynchronous attempt failed inside lambdabox; the event stays queued");
                Some(now_ms() + sh.timing.backoff_min_ms)
            }
        };
        sh.running.fetch_sub(1, Ordering::Relaxed);
        let _ = sh.dispatch.send(Msg::Done { lane, id, next_due });
    });
}
