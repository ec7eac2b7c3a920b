//! The Queues page: every SQS queue with its depth (visible, in flight, delayed), the age of
//! its oldest message, FIFO flag and dead-letter queue; and one queue's page with its
//! settings, the queues that use it as their dead-letter queue, its recent redrive tasks and
//! a peek at its oldest messages (read only: a peek is not a receive). The forms of the
//! queue page (send, purge, redrive) are in [`super::queue_actions`].

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::async_config::age;
use super::form::FieldErrors;
use super::login::current;
use super::queue_create::CreateQueueValues;
use super::session::Session;
use super::{enc, fmt_time, App, Web, WebError};
use crate::domain::function::now_ms;
use crate::services::sqs::Queue;
use crate::store::queues::admin::Counts;
use crate::store::queues::messages::StoredMessage;

/// Most messages one peek shows.
pub const MAX_PEEK: i64 = 50;

#[derive(Serialize)]
struct Row {
    name: String,
    fifo: bool,
    visible: i64,
    in_flight: i64,
    delayed: i64,
    oldest: String,
    dlq: Option<String>,
    max_receive_count: Option<i64>,
}

fn oldest(c: &Counts, now: i64) -> String {
    c.oldest_sent_ms
        .map(|ms| age(now - ms))
        .unwrap_or_else(|| "–".into())
}

/// `GET /ui/queues`
pub async fn list(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    render_list(&app, &web, &req, &s, None, &FieldErrors::default()).await
}

/// Renders the Queues page; `values` and `errors` come from a refused create form.
pub async fn render_list(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    s: &Session,
    values: Option<CreateQueueValues>,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let now = now_ms();
    let rows: Vec<Row> = app
        .sqs
        .overview()
        .await?
        .into_iter()
        .map(|(q, c)| Row {
            name: q.row.name.clone(),
            fifo: q.attrs.fifo,
            visible: c.visible,
            in_flight: c.in_flight,
            delayed: c.delayed,
            oldest: oldest(&c, now),
            dlq: q.attrs.redrive_policy.as_ref().map(|r| r.target.clone()),
            max_receive_count: q.attrs.redrive_policy.as_ref().map(|r| r.max_receive_count),
        })
        .collect();
    let flash = if req.query_string().contains("done=deleted") {
        "Queue deleted with its messages."
    } else {
        ""
    };
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "queues");
    ctx.insert("rows", &rows);
    ctx.insert("flash", flash);
    ctx.insert("v", &values.unwrap_or_default());
    ctx.insert("errors", &errors.0);
    web.render
        .page_status(errors.status(), "queues.html", Some(s), &mut ctx)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// How many messages to peek at (none without it).
    peek: Option<String>,
    /// A flash message after a form (`sent`, `purged`, `redrive`).
    done: Option<String>,
}

#[derive(Serialize)]
struct Message {
    message_id: String,
    sent: String,
    state: &'static str,
    receive_count: i64,
    group_id: Option<String>,
    dedup_id: Option<String>,
    seq: Option<i64>,
    dlq_source: Option<String>,
    body: String,
    attributes: Option<String>,
}

impl Message {
    fn of(m: StoredMessage, now: i64) -> Message {
        let state = if m.visible_ms <= now {
            "visible"
        } else if m.receive_count > 0 {
            "in flight"
        } else {
            "delayed"
        };
        Message {
            message_id: m.message_id,
            sent: fmt_time(m.sent_ms),
            state,
            receive_count: m.receive_count,
            group_id: m.group_id,
            dedup_id: m.dedup_id,
            seq: m.seq,
            dlq_source: m.dlq_source,
            body: m.body,
            attributes: m.attributes,
        }
    }
}

#[derive(Serialize)]
struct Task {
    status: String,
    moved: i64,
    to_move: i64,
    destination: String,
    started: String,
    failure: String,
}

