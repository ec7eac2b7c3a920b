//! Sends one event to targets: for each target of a rule, the payload its input settings
//! make (`input`), the function's resource policy (if it has one, it must allow
//! `events.amazonaws.com` from this rule), then [`Deliver::deliver`]. A retryable failure
//! (throttle, lambdabox fault) is tried again with exponential back-off (1 s doubling to
//! 60 s) within the target's `RetryPolicy`; a final failure (no such function, not allowed)
//! is recorded at once. Every outcome is recorded on the target (deliveries, failures,
//! last error) and failures are logged at warn level.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::deliver::{retryable, Deliver, Delivery};
use super::input::{self, RuleInfo};
use super::record::{Rec, Recorder};
use super::target::{RetryPolicy, Target};
use crate::domain::Error;
use crate::services::Context;
use crate::store::rules::{Record, RuleRow, TargetRow};

/// Totals since start, for the dashboard.
#[derive(Default)]
pub struct Totals {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// Sends events to targets.
pub struct Fanout {
    pub ctx: Context,
    deliver: Arc<dyn Deliver>,
    pub recorder: Recorder,
    pub totals: Totals,
}

impl Fanout {
    pub fn new(ctx: Context, deliver: Arc<dyn Deliver>, recorder: Recorder) -> Arc<Fanout> {
        Arc::new(Fanout {
            ctx,
            deliver,
            recorder,
            totals: Totals::default(),
        })
    }

    /// Sends `event` to every target of `rule`; returns once each first attempt ended.
    pub async fn rule_event(
        self: &Arc<Self>,
        rule: &RuleRow,
        targets: &[TargetRow],
        event: &Value,
    ) {
        let rule_arn = super::rule_arn(&self.ctx.identity, &rule.bus, &rule.name);
        let ingestion = event
            .get("time")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        for row in targets {
            let info = RuleInfo {
                arn: &rule_arn,
                name: &rule.name,
                ingestion_time: &ingestion,
            };
            let (rule_id, target_id) = (rule.id, row.target_id.clone());
            let rec = move |error: Option<String>| {
                Rec::Rule(Record::Delivered {
                    rule_id,
                    target_id: target_id.clone(),
                    at_ms: crate::domain::function::now_ms(),
                    error,
                })
            };
            let target: Target = match serde_json::from_str(&row.spec) {
                Ok(t) => t,
                Err(e) => {
                    let m = format!("stored target is corrupt: {e}");
                    self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                    continue;
                }
            };
            let function = match target.function(&self.ctx.identity) {
                Ok(f) => f,
                Err(e) => {
                    let m = e.to_string();
                    self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                    continue;
                }
            };
            if let Err(e) =
                crate::services::policy::allows_events(&self.ctx, &function, &rule_arn).await
            {
                let m = e.to_string();
                self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                continue;
            }
            let payload = input::render(&target, event, &info);
            let d = Delivery {
                function,
                payload: payload.into(),
                source: "aws:events",
                source_arn: rule_arn.clone(),
            };
            let policy = target.retry_policy.unwrap_or(RetryPolicy {
                maximum_retry_attempts: None,
                maximum_event_age_in_seconds: None,
            });
            self.send(d, policy, row.target_id.clone(), Box::new(rec))
                .await;
        }
    }

    /// Sends one delivery with retries; `rec` makes the record of its outcome.
    pub async fn send(
        self: &Arc<Self>,
        d: Delivery,
        policy: RetryPolicy,
        target_id: String,
        rec: Box<dyn Fn(Option<String>) -> Rec + Send + Sync>,
    ) {
        let first = self.deliver.deliver(d.clone()).await;
        match first {
            Ok(()) => self.ok(rec(None)),
            Err(e) if retryable(&e) && policy.attempts() > 0 => {
                let me = Arc::clone(self);
                tokio::spawn(async move { me.retry(d, policy, target_id, rec, e).await });
            }
            Err(e) => {
                let m = e.to_string();
                self.fail(&d.source_arn, &target_id, &m, rec(Some(m.clone())));
            }
        }
    }

    async fn retry(
        self: Arc<Self>,
        d: Delivery,
        policy: RetryPolicy,
        target_id: String,
        rec: Box<dyn Fn(Option<String>) -> Rec + Send + Sync>,
        mut last: Error,
    ) {
        let started = Instant::now();
        let max_age = Duration::from_secs(u64::from(policy.max_age_secs()));
        let mut wait = Duration::from_secs(1);
        for _ in 0..policy.attempts() {
            if started.elapsed() + wait > max_age {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
            match self.deliver.deliver(d.clone()).await {
                Ok(()) => return self.ok(rec(None)),
                Err(e) if retryable(&e) => last = e,
                Err(e) => {
                    last = e;
                    break;
                }
            }
        }
        let m = format!("{last} (retries exhausted)");
        self.fail(&d.source_arn, &target_id, &m, rec(Some(m.clone())));
    }

    fn ok(&self, r: Rec) {
        self.totals.delivered.fetch_add(1, Ordering::Relaxed);
        self.recorder.push(r);
    }

    fn fail(&self, source: &str, target: &str, message: &str, r: Rec) {
        self.totals.failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(source, target, error = message, "event delivery failed");
        self.recorder.push(r);
    }
}
