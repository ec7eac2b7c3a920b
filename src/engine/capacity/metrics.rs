//! The one place capacity metrics are recorded: ConcurrentExecutions (per function and for
//! the account, maximum per minute), UnreservedConcurrentExecutions (account, maximum),
//! Throttles (per function and reason, sum) and ProvisionedConcurrencyUtilization (per
//! function and qualifier, maximum); and the asynchronous queue's AsyncEventsReceived,
//! AsyncEventsDropped (per function and reason, sums) and AsyncEventAge (per function, ms:
//! sum, maximum and, in a row of dimension `min`, the minimum as the maximum of its negation,
//! since the table merges only sums and maxima). Recording is an in-memory update; the engine
//! flushes the aggregates to `store::capacity_metrics` every few seconds. The async figures
//! are also kept as totals since start for `GET /metrics` ([`Recorder::async_totals`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::ThrottleReason;
use crate::domain::function::now_ms;
use crate::engine::function_metrics::PromHistogram;
use crate::store::capacity_metrics::Point;

pub const CONCURRENT_EXECUTIONS: &str = "ConcurrentExecutions";
pub const UNRESERVED_CONCURRENT_EXECUTIONS: &str = "UnreservedConcurrentExecutions";
pub const THROTTLES: &str = "Throttles";
pub const PROVISIONED_UTILIZATION: &str = "ProvisionedConcurrencyUtilization";
pub const ASYNC_EVENTS_RECEIVED: &str = "AsyncEventsReceived";
pub const ASYNC_EVENTS_DROPPED: &str = "AsyncEventsDropped";
pub const ASYNC_EVENT_AGE: &str = "AsyncEventAge";
/// The dimension of the AsyncEventAge row that holds the minimum (negated, as a maximum).
pub const AGE_MIN_DIMENSION: &str = crate::store::capacity_metrics::MIN_DIMENSION;

/// AsyncEventAge of one minute: (sum, min, max) in ms and the sample count.
#[derive(Debug, Clone, Copy, Default)]
struct Age {
    sum: f64,
    min: f64,
    max: f64,
    samples: u64,
}

/// One function's asynchronous queue figures since the daemon started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AsyncTotal {
    pub received: u64,
    /// Events given up, by reason (`EventAgeExceeded`, `RetriesExhausted`, …).
    pub dropped: BTreeMap<String, u64>,
    /// Age of events when an attempt started.
    pub age: PromHistogram,
}

#[derive(Default)]
struct FnAgg {
    concurrent_max: u32,
    samples: u64,
    throttles: [u64; 4],
    /// qualifier -> (max, sum, samples)
    utilization: HashMap<String, (f64, f64, u64)>,
    async_received: u64,
    /// reason -> events
    async_dropped: HashMap<String, u64>,
    age: Age,
}

#[derive(Default)]
struct Minute {
    account_max: u32,
    unreserved_max: u32,
    samples: u64,
    functions: HashMap<String, FnAgg>,
}

/// Aggregates per minute until taken.
#[derive(Default)]
pub struct Recorder {
    minutes: Mutex<HashMap<i64, Minute>>,
    async_totals: Mutex<BTreeMap<String, AsyncTotal>>,
}

fn minute_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(60_000)
}

impl Recorder {
    fn with<R>(&self, function: &str, f: impl FnOnce(&mut Minute, &mut FnAgg) -> R) -> Option<R> {
        let minute = minute_of(now_ms());
        let mut minutes = self.minutes.lock().ok()?;
        let m = minutes.entry(minute).or_default();
        let mut agg = m.functions.remove(function).unwrap_or_default();
        let r = f(m, &mut agg);
        m.functions.insert(function.to_string(), agg);
        Some(r)
    }

    /// An invocation was admitted: `function` now runs `running`, the account `account`, of
    /// which `unreserved` from the unreserved pool.
    pub fn concurrency(&self, function: &str, running: u32, account: u32, unreserved: u32) {
        let minute = minute_of(now_ms());
        let Ok(mut minutes) = self.minutes.lock() else {
            return;
        };
        let m = minutes.entry(minute).or_default();
        m.account_max = m.account_max.max(account);
        m.unreserved_max = m.unreserved_max.max(unreserved);
        m.samples += 1;
        match m.functions.get_mut(function) {
            Some(a) => {
                a.concurrent_max = a.concurrent_max.max(running);
                a.samples += 1;
            }
            None => {
                m.functions.insert(
                    function.to_string(),
                    FnAgg {
                        concurrent_max: running,
                        samples: 1,
                        ..FnAgg::default()
                    },
                );
            }
        }
    }

