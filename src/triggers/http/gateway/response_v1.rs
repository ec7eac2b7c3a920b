//! What a function's answer becomes with payload format 1.0: an object with an integer
//! `statusCode`, `headers` (strings) and `multiValueHeaders` (lists, each value its own
//! header line), `body` (base64-decoded when `isBase64Encoded`). Anything else is malformed
//! (`None`): HTTP APIs make no assumption for 1.0.

use base64::Engine as _;
use serde_json::Value;

use crate::triggers::http::response::Answer;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The answer of a function that returned `payload`, `None` when it is malformed.
pub fn from_payload(payload: &[u8]) -> Option<Answer> {
    let v = serde_json::from_slice::<Value>(payload).ok()?;
    let o = v.as_object()?;
    let status = o
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..=599).contains(n))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                headers.push((k.to_ascii_lowercase(), text(v)?));
            }
        }
        Some(_) => return None,
    }
    match o.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, vs) in h {
                let k = k.to_ascii_lowercase();
                // multiValueHeaders win over headers of the same name.
                headers.retain(|(n, _)| *n != k);
                for v in vs.as_array()? {
                    headers.push((k.clone(), text(v)?));
                }
            }
        }
        Some(_) => return None,
    }
    let b64 = o
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = match o.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if b64 => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()?,
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(_) => return None,
    };
    if !headers.iter().any(|(k, _)| k == "content-type") && !body.is_empty() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_status_code() {
        assert!(from_payload(br#"{"body":"x"}"#).is_none());
        assert!(from_payload(br#""hello""#).is_none());
        let a = from_payload(
            br#"{"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(a.status, 201);
        assert_eq!(a.body, b"hi");
        assert_eq!(
            a.headers.iter().filter(|(k, _)| k == "set-cookie").count(),
            2
        );
    }
}
