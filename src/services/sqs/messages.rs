//! Messages: SendMessage(Batch), ReceiveMessage with long polling, DeleteMessage(Batch),
//! ChangeMessageVisibility(Batch).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::receipt::{self, Receipt};
use super::{internal, now_ms, Queue, Queues};
use crate::domain::sqs::message::{
    attributes_md5, check_attributes, check_body, md5_hex, AttributeValue, Attributes,
};
use crate::domain::sqs::{SqsError, MAX_BATCH_ENTRIES, MAX_WAIT_SECONDS};
use crate::store::queues::messages::{
    self as store, NewMessage, ReceiveSpec, Redrive, StoredMessage, VisibilityChange,
};

/// One message to send.
#[derive(Debug, Clone, Default)]
pub struct SendInput {
    pub body: String,
    pub delay_seconds: Option<i64>,
    pub attributes: Attributes,
    /// MessageSystemAttributes (only `AWSTraceHeader` exists).
    pub system_attributes: Attributes,
    pub dedup_id: Option<String>,
    pub group_id: Option<String>,
}

/// What a send answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system: Option<String>,
    pub sequence_number: Option<String>,
}

/// One ReceiveMessage.
#[derive(Debug, Clone, Default)]
pub struct ReceiveInput {
    pub max: Option<i64>,
    pub visibility_timeout: Option<i64>,
    pub wait_seconds: Option<i64>,
    pub attempt_id: Option<String>,
}

/// A received message with everything any caller may ask for.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub stored: StoredMessage,
    pub receipt_handle: String,
    pub attributes: Attributes,
    /// Every system attribute (SenderId, SentTimestamp, …); callers pick what was asked.
    pub system: BTreeMap<String, String>,
}

fn check_id(what: &str, v: &str) -> Result<(), SqsError> {
    let ok = !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| (33..=126).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SqsError::invalid(format!(
            "Value {v} for parameter {what} is invalid. Reason: {what} can contain up to 128 alphanumeric and punctuation characters."
        )))
    }
}

/// Message attributes as stored (the wire's JSON shape, binary in base64).
pub fn attributes_to_json(a: &Attributes) -> Option<String> {
    if a.is_empty() {
        return None;
    }
    let mut m = Map::new();
    for (k, v) in a {
        let mut e = Map::new();
        e.insert("DataType".into(), json!(v.data_type));
        if let Some(s) = &v.string_value {
            e.insert("StringValue".into(), json!(s));
        }
        if let Some(b) = &v.binary_value {
            e.insert("BinaryValue".into(), json!(B64.encode(b)));
        }
        m.insert(k.clone(), Value::Object(e));
    }
    Some(Value::Object(m).to_string())
}

/// Reads stored message attributes back.
pub fn attributes_from_json(text: Option<&str>) -> Attributes {
    let mut out = Attributes::new();
    let Some(Ok(Value::Object(m))) = text.map(serde_json::from_str::<Value>) else {
        return out;
    };
    for (k, v) in m {
        out.insert(
            k,
            AttributeValue {
                data_type: v["DataType"].as_str().unwrap_or("String").to_string(),
                string_value: v["StringValue"].as_str().map(String::from),
                binary_value: v["BinaryValue"].as_str().and_then(|b| B64.decode(b).ok()),
            },
        );
    }
    out
}