#[derive(Serialize)]
struct Detail {
    name: String,
    name_enc: String,
    arn: String,
    url: String,
    fifo: bool,
    content_dedup: bool,
    visible: i64,
    in_flight: i64,
    delayed: i64,
    oldest: String,
    visibility_timeout: i64,
    delay_seconds: i64,
    retention: String,
    max_size: i64,
    dlq: Option<String>,
    max_receive_count: Option<i64>,
    /// Queues whose redrive policy targets this one.
    sources: Vec<String>,
    tasks: Vec<Task>,
}

/// What the send form shows (kept after a refused send).
#[derive(Serialize, Default, Clone)]
pub struct SendValues {
    pub body: String,
    pub group_id: String,
    pub dedup_id: String,
    pub delay: String,
}

/// Renders a queue's page; `values` and `errors` come from a refused form.
pub async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    values: Option<SendValues>,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let q = app.sqs.queue(name).await?;
    let query = web::Query::<ShowQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or(ShowQuery {
            peek: None,
            done: None,
        });
    let detail = detail(app, req, &q).await?;
    let now = now_ms();
    let peek = match query.peek.as_deref() {
        Some(n) => {
            let n = n.trim().parse::<i64>().unwrap_or(10).clamp(1, MAX_PEEK);
            let msgs = app.sqs.peek(&q, n).await?;
            Some(
                msgs.into_iter()
                    .map(|m| Message::of(m, now))
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    let flash = match query.done.as_deref() {
        Some("sent") => "Message sent.",
        Some("purged") => "Queue purged: every message sent before the purge is deleted.",
        Some("redrive") => "Redrive started: the messages move back to their source queues.",
        Some("created") => "Queue created. Send it a test message below, or add it as a trigger on a function's Triggers tab.",
        _ => "",
    };
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "queues");
    ctx.insert("q", &detail);
    ctx.insert("peek", &peek);
    ctx.insert("peek_n", &query.peek.unwrap_or_else(|| "10".into()));
    ctx.insert("max_peek", &MAX_PEEK);
    ctx.insert("flash", flash);
    ctx.insert("v", &values.unwrap_or_default());
    ctx.insert("errors", &errors.0);
    web.render
        .page_status(errors.status(), "queue.html", Some(&s), &mut ctx)
}

async fn detail(app: &App, req: &HttpRequest, q: &Queue) -> Result<Detail, WebError> {
    let c = app.sqs.counts(q).await?;
    let arn = app.sqs.arn(q.name());
    let sources = app.sqs.dead_letter_sources(q).await?;
    let tasks = if sources.is_empty() {
        Vec::new()
    } else {
        app.sqs
            .list_moves(&arn, Some(10))
            .await?
            .into_iter()
            .map(|t| Task {
                status: t.task.status,
                moved: t.task.moved,
                to_move: t.task.to_move,
                destination: t
                    .task
                    .destination
                    .unwrap_or_else(|| "the source queues".into()),
                started: fmt_time(t.task.started_ms),
                failure: t.task.failure.unwrap_or_default(),
            })
            .collect()
    };
    let a = &q.attrs;
    let host = req.connection_info().host().to_string();
    Ok(Detail {
        name: q.name().to_string(),
        name_enc: enc(q.name()),
        url: crate::domain::sqs::queue_url(&app.sqs.me, &host, q.name()),
        arn,
        fifo: a.fifo,
        content_dedup: a.content_based_deduplication,
        visible: c.visible,
        in_flight: c.in_flight,
        delayed: c.delayed,
        oldest: oldest(&c, now_ms()),
        visibility_timeout: a.visibility_timeout,
        delay_seconds: a.delay_seconds,
        retention: age(a.message_retention_period * 1000),
        max_size: a.maximum_message_size,
        dlq: a.redrive_policy.as_ref().map(|r| r.target.clone()),
        max_receive_count: a.redrive_policy.as_ref().map(|r| r.max_receive_count),
        sources,
        tasks,
    })
}

/// `GET /ui/queues/{name}?peek=N&done=…`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    render(&app, &web, &req, &name, None, &FieldErrors::default()).await
}
