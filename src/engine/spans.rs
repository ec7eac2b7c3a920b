//! Trace spans of invocations of functions with `TracingConfig: Active`: the runtime's trace
//! header is marked sampled, and every invocation (each async attempt on its own) leaves a
//! root `Invocation` span with its children `Queue` (the wait in the async queue or an event
//! source's queue), `Init` (a cold start's init) and `Invoke` (the handler), in the log
//! database, in the OTLP exporter's queue when one is configured, and an `XRAY` line after
//! REPORT as AWS writes it. An asynchronous attempt's deliveries to its destinations (OnSuccess,
//! OnFailure, the dead-letter queue) add a `Destination` child to that attempt's root
//! ([`TraceRef::child`]), after the root has ended.

use std::time::Duration;

use super::report::Status;
use crate::domain::trace::TraceHeader;
use crate::store::traces::Span;

/// How an invocation waited before it ran: since when (ms since the epoch) and which
/// attempt of its event this is (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub since_ms: i64,
    pub attempt: u32,
}

/// The trace context of one traced invocation.
#[derive(Debug, Clone)]
pub struct Traced {
    /// The X-Ray root, `1-<8 hex>-<24 hex>`.
    pub root: String,
    /// When the engine took the request (µs since the epoch).
    pub received_us: i64,
    pub queued: Option<Queued>,
}

/// Where the invocation spent its time.
#[derive(Debug, Clone, Copy)]
pub struct Phases {
    /// A cold start's init, which ended when the invoke began (or the invocation ended,
    /// for a failed init).
    pub init: Option<Duration>,
    /// When the handler got the event; None when it never did (a failed init).
    pub invoke_start_us: Option<i64>,
    pub end_us: i64,
}

/// Who the spans belong to.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub function: &'a str,
    pub version: &'a str,
    pub request_id: &'a str,
}

/// Where a traced invocation's spans hang: its trace and root span, for spans recorded after
/// it (destination deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRef {
    pub root: String,
    pub span_id: String,
    pub attempt: i64,
}

impl TraceRef {
    /// A child span of the root: `name` from `start_us` to `end_us`, `error_type` when it
    /// failed.
    pub fn child(
        &self,
        owner: Owner<'_>,
        name: &str,
        (start_us, end_us): (i64, i64),
        error_type: Option<String>,
    ) -> Span {
        Span {
            trace_id: self.root.clone(),
            span_id: span_id(),
            parent_id: Some(self.span_id.clone()),
            function_name: owner.function.to_string(),
            version: owner.version.to_string(),
            request_id: owner.request_id.to_string(),
            name: name.to_string(),
            start_us,
            end_us: end_us.max(start_us),
            attempt: self.attempt,
            status: if error_type.is_some() {
                "error"
            } else {
                "success"
            }
            .to_string(),
            error_type,
        }
    }
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A 16-hex span id.
pub fn span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// `header` with `Sampled=1` (replacing any `Sampled=` value), as the runtime of a traced
/// function gets it.
pub fn sampled(header: &str) -> String {
    let mut parts: Vec<String> = header
        .split(';')
        .filter(|p| !p.trim().is_empty() && !p.trim().starts_with("Sampled="))
        .map(str::to_string)
        .collect();
    let at = parts
        .iter()
        .position(|p| p.trim().starts_with("Lineage="))
        .unwrap_or(parts.len());
    parts.insert(at, "Sampled=1".into());
    parts.join(";")
}

impl Traced {
    /// The context of an invocation whose runtime header is `header` (already sampled).
    pub fn new(header: &str, received_us: i64, queued: Option<Queued>) -> Traced {
        let root = TraceHeader::parse(header)
            .map(|t| t.root)
            .unwrap_or_else(|| TraceHeader::new_root(received_us / 1_000_000).root);
        Traced {
            root,
            received_us,
            queued,
        }
    }

