//! Messages: insert (with FIFO sequence numbers and deduplication), receive (standard and
//! FIFO with group locking, dead-letter redrive at receive time, receive attempt ids),
//! delete, visibility changes, and peeking for the dashboard.
//!
//! FIFO rules: a group with a message in flight is locked; a group's messages are handed
//! out in arrival order, stopping at the first one not yet visible; as many of one group as
//! fit go out before the next group's.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::store::StoreError;

/// A message on its way in.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message_id: String,
    pub body: String,
    /// JSON of the message attributes.
    pub attributes: Option<String>,
    pub trace_header: Option<String>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub delay_ms: i64,
    pub retention_ms: i64,
    pub group_id: Option<String>,
    /// FIFO: (scope, MessageDeduplicationId); scope is "" or the group id.
    pub dedup: Option<(String, String)>,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    pub message_id: String,
    pub seq: Option<i64>,
    /// A FIFO duplicate within the window: accepted, not stored again.
    pub duplicate: bool,
}

/// A message as stored (after the receive that returned it, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub row_id: i64,
    pub queue_id: i64,
    pub message_id: String,
    pub body: String,
    pub attributes: Option<String>,
    pub trace_header: Option<String>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    pub receipt: Option<String>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub seq: Option<i64>,
    pub dlq_source: Option<String>,
}

const COLUMNS: &str = "id, queue_id, message_id, body, attributes, trace_header, md5_body, md5_attributes, sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, receipt, group_id, dedup_id, seq, dlq_source, expires_ms";

fn stored(r: &Row<'_>) -> rusqlite::Result<(StoredMessage, i64)> {
    Ok((
        StoredMessage {
            row_id: r.get(0)?,
            queue_id: r.get(1)?,
            message_id: r.get(2)?,
            body: r.get(3)?,
            attributes: r.get(4)?,
            trace_header: r.get(5)?,
            md5_body: r.get(6)?,
            md5_attributes: r.get(7)?,
            sender_id: r.get(8)?,
            sent_ms: r.get(9)?,
            visible_ms: r.get(10)?,
            receive_count: r.get(11)?,
            first_receive_ms: r.get(12)?,
            receipt: r.get(13)?,
            group_id: r.get(14)?,
            dedup_id: r.get(15)?,
            seq: r.get(16)?,
            dlq_source: r.get(17)?,
        },
        r.get(18)?,
    ))
}

/// Stores a message in queue `queue_id`.
pub fn insert(c: &Connection, queue_id: i64, m: &NewMessage) -> Result<Inserted, StoreError> {
    let mut seq = None;
    if let Some((scope, dedup_id)) = &m.dedup {
        let dup: Option<(String, i64)> = c
            .query_row(
                "SELECT message_id, seq FROM dedup WHERE queue_id = ?1 AND scope = ?2 AND dedup_id = ?3 AND expires_ms > ?4",
                params![queue_id, scope, dedup_id, m.sent_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((message_id, s)) = dup {
            return Ok(Inserted {
                message_id,
                seq: Some(s),
                duplicate: true,
            });
        }
        let next: i64 = c.query_row(
            "UPDATE queues SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq",
            [queue_id],
            |r| r.get(0),
        )?;
        seq = Some(next);
        c.execute(
            "INSERT OR REPLACE INTO dedup (queue_id, scope, dedup_id, message_id, seq, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![queue_id, scope, dedup_id, m.message_id, next, m.sent_ms + crate::domain::sqs::DEDUP_WINDOW_MS],
        )?;
    }
    c.execute(
        "INSERT INTO messages (queue_id, message_id, body, attributes, trace_header, md5_body, md5_attributes, md5_system, sender_id, sent_ms, visible_ms, expires_ms, group_id, dedup_id, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            queue_id,
            m.message_id,
            m.body,
            m.attributes,
            m.trace_header,
            m.md5_body,
            m.md5_attributes,
            m.md5_system,
            m.sender_id,
            m.sent_ms,
            m.sent_ms + m.delay_ms,
            m.sent_ms + m.retention_ms,
            m.group_id,
            m.dedup.as_ref().map(|(_, d)| d.as_str()),
            seq,
        ],
    )?;
    Ok(Inserted {
        message_id: m.message_id.clone(),
        seq,
        duplicate: false,
    })
}

/// Where messages received too often go.
#[derive(Debug, Clone)]
pub struct Redrive {
    pub dlq_id: i64,
    pub max_receive_count: i64,
    pub dlq_retention_ms: i64,
    pub dlq_fifo: bool,
    /// Name of the source queue (DeadLetterQueueSourceArn).
    pub source_name: String,
}

/// One receive.
#[derive(Debug, Clone)]
pub struct ReceiveSpec {
    pub queue_id: i64,
    pub fifo: bool,
    pub max: usize,
    pub visibility_ms: i64,
    pub now_ms: i64,
    pub redrive: Option<Redrive>,
    /// FIFO ReceiveRequestAttemptId.
    pub attempt_id: Option<String>,
}

/// What a receive returned.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub messages: Vec<StoredMessage>,
    /// When the next message of the queue becomes visible (a delay ends, a visibility
    /// timeout runs out), for long polls to sleep until then.
    pub next_visible_ms: Option<i64>,
    /// Messages moved to the dead-letter queue by this receive.
    pub moved: usize,
}

