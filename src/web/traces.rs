//! The Traces tab: the traced invocations of a function with `TracingConfig: Active`
//! (newest first, one row per attempt), and the spans of one request as a waterfall: its
//! `Invocation` with the wait in a queue, the init of a cold start and the handler's run,
//! every attempt of an async event, and the spans of other functions in the same trace.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::functions::{frame, load};
use super::login::current;
use super::{fmt_time, App, Web, WebError};
use crate::store::traces::{self, Span};

/// Traced invocations listed at most.
const RECENT: usize = 100;

#[derive(Deserialize)]
pub struct TracesQuery {
    request: Option<String>,
}

#[derive(Serialize)]
struct Row {
    time: String,
    request_id: String,
    duration_ms: String,
    attempt: i64,
    status: String,
    error_type: Option<String>,
}

#[derive(Serialize)]
struct Bar {
    name: String,
    function: String,
    depth: usize,
    attempt: i64,
    offset_ms: String,
    duration_ms: String,
    /// Where the bar starts and how wide it is, in percent of the whole trace.
    left: String,
    width: String,
    status: String,
    error_type: Option<String>,
}

fn ms(us: i64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// The waterfall rows of `spans` (oldest first): children under their parent.
fn bars(spans: &[Span]) -> Vec<Bar> {
    let Some(start) = spans.iter().map(|s| s.start_us).min() else {
        return Vec::new();
    };
    let end = spans.iter().map(|s| s.end_us).max().unwrap_or(start);
    let total = (end - start).max(1) as f64;
    let mut ordered: Vec<(usize, &Span)> = Vec::new();
    for root in spans.iter().filter(|s| s.parent_id.is_none()) {
        ordered.push((0, root));
        for child in spans
            .iter()
            .filter(|s| s.parent_id.as_deref() == Some(root.span_id.as_str()))
        {
            ordered.push((1, child));
        }
    }
    ordered
        .into_iter()
        .map(|(depth, s)| Bar {
            name: s.name.clone(),
            function: s.function_name.clone(),
            depth,
            attempt: s.attempt,
            offset_ms: ms(s.start_us - start),
            duration_ms: ms(s.end_us - s.start_us),
            left: format!("{:.2}", (s.start_us - start) as f64 * 100.0 / total),
            width: format!(
                "{:.2}",
                ((s.end_us - s.start_us) as f64 * 100.0 / total).max(0.5)
            ),
            status: s.status.clone(),
            error_type: s.error_type.clone(),
        })
        .collect()
}

/// `GET /ui/functions/{name}/traces?request=`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<TracesQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let found = load(&app, &name).await?;
    let (n, request) = (name.to_string(), q.request.clone());
    let (roots, spans) = app
        .ctx
        .logs
        .call(move |c| {
            let spans = match &request {
                Some(r) => traces::for_request(c, &n, r)?,
                None => Vec::new(),
            };
            Ok((traces::recent_roots(c, &n, RECENT)?, spans))
        })
        .await?;
    let rows: Vec<Row> = roots
        .into_iter()
        .map(|r| Row {
            time: fmt_time(r.start_us / 1000),
            duration_ms: ms(r.end_us - r.start_us),
            request_id: r.request_id,
            attempt: r.attempt,
            status: r.status,
            error_type: r.error_type,
        })
        .collect();
    let mut ctx = frame(&app, &found, "traces");
    ctx.insert("active", &(found.version.config.tracing_mode == "Active"));
    ctx.insert("rows", &rows);
    ctx.insert("request", &q.request);
    ctx.insert("trace_id", &spans.first().map(|s| s.trace_id.clone()));
    ctx.insert("bars", &bars(&spans));
    web.render.page("traces.html", Some(&s), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, id: &str, parent: Option<&str>, start: i64, end: i64) -> Span {
        Span {
            trace_id: "1-65000000-000000000000000000000001".into(),
            span_id: id.into(),
            parent_id: parent.map(str::to_string),
            function_name: "f".into(),
            version: "$LATEST".into(),
            request_id: "r".into(),
            name: name.into(),
            start_us: start,
            end_us: end,
            attempt: 1,
            status: "success".into(),
            error_type: None,
        }
    }

    #[test]
    fn children_follow_their_root_and_bars_scale_to_the_trace() {
        let spans = [
            span("Invocation", "a", None, 1_000, 11_000),
            span("Init", "b", Some("a"), 1_000, 6_000),
            span("Invoke", "c", Some("a"), 6_000, 11_000),
        ];
        let b = bars(&spans);
        let names: Vec<(&str, usize)> = b.iter().map(|x| (x.name.as_str(), x.depth)).collect();
        assert_eq!(names, [("Invocation", 0), ("Init", 1), ("Invoke", 1)]);
        assert_eq!(
            (b[2].left.as_str(), b[2].width.as_str()),
            ("50.00", "50.00")
        );
        assert_eq!(b[2].offset_ms, "5.00");
        assert!(bars(&[]).is_empty());
    }
}
