//! The Logs tab: the function's log streams, the events of one stream (or the newest of the
//! group), a search with filter patterns, a time range and pages ([`super::logs_search`]),
//! and a live tail as server-sent events.
//!
//! The tail polls the store every [`POLL`] for events after the last one sent (the log
//! writer commits batches every 50 ms) and sends each as an SSE message whose `id` is the
//! event id, so a reconnecting `EventSource` resumes where it stopped (`Last-Event-ID`).
//! A tail stream ends after [`MAX_TAIL`] (the browser reconnects), so that a forgotten tab
//! cannot hold the daemon's shutdown.

use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::functions::{frame, load};
use super::login::current;
use super::{fmt_time, App, Web, WebError};
use crate::store::logs;

/// How often the live tail looks for new events.
pub const POLL: Duration = Duration::from_millis(400);
/// How long one tail connection lasts.
pub const MAX_TAIL: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
pub struct LogsQuery {
    stream: Option<String>,
    /// A CloudWatch Logs filter pattern.
    filter: Option<String>,
    /// One of `logs_search::RANGES`.
    range: Option<String>,
    /// The next page of a search.
    token: Option<String>,
}

#[derive(Serialize)]
struct StreamRow {
    name: String,
    last_event: String,
}

#[derive(Serialize)]
struct Line {
    time: String,
    stream: String,
    message: String,
}

/// `GET /ui/functions/{name}/logs?stream=`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<LogsQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let found = load(&app, &name).await?;
    let group = found.version.config.log_group(&name);
    let stream = q.stream.clone();
    let g = group.clone();
    let (streams, events, last_id) = app
        .ctx
        .logs
        .call(move |c| {
            Ok((
                logs::streams(c, &g, 50)?,
                match &stream {
                    Some(st) => logs::recent_in_stream(c, &g, st, 300)?,
                    None => logs::recent_events(c, &g, 300)?,
                },
                logs::last_event_id(c)?,
            ))
        })
        .await?;
    let masker = super::env_table::Masker::of(&app, &name).await;
    let mut ctx = frame(&app, &found, "logs");
    let searching = q.filter.is_some() || q.range.is_some() || q.token.is_some();
    let pattern = q.filter.clone().unwrap_or_default();
    let range = q.range.clone().unwrap_or_else(|| "1h".into());
    let mut status = actix_web::http::StatusCode::OK;
    if searching {
        let mut r = super::logs_search::search(
            &app,
            &group,
            q.stream.as_deref(),
            &pattern,
            &range,
            q.token.as_deref(),
        )
        .await?;
        if r.pattern_error.is_some() {
            status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        }
        for h in &mut r.hits {
            h.message = masker.mask(&h.message);
        }
        ctx.insert("hits", &r.hits);
        ctx.insert("next_token", &r.next);
        ctx.insert("pattern_error", &r.pattern_error);
    }
    ctx.insert("searching", &searching);
    ctx.insert("filter", &pattern);
    ctx.insert("range", &range);
    ctx.insert(
        "ranges",
        &super::logs_search::RANGES
            .iter()
            .map(|(id, label, _)| (*id, *label))
            .collect::<Vec<_>>(),
    );
    ctx.insert("group", &group);
    ctx.insert("stream", &q.stream);
    ctx.insert(
        "streams",
        &streams
            .into_iter()
            .map(|s| StreamRow {
                last_event: fmt_time(s.last_event_ms.unwrap_or(s.created_ms)),
                name: s.name,
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "events",
        &events
            .into_iter()
            .map(|e| Line {
                time: fmt_time(e.ts_ms),
                stream: e.stream,
                message: masker.mask(&e.message),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("last_id", &last_id);
    web.render
        .page_status(status, "logs.html", Some(&s), &mut ctx)
}

#[derive(Deserialize)]
pub struct TailQuery {
    after: Option<i64>,
}

/// `GET /ui/functions/{name}/logs/tail?after=ID`: `text/event-stream`.
pub async fn tail(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<TailQuery>,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let found = load(&app, &name).await?;
    let group = found.version.config.log_group(&name);
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .or(q.after);
    let after = match resume {
        Some(a) => a,
        None => app.ctx.logs.call(|c| logs::last_event_id(c)).await?,
    };
    let masker = super::env_table::Masker::of(&app, &name).await;
    let store = app.ctx.logs.clone();
    let deadline = Instant::now() + MAX_TAIL;
    let stream = futures_util::stream::unfold(
        (store, group, after, true, masker),
        move |(store, group, after, first, masker)| async move {
            if !first {
                actix_web::rt::time::sleep(POLL).await;
            }
            if Instant::now() > deadline {
                return None;
            }
            let g = group.clone();
            let events = store
                .call(move |c| logs::events(c, &g, None, after, 0, 500))
                .await
                .ok()?;
            let mut next = after;
            let mut buf = String::new();
            if first {
                buf.push_str("retry: 1000\n\n");
            }
            for e in events {
                next = e.id;
                let data = serde_json::json!({
                    "time": fmt_time(e.ts_ms),
                    "stream": e.stream,
                    "message": masker.mask(&e.message),
                });
                buf.push_str(&format!("id: {}\ndata: {}\n\n", e.id, data));
            }
            if buf.is_empty() {
                buf.push_str(": idle\n\n");
            }
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(buf)),
                (store, group, next, false, masker),
            ))
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
