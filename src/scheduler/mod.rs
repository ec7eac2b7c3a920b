//! Clock-driven work: fires EventBridge rules with a schedule expression and EventBridge
//! Scheduler schedules at their occurrences.
//!
//! One task on the engine's runtime keeps the table ([`timers`]) of every enabled rule and
//! schedule, sleeps until the earliest is due (or a service names a change,
//! `services::events::changes`), and hands the due firings to tasks: the rules due at one
//! instant are read together (rows, targets and their functions' policies in two store
//! calls for the whole burst, [`fire_rules`]) and each sends its "Scheduled Event" through
//! `services::events::fanout` in a task of its own; each schedule sends its target's input. The firing's occurrence is recorded (batched) so a
//! restart knows what was fired; missed occurrences after downtime fire at most once
//! (`scheduler.catch_up`). A disabled or deleted rule or schedule leaves the table before
//! its change is acknowledged to the client, so it never fires afterwards.
//!
//! Ordering rule: the table changes only inside the loop task; everything else talks to it
//! through `Changes`. Must not touch SQL (it calls the store through the services' store
//! modules) or the sandbox.

pub mod delivery;
pub mod stats;
pub mod timers;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::domain::event_invoke::{DestinationArn, DestinationUse};
use crate::domain::schedule::{self, Dialect, Expression, Plan};
use crate::services::events::changes::Changed;
use crate::services::events::clock::Clock;
use crate::services::events::deliver::{Deliver, Delivery};
use crate::services::events::fanout::{DeadLetter, Fanout};
use crate::services::events::record::{Rec, Recorder};
use crate::services::events::{rule_arn, DEFAULT_BUS};
use crate::services::schedules::{self as svc_schedules, Spec};
use crate::services::Context;
use crate::store::rules::{self as rstore, Record as RuleRecord};
use crate::store::schedules::{self as sstore, Record as SchedRecord};
use timers::Timers;

struct Inner {
    ctx: Context,
    fanout: Arc<Fanout>,
    clock: Arc<Clock>,
    lateness: stats::Lateness,
    catch_up_once: bool,
}

/// Handle of the scheduler; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl Scheduler {
    /// Starts the clock loop and the outcome recorder on `rt`.
    pub fn start(
        ctx: Context,
        deliver: Arc<dyn Deliver>,
        rt: &tokio::runtime::Handle,
    ) -> Scheduler {
        let recorder = Recorder::start(ctx.store.clone(), rt);
        let fanout = Fanout::new(ctx.clone(), deliver, recorder);
        let inner = Arc::new(Inner {
            clock: Arc::clone(&ctx.schedule_clock),
            catch_up_once: ctx.config.scheduler.catch_up != "none",
            ctx,
            fanout,
            lateness: stats::Lateness::default(),
        });
        rt.spawn(run(Arc::clone(&inner)));
        Scheduler { inner }
    }

    /// What sends events to targets (PutEvents uses it too).
    pub fn fanout(&self) -> &Arc<Fanout> {
        &self.inner.fanout
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Moves the test clock and reloads every entry (missed occurrences as after downtime).
    pub fn set_clock(&self, now_ms: i64) -> Result<(), String> {
        self.inner.clock.set(now_ms)?;
        self.inner.ctx.schedule_changes.push(Changed::All);
        Ok(())
    }

    /// Lateness of the last firings.
    pub fn lateness(&self) -> stats::Summary {
        self.inner.lateness.summary()
    }

    /// Waits until every outcome recorded so far is committed.
    pub async fn flush(&self) {
        self.inner.fanout.recorder.flush().await
    }
}

/// A rule's plan (UTC, one period after its anchor), if it is scheduled and enabled.
pub fn rule_plan(r: &rstore::RuleRow) -> Option<Plan> {
    if r.state != "ENABLED" {
        return None;
    }
    let expr = Expression::parse(r.schedule.as_deref()?, Dialect::Rule).ok()?;
    Some(Plan {
        expr,
        tz: jiff::tz::TimeZone::UTC,
        anchor_ms: r.anchor_ms,
        first_at_anchor: false,
        start_ms: None,
        end_ms: None,
    })
}

/// A schedule's plan, if it is enabled and not complete.
pub fn schedule_plan(row: &sstore::ScheduleRow, spec: &Spec) -> Option<Plan> {
    if row.state != "ENABLED" || row.completed {
        return None;
    }
    let (expr, tz) = spec.parsed().ok()?;
    Some(Plan {
        expr,
        tz,
        anchor_ms: row.anchor_ms,
        first_at_anchor: true,
        start_ms: spec.start_ms,
        end_ms: spec.end_ms,
    })
}