impl Queues {
    /// Checks one message against its queue and turns it into a row.
    fn prepare(
        &self,
        q: &Queue,
        m: SendInput,
        sender: &str,
        now: i64,
    ) -> Result<(NewMessage, Sent), SqsError> {
        check_body(&m.body)?;
        let attr_bytes = check_attributes(&m.attributes)?;
        for (name, v) in &m.system_attributes {
            if name != "AWSTraceHeader" || v.data_type != "String" || v.string_value.is_none() {
                return Err(SqsError::invalid(format!(
                    "Message system attribute name '{name}' is invalid (only AWSTraceHeader, of type String, can be sent)."
                )));
            }
        }
        let size = m.body.len() + attr_bytes;
        let max = q.attrs.maximum_message_size;
        if size as i64 > max {
            return Err(SqsError::invalid(format!(
                "Message must be shorter than {max} bytes."
            )));
        }
        let delay = match m.delay_seconds {
            Some(d) if q.attrs.fifo => {
                return Err(SqsError::invalid(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
                )))
            }
            Some(d) if !(0..=900).contains(&d) => {
                return Err(SqsError::invalid(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
                )))
            }
            Some(d) => d,
            None => q.attrs.delay_seconds,
        };
        let dedup = if q.attrs.fifo {
            let group = m.group_id.as_deref().ok_or_else(|| {
                SqsError::MissingParameter(
                    "The request must contain the parameter MessageGroupId.".into(),
                )
            })?;
            check_id("MessageGroupId", group)?;
            let id = match &m.dedup_id {
                Some(d) => {
                    check_id("MessageDeduplicationId", d)?;
                    d.clone()
                }
                None if q.attrs.content_based_deduplication => {
                    hex::encode(Sha256::digest(m.body.as_bytes()))
                }
                None => {
                    return Err(SqsError::invalid(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ))
                }
            };
            let scope = if q.attrs.deduplication_scope == "messageGroup" {
                group.to_string()
            } else {
                String::new()
            };
            Some((scope, id))
        } else {
            if m.dedup_id.is_some() {
                return Err(SqsError::invalid(
                    "The request include parameter MessageDeduplicationId that is not valid for this queue type",
                ));
            }
            if let Some(g) = &m.group_id {
                // Standard queues accept a MessageGroupId (fair queues) and keep it.
                check_id("MessageGroupId", g)?;
            }
            None
        };
        let md5_body = md5_hex(m.body.as_bytes());
        let md5_attributes = attributes_md5(&m.attributes);
        let md5_system = attributes_md5(&m.system_attributes);
        let message_id = uuid::Uuid::new_v4().to_string();
        let row = NewMessage {
            message_id: message_id.clone(),
            attributes: attributes_to_json(&m.attributes),
            trace_header: m
                .system_attributes
                .get("AWSTraceHeader")
                .and_then(|v| v.string_value.clone()),
            md5_body: md5_body.clone(),
            md5_attributes: md5_attributes.clone(),
            md5_system: md5_system.clone(),
            sender_id: sender.to_string(),
            sent_ms: now,
            delay_ms: delay * 1000,
            retention_ms: q.attrs.message_retention_period * 1000,
            group_id: m.group_id,
            dedup,
            body: m.body,
        };
        Ok((
            row,
            Sent {
                message_id,
                md5_body,
                md5_attributes,
                md5_system,
                sequence_number: None,
            },
        ))
    }

    /// SendMessage: committed before it returns.
    pub async fn send(&self, q: &Queue, m: SendInput, sender: &str) -> Result<Sent, SqsError> {
        let mut out = self.send_many(q, vec![m], sender).await?;
        out.pop()
            .unwrap_or_else(|| Err(SqsError::Internal("the send produced no result".into())))
    }

    /// Sends several messages in one commit; one result per input, in order.
    pub async fn send_many(
        &self,
        q: &Queue,
        msgs: Vec<SendInput>,
        sender: &str,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let now = now_ms();
        let mut prepared: Vec<Result<(NewMessage, Sent), SqsError>> = msgs
            .into_iter()
            .map(|m| self.prepare(q, m, sender, now))
            .collect();
        let rows: Vec<NewMessage> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(r, _)| r.clone()))
            .collect();
        if rows.is_empty() {
            return Ok(prepared.into_iter().map(|p| p.map(|(_, s)| s)).collect());
        }
        let id = q.row.id;
        let inserted = self
            .db
            .writer
            .run(move |c| {
                rows.iter()
                    .map(|r| store::insert(c, id, r))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    SqsError::no_queue()
                }
                other => internal(other),
            })?;
        self.wake(id);
        let mut inserted = inserted.into_iter();
        let out = prepared
            .drain(..)
            .map(|p| {
                let (_, mut sent) = p?;
                if let Some(ins) = inserted.next() {
                    sent.message_id = ins.message_id;
                    sent.sequence_number = ins.seq.map(|s| format!("{s:020}"));
                }
                Ok(sent)
            })
            .collect();
        Ok(out)
    }

    /// ReceiveMessage, long polling up to `WaitTimeSeconds` (or the queue's
    /// ReceiveMessageWaitTimeSeconds).
    pub async fn receive(
        &self,
        q: &Queue,
        input: ReceiveInput,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let max = input.max.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid(format!(
                "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )));
        }
        let visibility = input
            .visibility_timeout
            .unwrap_or(q.attrs.visibility_timeout);
        if !(0..=43_200).contains(&visibility) {
            return Err(SqsError::invalid(format!(
                "Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
            )));
        }
        let wait = input
            .wait_seconds
            .unwrap_or(q.attrs.receive_message_wait_time_seconds);
        if !(0..=MAX_WAIT_SECONDS).contains(&wait) {
            return Err(SqsError::invalid(format!(
                "Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
            )));
        }
        if let Some(a) = &input.attempt_id {
            if !q.attrs.fifo {
                // Standard queues ignore it on AWS too (documented as FIFO-only).
            } else {
                check_id("ReceiveRequestAttemptId", a)?;
            }
        }
        let attempt = input.attempt_id.filter(|_| q.attrs.fifo);
        self.receive_raw(
            q,
            usize::try_from(max).unwrap_or(1),
            visibility,
            wait * 1000,
            attempt,
        )
        .await
    }

    /// The receive loop shared by ReceiveMessage and the pollers: waits until a message is
    /// available, `wait_ms` passed, or the daemon stops.
    pub async fn receive_raw(
        &self,
        q: &Queue,
        max: usize,
        visibility_s: i64,
        wait_ms: i64,
        attempt_id: Option<String>,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let deadline = now_ms() + wait_ms;
        let redrive = self.redrive_of(q).await;
        let waker = self.waker(q.row.id);
        loop {
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = now_ms();
            let spec = ReceiveSpec {
                queue_id: q.row.id,
                fifo: q.attrs.fifo,
                max,
                visibility_ms: visibility_s * 1000,
                now_ms: now,
                redrive: redrive.clone(),
                attempt_id: attempt_id.clone(),
            };
            let got = self
                .db
                .writer
                .run(move |c| store::receive(c, &spec))
                .await
                .map_err(internal)?;
            if got.moved > 0 {
                if let Some(r) = &redrive {
                    self.wake(r.dlq_id);
                }
            }
            if !got.messages.is_empty() {
                return Ok(got
                    .messages
                    .into_iter()
                    .map(|m| self.received(q, m))
                    .collect());
            }
            let now = now_ms();
            if now >= deadline || self.stopping() {
                return Ok(Vec::new());
            }
            let until = got.next_visible_ms.map_or(deadline, |t| t.min(deadline));
            let sleep = Duration::from_millis(u64::try_from((until - now).max(1)).unwrap_or(1));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = self.stop.notified() => return Ok(Vec::new()),
            }
        }
    }

    async fn redrive_of(&self, q: &Queue) -> Option<Redrive> {
        let rp = q.attrs.redrive_policy.as_ref()?;
        let dlq = self.queue(&rp.target).await.ok()?;
        Some(Redrive {
            dlq_id: dlq.row.id,
            max_receive_count: rp.max_receive_count,
            dlq_retention_ms: dlq.attrs.message_retention_period * 1000,
            dlq_fifo: dlq.attrs.fifo,
            source_name: q.name().to_string(),
        })
    }

    fn received(&self, q: &Queue, m: StoredMessage) -> ReceivedMessage {
        let mut system = BTreeMap::new();
        system.insert("SenderId".to_string(), m.sender_id.clone());
        system.insert("SentTimestamp".to_string(), m.sent_ms.to_string());
        system.insert(
            "ApproximateReceiveCount".to_string(),
            m.receive_count.to_string(),
        );
        if let Some(f) = m.first_receive_ms {
            system.insert(
                "ApproximateFirstReceiveTimestamp".to_string(),
                f.to_string(),
            );
        }
        if let Some(s) = m.seq {
            system.insert("SequenceNumber".to_string(), format!("{s:020}"));
        }
        if let Some(d) = &m.dedup_id {
            system.insert("MessageDeduplicationId".to_string(), d.clone());
        }
        if let Some(g) = &m.group_id {
            system.insert("MessageGroupId".to_string(), g.clone());
        }
        if let Some(t) = &m.trace_header {
            system.insert("AWSTraceHeader".to_string(), t.clone());
        }
        if let Some(src) = &m.dlq_source {
            system.insert("DeadLetterQueueSourceArn".to_string(), self.arn(src));
        }
        ReceivedMessage {
            receipt_handle: receipt::encode(q.row.id, m.row_id, m.receipt.as_deref().unwrap_or("")),
            attributes: attributes_from_json(m.attributes.as_deref()),
            system,
            stored: m,
        }
    }

    /// DeleteMessage (several in one commit): one result per handle.
    pub async fn delete_messages(
        &self,
        q: &Queue,
        handles: Vec<String>,
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let decoded: Vec<Result<Receipt, SqsError>> = handles
            .iter()
            .map(|h| receipt::decode(h, q.row.id))
            .collect();
        let rows: Vec<i64> = decoded
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|r| r.row))
            .collect();
        if !rows.is_empty() {
            let id = q.row.id;
            self.db
                .writer
                .run(move |c| {
                    for r in &rows {
                        store::delete(c, id, *r)?;
                    }
                    Ok(())
                })
                .await
                .map_err(internal)?;
            if q.attrs.fifo {
                self.wake(q.row.id);
            }
        }
        Ok(decoded.into_iter().map(|r| r.map(|_| ())).collect())
    }

    /// ChangeMessageVisibility (several in one commit): one result per (handle, seconds).
    pub async fn change_visibility(
        &self,
        q: &Queue,
        changes: Vec<(String, i64)>,
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let now = now_ms();
        let mut checked: Vec<Result<(Receipt, i64), SqsError>> = changes
            .iter()
            .map(|(h, secs)| {
                let r = receipt::decode(h, q.row.id)?;
                if !(0..=43_200).contains(secs) {
                    return Err(SqsError::invalid(format!(
                        "Value {secs} for parameter VisibilityTimeout is invalid. Reason: VisibilityTimeout must be an integer between 0 and 43200."
                    )));
                }
                Ok((r, *secs))
            })
            .collect();
        let work: Vec<(usize, Receipt, i64)> = checked
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().ok().map(|(r, s)| (i, r.clone(), *s)))
            .collect();
        if work.is_empty() {
            return Ok(checked.into_iter().map(|c| c.map(|_| ())).collect());
        }
        let id = q.row.id;
        let outcomes = self
            .db
            .writer
            .run(move |c| {
                work.iter()
                    .map(|(i, r, s)| {
                        store::change_visibility(c, id, r.row, &r.token, now + s * 1000, now)
                            .map(|o| (*i, o))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(internal)?;
        self.wake(id);
        let mut out: Vec<Result<(), SqsError>> = checked.drain(..).map(|c| c.map(|_| ())).collect();
        for (i, o) in outcomes {
            if o == VisibilityChange::NotInFlight {
                out[i] = Err(SqsError::MessageNotInflight(
                    "Message does not exist or is not available for visibility timeout change."
                        .into(),
                ));
            }
        }
        Ok(out)
    }
}

/// Checks the shape of a batch: 1 to 10 entries with distinct, well-formed ids.
pub fn check_batch<'a>(ids: impl Iterator<Item = &'a str>) -> Result<(), SqsError> {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        return Err(SqsError::EmptyBatchRequest(
            "There should be at least one SendMessageBatchRequestEntry in the request.".into(),
        ));
    }
    if ids.len() > MAX_BATCH_ENTRIES {
        return Err(SqsError::TooManyEntriesInBatchRequest(format!(
            "Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {}.",
            ids.len()
        )));
    }
    for id in &ids {
        let ok = !id.is_empty()
            && id.len() <= 80
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(SqsError::InvalidBatchEntryId(format!(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. ({id})"
            )));
        }
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(SqsError::BatchEntryIdsNotDistinct(
            "Two or more batch entries in the request have the same Id.".into(),
        ));
    }
    Ok(())
}
