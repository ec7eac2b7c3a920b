//! Sends one event to targets: for each target of a rule, the payload its input settings
//! make (`input`), the function's resource policy (if it has one, it must allow
//! `events.amazonaws.com` from this rule), then [`Deliver::deliver`]. A retryable failure
//! (throttle, lambdabox fault) is tried again with exponential back-off (1 s doubling to
//! 60 s) within the target's `RetryPolicy`; a final failure (no such function, not allowed)
//! is recorded at once. Every outcome is recorded on the target (deliveries, failures,
//! last error) and failures are logged at warn level. A rule target with a DeadLetterConfig
//! sends the event it could not deliver (unchanged, with EventBridge's `RULE_ARN`,
//! `TARGET_ARN`, `ERROR_CODE`, `ERROR_MESSAGE`, `RETRY_ATTEMPTS` and
//! `EXHAUSTED_RETRY_CONDITION` attributes) to that SQS queue (`services::destinations`); a
//! schedule's target does the same with the Scheduler's `SCHEDULE_ARN` and `EXECUTION_ID`
//! in place of `RULE_ARN`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::deliver::{retryable, Deliver, Delivery};
use super::input::{self, RuleInfo};
use super::record::{Rec, Recorder};
use super::target::{RetryPolicy, Target};
use crate::domain::event_invoke::{DestinationArn, DestinationUse};
use crate::domain::Error;
use crate::services::destinations::{self, Message};
use crate::services::policy;
use crate::services::Context;
use crate::store::rules::{Record, RuleRow, TargetRow};

/// Totals since start, for the dashboard.
#[derive(Default)]
pub struct Totals {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// Where an undeliverable event goes: the target's dead-letter queue.
#[derive(Clone)]
pub struct DeadLetter {
    pub queue: DestinationArn,
    /// The event as the rule matched it (before the target's input settings), or the
    /// schedule's payload.
    pub event: bytes::Bytes,
    /// What sent it: `[("RULE_ARN", arn)]`, or `[("SCHEDULE_ARN", arn), ("EXECUTION_ID", id)]`.
    pub origin: Vec<(&'static str, String)>,
    pub target_arn: String,
}

/// EventBridge's `ERROR_CODE` for a failed delivery.
fn error_code(e: &Error) -> &'static str {
    match e {
        Error::ResourceNotFound(_) => "RESOURCE_NOT_FOUND",
        Error::TooManyRequests { .. } => "THROTTLING",
        _ => "SDK_CLIENT_ERROR",
    }
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

    /// The functions `targets` name (keys of `policy::Known`); corrupt or non-function
    /// targets are left out (sending to them reports their error).
    pub fn target_functions(&self, targets: &[TargetRow]) -> Vec<(String, String)> {
        targets
            .iter()
            .filter_map(|row| serde_json::from_str::<Target>(&row.spec).ok())
            .filter_map(|t| t.function(&self.ctx.identity).ok())
            .map(|f| policy::known_key(&f))
            .collect()
    }

    /// Sends `event` to every target of `rule`; returns once each first attempt ended.
    /// `known`: function policies already read (a burst of firings reads them at once);
    /// a function missing from it has its policy read here.
    pub async fn rule_event(
        self: &Arc<Self>,
        rule: &RuleRow,
        targets: &[TargetRow],
        event: &Value,
        known: Option<&policy::Known>,
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
            let dead_letter = match target.dead_letter(&self.ctx.identity) {
                Ok(q) => q.map(|queue| DeadLetter {
                    queue,
                    event: event.to_string().into(),
                    origin: vec![("RULE_ARN", rule_arn.clone())],
                    target_arn: target.arn.clone(),
                }),
                Err(e) => {
                    let m = e.to_string();
                    self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                    continue;
                }
            };
            let function = match target.function(&self.ctx.identity) {
                Ok(f) => f,
                Err(e) => {
                    let m = e.to_string();
                    self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                    self.dead_letter(dead_letter, "INVALID_PARAMETER", &m, 0, None);
                    continue;
                }
            };
            let allowed = match known.and_then(|k| k.get(&policy::known_key(&function))) {
                Some(p) => policy::events_allowed(&self.ctx, &function, &rule_arn, p.as_ref()),
                None => policy::allows_events(&self.ctx, &function, &rule_arn).await,
            };
            if let Err(e) = allowed {
                let m = e.to_string();
                self.fail(&rule_arn, &row.target_id, &m, rec(Some(m.clone())));
                self.dead_letter(dead_letter, "NO_PERMISSIONS", &m, 0, None);
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
            self.send(d, policy, row.target_id.clone(), Box::new(rec), dead_letter)
                .await;
        }
    }