async fn run(inner: Arc<Inner>) {
    let mut timers = Timers::default();
    let changes = Arc::clone(&inner.ctx.schedule_changes);
    reload_all(&inner, &mut timers).await;
    loop {
        let now = inner.clock.now_ms();
        let mut rules = Vec::new();
        for e in timers.take_due(now) {
            if !e.catch_up {
                inner.lateness.push(now - e.due);
            }
            match e.key {
                Changed::Rule(id) => rules.push((id, e.occurrence)),
                Changed::Schedule(id) => {
                    let i = Arc::clone(&inner);
                    tokio::spawn(async move { fire_schedule(&i, id, e.occurrence).await });
                }
                Changed::All => {}
            }
        }
        if !rules.is_empty() {
            let i = Arc::clone(&inner);
            tokio::spawn(async move { fire_rules(i, rules).await });
        }
        let wait = timers
            .next_due()
            .map(|d| Duration::from_millis((d - inner.clock.now_ms()).clamp(0, 60_000) as u64))
            .unwrap_or(Duration::from_secs(60));
        let notified = changes.notified();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = notified => {}
        }
        let pending = changes.take();
        if pending.contains(&Changed::All) {
            reload_all(&inner, &mut timers).await;
        } else {
            for c in pending {
                reload(&inner, &mut timers, c).await;
            }
        }
    }
}

async fn reload_all(inner: &Inner, timers: &mut Timers) {
    let loaded = inner
        .ctx
        .store
        .call(|c| Ok((rstore::scheduled_rules(c)?, sstore::all(c)?)))
        .await;
    let (rules, schedules) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "the scheduler cannot read rules and schedules");
            return;
        }
    };
    let fired = std::mem::take(&mut timers.fired);
    *timers = Timers::default();
    timers.fired = fired;
    let now = inner.clock.now_ms();
    for (r, _) in rules {
        if let Some(p) = rule_plan(&r) {
            timers.load(
                Changed::Rule(r.id),
                p,
                r.last_fire_ms,
                0,
                now,
                inner.catch_up_once,
            );
        }
    }
    for s in schedules {
        load_schedule(inner, timers, &s, now);
    }
    tracing::debug!(entries = timers.len(), "scheduler loaded");
}

fn load_schedule(inner: &Inner, timers: &mut Timers, s: &sstore::ScheduleRow, now: i64) {
    let Ok(spec) = svc_schedules::decode(s) else {
        return;
    };
    if let Some(p) = schedule_plan(s, &spec) {
        timers.load(
            Changed::Schedule(s.id),
            p,
            s.last_fire_ms,
            spec.window_ms(),
            now,
            inner.catch_up_once,
        );
    }
}

async fn reload(inner: &Inner, timers: &mut Timers, c: Changed) {
    timers.remove(c);
    let now = inner.clock.now_ms();
    match c {
        Changed::Rule(id) => {
            if let Ok(Some(r)) = inner
                .ctx
                .store
                .call(move |c| rstore::rule_by_id(c, id))
                .await
            {
                if let Some(p) = rule_plan(&r) {
                    timers.load(c, p, r.last_fire_ms, 0, now, inner.catch_up_once);
                }
            }
        }
        Changed::Schedule(id) => {
            if let Ok(Some(s)) = inner.ctx.store.call(move |c| sstore::by_id(c, id)).await {
                load_schedule(inner, timers, &s, now);
            }
        }
        Changed::All => {}
    }
}

