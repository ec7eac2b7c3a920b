//! One synchronous invocation, end to end: resolve the version, take or start an
//! environment, hand the event to the runtime, race it against the deadline and the
//! environment's death, write START/END/REPORT, record it, and keep or kill the environment.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::capacity::{Admission, ThrottleReason};
pub use super::launch::InitType;
use super::live::{self, Live, Started};
use super::output::Capture;
use super::platform::Platform;
use super::report::{self, Status};
use super::spans::{self, Owner, Phases, Queued, Traced};
use super::Inner;
use crate::domain::arn::FunctionRef;
use crate::domain::function::{now_ms, FunctionVersion};
use crate::domain::Error;
use crate::runtime::{Invocation, InvokeOutcome, StreamEnd, StreamSink};
use crate::services::functions as svc;
use crate::store::logs::InvocationRecord;

mod start;

use start::start_on_demand;
pub(super) use start::{new_env_id, start};

/// How long an answer waits for a killed environment to be gone.
const KILL_WAIT: Duration = Duration::from_secs(3);

/// How long, after a function error, the engine waits for the runtime to ask for work again
/// before it gives the environment back to the pool.
const PARK_WAIT: Duration = Duration::from_secs(2);

/// A synchronous invocation as the API received it.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The request id of this invocation: the API's `x-amzn-RequestId`, the runtime's
    /// `Lambda-Runtime-Aws-Request-Id` and the id in START/END/REPORT. Async retries of one
    /// event reuse it.
    pub request_id: String,
    pub function: FunctionRef,
    pub payload: Bytes,
    /// Client context JSON (already base64-decoded).
    pub client_context: Option<String>,
    pub want_tail: bool,
    /// The trace header the runtime gets (`Lambda-Runtime-Trace-Id`, `_X_AMZN_TRACE_ID`):
    /// the async queue and triggers pass the chain's (`domain::trace`); None makes a new one.
    pub trace_id: Option<String>,
    /// What to do when no capacity is free: `Throttle` (429) for synchronous callers,
    /// `Wait` for async events and queue pollers (see `engine::capacity`).
    pub admission: Admission,
    /// The wait of a queued event before this attempt (async events, queue pollers): the
    /// `Queue` span of a traced invocation and its attempt number.
    pub queued: Option<Queued>,
    /// Where a response the runtime streams goes as it arrives (`InvokeWithResponseStream`,
    /// `RESPONSE_STREAM` function URLs); `None` buffers it. A function that does not stream
    /// answers in [`InvokeResult::payload`] either way.
    pub stream: Option<StreamSink>,
}

/// What the caller gets back.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    pub payload: Bytes,
    /// True for `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    pub executed_version: String,
    /// The last 4 KB of the invocation's log, when asked for.
    pub log_tail: Option<String>,
    /// The response went out through [`InvokeRequest::stream`]: `payload` is empty, or the
    /// error document when the stream failed.
    pub streamed: bool,
    /// The error type when it failed (`Unhandled`, a streamed error's type, `Sandbox.Timedout`,
    /// `Runtime.ExitError` …); what InvokeComplete reports as `ErrorCode`.
    pub error_type: Option<String>,
    /// For a traced function (`TracingConfig: Active`), where later spans of this invocation
    /// hang (an async attempt's destination deliveries).
    pub trace: Option<spans::TraceRef>,
}