    /// The spans of the invocation; the first is the root.
    pub fn spans(&self, owner: Owner<'_>, phases: Phases, status: &Status) -> Vec<Span> {
        let (word, error_type) = outcome(status);
        let attempt = i64::from(self.queued.map_or(1, |q| q.attempt));
        let root_id = span_id();
        let make = |name: &str, parent: Option<&str>, start_us: i64, end_us: i64, ok: bool| Span {
            trace_id: self.root.clone(),
            span_id: if parent.is_none() {
                root_id.clone()
            } else {
                span_id()
            },
            parent_id: parent.map(str::to_string),
            function_name: owner.function.to_string(),
            version: owner.version.to_string(),
            request_id: owner.request_id.to_string(),
            name: name.to_string(),
            start_us,
            end_us: end_us.max(start_us),
            attempt,
            status: if ok { "success" } else { word }.to_string(),
            error_type: if ok { None } else { error_type.clone() },
        };
        let queue_start = self
            .queued
            .map(|q| q.since_ms.saturating_mul(1000).min(self.received_us));
        let start = queue_start.unwrap_or(self.received_us);
        let mut out = vec![make("Invocation", None, start, phases.end_us, false)];
        if let Some(q) = queue_start {
            out.push(make("Queue", Some(&root_id), q, self.received_us, true));
        }
        let init_end = phases.invoke_start_us.unwrap_or(phases.end_us);
        if let Some(init) = phases.init {
            let us = i64::try_from(init.as_micros()).unwrap_or(i64::MAX);
            // A failed init is the failure; a finished one succeeded.
            let ok = phases.invoke_start_us.is_some();
            out.push(make(
                "Init",
                Some(&root_id),
                init_end.saturating_sub(us).max(start),
                init_end,
                ok,
            ));
        }
        if let Some(t0) = phases.invoke_start_us {
            out.push(make("Invoke", Some(&root_id), t0, phases.end_us, false));
        }
        out
    }
}

/// The span status of an outcome: `success`, `error` or `timeout`, and the error type.
fn outcome(status: &Status) -> (&'static str, Option<String>) {
    match status {
        Status::Success => ("success", None),
        Status::Timeout => ("timeout", status.error_type()),
        Status::FunctionError(_) | Status::Error(_) => ("error", status.error_type()),
    }
}

/// The line AWS writes after REPORT for a traced invocation.
pub fn xray_line(root: &str, segment_id: &str) -> String {
    format!("XRAY TraceId: {root}\tSegmentId: {segment_id}\tSampled: true")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Owner<'static> = Owner {
        function: "f",
        version: "$LATEST",
        request_id: "r1",
    };

    #[test]
    fn sampled_replaces_or_adds_the_flag_before_lineage() {
        assert_eq!(
            sampled("Root=1-a-b;Parent=c;Sampled=0"),
            "Root=1-a-b;Parent=c;Sampled=1"
        );
        assert_eq!(
            sampled("Root=1-a-b;Parent=c;Lineage=ab12cd34:1"),
            "Root=1-a-b;Parent=c;Sampled=1;Lineage=ab12cd34:1"
        );
    }

    #[test]
    fn root_comes_from_the_header() {
        let t = Traced::new(
            "Root=1-65000000-000000000000000000000001;Sampled=1",
            5,
            None,
        );
        assert_eq!(t.root, "1-65000000-000000000000000000000001");
        let fresh = Traced::new("junk", 1_700_000_000_000_000, None);
        assert!(fresh.root.starts_with("1-6553f100-"), "{}", fresh.root);
    }

    #[test]
    fn a_queued_cold_invocation_has_four_nested_spans() {
        let t = Traced {
            root: "1-65000000-000000000000000000000001".into(),
            received_us: 10_000_000,
            queued: Some(Queued {
                since_ms: 9_000,
                attempt: 2,
            }),
        };
        let phases = Phases {
            init: Some(Duration::from_millis(100)),
            invoke_start_us: Some(10_150_000),
            end_us: 10_200_000,
        };
        let s = t.spans(OWNER, phases, &Status::FunctionError("Unhandled".into()));
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Invocation", "Queue", "Init", "Invoke"]);
        assert_eq!((s[0].start_us, s[0].end_us), (9_000_000, 10_200_000));
        assert!(s[0].parent_id.is_none());
        assert!(s[1..]
            .iter()
            .all(|c| c.parent_id.as_deref() == Some(s[0].span_id.as_str())));
        assert_eq!((s[1].start_us, s[1].end_us), (9_000_000, 10_000_000));
        assert_eq!((s[2].start_us, s[2].end_us), (10_050_000, 10_150_000));
        assert_eq!(s[2].status, "success");
        assert_eq!(s[3].status, "error");
        assert_eq!(s[3].error_type.as_deref(), Some("Unhandled"));
        assert!(s.iter().all(|x| x.attempt == 2));
    }

    #[test]
    fn children_of_a_root_recorded_later() {
        let t = TraceRef {
            root: "1-65000000-000000000000000000000001".into(),
            span_id: "00000000000000aa".into(),
            attempt: 2,
        };
        let ok = t.child(OWNER, "Destination", (5, 9), None);
        assert_eq!(ok.parent_id.as_deref(), Some("00000000000000aa"));
        assert_eq!(
            (ok.status.as_str(), ok.attempt, ok.end_us),
            ("success", 2, 9)
        );
        let bad = t.child(OWNER, "Destination", (9, 5), Some("DeliveryFailed".into()));
        assert_eq!((bad.status.as_str(), bad.end_us), ("error", 9));
        assert_ne!(ok.span_id, bad.span_id);
    }

    #[test]
    fn a_failed_init_is_the_failing_span_and_has_no_invoke() {
        let t = Traced::new("Root=1-65000000-000000000000000000000001", 1_000_000, None);
        let phases = Phases {
            init: Some(Duration::from_millis(20)),
            invoke_start_us: None,
            end_us: 1_030_000,
        };
        let s = t.spans(OWNER, phases, &Status::Timeout);
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Invocation", "Init"]);
        assert_eq!(s[1].status, "timeout");
        assert_eq!(s[1].error_type.as_deref(), Some("Sandbox.Timedout"));
        assert_eq!((s[1].start_us, s[1].end_us), (1_010_000, 1_030_000));
    }
}
