//! The forms of a queue's page: send a test message (body, delay, and for a FIFO queue the
//! group id and deduplication id), purge (the queue's name typed again to confirm), and
//! redrive a dead-letter queue's messages back to their source queues (a message move task,
//! as StartMessageMoveTask starts it), and delete the queue (its name typed again). Each
//! calls the SQS service exactly as the API does.

use actix_web::{web, HttpRequest, HttpResponse};

use super::form::{FieldErrors, Form};
use super::login::current;
use super::queues::{render, SendValues};
use super::{enc, redirect, App, Web, WebError};
use crate::domain::sqs::SqsError;
use crate::services::sqs::SendInput;

fn back(name: &str, done: &str) -> HttpResponse {
    redirect(&format!("/ui/queues/{}?done={done}", enc(name)))
}

/// Which field of the send form an SQS refusal is about.
fn send_field(e: &SqsError) -> &'static str {
    let m = e.to_string().to_ascii_lowercase();
    if m.contains("groupid") || m.contains("group id") {
        "group_id"
    } else if m.contains("deduplication") {
        "dedup_id"
    } else if m.contains("delay") {
        "delay"
    } else {
        "body"
    }
}

/// `POST /ui/queues/{name}/send`
pub async fn send(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let q = app.sqs.queue(&name).await?;
    let values = SendValues {
        body: f.raw("body").to_string(),
        group_id: f.get("group_id").into(),
        dedup_id: f.get("dedup_id").into(),
        delay: f.get("delay").into(),
    };
    let mut errors = FieldErrors::default();
    let delay = if values.delay.is_empty() {
        None
    } else {
        Some(f.number(
            "delay",
            0..=900,
            "The delay is a whole number of seconds from 0 to 900 (15 minutes).",
            &mut errors,
        ))
    };
    if values.body.is_empty() {
        errors.add(
            "body",
            "Write a message body: SQS refuses an empty message.",
        );
    }
    let some = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
    let mut input = SendInput {
        body: values.body.clone(),
        delay_seconds: delay,
        ..SendInput::default()
    };
    if q.attrs.fifo {
        if values.group_id.is_empty() {
            errors.add(
                "group_id",
                "A FIFO queue needs a message group id: messages of one group are delivered in order.",
            );
        }
        input.group_id = some(&values.group_id);
        // Without content-based deduplication a FIFO send needs an id; a test message left
        // without one gets a fresh id (the form says so), so it is never deduplicated away.
        input.dedup_id = some(&values.dedup_id).or_else(|| {
            (!q.attrs.content_based_deduplication).then(|| uuid::Uuid::new_v4().to_string())
        });
    } else if !values.group_id.is_empty() || !values.dedup_id.is_empty() {
        errors.add(
            "group_id",
            "Message group and deduplication ids are for FIFO queues only; leave them empty on a standard queue.",
        );
    }
    if errors.is_empty() {
        let sender = app.sqs.me.account_id.clone();
        match app.sqs.send(&q, input, &sender).await {
            Ok(sent) => {
                tracing::info!(queue = %name, message = %sent.message_id, user = %s.username, "test message sent from the dashboard");
                return Ok(back(&name, "sent"));
            }
            Err(e @ SqsError::Internal(_)) => return Err(e.into()),
            Err(e) => errors.add(send_field(&e), &e.to_string()),
        }
    }
    render(&app, &web, &req, &name, Some(values), &errors).await
}

/// `POST /ui/queues/{name}/purge`: the name must be typed again to confirm.
pub async fn purge(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let q = app.sqs.queue(&name).await?;
    let mut errors = FieldErrors::default();
    if f.get("confirm_name") != name.as_str() {
        errors.add(
            "purge",
            &format!(
                "To purge the queue, type its name ({}) in the confirmation box. Nothing was deleted.",
                name.as_str()
            ),
        );
    } else {
        match app.sqs.purge(&q).await {
            Ok(()) => {
                tracing::info!(queue = %name, user = %s.username, "queue purged from the dashboard");
                return Ok(back(&name, "purged"));
            }
            Err(e @ SqsError::Internal(_)) => return Err(e.into()),
            Err(e) => errors.add("purge", &e.to_string()),
        }
    }
    render(&app, &web, &req, &name, None, &errors).await
}

/// `POST /ui/queues/{name}/redrive`: moves the dead-letter queue's messages back to the
/// queues they came from.
pub async fn redrive(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let q = app.sqs.queue(&name).await?;
    let arn = app.sqs.arn(q.name());
    let mut errors = FieldErrors::default();
    match app.sqs.start_move(&arn, None, None).await {
        Ok(handle) => {
            tracing::info!(queue = %name, task = %handle, user = %s.username, "redrive started from the dashboard");
            return Ok(back(&name, "redrive"));
        }
        Err(e @ SqsError::Internal(_)) => return Err(e.into()),
        Err(e) => errors.add("redrive", &e.to_string()),
    }
    render(&app, &web, &req, &name, None, &errors).await
}

/// `POST /ui/queues/{name}/delete`: the name must be typed again to confirm; the queue and
/// its messages are gone, as DeleteQueue does.
pub async fn delete(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let q = app.sqs.queue(&name).await?;
    let mut errors = FieldErrors::default();
    if f.get("confirm_name") != name.as_str() {
        errors.add(
            "delete",
            &format!(
                "To delete the queue, type its name ({}) in the confirmation box. Nothing was deleted.",
                name.as_str()
            ),
        );
    } else {
        match app.sqs.delete_queue(&q).await {
            Ok(()) => {
                app.pollers.changed();
                tracing::info!(queue = %name, user = %s.username, "queue deleted from the dashboard");
                return Ok(redirect("/ui/queues?done=deleted"));
            }
            Err(e @ SqsError::Internal(_)) => return Err(e.into()),
            Err(e) => errors.add("delete", &e.to_string()),
        }
    }
    render(&app, &web, &req, &name, None, &errors).await
}