/// Receives up to `spec.max` messages, making them invisible for `spec.visibility_ms`.
pub fn receive(c: &Connection, spec: &ReceiveSpec) -> Result<Received, StoreError> {
    let now = spec.now_ms;
    if let Some(attempt) = &spec.attempt_id {
        if let Some(again) = repeat_attempt(c, spec.queue_id, attempt, now)? {
            return Ok(Received {
                messages: again,
                next_visible_ms: next_visible(c, spec.queue_id, now)?,
                moved: 0,
            });
        }
    }
    let mut out = Received::default();
    if spec.fifo {
        receive_fifo(c, spec, &mut out)?;
    } else {
        receive_standard(c, spec, &mut out)?;
    }
    if let Some(attempt) = &spec.attempt_id {
        let list: Vec<(i64, String)> = out
            .messages
            .iter()
            .map(|m| (m.row_id, m.receipt.clone().unwrap_or_default()))
            .collect();
        c.execute(
            "INSERT OR REPLACE INTO receive_attempts (queue_id, attempt_id, messages, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![
                spec.queue_id,
                attempt,
                serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()),
                now + crate::domain::sqs::DEDUP_WINDOW_MS
            ],
        )?;
    }
    out.next_visible_ms = next_visible(c, spec.queue_id, now)?;
    Ok(out)
}

fn next_visible(c: &Connection, queue_id: i64, now: i64) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT MIN(visible_ms) FROM messages WHERE queue_id = ?1 AND visible_ms > ?2",
        params![queue_id, now],
        |r| r.get(0),
    )?)
}

fn repeat_attempt(
    c: &Connection,
    queue_id: i64,
    attempt: &str,
    now: i64,
) -> Result<Option<Vec<StoredMessage>>, StoreError> {
    let list: Option<String> = c
        .query_row(
            "SELECT messages FROM receive_attempts WHERE queue_id = ?1 AND attempt_id = ?2 AND expires_ms > ?3",
            params![queue_id, attempt, now],
            |r| r.get(0),
        )
        .optional()?;
    let Some(list) = list else { return Ok(None) };
    let list: Vec<(i64, String)> = serde_json::from_str(&list).unwrap_or_default();
    let mut out = Vec::new();
    for (row, token) in list {
        if let Some(m) = by_row(c, queue_id, row)? {
            if m.receipt.as_deref() == Some(token.as_str()) && m.visible_ms > now {
                out.push(m);
            }
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// One message by row id.
pub fn by_row(
    c: &Connection,
    queue_id: i64,
    row: i64,
) -> Result<Option<StoredMessage>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1 AND queue_id = ?2"),
        params![row, queue_id],
        stored,
    )
    .optional()?
    .map(|(m, _)| m))
}

fn receive_standard(
    c: &Connection,
    spec: &ReceiveSpec,
    out: &mut Received,
) -> Result<(), StoreError> {
    let now = spec.now_ms;
    for _round in 0..8 {
        let want = spec.max - out.messages.len();
        if want == 0 {
            break;
        }
        let candidates: Vec<(StoredMessage, i64)> = {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE queue_id = ?1 AND visible_ms <= ?2 AND expires_ms > ?2 ORDER BY visible_ms, id LIMIT ?3"
            ))?;
            let rows = st.query_map(
                params![spec.queue_id, now, i64::try_from(want).unwrap_or(10)],
                stored,
            )?;
            rows.collect::<Result<_, _>>()?
        };
        if candidates.is_empty() {
            break;
        }
        for (m, _) in candidates {
            take_or_redrive(c, spec, m, out)?;
        }
    }
    Ok(())
}

