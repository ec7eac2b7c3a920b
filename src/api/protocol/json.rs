//! AWS JSON 1.0 and 1.1 (SQS for current SDKs, EventBridge, CloudWatch Logs): `POST /` with
//! `X-Amz-Target: <prefix>.<Operation>` and a JSON object body; results are JSON objects;
//! errors are `{"__type": code, "message": …}`. A query-compatible service's errors also
//! carry `x-amzn-query-error: <query code>;Sender|Receiver`, which botocore uses for the code
//! when the service model says so.

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::Protocol;
use crate::api::error::{layer, ApiError};

fn content_type(p: Protocol) -> &'static str {
    if p == Protocol::AwsJson10 {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    }
}

/// The operation named by `X-Amz-Target`, if it starts with `prefix.`.
pub fn target_operation<'a>(target: &'a str, prefix: &str) -> Option<&'a str> {
    target
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|op| !op.is_empty())
}

/// The body as a JSON object (an empty body is `{}`).
pub fn input(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(layer::SERIALIZATION.with("The request body must be a JSON object.")),
        Err(e) => {
            Err(layer::SERIALIZATION.with(format!("The request body is not valid JSON: {e}")))
        }
    }
}

/// `v` with the members named in `timestamps` (ISO 8601 text, or lists of it) as epoch
/// seconds, the way AWS JSON carries timestamps.
pub fn epoch_timestamps(v: &Value, timestamps: &[&str]) -> Value {
    fn walk(v: &Value, timestamps: &[&str], timestamp: bool) -> Value {
        match v {
            Value::String(s) if timestamp => match super::cbor::epoch_seconds(s) {
                Some(super::cbor::EpochSeconds::Whole(n)) => Value::from(n),
                Some(super::cbor::EpochSeconds::Fraction(f)) => Value::from(f),
                None => v.clone(),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| walk(i, timestamps, timestamp))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            walk(v, timestamps, timestamps.contains(&k.as_str())),
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    walk(v, timestamps, false)
}

/// A result.
pub fn result(p: Protocol, body: &Value, request_id: &str) -> HttpResponse {
    let body = if body.is_null() {
        "{}".to_string()
    } else {
        body.to_string()
    };
    HttpResponse::Ok()
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .content_type(content_type(p))
        .body(body)
}

/// An error.
pub fn error(p: Protocol, e: &ApiError, request_id: &str) -> HttpResponse {
    let mut body = json!({ "__type": e.code, "message": e.message });
    for (k, v) in &e.fields {
        body[*k] = v.clone();
    }
    let mut b = HttpResponse::build(e.status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.clone()));
    }
    if let Some(q) = e.query_code {
        let fault = if e.sender { "Sender" } else { "Receiver" };
        b.insert_header(("x-amzn-query-error", format!("{q};{fault}")));
    }
    b.insert_header(("x-amzn-RequestId", request_id.to_string()))
        .content_type(content_type(p))
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_inputs() {
        assert_eq!(
            target_operation("AmazonSQS.ListQueues", "AmazonSQS"),
            Some("ListQueues")
        );
        assert_eq!(target_operation("AmazonSQSX.ListQueues", "AmazonSQS"), None);
        assert_eq!(target_operation("AmazonSQS.", "AmazonSQS"), None);
        assert!(input(b"").unwrap().is_empty());
        assert_eq!(input(b"{\"a\":1}").unwrap()["a"], 1);
        assert_eq!(input(b"[1]").unwrap_err().code, "SerializationException");
        assert_eq!(input(b"{").unwrap_err().code, "SerializationException");
    }

    #[test]
    fn timestamps_become_epoch_seconds() {
        let v = serde_json::json!({"Timestamps": ["2026-12-03T13:00:00Z"], "Label": "x",
            "Points": [{"Timestamp": "2026-12-03T13:00:00.5Z"}]});
        let out = epoch_timestamps(&v, &["Timestamp", "Timestamps"]);
        assert_eq!(out["Timestamps"][0], 1_796_302_800i64);
        assert_eq!(out["Points"][0]["Timestamp"], 1_796_302_800.5);
        assert_eq!(out["Label"], "x");
    }
}
