//! `GET /metrics`: the function metrics, the asynchronous queue's figures and the log
//! writer's health in the Prometheus text exposition format (0.0.4), named by Prometheus
//! conventions (`lambdabox_` prefix, `_total` counters, durations in seconds) and labelled by
//! `function` and `version` (async figures: `function`, and `reason` for drops; event source
//! mapping counts: `event_source_mapping` and `function`).
//!
//! Access: with `metrics.token` set, only `Authorization: Bearer <token>` (401 otherwise);
//! without it, only loopback clients (403 otherwise). Counters count since the daemon started.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::engine::capacity::metrics::AsyncTotal;
use crate::engine::function_metrics::{PromHistogram, Total, BUCKETS_SECS};
use crate::engine::logwriter::GroupDrops;
use crate::triggers::esm::metrics::Total as EsmTotal;

/// The log writer's figures.
pub struct LogFigures {
    /// Lines and records dropped because the channel was full, all groups.
    pub dropped: u64,
    pub queued: usize,
    /// What each log group lost.
    pub groups: Vec<(String, GroupDrops)>,
}

/// The content type Prometheus scrapers expect.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why a scrape is refused, or None to serve it.
fn refusal(req: &HttpRequest, token: Option<&str>) -> Option<HttpResponse> {
    match token {
        Some(want) => {
            let given = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if bool::from(given.as_bytes().ct_eq(want.as_bytes())) {
                None
            } else {
                Some(
                    HttpResponse::Unauthorized()
                        .insert_header(("WWW-Authenticate", "Bearer realm=\"lambdabox metrics\""))
                        .content_type("text/plain")
                        .body("a valid bearer token (metrics.token) is required\n"),
                )
            }
        }
        None => {
            let loopback = req
                .peer_addr()
                .map(|a| match a.ip() {
                    IpAddr::V4(ip) => ip.is_loopback(),
                    IpAddr::V6(ip) => {
                        ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                    }
                })
                .unwrap_or(false);
            (!loopback).then(|| {
                HttpResponse::Forbidden()
                    .content_type("text/plain")
                    .body("/metrics answers loopback clients only; set metrics.token to scrape it from elsewhere\n")
            })
        }
    }
}

/// A label value escaped as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &PromHistogram) {
    let mut cumulative = 0;
    for (i, le) in BUCKETS_SECS.iter().enumerate() {
        cumulative += h.buckets.get(i).copied().unwrap_or(0);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum_secs);
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
}

/// A counter's name, help text and value.
type Counter = (&'static str, &'static str, fn(&Total) -> u64);

/// The asynchronous queue's families: AsyncEventsReceived, AsyncEventsDropped and
/// AsyncEventAge under Prometheus names.
fn render_async(out: &mut String, totals: &[(String, AsyncTotal)]) {
    header(
        out,
        "lambdabox_async_events_received_total",
        "counter",
        "Events the asynchronous queue accepted for a function (AsyncEventsReceived).",
    );
    for (f, t) in totals {
        let _ = writeln!(
            out,
            "lambdabox_async_events_received_total{{function=\"{}\"}} {}",
            label(f),
            t.received
        );
    }
    header(
        out,
        "lambdabox_async_events_dropped_total",
        "counter",
        "Events given up without a successful invocation, by reason (AsyncEventsDropped).",
    );
    for (f, t) in totals {
        for (reason, n) in &t.dropped {
            let _ = writeln!(
                out,
                "lambdabox_async_events_dropped_total{{function=\"{}\",reason=\"{}\"}} {n}",
                label(f),
                label(reason)
            );
        }
    }
    header(
        out,
        "lambdabox_async_event_age_seconds",
        "histogram",
        "Time from queueing an event to the start of each of its attempts (AsyncEventAge).",
    );
    for (f, t) in totals {
        if t.age.count > 0 {
            let l = format!("function=\"{}\"", label(f));
            histogram(out, "lambdabox_async_event_age_seconds", &l, &t.age);
        }
    }
}

/// The exposition text of `totals`, the asynchronous queue's and the log writer's figures.
pub fn render(
    totals: &[((String, String), Total)],
    async_totals: &[(String, AsyncTotal)],
    logs: &LogFigures,
) -> String {
    let (dropped, queued) = (logs.dropped, logs.queued);
    let mut out = String::new();
    let labels: Vec<String> = totals
        .iter()
        .map(|((f, v), _)| format!("function=\"{}\",version=\"{}\"", label(f), label(v)))
        .collect();
    let counters: [Counter; 3] = [
        (
            "lambdabox_invocations_total",
            "Invocations of a function version.",
            |t| t.invocations,
        ),
        (
            "lambdabox_errors_total",
            "Invocations that ended in an error.",
            |t| t.errors,
        ),
        (
            "lambdabox_cold_starts_total",
            "Invocations that started a new execution environment.",
            |t| t.cold_starts,
        ),
    ];
    for (name, help, get) in counters {
        header(&mut out, name, "counter", help);
        for (l, (_, t)) in labels.iter().zip(totals) {
            let _ = writeln!(out, "{name}{{{l}}} {}", get(t));
        }
    }
    header(
        &mut out,
        "lambdabox_duration_seconds",
        "histogram",
        "Invocation duration.",
    );
    for (l, (_, t)) in labels.iter().zip(totals) {
        histogram(&mut out, "lambdabox_duration_seconds", l, &t.duration);
    }
    header(
        &mut out,
        "lambdabox_init_duration_seconds",
        "histogram",
        "Init duration of cold starts.",
    );
    for (l, (_, t)) in labels.iter().zip(totals) {
        histogram(&mut out, "lambdabox_init_duration_seconds", l, &t.init);
    }
    render_async(&mut out, async_totals);
    header(
        &mut out,
        "lambdabox_log_lines_dropped_total",
        "counter",
        "Function log lines and invocation records dropped because the log database could not keep up.",
    );
    let _ = writeln!(out, "lambdabox_log_lines_dropped_total {dropped}");
    header(
        &mut out,
        "lambdabox_log_queue_depth",
        "gauge",
        "Function log lines and invocation records waiting to be written.",
    );
    let _ = writeln!(out, "lambdabox_log_queue_depth {queued}");
    type GroupCounter = (&'static str, &'static str, fn(&GroupDrops) -> u64);
    let per_group: [GroupCounter; 3] = [
        (
            "lambdabox_log_truncated_lines_total",
            "Function output lines dropped over logs.max_bytes_per_invocation, per log group.",
            |g| g.truncated_lines,
        ),
        (
            "lambdabox_log_queue_dropped_lines_total",
            "Function output lines dropped because the log database could not keep up, per log group.",
            |g| g.queue_dropped_lines,
        ),
        (
            "lambdabox_log_quota_pruned_events_total",
            "Oldest log events deleted to keep a log group within logs.max_bytes_per_group.",
            |g| g.quota_pruned_events,
        ),
    ];
    for (name, help, get) in per_group {
        header(&mut out, name, "counter", help);
        for (g, d) in &logs.groups {
            let _ = writeln!(out, "{name}{{log_group=\"{}\"}} {}", label(g), get(d));
        }
    }
    out
}