/// Decrements the active count when the invocation ends, however it ends.
struct ActiveGuard<'a>(&'a Inner);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs one invocation.
pub async fn run(inner: Arc<Inner>, mut req: InvokeRequest) -> Result<InvokeResult, Error> {
    let received_us = spans::now_us();
    let fv = svc::resolve_for_invoke(&inner.ctx, &req.function).await?;
    let traced = (fv.config.tracing_mode == "Active").then(|| {
        let header = spans::sampled(&req.trace_id.take().unwrap_or_else(trace_id));
        let t = Traced::new(&header, received_us, req.queued);
        req.trace_id = Some(header);
        t
    });
    if inner.shutting_down.load(Ordering::SeqCst) {
        return Err(Error::Service(
            "lambdabox is shutting down; retry against the restarted daemon.".into(),
        ));
    }
    let sandbox = inner.sandbox().map_err(|why| {
        Error::Service(format!(
            "functions cannot run on this host: {why}. Fix the kernel setup, or set sandbox.allow_degraded = true to run with the protections that are available."
        ))
    })?;
    let _permit = inner
        .capacity
        .admit(&fv.name, req.admission)
        .await
        .map_err(ThrottleReason::error)?;
    inner.active.fetch_add(1, Ordering::SeqCst);
    let _guard = ActiveGuard(&inner);
    let invoked_arn = match &req.function.qualifier {
        Some(q) => inner.ctx.identity.qualified_arn(&fv.name, q),
        None => inner.ctx.identity.function_arn(&fv.name),
    };
    let request_id = req.request_id.clone();
    let warm = match inner
        .provisioned
        .acquire(&fv.name, req.function.qualifier.as_deref(), &fv)
    {
        Some((l, utilization)) => {
            let q = req.function.qualifier.as_deref().unwrap_or_default();
            inner
                .capacity
                .metrics
                .provisioned_utilization(&fv.name, q, utilization);
            Some(l)
        }
        None => inner.acquire(&fv.name, &fv.version, &fv.revision_id),
    };
    let (live, cold) = match warm {
        Some(l) => (l, false),
        None => match start_on_demand(&inner, sandbox, &fv, req.admission).await? {
            Started::Ready(l) => {
                inner.track(&l);
                (l, true)
            }
            Started::Failed {
                live,
                error_type,
                body,
                init,
                timed_out,
            } => {
                inner.track(&live);
                return Ok(init_failed(
                    &inner,
                    &fv,
                    req.function.qualifier.as_deref(),
                    live,
                    &request_id,
                    error_type,
                    body,
                    init,
                    timed_out,
                    req.want_tail,
                    traced.as_ref(),
                ));
            }
        },
    };
    let at = Target {
        fv: &fv,
        request_id: &request_id,
        invoked_arn: &invoked_arn,
        traced: traced.as_ref(),
    };
    Ok(execute(&inner, at, live, cold, req).await)
}

#[allow(clippy::too_many_arguments)]
fn init_failed(
    inner: &Inner,
    fv: &FunctionVersion,
    qualifier: Option<&str>,
    live: Live,
    request_id: &str,
    error_type: String,
    body: Bytes,
    init: Duration,
    timed_out: bool,
    want_tail: bool,
    traced: Option<&Traced>,
) -> InvokeResult {
    live.kill();
    let status = if timed_out {
        Status::Timeout
    } else {
        Status::Error(error_type.clone())
    };
    live.capture.platform(Platform::InitReport {
        init,
        timed_out,
        error_type: &error_type,
        init_type: InitType::OnDemand.as_str(),
    });
    live.capture.platform(Platform::Start {
        request_id,
        version: &fv.version,
    });
    live.capture.platform(Platform::End {
        request_id,
        duration: Duration::ZERO,
        status: &status,
    });
    let max_mb = live.max_memory_mb();
    live.capture.platform(Platform::Report {
        request_id,
        duration: Duration::ZERO,
        init: Some(init),
        memory_mb: fv.config.memory_size,
        max_memory_mb: max_mb,
        status: &status,
    });
    let trace = emit_spans(
        inner,
        &live.capture,
        traced,
        owner(fv, request_id),
        (Some(init), None),
        &status,
    );
    let payload: Bytes = if timed_out {
        report::timeout_payload(request_id, 10).into()
    } else if body.is_empty() {
        serde_json::json!({"errorType": error_type, "errorMessage": "the runtime failed to start"})
            .to_string()
            .into()
    } else {
        body
    };
    record(
        inner,
        Ran {
            fv,
            qualifier,
            request_id,
        },
        Duration::ZERO,
        Some(init),
        max_mb,
        &status,
    );
    InvokeResult {
        payload,
        function_error: true,
        executed_version: fv.version.clone(),
        log_tail: want_tail.then(|| live.capture.tail()),
        streamed: false,
        error_type: status.error_type(),
        trace,
    }
}

/// After a function error, whether the environment can be reused: some runtimes (Ruby on a
/// critical exception, a `provided` bootstrap that gives up) post the error and then exit. The
/// environment goes back to the pool only once its runtime parks on `GET /next` again, so the
/// next invocation never lands on a dying process; one that exits is a cold start next time,
/// as in AWS. A runtime that neither polls nor exits within [`PARK_WAIT`] is kept.
async fn survives_error(live: &mut Live) -> bool {
    let mut exit = live.exit.clone();
    tokio::select! {
        parked = live.api.wait_parked() => parked,
        _ = exit.wait_for(Option::is_some) => false,
        _ = tokio::time::sleep(PARK_WAIT) => true,
    }
}

enum Ended {
    Runtime(InvokeOutcome),
    Timeout,
    Exited,
}

