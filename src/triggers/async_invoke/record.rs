//! What destinations receive: the invocation record (AWS's `version` 1.0 shape, see
//! reference §7) and the dead letter's attributes, built from the event and its last
//! response.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The last response of a function that ran, kept with the event between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastResponse {
    pub executed_version: String,
    pub function_error: bool,
    /// The response (or error) payload, as text.
    pub payload: String,
    /// Status of the failure for a dead letter's ErrorCode (200 for function errors).
    pub status: u16,
}

impl LastResponse {
    pub fn to_json(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    pub fn from_json(s: &str) -> Option<LastResponse> {
        serde_json::from_str(s).ok()
    }
}

/// Largest ErrorMessage attribute of a dead letter.
pub const MAX_ERROR_MESSAGE: usize = 1024;

/// `2025-01-15T10:21:07.512Z`
pub fn timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

fn as_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// What one record describes.
pub struct RecordInput<'a> {
    pub now_ms: i64,
    pub request_id: &'a str,
    /// The invoked function's ARN, qualified (`…:$LATEST` when unqualified).
    pub function_arn: &'a str,
    pub condition: &'a str,
    pub invoke_count: u32,
    pub request_payload: &'a Bytes,
    /// None when the function never ran (responseContext and responsePayload are omitted).
    pub response: Option<&'a LastResponse>,
}

/// The invocation record sent to an OnSuccess or OnFailure destination.
pub fn record(r: &RecordInput<'_>) -> Value {
    let mut v = json!({
        "version": "1.0",
        "timestamp": timestamp(r.now_ms),
        "requestContext": {
            "requestId": r.request_id,
            "functionArn": r.function_arn,
            "condition": r.condition,
            "approximateInvokeCount": r.invoke_count,
        },
        "requestPayload": as_json(r.request_payload),
    });
    if let Some(resp) = r.response {
        let mut ctx = json!({"statusCode": 200, "executedVersion": resp.executed_version});
        if resp.function_error {
            ctx["functionError"] = json!("Unhandled");
        }
        v["responseContext"] = ctx;
        v["responsePayload"] = as_json(resp.payload.as_bytes());
    }
    v
}

/// The ErrorMessage of a dead letter: the function's `errorMessage` when it gave one,
/// otherwise `fallback`, cut to 1 KB on a character boundary.
pub fn error_message(response: Option<&LastResponse>, fallback: &str) -> String {
    let from_fn = response.and_then(|r| {
        serde_json::from_str::<Value>(&r.payload)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
    });
    let mut msg = from_fn.unwrap_or_else(|| fallback.to_string());
    if msg.len() > MAX_ERROR_MESSAGE {
        let mut cut = MAX_ERROR_MESSAGE;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_record_has_the_aws_shape() {
        let resp = LastResponse {
            executed_version: "$LATEST".into(),
            function_error: true,
            payload: r#"{"errorMessage":"boom","errorType":"ValueError"}"#.into(),
            status: 200,
        };
        let payload = Bytes::from_static(b"{\"orderId\": 42}");
        let v = record(&RecordInput {
            now_ms: 1_736_936_467_512,
            request_id: "r1",
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            condition: "RetriesExhausted",
            invoke_count: 3,
            request_payload: &payload,
            response: Some(&resp),
        });
        assert_eq!(v["version"], "1.0");
        assert_eq!(v["timestamp"], "2025-01-15T10:21:07.512Z");
        assert_eq!(v["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(v["requestPayload"]["orderId"], 42);
        assert_eq!(v["responseContext"]["functionError"], "Unhandled");
        assert_eq!(v["responsePayload"]["errorType"], "ValueError");
        let never = record(&RecordInput {
            response: None,
            condition: "EventAgeExceeded",
            ..RecordInput {
                now_ms: 0,
                request_id: "r",
                function_arn: "a",
                condition: "",
                invoke_count: 0,
                request_payload: &payload,
                response: None,
            }
        });
        assert!(never.get("responseContext").is_none());
        assert_eq!(error_message(Some(&resp), "x"), "boom");
        assert_eq!(error_message(None, &"é".repeat(700)).len(), 1024);
    }
}