    /// An invocation was throttled.
    pub fn throttle(&self, function: &str, reason: ThrottleReason) {
        self.with(function, |_, a| a.throttles[reason.index()] += 1);
    }

    /// A provisioned environment of `function:qualifier` was taken: `value` (0..=1) of its
    /// provisioned environments are busy.
    pub fn provisioned_utilization(&self, function: &str, qualifier: &str, value: f64) {
        self.with(function, |_, a| {
            let e = a
                .utilization
                .entry(qualifier.to_string())
                .or_insert((0.0, 0.0, 0));
            e.0 = e.0.max(value);
            e.1 += value;
            e.2 += 1;
        });
    }

    fn async_total(&self, function: &str, f: impl FnOnce(&mut AsyncTotal)) {
        if let Ok(mut t) = self.async_totals.lock() {
            match t.get_mut(function) {
                Some(total) => f(total),
                None => {
                    let mut total = AsyncTotal::default();
                    f(&mut total);
                    t.insert(function.to_string(), total);
                }
            }
        }
    }

    /// The asynchronous queue accepted (committed) an event for `function`.
    pub fn async_received(&self, function: &str) {
        self.with(function, |_, a| a.async_received += 1);
        self.async_total(function, |t| t.received += 1);
    }

    /// An attempt of an event of `function` starts, `age_ms` after the event was queued.
    pub fn async_age(&self, function: &str, age_ms: i64) {
        #[allow(clippy::cast_precision_loss)]
        let v = age_ms.max(0) as f64;
        self.with(function, |_, a| {
            let g = &mut a.age;
            g.min = if g.samples == 0 { v } else { g.min.min(v) };
            g.max = g.max.max(v);
            g.sum += v;
            g.samples += 1;
        });
        self.async_total(function, |t| t.age.observe(v / 1000.0));
    }

    /// An event of `function` was given up for `reason` (after its OnFailure destination or
    /// dead-letter queue, if any, got it).
    pub fn async_dropped(&self, function: &str, reason: &str) {
        self.with(function, |_, a| {
            *a.async_dropped.entry(reason.to_string()).or_default() += 1;
        });
        self.async_total(function, |t| {
            *t.dropped.entry(reason.to_string()).or_default() += 1;
        });
    }

    /// The async figures since start, by function.
    pub fn async_totals(&self) -> Vec<(String, AsyncTotal)> {
        self.async_totals
            .lock()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Takes every aggregate recorded so far.
    pub fn take(&self) -> Vec<Point> {
        let minutes = match self.minutes.lock() {
            Ok(mut m) => std::mem::take(&mut *m),
            Err(_) => return Vec::new(),
        };
        let mut out = Vec::new();
        let point = |function: &str, metric, dimension: &str, minute_ms, sum, max, samples| Point {
            function_name: function.to_string(),
            metric,
            dimension: dimension.to_string(),
            minute_ms,
            sum,
            max,
            samples,
        };
        for (minute, m) in minutes {
            if m.samples > 0 {
                let (a, u) = (f64::from(m.account_max), f64::from(m.unreserved_max));
                out.push(point(
                    "",
                    CONCURRENT_EXECUTIONS,
                    "",
                    minute,
                    a,
                    a,
                    m.samples,
                ));
                out.push(point(
                    "",
                    UNRESERVED_CONCURRENT_EXECUTIONS,
                    "",
                    minute,
                    u,
                    u,
                    m.samples,
                ));
            }
            for (name, a) in m.functions {
                if a.samples > 0 {
                    let c = f64::from(a.concurrent_max);
                    out.push(point(
                        &name,
                        CONCURRENT_EXECUTIONS,
                        "",
                        minute,
                        c,
                        c,
                        a.samples,
                    ));
                }
                for reason in ThrottleReason::ALL {
                    let n = a.throttles[reason.index()];
                    if n > 0 {
                        #[allow(clippy::cast_precision_loss)]
                        let v = n as f64;
                        out.push(point(&name, THROTTLES, reason.metric(), minute, v, v, n));
                    }
                }
                if a.async_received > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    let v = a.async_received as f64;
                    out.push(point(
                        &name,
                        ASYNC_EVENTS_RECEIVED,
                        "",
                        minute,
                        v,
                        v,
                        a.async_received,
                    ));
                }
                for (reason, n) in &a.async_dropped {
                    #[allow(clippy::cast_precision_loss)]
                    let v = *n as f64;
                    out.push(point(&name, ASYNC_EVENTS_DROPPED, reason, minute, v, v, *n));
                }
                if a.age.samples > 0 {
                    let g = a.age;
                    out.push(point(
                        &name,
                        ASYNC_EVENT_AGE,
                        "",
                        minute,
                        g.sum,
                        g.max,
                        g.samples,
                    ));
                    out.push(point(
                        &name,
                        ASYNC_EVENT_AGE,
                        AGE_MIN_DIMENSION,
                        minute,
                        0.0,
                        -g.min,
                        g.samples,
                    ));
                }
                for (q, (max, sum, n)) in a.utilization {
                    out.push(point(
                        &name,
                        PROVISIONED_UTILIZATION,
                        &q,
                        minute,
                        sum,
                        max,
                        n,
                    ));
                }
            }
        }
        out
    }
}