    /// Sends one delivery with retries; `rec` makes the record of its outcome; a final
    /// failure goes to `dead_letter` if there is one.
    pub async fn send(
        self: &Arc<Self>,
        d: Delivery,
        policy: RetryPolicy,
        target_id: String,
        rec: Box<dyn Fn(Option<String>) -> Rec + Send + Sync>,
        dead_letter: Option<DeadLetter>,
    ) {
        let first = self.deliver.deliver(d.clone()).await;
        match first {
            Ok(()) => self.ok(rec(None)),
            Err(e) if retryable(&e) && policy.attempts() > 0 => {
                let me = Arc::clone(self);
                tokio::spawn(
                    async move { me.retry(d, policy, target_id, rec, e, dead_letter).await },
                );
            }
            Err(e) => {
                let m = e.to_string();
                self.fail(&d.source_arn, &target_id, &m, rec(Some(m.clone())));
                self.dead_letter(dead_letter, error_code(&e), &m, 0, None);
            }
        }
    }

    /// Sends an undeliverable event to its dead-letter queue (in the background; a failure
    /// to do so is logged).
    pub fn dead_letter(
        &self,
        dl: Option<DeadLetter>,
        code: &str,
        message: &str,
        retries: u32,
        exhausted: Option<&str>,
    ) {
        let Some(dl) = dl else {
            return;
        };
        let source = dl
            .origin
            .first()
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        let mut attributes: Vec<(String, String)> = dl
            .origin
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        attributes.extend([
            ("TARGET_ARN".to_string(), dl.target_arn.clone()),
            ("ERROR_CODE".to_string(), code.to_string()),
            ("ERROR_MESSAGE".to_string(), message.to_string()),
            ("RETRY_ATTEMPTS".to_string(), retries.to_string()),
        ]);
        if let Some(x) = exhausted {
            attributes.push(("EXHAUSTED_RETRY_CONDITION".to_string(), x.to_string()));
        }
        let registry = Arc::clone(&self.ctx.destinations);
        tokio::spawn(async move {
            let delivery = destinations::Delivery {
                message: Message::EventDeadLetter {
                    payload: dl.event.clone(),
                    attributes,
                },
                source_function_arn: dl.target_arn.clone(),
                trace_header: String::new(),
            };
            let sent = match registry.target(&dl.queue, DestinationUse::DeadLetter) {
                Ok(t) => t.deliver(&dl.queue, delivery).await,
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                tracing::warn!(source = %source, queue = %dl.queue.arn, error = %e, "cannot send the undeliverable event to the dead-letter queue; it is dropped");
            }
        });
    }

    async fn retry(
        self: Arc<Self>,
        d: Delivery,
        policy: RetryPolicy,
        target_id: String,
        rec: Box<dyn Fn(Option<String>) -> Rec + Send + Sync>,
        mut last: Error,
        dead_letter: Option<DeadLetter>,
    ) {
        let started = Instant::now();
        let max_age = Duration::from_secs(u64::from(policy.max_age_secs()));
        let mut wait = Duration::from_secs(1);
        let mut retries = 0;
        let mut exhausted = Some("MaximumRetryAttempts");
        for _ in 0..policy.attempts() {
            if started.elapsed() + wait > max_age {
                exhausted = Some("MaximumEventAgeInSeconds");
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
            retries += 1;
            match self.deliver.deliver(d.clone()).await {
                Ok(()) => return self.ok(rec(None)),
                Err(e) if retryable(&e) => last = e,
                Err(e) => {
                    last = e;
                    exhausted = None;
                    break;
                }
            }
        }
        let m = format!("{last} (retries exhausted)");
        self.fail(&d.source_arn, &target_id, &m, rec(Some(m.clone())));
        self.dead_letter(
            dead_letter,
            error_code(&last),
            &last.to_string(),
            retries,
            exhausted,
        );
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
