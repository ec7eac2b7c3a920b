//! `GET /metrics`: the function metrics and the log writer's health in the Prometheus text
//! exposition format (0.0.4), named by Prometheus conventions (`lambdabox_` prefix, `_total`
//! counters, durations in seconds) and labelled by `function` and `version`.
//!
//! Access: with `metrics.token` set, only `Authorization: Bearer <token>` (401 otherwise);
//! without it, only loopback clients (403 otherwise). Counters count since the daemon started.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::engine::function_metrics::{PromHistogram, Total, BUCKETS_SECS};

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

/// The exposition text of `totals` and the log writer's figures.
pub fn render(totals: &[((String, String), Total)], dropped: u64, queued: usize) -> String {
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
    out
}

/// `GET /metrics`.
pub async fn serve(state: web::Data<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    if let Some(no) = refusal(&req, state.ctx.config.metrics.token.as_deref()) {
        return no;
    }
    let w = state.engine.log_writer();
    let body = render(&w.totals().snapshot(), w.dropped(), w.queued());
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
        let text = render(&[(("a\"b".into(), "$LATEST".into()), t)], 7, 2);
        assert!(
            text.contains("lambdabox_invocations_total{function=\"a\\\"b\",version=\"$LATEST\"} 3")
        );
        assert!(text.contains("le=\"0.005\"} 3"));
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("lambdabox_log_lines_dropped_total 7"));
        assert!(text.contains("lambdabox_log_queue_depth 2"));
    }
}
