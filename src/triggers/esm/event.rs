//! The SQS event a batch function receives (`{"Records": [...]}`, AWS's shape), the record
//! filters match against (the same record with `body` parsed when it is JSON), and the
//! reading of a partial batch response (`batchItemFailures`).

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::domain::sqs::message::attributes_md5;
use crate::domain::Identity;
use crate::services::sqs::ReceivedMessage;

/// System attributes a record carries.
const RECORD_ATTRIBUTES: &[&str] = &[
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];

/// One record of the event.
pub fn record(m: &ReceivedMessage, source_arn: &str, me: &Identity) -> Value {
    let mut attrs = Map::new();
    for k in RECORD_ATTRIBUTES {
        if let Some(v) = m.system.get(*k) {
            attrs.insert((*k).to_string(), json!(v));
        }
    }
    let mut msg_attrs = Map::new();
    for (k, v) in &m.attributes {
        let mut e = Map::new();
        if let Some(s) = &v.string_value {
            e.insert("stringValue".into(), json!(s));
        }
        if let Some(b) = &v.binary_value {
            e.insert("binaryValue".into(), json!(B64.encode(b)));
        }
        e.insert("stringListValues".into(), json!([]));
        e.insert("binaryListValues".into(), json!([]));
        e.insert("dataType".into(), json!(v.data_type));
        msg_attrs.insert(k.clone(), Value::Object(e));
    }
    let mut r = json!({
        "messageId": m.stored.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.stored.body,
        "attributes": attrs,
        "messageAttributes": msg_attrs,
        "md5OfBody": m.stored.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": me.region,
    });
    if let Some(md5) = attributes_md5(&m.attributes) {
        r["md5OfMessageAttributes"] = json!(md5);
    }
    r
}

/// The record filters see: `body` parsed as JSON when it is JSON.
pub fn filter_view(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(body) = record["body"].as_str() {
        if let Ok(parsed) = serde_json::from_str::<Value>(body) {
            v["body"] = parsed;
        }
    }
    v
}

/// How a batch ended, from the function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every message succeeded.
    AllDone,
    /// These message ids failed; the others succeeded.
    Partial(HashSet<String>),
    /// The whole batch failed (error, or a malformed partial response).
    Failed(String),
}

/// Reads a response with ReportBatchItemFailures on: `null`, `{}`, an empty or null
/// `batchItemFailures` → success; items whose `itemIdentifier` is a message id of the
/// batch → those failed; anything else → the whole batch failed.
pub fn partial(payload: &[u8], batch: &HashSet<String>) -> Outcome {
    let v: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(_) if payload.iter().all(u8::is_ascii_whitespace) => return Outcome::AllDone,
        Err(_) => return Outcome::Failed("the response is not valid JSON".into()),
    };
    let items = match &v {
        Value::Null => return Outcome::AllDone,
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return Outcome::AllDone,
            Some(Value::Array(a)) => a,
            Some(_) => return Outcome::Failed("batchItemFailures is not a list".into()),
        },
        _ => return Outcome::Failed("the response is not a partial batch response object".into()),
    };
    let mut failed = HashSet::new();
    for item in items {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && batch.contains(id) => {
                failed.insert(id.to_string());
            }
            other => {
                return Outcome::Failed(format!(
                    "batchItemFailures names an itemIdentifier that is not a message of the batch: {other:?}"
                ))
            }
        }
    }
    if failed.is_empty() {
        Outcome::AllDone
    } else {
        Outcome::Partial(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> HashSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn partial_responses_as_lambda_reads_them() {
        let b = ids(&["a", "b"]);
        assert_eq!(partial(b"null", &b), Outcome::AllDone);
        assert_eq!(partial(b"{}", &b), Outcome::AllDone);
        assert_eq!(partial(b"", &b), Outcome::AllDone);
        assert_eq!(
            partial(br#"{"batchItemFailures": []}"#, &b),
            Outcome::AllDone
        );
        assert_eq!(
            partial(br#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#, &b),
            Outcome::Partial(ids(&["b"]))
        );
        for bad in [
            &br#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#[..],
            br#"{"batchItemFailures": [{"itemIdentifier": "zzz"}]}"#,
            br#"{"batchItemFailures": [{"id": "a"}]}"#,
            br#"{"batchItemFailures": 3}"#,
            b"not json",
            br#""ok""#,
        ] {
            assert!(
                matches!(partial(bad, &b), Outcome::Failed(_)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn filters_see_a_parsed_body() {
        let r = json!({"body": "{\"kind\": \"order\"}", "messageId": "m"});
        assert_eq!(filter_view(&r)["body"]["kind"], "order");
        let r = json!({"body": "plain text"});
        assert_eq!(filter_view(&r)["body"], "plain text");
    }
}