/// How often aggregates are written to the store.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// How often old aggregates are pruned (kept as long as the logs).
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Writes what was recorded so far to the store.
pub async fn flush(inner: &crate::engine::Inner) {
    let points = inner.capacity.metrics.take();
    if points.is_empty() {
        return;
    }
    let n = points.len();
    if let Err(e) = inner
        .ctx
        .store
        .call(move |c| crate::store::capacity_metrics::add(c, &points))
        .await
    {
        tracing::warn!(error = %e, points = n, "cannot store capacity metrics");
    }
}

/// Flushes every few seconds and prunes old minutes, until the engine is gone.
pub async fn flusher(inner: std::sync::Weak<crate::engine::Inner>) {
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(inner) = inner.upgrade() else { return };
        flush(&inner).await;
        if last_prune.map_or(true, |t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(std::time::Instant::now());
            let days = i64::from(inner.ctx.config.logs.retention_days);
            let before = now_ms() - days * 86_400_000;
            if let Err(e) = inner
                .ctx
                .store
                .call(move |c| crate::store::capacity_metrics::prune(c, before))
                .await
            {
                tracing::warn!(error = %e, "cannot prune capacity metrics");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_per_minute_and_reason() {
        let r = Recorder::default();
        r.concurrency("f", 1, 1, 1);
        r.concurrency("f", 3, 4, 2);
        r.concurrency("f", 2, 2, 0);
        r.throttle("f", ThrottleReason::Reserved);
        r.throttle("f", ThrottleReason::Reserved);
        r.throttle("g", ThrottleReason::Memory);
        r.provisioned_utilization("f", "prod", 0.5);
        r.provisioned_utilization("f", "prod", 1.0);
        let pts = r.take();
        let find = |f: &str, m: &str, d: &str| {
            pts.iter()
                .find(|p| p.function_name == f && p.metric == m && p.dimension == d)
                .cloned()
                .unwrap()
        };
        assert_eq!(find("f", CONCURRENT_EXECUTIONS, "").max, 3.0);
        assert_eq!(find("", CONCURRENT_EXECUTIONS, "").max, 4.0);
        assert_eq!(find("", UNRESERVED_CONCURRENT_EXECUTIONS, "").max, 2.0);
        assert_eq!(
            find(
                "f",
                THROTTLES,
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
            .sum,
            2.0
        );
        assert_eq!(find("g", THROTTLES, "HostMemoryBudgetExceeded").sum, 1.0);
        let u = find("f", PROVISIONED_UTILIZATION, "prod");
        assert_eq!((u.max, u.sum, u.samples), (1.0, 1.5, 2));
        assert!(r.take().is_empty());
    }

    #[test]
    fn async_figures_per_minute_and_since_start() {
        let r = Recorder::default();
        r.async_received("f");
        r.async_received("f");
        r.async_age("f", 40);
        r.async_age("f", 10);
        r.async_age("f", 250);
        r.async_dropped("f", "EventAgeExceeded");
        let pts = r.take();
        let find = |m: &str, d: &str| {
            pts.iter()
                .find(|p| p.function_name == "f" && p.metric == m && p.dimension == d)
                .cloned()
                .unwrap()
        };
        assert_eq!(find(ASYNC_EVENTS_RECEIVED, "").sum, 2.0);
        assert_eq!(find(ASYNC_EVENTS_DROPPED, "EventAgeExceeded").sum, 1.0);
        let age = find(ASYNC_EVENT_AGE, "");
        assert_eq!((age.sum, age.max, age.samples), (300.0, 250.0, 3));
        assert_eq!(find(ASYNC_EVENT_AGE, AGE_MIN_DIMENSION).max, -10.0);
        let totals = r.async_totals();
        assert_eq!(totals[0].0, "f");
        assert_eq!(totals[0].1.received, 2);
        assert_eq!(totals[0].1.dropped["EventAgeExceeded"], 1);
        assert_eq!(totals[0].1.age.count, 3);
        // Totals outlive the flush.
        assert!(r.take().is_empty());
        assert_eq!(r.async_totals()[0].1.received, 2);
    }
}
