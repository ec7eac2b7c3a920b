//! OTLP/HTTP export of trace spans (`tracing.otlp_endpoint`): the spans of traced invocations
//! go, besides logs.db, to an OpenTelemetry collector as `ExportTraceServiceRequest`
//! protobuf bodies (`Content-Type: application/x-protobuf`), one resource per function
//! (`service.name` and `faas.name` the function's name).
//!
//! The messages are the subset of `opentelemetry/proto/{collector/trace,trace,common,resource}/v1`
//! that lambdabox fills, declared with prost's derive (same field numbers and wire types), so
//! no code generator runs at build time. One thread sends batches (at most [`MAX_BATCH`] spans,
//! at most [`FLUSH_EVERY`] old); the queue is bounded ([`QUEUE_BATCHES`]) and a collector that
//! is down or slow costs dropped spans, counted and warned about, never a slower invoke.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;

use crate::store::traces::Span;

/// Longest a span waits before it is sent.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Spans per request at most.
pub const MAX_BATCH: usize = 512;
/// Invocations' span lists the queue holds before new ones are dropped.
pub const QUEUE_BATCHES: usize = 4096;
/// Time allowed for one export request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Least time between two warnings about failed exports.
const WARN_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone, PartialEq, Message)]
pub struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<OtlpSpan>,
}

#[derive(Clone, PartialEq, Message)]
pub struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct OtlpSpan {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    pub name: String,
    /// 1 INTERNAL, 2 SERVER.
    #[prost(int32, tag = "6")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Status {
    #[prost(string, tag = "2")]
    pub message: String,
    /// 0 UNSET, 1 OK, 2 ERROR.
    #[prost(int32, tag = "3")]
    pub code: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AnyValue {
    #[prost(oneof = "Value", tags = "1, 3")]
    pub value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Value {
    #[prost(string, tag = "1")]
    StringValue(String),
    #[prost(int64, tag = "3")]
    IntValue(i64),
}

fn text(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(v)),
        }),
    }
}

