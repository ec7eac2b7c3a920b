//! What a function's answer becomes on the wire (payload format 2.0, lambda-compat §9.1):
//! an object with `statusCode` gives its status, headers, cookies (one `Set-Cookie` each) and
//! body (base64-decoded when `isBase64Encoded`); any other JSON is a 200 `application/json`
//! body of that JSON (a JSON string gives its text). Function errors are 502, timeouts 504,
//! throttles 429, each with the JSON message AWS sends.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use base64::Engine as _;
use serde_json::Value;

/// A response whose headers and body are already decided.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON message answer (`{"message": "..."}` unless the key is given).
    pub fn message(status: u16, key: &str, message: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::json!({ key: message }).to_string().into_bytes(),
        }
    }

    /// 502 `{"message":"Internal Server Error"}`: a function error or a malformed answer.
    pub fn bad_gateway() -> Answer {
        Answer::message(502, "message", "Internal Server Error")
    }

    /// 403 `{"Message":"Forbidden"}`: no such URL, or IAM auth failed.
    pub fn forbidden() -> Answer {
        Answer::message(403, "Message", "Forbidden")
    }

    pub fn into_response(self, request_id: &str) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut b = HttpResponse::build(status);
        b.insert_header(("x-amzn-RequestId", request_id.to_string()));
        for (k, v) in &self.headers {
            b.append_header((k.as_str(), v.as_str()));
        }
        b.body(self.body)
    }
}

fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The answer of a function that returned `payload` (no function error): 502 when it is
/// malformed.
pub fn from_payload(payload: &[u8]) -> Answer {
    try_from_payload(payload).unwrap_or_else(Answer::bad_gateway)
}

/// The answer of a function that returned `payload`, `None` when it is malformed (each
/// trigger answers that its own way).
pub fn try_from_payload(payload: &[u8]) -> Option<Answer> {
    let v = serde_json::from_slice::<Value>(payload).ok()?;
    let shaped = v.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(o) = shaped else {
        let body = match &v {
            Value::String(s) => s.clone().into_bytes(),
            _ => payload.to_vec(),
        };
        return Some(Answer {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        });
    };
    let status = o
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..=599).contains(n));
    let status = status?;
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let v = header_value(v)?;
                headers.push((k.to_ascii_lowercase(), v));
            }
        }
        Some(_) => return None,
    }
    match o.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cs)) => {
            for c in cs {
                let c = c.as_str()?;
                headers.push(("set-cookie".into(), c.to_string()));
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
        Some(Value::String(s)) if b64 => {
            match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                Ok(b) => b,
                Err(_) => return None,
            }
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
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

/// The answer of a function that failed: 504 for a timeout, else 502.
pub fn from_error(payload: &[u8]) -> Answer {
    let kind = serde_json::from_slice::<Value>(payload).ok().and_then(|v| {
        v.get("errorType")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if kind.as_deref() == Some("Sandbox.Timedout") {
        return Answer::message(504, "message", "Endpoint request timed out");
    }
    Answer::bad_gateway()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_and_plain_returns() {
        let a = from_payload(
            br#"{"statusCode":201,"headers":{"X-A":"1","n":2},"cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(a.status, 201);
        assert_eq!(a.body, b"hi");
        assert_eq!(
            a.headers.iter().filter(|(k, _)| k == "set-cookie").count(),
            2
        );
        assert!(a.headers.contains(&("n".into(), "2".into())));
        let p = from_payload(br#""hello""#);
        assert_eq!((p.status, p.body.as_slice()), (200, b"hello".as_slice()));
        let o = from_payload(br#"{"a":1}"#);
        assert_eq!(o.body, br#"{"a":1}"#);
        assert_eq!(from_payload(br#"{"statusCode":"x"}"#).status, 502);
        assert_eq!(
            from_error(br#"{"errorType":"Sandbox.Timedout","errorMessage":"x"}"#).status,
            504
        );
        assert_eq!(from_error(b"{}").status, 502);
    }
}