/// What an invocation runs: the version, the request id, the ARN the caller named and the
/// trace context when the function is traced.
struct Target<'a> {
    fv: &'a FunctionVersion,
    request_id: &'a str,
    invoked_arn: &'a str,
    traced: Option<&'a Traced>,
}

fn owner<'a>(fv: &'a FunctionVersion, request_id: &'a str) -> Owner<'a> {
    Owner {
        function: &fv.name,
        version: &fv.version,
        request_id,
    }
}

/// For a traced invocation (`traced`), records its spans (logs.db and the OTLP exporter) and
/// writes the XRAY line after its REPORT; `(init, invoke_start_us)` are its phases, ending now.
fn emit_spans(
    inner: &Inner,
    capture: &Capture,
    traced: Option<&Traced>,
    owner: Owner<'_>,
    (init, invoke_start_us): (Option<Duration>, Option<i64>),
    status: &Status,
) -> Option<spans::TraceRef> {
    let t = traced?;
    let phases = Phases {
        init,
        invoke_start_us,
        end_us: spans::now_us(),
    };
    let spans = t.spans(owner, phases, status);
    let trace = spans.first().map(|root| spans::TraceRef {
        root: t.root.clone(),
        span_id: root.span_id.clone(),
        attempt: root.attempt,
    });
    if let Some(root) = spans.first() {
        capture.xray_line(spans::xray_line(&t.root, &root.span_id));
    }
    record_spans(inner, spans);
    trace
}

/// Sends spans to the log database and, when configured, the OTLP exporter.
pub(crate) fn record_spans(inner: &Inner, spans: Vec<crate::store::traces::Span>) {
    if let Some(x) = &inner.otlp {
        x.send(spans.clone());
    }
    inner.logs.spans(spans);
}

async fn execute(
    inner: &Inner,
    at: Target<'_>,
    mut live: Live,
    cold: bool,
    req: InvokeRequest,
) -> InvokeResult {
    let Target {
        fv,
        request_id,
        invoked_arn,
        traced,
    } = at;
    let timeout = Duration::from_secs(u64::from(fv.config.timeout));
    live.capture.begin(cold);
    live.capture.platform(Platform::Start {
        request_id,
        version: &fv.version,
    });
    let t0 = Instant::now();
    let t0_us = spans::now_us();
    let deadline_ms = u64::try_from(now_ms()).unwrap_or(0) + timeout.as_millis() as u64;
    let inv = Invocation {
        request_id: request_id.to_string(),
        payload: req.payload,
        deadline_ms,
        invoked_function_arn: invoked_arn.to_string(),
        trace_id: req.trace_id.unwrap_or_else(trace_id),
        client_context: req.client_context,
        cognito_identity: None,
        stream: req.stream,
    };
    let mut exit = live.exit.clone();
    let ended = tokio::select! {
        o = live.api.invoke(inv) => Ended::Runtime(o),
        _ = tokio::time::sleep(timeout) => Ended::Timeout,
        _ = exit.wait_for(Option::is_some) => Ended::Exited,
    };
    let duration = t0.elapsed();
    let init = if cold { live.init.take() } else { None };
    let mut exited_peak_mb = 0;
    let streamed = matches!(ended, Ended::Runtime(InvokeOutcome::Streamed(_)));
    let (payload, function_error, status, keep): (Bytes, bool, Status, bool) = match ended {
        Ended::Runtime(InvokeOutcome::Response(b)) => (b, false, Status::Success, true),
        Ended::Runtime(InvokeOutcome::Streamed(end)) => streamed_end(end),
        Ended::Runtime(InvokeOutcome::Error { error_type, body }) => {
            let t = error_type.unwrap_or_else(|| "Unhandled".into());
            (body, true, Status::FunctionError(t), true)
        }
        Ended::Runtime(InvokeOutcome::ResponseTooLarge) => (
            report::too_large_payload().into(),
            true,
            Status::Error("Function.ResponseSizeTooLarge".into()),
            true,
        ),
        Ended::Timeout => {
            live.kill();
            live.reader.drain().await;
            live.capture
                .platform_line(report::timeout_line(request_id, fv.config.timeout));
            (
                report::timeout_payload(request_id, fv.config.timeout).into(),
                true,
                Status::Timeout,
                false,
            )
        }
        Ended::Runtime(InvokeOutcome::Closed) | Ended::Exited => {
            live.reader.drain().await;
            let info = live.exit_info(Duration::from_secs(3)).await;
            live.kill();
            if let Some(i) = &info {
                exited_peak_mb = i.memory_peak_bytes.div_ceil(1024 * 1024);
            }
            let (error_type, how) = match info {
                Some(i) if i.oom_killed => ("Runtime.OutOfMemory", "signal: killed".to_string()),
                Some(i) => ("Runtime.ExitError", live::describe_exit(&i)),
                None => ("Runtime.ExitError", "signal: killed".to_string()),
            };
            live.capture.platform_line(format!(
                "RequestId: {request_id} Error: Runtime exited with error: {how}"
            ));
            live.capture.platform_line(error_type.to_string());
            (
                report::exit_payload(request_id, error_type, &how).into(),
                true,
                Status::Error(error_type.into()),
                false,
            )
        }
    };
    let mut keep = keep;
    if keep && function_error {
        keep = survives_error(&mut live).await;
    }
    if keep {
        live.reader.drain().await;
    }
    let mut max_mb = live.max_memory_mb().max(exited_peak_mb);
    if matches!(&status, Status::Error(t) if t == "Runtime.OutOfMemory") {
        max_mb = max_mb.max(u64::from(fv.config.memory_size));
    }
    live.capture.platform(Platform::End {
        request_id,
        duration,
        status: &status,
    });
    live.capture.platform(Platform::Report {
        request_id,
        duration,
        init,
        memory_mb: fv.config.memory_size,
        max_memory_mb: max_mb,
        status: &status,
    });
    let trace = emit_spans(
        inner,
        &live.capture,
        traced,
        owner(fv, request_id),
        (init, Some(t0_us)),
        &status,
    );
    let ran = Ran {
        fv,
        qualifier: req.function.qualifier.as_deref(),
        request_id,
    };
    record(inner, ran, duration, init, max_mb, &status);
    let log_tail = req.want_tail.then(|| live.capture.tail());
    if keep {
        let on_demand = if live.slot.is_some() {
            inner.provisioned.release(live)
        } else {
            Some(live)
        };
        match on_demand {
            Some(l) if l.slot.is_none() => inner.release(&fv.name, &fv.version, l),
            Some(l) => l.kill(),
            None => {}
        }
        inner.capacity.env_idle();
    } else {
        live.kill();
        // The caller sees the answer only once the environment is gone and its room in the
        // budget is free: a retry right after a timeout or crash must not be throttled by
        // the environment that just died. Bounded; a kill takes milliseconds.
        let _ = live.exit_info(KILL_WAIT).await;
    }
    InvokeResult {
        payload,
        function_error,
        executed_version: fv.version.clone(),
        log_tail,
        streamed,
        error_type: status.error_type(),
        trace,
    }
}

