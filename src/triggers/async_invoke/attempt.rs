//! One attempt of a queued event: check its age and its chain, run the function through the
//! engine, decide (`policy`), then deliver to destinations and update the queue. Returns the
//! event's next due time when it stays queued, None when it is gone.
//!
//! Ordering rule: destinations receive their message before the event's row is deleted, and
//! the row is updated (or deleted) before the dispatcher hears that the attempt is over. The
//! dispatcher slot is given back as soon as the engine answers (the function no longer runs).
//!
//! A traced attempt (`TracingConfig: Active`) adds a `Destination` span per delivery under its
//! root span, so the Traces tab shows where its record went and how long that took.

use std::sync::Arc;

use super::dispatcher::Slot;
use super::policy::{self, Condition, Decision, Outcome, State};
use super::record::{self, LastResponse, RecordInput};
use super::{counter, Shared};
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::event_invoke::{
    DestinationArn, DestinationUse, EventInvokeConfig, RecursiveLoop, MAX_CHAIN_DEPTH,
};
use crate::domain::function::now_ms;
use crate::domain::trace::TraceHeader;
use crate::domain::Error;
use crate::engine::spans::{now_us, Owner, TraceRef};
use crate::engine::{Admission, InvokeRequest, Queued};
use crate::services::destinations::{Delivery, Message};
use crate::store::async_events::{Op, QueuedEvent};

/// The event with what every step needs.
struct Run<'a> {
    sh: &'a Shared,
    ev: QueuedEvent,
    function: FunctionRef,
    /// Qualified ARN the records name (`…:$LATEST` when unqualified).
    invoked_arn: String,
    /// The trace context of this attempt (the chain, entered into this function).
    trace: TraceHeader,
    slot: Slot,
    /// The attempt's root span, when the function is traced.
    span: Option<TraceRef>,
    /// The version that ran (for spans).
    version: String,
}

pub async fn run(sh: &Shared, ev: QueuedEvent, slot: Slot) -> Option<i64> {
    let qualifier = (!ev.qualifier.is_empty()).then(|| ev.qualifier.clone());
    let function = FunctionRef {
        name: ev.function_name.clone(),
        qualifier: qualifier.clone(),
    };
    let invoked_arn = sh
        .ctx
        .identity
        .qualified_arn(&ev.function_name, qualifier.as_deref().unwrap_or(LATEST));
    let trace = TraceHeader::parse(&ev.trace)
        .unwrap_or_else(|| TraceHeader::new_root(now_ms() / 1000))
        .enter(&ev.function_name);
    let r = Run {
        sh,
        ev,
        function,
        invoked_arn,
        trace,
        slot,
        span: None,
        version: String::new(),
    };
    r.go().await
}