/// The event source mapping families (PolledEventCount … DeletedEventCount under Prometheus
/// names), counted for every mapping whatever its MetricsConfig.
pub fn render_esm(totals: &[(String, EsmTotal)]) -> String {
    const FAMILIES: [(&str, &str); 5] = [
        (
            "lambdabox_esm_polled_events_total",
            "Messages an event source mapping received from its queue (PolledEventCount).",
        ),
        (
            "lambdabox_esm_filtered_out_events_total",
            "Messages no FilterCriteria pattern matched, deleted unprocessed (FilteredOutEventCount).",
        ),
        (
            "lambdabox_esm_invoked_events_total",
            "Messages in batches the function was invoked with (InvokedEventCount).",
        ),
        (
            "lambdabox_esm_failed_invoke_events_total",
            "Messages of failed batches or reported as batch item failures (FailedInvokeEventCount).",
        ),
        (
            "lambdabox_esm_deleted_events_total",
            "Messages deleted after the function processed them (DeletedEventCount).",
        ),
    ];
    let mut out = String::new();
    for (i, (name, help)) in FAMILIES.iter().enumerate() {
        header(&mut out, name, "counter", help);
        for (uuid, t) in totals {
            let _ = writeln!(
                out,
                "{name}{{event_source_mapping=\"{}\",function=\"{}\"}} {}",
                label(uuid),
                label(&t.function),
                t.counts.get(i).copied().unwrap_or(0)
            );
        }
    }
    out
}

/// `GET /metrics`.
pub async fn serve(state: web::Data<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    if let Some(no) = refusal(&req, state.ctx.config.metrics.token.as_deref()) {
        return no;
    }
    let w = state.engine.log_writer();
    let async_totals = state.engine.metrics().async_totals();
    let logs = LogFigures {
        dropped: w.dropped(),
        queued: w.queued(),
        groups: w.group_drops(),
    };
    let mut body = render(&w.totals().snapshot(), &async_totals, &logs);
    body.push_str(&render_esm(&state.pollers.metric_totals()));
    body.push_str(&crate::engine::spares::prometheus(&state.engine.spares()));
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_escapes_labels() {
        let mut t = Total {
            invocations: 3,
            errors: 1,
            ..Total::default()
        };
        t.duration = PromHistogram {
            buckets: vec![1, 2],
            sum_secs: 0.01,
            count: 3,
        };
        let mut a = AsyncTotal {
            received: 4,
            ..AsyncTotal::default()
        };
        a.dropped.insert("EventAgeExceeded".into(), 1);
        a.age.observe(0.02);
        let text = render(
            &[(("a\"b".into(), "$LATEST".into()), t)],
            &[("f".into(), a)],
            &LogFigures {
                dropped: 7,
                queued: 2,
                groups: vec![(
                    "/aws/lambda/f".into(),
                    GroupDrops {
                        truncated_lines: 9,
                        ..GroupDrops::default()
                    },
                )],
            },
        );
        assert!(text.contains("lambdabox_log_truncated_lines_total{log_group=\"/aws/lambda/f\"} 9"));
        assert!(text.contains("lambdabox_async_events_received_total{function=\"f\"} 4"));
        assert!(text.contains(
            "lambdabox_async_events_dropped_total{function=\"f\",reason=\"EventAgeExceeded\"} 1"
        ));
        assert!(text.contains("lambdabox_async_event_age_seconds_count{function=\"f\"} 1"));
        assert!(
            text.contains("lambdabox_invocations_total{function=\"a\\\"b\",version=\"$LATEST\"} 3")
        );
        assert!(text.contains("le=\"0.005\"} 3"));
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("lambdabox_log_lines_dropped_total 7"));
        assert!(text.contains("lambdabox_log_queue_depth 2"));
        let esm = render_esm(&[(
            "u-1".into(),
            EsmTotal {
                function: "f".into(),
                counts: [5, 1, 4, 2, 2],
            },
        )]);
        assert!(esm.contains(
            "lambdabox_esm_failed_invoke_events_total{event_source_mapping=\"u-1\",function=\"f\"} 2"
        ));
        assert!(esm.contains("# TYPE lambdabox_esm_polled_events_total counter"));
    }
}