/// What a streamed response that ended amounts to: success, the error its trailers reported,
/// or `Function.ResponseSizeTooLarge` past the streaming limit.
fn streamed_end(end: StreamEnd) -> (Bytes, bool, Status, bool) {
    match end.error {
        Some((error_type, body)) => (body, true, Status::FunctionError(error_type), true),
        None if end.too_large => (
            report::streamed_too_large_payload().into(),
            true,
            Status::Error("Function.ResponseSizeTooLarge".into()),
            true,
        ),
        None => (Bytes::new(), false, Status::Success, true),
    }
}

/// Who ran: the version, the qualifier the caller named and the request id.
struct Ran<'a> {
    fv: &'a FunctionVersion,
    qualifier: Option<&'a str>,
    request_id: &'a str,
}

fn record(
    inner: &Inner,
    ran: Ran<'_>,
    duration: Duration,
    init: Option<Duration>,
    max_mb: u64,
    status: &Status,
) {
    let Ran {
        fv,
        qualifier,
        request_id,
    } = ran;
    let start_ms = now_ms() - i64::try_from(duration.as_millis()).unwrap_or(0);
    inner.logs.invocation(InvocationRecord {
        function_name: fv.name.clone(),
        version: fv.version.clone(),
        qualifier: qualifier.map(str::to_string),
        request_id: request_id.to_string(),
        start_ms,
        duration_us: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
        billed_ms: i64::try_from(report::billed_ms(duration, init)).unwrap_or(i64::MAX),
        memory_mb: i64::from(fv.config.memory_size),
        max_memory_mb: i64::try_from(max_mb).unwrap_or(0),
        init_us: init.map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        error_type: status.error_type(),
        architecture: fv
            .config
            .architectures
            .first()
            .cloned()
            .unwrap_or_else(|| crate::domain::function::host_architecture().to_string()),
    });
}

/// An X-Ray style trace header: `Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=0`.
fn trace_id() -> String {
    let secs = now_ms() / 1000;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &id[..24],
        &parent[..16]
    )
}
