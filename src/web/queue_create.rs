//! The Queues page's create form: name, standard or FIFO (with content-based deduplication),
//! visibility timeout, delivery delay, retention, and an optional dead-letter queue with its
//! maximum receive count. It builds the same attribute map `aws sqs create-queue
//! --attributes` sends and calls the SQS service's CreateQueue, so its checks and errors are
//! the API's. A form field the service refuses is marked with the service's own words.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::login::current;
use super::queues::render_list;
use super::{enc, redirect, App, Web, WebError};
use crate::domain::sqs::SqsError;

/// What the create form shows (kept after a refused create).
#[derive(Serialize, Clone)]
pub struct CreateQueueValues {
    pub name: String,
    pub fifo: bool,
    pub content_dedup: bool,
    pub visibility: String,
    pub delay: String,
    pub retention: String,
    pub retention_unit: String,
    pub dlq: String,
    pub max_receives: String,
}

impl Default for CreateQueueValues {
    /// SQS's defaults: 30 s visibility, no delay, 4 days' retention, no dead-letter queue.
    fn default() -> Self {
        CreateQueueValues {
            name: String::new(),
            fifo: false,
            content_dedup: false,
            visibility: "30".into(),
            delay: "0".into(),
            retention: "4".into(),
            retention_unit: "days".into(),
            dlq: String::new(),
            max_receives: "5".into(),
        }
    }
}

/// Seconds per retention unit the form offers.
fn unit_seconds(unit: &str) -> Option<i64> {
    match unit {
        "minutes" => Some(60),
        "hours" => Some(3600),
        "days" => Some(86_400),
        _ => None,
    }
}

/// Which form field an SQS refusal is about.
fn field_of(e: &SqsError) -> &'static str {
    let m = e.to_string();
    if m.contains("RedrivePolicy") || m.contains("dead-letter") || m.contains("Dead letter") {
        "dlq"
    } else if m.contains("VisibilityTimeout") {
        "visibility"
    } else if m.contains("DelaySeconds") {
        "delay"
    } else if m.contains("MessageRetentionPeriod") {
        "retention"
    } else {
        "name"
    }
}

/// The attribute map for `v`, or the fields that are wrong.
fn attributes(
    v: &CreateQueueValues,
    f: &Form,
    errors: &mut FieldErrors,
    dlq_arn: Option<&str>,
) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let visibility = f.number(
        "visibility",
        0..=43_200,
        "The visibility timeout is a whole number of seconds from 0 to 43200 (12 hours).",
        errors,
    );
    let delay = f.number(
        "delay",
        0..=900,
        "The delivery delay is a whole number of seconds from 0 to 900 (15 minutes).",
        errors,
    );
    let retention = match (v.retention.parse::<i64>(), unit_seconds(&v.retention_unit)) {
        (Ok(n), Some(unit)) if (60..=1_209_600).contains(&(n * unit)) => n * unit,
        _ => {
            errors.add(
                "retention",
                "Messages can be kept from 1 minute to 14 days: write a whole number and choose minutes, hours or days.",
            );
            0
        }
    };
    a.insert("VisibilityTimeout".into(), visibility.to_string());
    a.insert("DelaySeconds".into(), delay.to_string());
    a.insert("MessageRetentionPeriod".into(), retention.to_string());
    if v.fifo {
        a.insert("FifoQueue".into(), "true".into());
        if v.content_dedup {
            a.insert("ContentBasedDeduplication".into(), "true".into());
        }
    } else if v.content_dedup {
        errors.add(
            "name",
            "Content-based deduplication is for FIFO queues only: tick FIFO or untick deduplication.",
        );
    }
    if let Some(arn) = dlq_arn {
        let max = f.number(
            "max_receives",
            1..=1000,
            "The maximum receive count is a whole number from 1 to 1000: after that many receives a message moves to the dead-letter queue.",
            errors,
        );
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": max.to_string(),
        });
        a.insert("RedrivePolicy".into(), policy.to_string());
    }
    a
}

impl CreateQueueValues {
    fn from_form(f: &Form) -> CreateQueueValues {
        CreateQueueValues {
            name: f.get("name").trim().to_string(),
            fifo: f.get("fifo") == "on",
            content_dedup: f.get("content_dedup") == "on",
            visibility: f.get("visibility").into(),
            delay: f.get("delay").into(),
            retention: f.get("retention").into(),
            retention_unit: f.get("retention_unit").into(),
            dlq: f.get("dlq").into(),
            max_receives: f.get("max_receives").into(),
        }
    }
}

/// `POST /ui/queues`: creates a queue and opens its page.
pub async fn create(
    app: App,
    web: Web,
    req: HttpRequest,
    body: actix_web::web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let mut v = CreateQueueValues::from_form(&f);
    // A FIFO queue's name ends in .fifo; the form adds it rather than refusing the name.
    if v.fifo && !v.name.is_empty() && !v.name.ends_with(".fifo") {
        v.name.push_str(".fifo");
    }
    let mut errors = FieldErrors::default();
    if v.name.is_empty() {
        errors.add(
            "name",
            "Name the queue: letters, digits, hyphens and underscores, up to 80 characters.",
        );
    }
    let dlq_arn = (!v.dlq.is_empty()).then(|| app.sqs.arn(&v.dlq));
    let attrs = attributes(&v, &f, &mut errors, dlq_arn.as_deref());
    if errors.is_empty() {
        if app.sqs.queue(&v.name).await.is_ok() {
            errors.add(
                "name",
                &format!(
                    "A queue named {} exists already: choose another name.",
                    v.name
                ),
            );
        } else {
            match app.sqs.create_queue(&v.name, attrs, BTreeMap::new()).await {
                Ok(q) => {
                    tracing::info!(queue = %q.name(), user = %s.username, "queue created from the dashboard");
                    return Ok(redirect(&format!(
                        "/ui/queues/{}?done=created",
                        enc(q.name())
                    )));
                }
                Err(e @ SqsError::Internal(_)) => return Err(e.into()),
                Err(e) => errors.add(field_of(&e), &e.to_string()),
            }
        }
    }
    render_list(&app, &web, &req, &s, Some(v), &errors).await
}