impl Run<'_> {
    async fn go(mut self) -> Option<i64> {
        let cfg = match self
            .sh
            .settings
            .config(&self.ev.function_name, &self.ev.qualifier)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, function = %self.ev.function_name, "cannot read the async settings; the event waits");
                return self
                    .again(Outcome::PlatformFailure, None, Default::default())
                    .await;
            }
        };
        let last = self
            .ev
            .last_response
            .as_deref()
            .and_then(LastResponse::from_json);
        let state = self.state(&cfg, self.ev.attempts, self.ev.backoffs);
        if state.expired(now_ms()) {
            let code = last.as_ref().map_or(429, |l| l.status);
            return self
                .give_up(&cfg, Condition::EventAgeExceeded, last.as_ref(), code)
                .await;
        }
        if self.trace.count_for(&self.ev.function_name) > MAX_CHAIN_DEPTH
            && self.recursion().await != RecursiveLoop::Allow
        {
            tracing::warn!(
                function = %self.ev.function_name,
                request_id = %self.ev.request_id,
                trace = %self.trace.canonical(),
                "recursive loop detected: this event's chain invoked the function {MAX_CHAIN_DEPTH} times already; the invocation is stopped (PutFunctionRecursionConfig RecursiveLoop=Allow permits it)"
            );
            self.sh.writer.write_later(vec![counter(
                &self.ev.function_name,
                "RecursiveInvocationsDropped",
            )]);
            return self
                .give_up(&cfg, Condition::RecursiveInvocation, last.as_ref(), 400)
                .await;
        }
        self.sh
            .engine
            .metrics()
            .async_age(&self.ev.function_name, now_ms() - self.ev.received_ms);
        let result = self
            .sh
            .engine
            .invoke(InvokeRequest {
                request_id: self.ev.request_id.clone(),
                function: self.function.clone(),
                payload: self.ev.payload.clone(),
                client_context: None,
                want_tail: false,
                trace_id: Some(self.trace.render()),
                // Wait for capacity instead of a 429; the engine refuses at once only what it
                // can never admit (reserved concurrency 0, memory above the host budget).
                admission: Admission::Wait,
                queued: Some(Queued {
                    // The first attempt waited since the event came; a retry since it fell due.
                    since_ms: if self.ev.attempts == 0 && self.ev.backoffs == 0 {
                        self.ev.received_ms
                    } else {
                        self.ev.due_ms
                    },
                    attempt: self.ev.attempts + 1,
                }),
                stream: None,
            })
            .await;
        self.slot.release();
        let (outcome, response) = match result {
            Ok(r) => {
                self.span = r.trace.clone();
                self.version = r.executed_version.clone();
                let resp = LastResponse {
                    executed_version: r.executed_version,
                    function_error: r.function_error,
                    payload: String::from_utf8_lossy(&r.payload).into_owned(),
                    status: 200,
                };
                let o = if r.function_error {
                    Outcome::FunctionError
                } else {
                    Outcome::Success
                };
                (o, Some(resp))
            }
            Err(Error::TooManyRequests { reason, .. }) => {
                tracing::info!(function = %self.ev.function_name, request_id = %self.ev.request_id, %reason, "the function cannot be admitted as configured; its event gives up without retries");
                (Outcome::Refused, None)
            }
            Err(Error::ResourceNotFound(m)) => {
                tracing::info!(function = %self.ev.function_name, request_id = %self.ev.request_id, reason = %m, "queued event dropped: its function or qualifier no longer exists");
                self.sh
                    .engine
                    .metrics()
                    .async_dropped(&self.ev.function_name, "FunctionNotFound");
                return self
                    .finish(vec![counter(
                        &self.ev.function_name,
                        "dropped:FunctionNotFound",
                    )])
                    .await;
            }
            Err(e) => {
                tracing::debug!(error = %e, function = %self.ev.function_name, "async attempt could not run; backing off");
                (Outcome::PlatformFailure, None)
            }
        };
        let attempts = self.ev.attempts + u32::from(response.is_some());
        let state = self.state(&cfg, attempts, self.ev.backoffs);
        match policy::decide(&self.sh.timing, &state, outcome, now_ms()) {
            Decision::Succeeded => self.succeeded(&cfg, attempts, response).await,
            Decision::GiveUp(c) => {
                let code = match outcome {
                    Outcome::Throttled | Outcome::Refused => 429,
                    Outcome::PlatformFailure => 500,
                    _ => 200,
                };
                let resp = response.or(last);
                self.give_up_after(&cfg, c, resp.as_ref(), code, attempts)
                    .await
            }
            Decision::Again { due_ms, retry } => {
                let name = if retry { "retried" } else { "backoff" };
                self.reschedule(due_ms, attempts, response, retry, name)
                    .await
            }
        }
    }

    fn state(&self, cfg: &EventInvokeConfig, attempts: u32, backoffs: u32) -> State {
        State {
            received_ms: self.ev.received_ms,
            attempts,
            backoffs,
            max_retries: cfg.retry_attempts(),
            max_age_secs: cfg.max_event_age_secs(),
        }
    }

    async fn recursion(&self) -> RecursiveLoop {
        match self.sh.settings.recursion(&self.ev.function_name).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the recursion config; applying Terminate");
                RecursiveLoop::Terminate
            }
        }
    }

    /// Back to the queue after a throttle or a failure before the function ran.
    async fn again(
        &self,
        outcome: Outcome,
        response: Option<LastResponse>,
        cfg: EventInvokeConfig,
    ) -> Option<i64> {
        let state = self.state(&cfg, self.ev.attempts, self.ev.backoffs);
        let due = match policy::decide(&self.sh.timing, &state, outcome, now_ms()) {
            Decision::Again { due_ms, .. } => due_ms,
            _ => now_ms() + self.sh.timing.backoff_min_ms,
        };
        self.reschedule(due, self.ev.attempts, response, false, "backoff")
            .await
    }

    async fn reschedule(
        &self,
        due_ms: i64,
        attempts: u32,
        response: Option<LastResponse>,
        retry: bool,
        counter_name: &str,
    ) -> Option<i64> {
        let backoffs = if retry { 0 } else { self.ev.backoffs + 1 };
        let ops = vec![
            Op::Reschedule {
                id: self.ev.id,
                due_ms,
                attempts,
                backoffs,
                last_response: response.as_ref().and_then(LastResponse::to_json),
            },
            counter(&self.ev.function_name, counter_name),
        ];
        match self.sh.writer.write(ops).await {
            Ok(_) => Some(due_ms),
            Err(e) => {
                tracing::warn!(error = %e, "cannot reschedule a queued event; it runs again when due");
                Some(due_ms)
            }
        }
    }

    async fn succeeded(
        &self,
        cfg: &EventInvokeConfig,
        attempts: u32,
        response: Option<LastResponse>,
    ) -> Option<i64> {
        let mut counts = vec![counter(&self.ev.function_name, "succeeded")];
        if let Some(dest) = &cfg.on_success {
            let rec = self.record("Success", attempts, response.as_ref());
            counts.push(
                self.deliver(
                    dest,
                    DestinationUse::OnSuccess,
                    Message::Record {
                        record: rec,
                        success: true,
                    },
                )
                .await,
            );
        }
        self.finish(counts).await
    }

    async fn give_up(
        &self,
        cfg: &EventInvokeConfig,
        c: Condition,
        response: Option<&LastResponse>,
        code: u16,
    ) -> Option<i64> {
        self.give_up_after(cfg, c, response, code, self.ev.attempts)
            .await
    }

    async fn give_up_after(
        &self,
        cfg: &EventInvokeConfig,
        c: Condition,
        response: Option<&LastResponse>,
        code: u16,
        attempts: u32,
    ) -> Option<i64> {
        let name = &self.ev.function_name;
        self.sh.engine.metrics().async_dropped(name, c.as_str());
        let mut counts = vec![counter(name, &format!("failed:{}", c.as_str()))];
        let mut delivered = false;
        if let Some(dest) = &cfg.on_failure {
            let rec = self.record(c.as_str(), attempts, response);
            let msg = Message::Record {
                record: rec,
                success: false,
            };
            counts.push(self.deliver(dest, DestinationUse::OnFailure, msg).await);
            delivered = true;
        }
        if let Some(dlq) = self.dead_letter_target().await {
            let fallback = match c {
                Condition::RecursiveInvocation => "RecursiveInvocationException: Lambda stopped the invocation because it detected a recursive loop.".to_string(),
                Condition::EventAgeExceeded => "Event age exceeded MaximumEventAgeInSeconds.".to_string(),
                Condition::RetriesExhausted => "Retries exhausted.".to_string(),
            };
            let msg = Message::DeadLetter {
                payload: self.ev.payload.clone(),
                request_id: self.ev.request_id.clone(),
                error_code: code,
                error_message: record::error_message(response, &fallback),
            };
            counts.push(self.deliver(&dlq, DestinationUse::DeadLetter, msg).await);
            delivered = true;
        }
        if !delivered {
            counts.push(counter(name, &format!("dropped:{}", c.as_str())));
        }
        tracing::info!(function = %name, request_id = %self.ev.request_id, condition = c.as_str(), attempts, "asynchronous event gave up");
        self.finish(counts).await
    }

    /// The DeadLetterConfig of the version this event runs.
    async fn dead_letter_target(&self) -> Option<String> {
        crate::services::functions::resolve_for_invoke(&self.sh.ctx, &self.function)
            .await
            .ok()
            .and_then(|v| v.config.dead_letter_target)
    }

    fn record(
        &self,
        condition: &str,
        attempts: u32,
        response: Option<&LastResponse>,
    ) -> serde_json::Value {
        record::record(&RecordInput {
            now_ms: now_ms(),
            request_id: &self.ev.request_id,
            function_arn: &self.invoked_arn,
            condition,
            invoke_count: attempts,
            request_payload: &self.ev.payload,
            response,
        })
    }

    /// Delivers `message`; returns the counter to bump (`delivered:…` or
    /// `DestinationDeliveryFailures`).
    async fn deliver(&self, arn: &str, used: DestinationUse, message: Message) -> Op {
        let name = &self.ev.function_name;
        let label = match used {
            DestinationUse::OnSuccess => "delivered:OnSuccess",
            DestinationUse::OnFailure => "delivered:OnFailure",
            DestinationUse::DeadLetter => "delivered:DeadLetter",
        };
        let start_us = now_us();
        let result = async {
            let parsed = DestinationArn::parse(arn, &self.sh.ctx.identity, used)?;
            let target: Arc<_> = self.sh.ctx.destinations.target(&parsed, used)?;
            target
                .deliver(
                    &parsed,
                    Delivery {
                        message,
                        source_function_arn: self.invoked_arn.clone(),
                        trace_header: self.trace.render(),
                    },
                )
                .await
        }
        .await;
        if let Some(span) = &self.span {
            let owner = Owner {
                function: name,
                version: &self.version,
                request_id: &self.ev.request_id,
            };
            let failed = result.as_ref().err().map(|_| "DeliveryFailed".to_string());
            self.sh.engine.record_spans(vec![span.child(
                owner,
                "Destination",
                (start_us, now_us()),
                failed,
            )]);
        }
        match result {
            Ok(()) => counter(name, label),
            Err(e) => {
                tracing::warn!(function = %name, request_id = %self.ev.request_id, destination = %arn, error = %e, "cannot deliver to the destination; the message is dropped");
                counter(name, "DestinationDeliveryFailures")
            }
        }
    }

    /// Removes the event (with its counters) and reports it gone.
    async fn finish(&self, mut ops: Vec<Op>) -> Option<i64> {
        ops.insert(0, Op::Delete { id: self.ev.id });
        match self.sh.writer.write(ops).await {
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot remove a finished event from the queue; it may run again");
                Some(now_ms() + self.sh.timing.backoff_max_ms)
            }
        }
    }
}