/// The 16 bytes of an X-Ray root `1-<8 hex>-<24 hex>`; None for another form.
pub fn trace_bytes(root: &str) -> Option<Vec<u8>> {
    let mut parts = root.split('-');
    let (Some("1"), Some(time), Some(rest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if time.len() != 8 || rest.len() != 24 {
        return None;
    }
    hex::decode(format!("{time}{rest}")).ok()
}

fn nanos(us: i64) -> u64 {
    u64::try_from(us).unwrap_or(0).saturating_mul(1000)
}

fn otlp_span(s: &Span) -> Option<OtlpSpan> {
    let parent = match &s.parent_id {
        Some(p) => hex::decode(p).ok()?,
        None => Vec::new(),
    };
    let mut attributes = vec![
        text("faas.invocation_id", &s.request_id),
        text("faas.version", &s.version),
        int("lambdabox.attempt", s.attempt),
    ];
    if let Some(t) = &s.error_type {
        attributes.push(text("error.type", t));
    }
    let ok = s.status == "success";
    Some(OtlpSpan {
        trace_id: trace_bytes(&s.trace_id)?,
        span_id: hex::decode(&s.span_id).ok()?,
        parent_span_id: parent,
        name: s.name.clone(),
        kind: if s.parent_id.is_none() { 2 } else { 1 },
        start_time_unix_nano: nanos(s.start_us),
        end_time_unix_nano: nanos(s.end_us),
        attributes,
        status: Some(Status {
            message: if ok {
                String::new()
            } else {
                s.error_type.clone().unwrap_or_else(|| s.status.clone())
            },
            code: if ok { 1 } else { 2 },
        }),
    })
}

/// The export request for `spans`, one resource per function; spans whose ids are not in
/// X-Ray's form are left out.
pub fn request(spans: &[Span]) -> ExportTraceServiceRequest {
    let mut by_function: BTreeMap<&str, Vec<OtlpSpan>> = BTreeMap::new();
    for s in spans {
        if let Some(o) = otlp_span(s) {
            by_function.entry(&s.function_name).or_default().push(o);
        }
    }
    let resource_spans = by_function
        .into_iter()
        .map(|(function, spans)| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", function),
                    text("faas.name", function),
                    text("cloud.provider", "lambdabox"),
                ],
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lambdabox".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                }),
                spans,
            }],
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct Exporter {
    tx: SyncSender<Vec<Span>>,
    dropped: Arc<AtomicU64>,
}

impl Exporter {
    /// Starts the export thread for `endpoint`.
    pub fn start(endpoint: String) -> std::io::Result<Exporter> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_BATCHES);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || run(&endpoint, rx, &counter))?;
        Ok(Exporter { tx, dropped })
    }

    /// Queues the spans of one invocation; drops (and counts) them when the queue is full.
    pub fn send(&self, spans: Vec<Span>) {
        let n = spans.len() as u64;
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(spans)
        {
            self.dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Spans not delivered since start (queue full, or the collector refused or was down).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn run(endpoint: &str, rx: Receiver<Vec<Span>>, dropped: &AtomicU64) {
    let agent = ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build();
    let mut last_warn: Option<Instant> = None;
    let mut batch: Vec<Span> = Vec::new();
    loop {
        let first = match rx.recv() {
            Ok(s) => s,
            Err(_) => return,
        };
        batch.extend(first);
        let deadline = Instant::now() + FLUSH_EVERY;
        let mut closed = false;
        while batch.len() < MAX_BATCH {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(s) => batch.extend(s),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        let spans = std::mem::take(&mut batch);
        if let Err(why) = post(&agent, endpoint, &spans) {
            dropped.fetch_add(spans.len() as u64, Ordering::Relaxed);
            if last_warn.map_or(true, |t| t.elapsed() >= WARN_EVERY) {
                tracing::warn!(endpoint, error = %why, dropped = dropped.load(Ordering::Relaxed), "cannot export trace spans over OTLP");
                last_warn = Some(Instant::now());
            }
        }
        if closed {
            return;
        }
    }
}

/// Sends one request; retries once, a second later, what OTLP calls retryable (429, 502,
/// 503, 504 and transport errors).
fn post(agent: &ureq::Agent, endpoint: &str, spans: &[Span]) -> Result<(), String> {
    let body = request(spans).encode_to_vec();
    let mut tries = 0;
    loop {
        tries += 1;
        let sent = agent
            .post(endpoint)
            .set("Content-Type", "application/x-protobuf")
            .send_bytes(&body);
        let retryable = match sent {
            Ok(_) => return Ok(()),
            Err(ureq::Error::Status(code, _)) if matches!(code, 429 | 502 | 503 | 504) => {
                format!("the collector answered {code}")
            }
            Err(ureq::Error::Status(code, _)) => {
                return Err(format!("the collector refused the spans with {code}"))
            }
            Err(e) => e.to_string(),
        };
        if tries >= 2 {
            return Err(retryable);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, parent: Option<&str>) -> Span {
        Span {
            trace_id: "1-5759e988-bd862e3fe1be46a994272793".into(),
            span_id: "53995c3f42cd8ad8".into(),
            parent_id: parent.map(str::to_string),
            function_name: "f".into(),
            version: "$LATEST".into(),
            request_id: "r1".into(),
            name: name.into(),
            start_us: 1_000_000,
            end_us: 1_500_000,
            attempt: 1,
            status: if parent.is_none() { "error" } else { "success" }.into(),
            error_type: parent.is_none().then(|| "Unhandled".to_string()),
        }
    }

    #[test]
    fn trace_ids_are_the_xray_root_without_dashes() {
        assert_eq!(
            hex::encode(trace_bytes("1-5759e988-bd862e3fe1be46a994272793").unwrap_or_default()),
            "5759e988bd862e3fe1be46a994272793"
        );
        assert_eq!(trace_bytes("2-5759e988-bd862e3fe1be46a994272793"), None);
        assert_eq!(trace_bytes("1-5759e988-bd86"), None);
    }

    #[test]
    fn request_round_trips_through_the_wire_format() {
        let spans = [
            span("Invocation", None),
            span("Invoke", Some("a1b2c3d4e5f60718")),
        ];
        let req = request(&spans);
        let bytes = req.encode_to_vec();
        let back = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap_or_default();
        assert_eq!(back, req);
        let rs = &back.resource_spans[0];
        let s = &rs.scope_spans[0].spans;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].kind, 2);
        assert_eq!(s[0].start_time_unix_nano, 1_000_000_000);
        assert_eq!(s[0].status.as_ref().map(|x| x.code), Some(2));
        assert_eq!(
            s[1].parent_span_id,
            hex::decode("a1b2c3d4e5f60718").unwrap_or_default()
        );
        assert_eq!(s[1].status.as_ref().map(|x| x.code), Some(1));
    }
}