/// `2025-01-15T10:20:00Z`: seconds precision, as EventBridge writes `time`.
fn iso(ms: i64) -> String {
    schedule::from_ms(ms)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Fires the rules due at one instant (`due`: rule id, occurrence). A hundred rules due in
/// the same second would otherwise queue two hundred store reads in front of their events'
/// enqueues (p50 lateness 25 ms on 2 cores); here the rows and targets are read in one store
/// call and the targeted functions' policies in a second, then each rule sends in a task
/// of its own so the enqueues share group commits.
async fn fire_rules(inner: Arc<Inner>, due: Vec<(i64, i64)>) {
    let ids: Vec<i64> = due.iter().map(|(id, _)| *id).collect();
    let found = inner
        .ctx
        .store
        .call(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(r) = rstore::rule_by_id(c, id)? {
                    let t = rstore::targets(c, r.id)?;
                    out.push((r, t));
                }
            }
            Ok(out)
        })
        .await;
    let rules = match found {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, rules = due.len(), "the scheduler cannot read the rules due now; they do not fire");
            return;
        }
    };
    let occurrences: std::collections::HashMap<i64, i64> = due.into_iter().collect();
    let mut keys: Vec<(String, String)> = rules
        .iter()
        .filter(|(r, _)| r.state == "ENABLED")
        .flat_map(|(_, t)| inner.fanout.target_functions(t))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    // A failed read leaves `known` empty: each target then reads its policy itself.
    let known = Arc::new(
        crate::services::policy::read_known(&inner.ctx, keys)
            .await
            .unwrap_or_default(),
    );
    for (rule, targets) in rules {
        let Some(&occurrence) = occurrences.get(&rule.id) else {
            continue;
        };
        if rule.state != "ENABLED" {
            continue;
        }
        let i = Arc::clone(&inner);
        let known = Arc::clone(&known);
        tokio::spawn(async move { fire_rule(&i, rule, targets, occurrence, &known).await });
    }
}

async fn fire_rule(
    inner: &Arc<Inner>,
    rule: rstore::RuleRow,
    targets: Vec<rstore::TargetRow>,
    occurrence: i64,
    known: &crate::services::policy::Known,
) {
    inner.fanout.recorder.push(Rec::Rule(RuleRecord::Fired {
        rule_id: rule.id,
        at_ms: occurrence,
    }));
    let me = &inner.ctx.identity;
    let event = json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": me.account_id,
        "time": iso(occurrence),
        "region": me.region,
        "resources": [rule_arn(me, &rule.bus, &rule.name)],
        "detail": {},
    });
    debug_assert_eq!(rule.bus, DEFAULT_BUS);
    inner
        .fanout
        .rule_event(&rule, &targets, &event, Some(known))
        .await;
}

async fn fire_schedule(inner: &Arc<Inner>, id: i64, occurrence: i64) {
    let Ok(Some(row)) = inner.ctx.store.call(move |c| sstore::by_id(c, id)).await else {
        return;
    };
    let Ok(spec) = svc_schedules::decode(&row) else {
        return;
    };
    let Some(plan) = schedule_plan(&row, &spec) else {
        return;
    };
    let one_time = plan.expr.is_one_time();
    let last = one_time || plan.after(occurrence).is_none();
    inner
        .fanout
        .recorder
        .push(Rec::Schedule(SchedRecord::Fired {
            id,
            at_ms: occurrence,
            one_time: last,
        }));
    let arn = svc_schedules::schedule_arn(&inner.ctx, &row.group, &row.name);
    let rec = move |error: Option<String>| {
        Rec::Schedule(SchedRecord::Delivered {
            id,
            at_ms: crate::domain::function::now_ms(),
            error,
        })
    };
    let execution = uuid::Uuid::new_v4().to_string();
    let payload: bytes::Bytes =
        svc_schedules::payload(&spec, &arn, schedule::from_ms(occurrence), &execution, 1).into();
    let dead_letter = spec.dead_letter_arn().and_then(|raw| {
        DestinationArn::parse(raw, &inner.ctx.identity, DestinationUse::DeadLetter)
            .ok()
            .map(|queue| DeadLetter {
                queue,
                event: payload.clone(),
                origin: vec![
                    ("SCHEDULE_ARN", arn.clone()),
                    ("EXECUTION_ID", execution.clone()),
                ],
                target_arn: spec.target["Arn"].as_str().unwrap_or_default().to_string(),
            })
    });
    match spec.function(&inner.ctx.identity) {
        Ok(function) => {
            let d = Delivery {
                function,
                payload,
                source: "aws:scheduler",
                source_arn: arn.clone(),
            };
            inner
                .fanout
                .send(
                    d,
                    spec.retry_policy(),
                    row.name.clone(),
                    Box::new(rec),
                    dead_letter,
                )
                .await;
        }
        Err(e) => {
            let m = e.to_string();
            inner
                .fanout
                .dead_letter(dead_letter, "INVALID_PARAMETER", &m, 0, None);
            inner.fanout.recorder.push(rec(Some(m)));
        }
    }
    if last && spec.after_completion == "DELETE" {
        inner
            .fanout
            .recorder
            .push(Rec::Schedule(SchedRecord::Delete { id }));
    }
}
