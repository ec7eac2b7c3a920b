//! Queue-level operations: CreateQueue, ListQueues, DeleteQueue, PurgeQueue, tags, and
//! ListDeadLetterSourceQueues.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::{internal, now_ms, Queue, Queues};
use crate::domain::sqs::attributes::QueueAttributes;
use crate::domain::sqs::{check_name, SqsError, MAX_LIST_RESULTS, PURGE_INTERVAL_MS};
use crate::store::queues::admin;

/// Most tags per queue.
pub const MAX_TAGS: usize = 50;

impl Queues {
    /// CreateQueue: a new queue, or the existing one when every attribute given matches.
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<Arc<Queue>, SqsError> {
        let fifo_attr = attributes.get("FifoQueue").map(String::as_str) == Some("true");
        if name.ends_with(".fifo") && !fifo_attr {
            return Err(SqsError::InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length. (A queue named *.fifo needs the attribute FifoQueue=true.)".into(),
            ));
        }
        check_name(name, fifo_attr)?;
        let mut attrs = QueueAttributes::defaults(false);
        attrs.apply(&self.me, &attributes, true)?;
        self.check_redrive(name, &attrs).await?;
        check_tags(&tags)?;
        let stored = attrs.to_json();
        let tags_json = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
        let n = name.to_string();
        let fifo = attrs.fifo;
        let now_s = now_ms() / 1000;
        let result = self
            .db
            .writer
            .run(move |c| admin::create(c, &n, fifo, &stored, &tags_json, now_s))
            .await
            .map_err(internal)?;
        match result {
            Ok(row) => {
                self.forget(name);
                Ok(Arc::new(Queue { row, attrs }))
            }
            Err(existing) => {
                let q = self.parse(existing)?;
                let have = q.attrs.to_map();
                let want = attrs.to_map();
                for key in attributes.keys() {
                    if have.get(key) != want.get(key) {
                        return Err(SqsError::QueueNameExists(format!(
                            "A queue already exists with the same name and a different value for attribute {key}"
                        )));
                    }
                }
                Ok(Arc::new(q))
            }
        }
    }

    /// A redrive policy must name an existing queue of the same type that allows this one.
    pub(super) async fn check_redrive(
        &self,
        name: &str,
        attrs: &QueueAttributes,
    ) -> Result<(), SqsError> {
        let Some(rp) = &attrs.redrive_policy else {
            return Ok(());
        };
        let bad = |why: &str| {
            SqsError::InvalidParameterValue(format!(
                "Value {{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":\"{}\"}} for parameter RedrivePolicy is invalid. Reason: {why}",
                rp.dead_letter_target_arn, rp.max_receive_count
            ))
        };
        if rp.target == name {
            return Err(bad("A queue cannot be its own dead-letter queue."));
        }
        let dlq = self
            .queue(&rp.target)
            .await
            .map_err(|_| bad("Dead letter target does not exist."))?;
        if dlq.attrs.fifo != attrs.fifo {
            return Err(bad(
                "The dead-letter queue of a FIFO queue must also be a FIFO queue, and that of a standard queue a standard queue.",
            ));
        }
        if !dlq.attrs.allows_source(&self.arn(name)) {
            return Err(bad(
                "The dead-letter queue's RedriveAllowPolicy does not allow this queue as a source.",
            ));
        }
        Ok(())
    }

    /// ListQueues: names with `prefix`, `max` per page (all up to 1000 without it).
    pub async fn list_queues(
        &self,
        prefix: String,
        max: Option<i64>,
        next_token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), SqsError> {
        if let Some(m) = max {
            if !(1..=MAX_LIST_RESULTS).contains(&m) {
                return Err(SqsError::invalid(format!(
                    "Value {m} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
                )));
            }
        }
        if next_token.is_some() && max.is_none() {
            return Err(SqsError::invalid(
                "NextToken can be used only together with MaxResults.",
            ));
        }
        let after = match &next_token {
            Some(t) => URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| SqsError::invalid("Invalid NextToken value."))?,
            None => String::new(),
        };
        let limit = max.unwrap_or(MAX_LIST_RESULTS);
        let names = self
            .db
            .reads
            .call(move |c| admin::list(c, &prefix, &after, limit + 1))
            .await
            .map_err(internal)?;
        let mut names = names;
        let next = if max.is_some() && names.len() as i64 > limit {
            names.truncate(usize::try_from(limit).unwrap_or(0));
            names.last().map(|n| URL_SAFE_NO_PAD.encode(n))
        } else {
            names.truncate(usize::try_from(limit).unwrap_or(0));
            None
        };
        Ok((names, next))
    }

    /// DeleteQueue: the queue and its messages.
    pub async fn delete_queue(&self, q: &Queue) -> Result<(), SqsError> {
        let id = q.row.id;
        self.db
            .writer
            .run(move |c| admin::delete(c, id))
            .await
            .map_err(internal)?;
        self.forget(q.name());
        self.wake(id);
        Ok(())
    }

    /// PurgeQueue: deletes every message sent before now (once per 60 s).
    pub async fn purge(&self, q: &Queue) -> Result<(), SqsError> {
        let id = q.row.id;
        let now = now_ms();
        let done = self
            .db
            .writer
            .run(move |c| admin::purge(c, id, now, PURGE_INTERVAL_MS))
            .await
            .map_err(internal)?;
        self.forget(q.name());
        if done {
            Ok(())
        } else {
            Err(SqsError::PurgeQueueInProgress(format!(
                "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                q.name()
            )))
        }
    }

    /// ListQueueTags.
    pub fn tags(&self, q: &Queue) -> BTreeMap<String, String> {
        serde_json::from_str(&q.row.tags).unwrap_or_default()
    }

    /// TagQueue (`add`) / UntagQueue (`remove`).
    pub async fn retag(
        &self,
        q: &Queue,
        add: BTreeMap<String, String>,
        remove: Vec<String>,
    ) -> Result<(), SqsError> {
        let mut tags = self.tags(q);
        tags.extend(add);
        for k in &remove {
            tags.remove(k);
        }
        check_tags(&tags)?;
        let json = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
        let id = q.row.id;
        self.db
            .writer
            .run(move |c| admin::set_tags(c, id, &json))
            .await
            .map_err(internal)?;
        self.forget(q.name());
        Ok(())
    }

    /// ListDeadLetterSourceQueues: the queues whose redrive policy targets `q`.
    pub async fn dead_letter_sources(&self, q: &Queue) -> Result<Vec<String>, SqsError> {
        let rows = self
            .db
            .reads
            .call(|c| crate::store::queues::all_queues(c))
            .await
            .map_err(internal)?;
        let mut out = Vec::new();
        for row in rows {
            let parsed = self.parse(row)?;
            if parsed
                .attrs
                .redrive_policy
                .as_ref()
                .is_some_and(|r| r.target == q.name())
            {
                out.push(parsed.row.name);
            }
        }
        Ok(out)
    }

    /// Every queue with its counts (dashboard).
    pub async fn overview(&self) -> Result<Vec<(Queue, admin::Counts)>, SqsError> {
        let now = now_ms();
        let rows = self
            .db
            .reads
            .call(move |c| {
                let mut out = Vec::new();
                for q in crate::store::queues::all_queues(c)? {
                    let n = admin::counts(c, q.id, now)?;
                    out.push((q, n));
                }
                Ok(out)
            })
            .await
            .map_err(internal)?;
        rows.into_iter()
            .map(|(row, n)| Ok((self.parse(row)?, n)))
            .collect()
    }

    /// The counts of one queue.
    pub async fn counts(&self, q: &Queue) -> Result<admin::Counts, SqsError> {
        let id = q.row.id;
        let now = now_ms();
        self.db
            .reads
            .call(move |c| admin::counts(c, id, now))
            .await
            .map_err(internal)
    }

    /// The oldest `limit` messages of a queue as they are (dashboard peek): a read on the
    /// read pool, so no message's visibility, receive count or receipt handle changes and
    /// a peek never counts as a receive.
    pub async fn peek(
        &self,
        q: &Queue,
        limit: i64,
    ) -> Result<Vec<crate::store::queues::messages::StoredMessage>, SqsError> {
        let id = q.row.id;
        let now = now_ms();
        self.db
            .reads
            .call(move |c| crate::store::queues::messages::peek(c, id, now, limit))
            .await
            .map_err(internal)
    }
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
    if tags.len() > MAX_TAGS {
        return Err(SqsError::invalid(format!(
            "Too many tags added for queue (at most {MAX_TAGS})."
        )));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(SqsError::invalid(format!(
                "Tag key '{k}' must be 1 to 128 characters and its value at most 256."
            )));
        }
    }
    Ok(())
}