fn receive_fifo(c: &Connection, spec: &ReceiveSpec, out: &mut Received) -> Result<(), StoreError> {
    let now = spec.now_ms;
    let locked: HashSet<String> = {
        let mut st = c.prepare_cached(
            "SELECT DISTINCT group_id FROM messages WHERE queue_id = ?1 AND visible_ms > ?2 AND receive_count > 0 AND group_id IS NOT NULL",
        )?;
        let rows = st.query_map(params![spec.queue_id, now], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let heads: Vec<String> = {
        let mut st = c.prepare_cached(
            "SELECT group_id, MIN(id) AS head FROM messages WHERE queue_id = ?1 AND group_id IS NOT NULL GROUP BY group_id ORDER BY head",
        )?;
        let rows = st.query_map([spec.queue_id], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for group in heads {
        if out.messages.len() >= spec.max {
            break;
        }
        if locked.contains(&group) {
            continue;
        }
        let limit = i64::try_from(spec.max * 2 + 10).unwrap_or(30);
        let rows: Vec<(StoredMessage, i64)> = {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE queue_id = ?1 AND group_id = ?2 ORDER BY id LIMIT ?3"
            ))?;
            let rows = st.query_map(params![spec.queue_id, group, limit], stored)?;
            rows.collect::<Result<_, _>>()?
        };
        for (m, expires) in rows {
            if out.messages.len() >= spec.max {
                break;
            }
            if expires <= now {
                continue;
            }
            if m.visible_ms > now {
                break;
            }
            take_or_redrive(c, spec, m, out)?;
        }
    }
    Ok(())
}

fn take_or_redrive(
    c: &Connection,
    spec: &ReceiveSpec,
    m: StoredMessage,
    out: &mut Received,
) -> Result<(), StoreError> {
    let now = spec.now_ms;
    if let Some(r) = &spec.redrive {
        if m.receive_count >= r.max_receive_count {
            let expires = if r.dlq_fifo {
                now + r.dlq_retention_ms
            } else {
                m.sent_ms + r.dlq_retention_ms
            };
            c.execute(
                "UPDATE messages SET queue_id = ?2, receive_count = 0, first_receive_ms = NULL, receipt = NULL, visible_ms = ?3, expires_ms = ?4, dlq_source = ?5 WHERE id = ?1",
                params![m.row_id, r.dlq_id, now, expires, r.source_name],
            )?;
            out.moved += 1;
            return Ok(());
        }
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let first = m.first_receive_ms.unwrap_or(now);
    let visible = now + spec.visibility_ms;
    c.execute(
        "UPDATE messages SET receive_count = receive_count + 1, first_receive_ms = ?2, visible_ms = ?3, receipt = ?4 WHERE id = ?1",
        params![m.row_id, first, visible, token],
    )?;
    out.messages.push(StoredMessage {
        receive_count: m.receive_count + 1,
        first_receive_ms: Some(first),
        visible_ms: visible,
        receipt: Some(token),
        ..m
    });
    Ok(())
}

/// Deletes a received message; false when it was already gone.
pub fn delete(c: &Connection, queue_id: i64, row: i64) -> Result<bool, StoreError> {
    Ok(c.execute(
        "DELETE FROM messages WHERE id = ?1 AND queue_id = ?2",
        params![row, queue_id],
    )? > 0)
}

/// What a visibility change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityChange {
    Changed,
    /// The message is not in flight under this receipt (visible again, received again
    /// since, or deleted).
    NotInFlight,
}

/// Makes an in-flight message visible at `visible_ms`.
pub fn change_visibility(
    c: &Connection,
    queue_id: i64,
    row: i64,
    token: &str,
    visible_ms: i64,
    now_ms: i64,
) -> Result<VisibilityChange, StoreError> {
    let n = c.execute(
        "UPDATE messages SET visible_ms = ?4 WHERE id = ?1 AND queue_id = ?2 AND receipt = ?3 AND receive_count > 0 AND visible_ms > ?5",
        params![row, queue_id, token, visible_ms, now_ms],
    )?;
    Ok(if n > 0 {
        VisibilityChange::Changed
    } else {
        VisibilityChange::NotInFlight
    })
}

/// The oldest `limit` unexpired messages of a queue at `now_ms`, read only: their
/// visibility, receive count and receipt stay as they are (dashboard peek).
pub fn peek(
    c: &Connection,
    queue_id: i64,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<StoredMessage>, StoreError> {
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM messages WHERE queue_id = ?1 AND expires_ms > ?2 ORDER BY id LIMIT ?3"
    ))?;
    let rows = st.query_map(params![queue_id, now_ms, limit], stored)?;
    Ok(rows.map(|r| r.map(|(m, _)| m)).collect::<Result<_, _>>()?)
}
