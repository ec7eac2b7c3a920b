//! The payload format 2.0 event a function URL request becomes, built as AWS builds it
//! (lambda-compat §9.1, §9.3): raw path and query, cookies moved out of the headers, header
//! names lower-cased with repeated values joined by commas, decoded query parameters joined
//! the same way, the request context, and the body (base64 when it is not text).

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::api::request::Head;

/// What the event needs beyond the request itself.
pub struct EventContext<'a> {
    pub url_id: &'a str,
    /// `<url-id>.lambda-url.<region>.<domain>` or the Host the request came to.
    pub domain_name: &'a str,
    /// The path after the URL's prefix, still percent-encoded, starting with `/`.
    pub raw_path: &'a str,
    /// `anonymous` for `NONE`, the caller's account for `AWS_IAM`.
    pub account_id: &'a str,
    /// `requestContext.authorizer.iam` for `AWS_IAM` URLs.
    pub iam: Option<Value>,
    pub request_id: &'a str,
    pub trace_id: &'a str,
    /// Listen port, for `x-forwarded-port`.
    pub port: u16,
    pub now_ms: i64,
}

/// True for the content types whose bodies reach the function as text.
pub fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct.is_empty()
        || ct.starts_with("text/")
        || ct == "application/json"
        || ct == "application/javascript"
        || ct == "application/xml"
        || ct == "application/x-www-form-urlencoded"
        || ct == "application/graphql"
        || ct.ends_with("+json")
        || ct.ends_with("+xml")
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `15/Jan/2025:10:20:30 +0000`
pub fn request_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Builds the event of one request.
pub fn build(head: &Head, body: &[u8], cx: &EventContext<'_>) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (k, v) in &head.headers {
        let k = k.to_ascii_lowercase();
        if k == "cookie" {
            cookies.extend(
                v.split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| json!(c)),
            );
            continue;
        }
        match headers.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(v);
            }
            _ => {
                headers.insert(k, json!(v));
            }
        }
    }
    let user_agent = head.header("user-agent").unwrap_or("").to_string();
    headers
        .entry("x-forwarded-for")
        .or_insert_with(|| json!(head.peer_ip));
    headers
        .entry("x-forwarded-proto")
        .or_insert_with(|| json!("http"));
    headers
        .entry("x-forwarded-port")
        .or_insert_with(|| json!(cx.port.to_string()));
    headers
        .entry("x-amzn-trace-id")
        .or_insert_with(|| json!(cx.trace_id));

    let mut query: Map<String, Value> = Map::new();
    for pair in head.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        match query.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(&v);
            }
            _ => {
                query.insert(k, json!(v));
            }
        }
    }

    let path = percent_encoding::percent_decode_str(cx.raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let mut context = json!({
        "accountId": cx.account_id,
        "apiId": cx.url_id,
        "domainName": cx.domain_name,
        "domainPrefix": cx.url_id,
        "http": {
            "method": head.method,
            "path": path,
            "protocol": head.http_version,
            "sourceIp": head.peer_ip,
            "userAgent": user_agent,
        },
        "requestId": cx.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": request_time(cx.now_ms),
        "timeEpoch": cx.now_ms,
    });
    if let Some(iam) = &cx.iam {
        context["authorizer"] = json!({ "iam": iam });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": cx.raw_path,
        "rawQueryString": head.raw_query,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    event["headers"] = Value::Object(headers);
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    event["requestContext"] = context;
    let text = is_text(head.header("content-type"));
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(s) if text => {
                event["body"] = json!(s);
                event["isBase64Encoded"] = json!(false);
            }
            _ => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    } else {
        event["isBase64Encoded"] = json!(false);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_2_0_event() {
        let mut head = Head::for_tests(
            "POST",
            "/lambda-url/x/items/a%20b",
            "a=1&a=2&b=x%2By",
            vec![
                ("Cookie".into(), "s=1; t=2".into()),
                ("X-Multi".into(), "v1".into()),
                ("x-multi".into(), "v2".into()),
                ("Content-Type".into(), "image/png".into()),
                ("User-Agent".into(), "curl/8".into()),
            ],
        );
        head.peer_ip = "127.0.0.9".into();
        let cx = EventContext {
            url_id: "x",
            domain_name: "x.lambda-url.us-east-1.on.aws",
            raw_path: "/items/a%20b",
            account_id: "anonymous",
            iam: None,
            request_id: "r1",
            trace_id: "Root=1-0-0",
            port: 9070,
            now_ms: 1_736_936_430_123,
        };
        let e = build(&head, &[0xff, 0, 1], &cx);
        assert_eq!(e["rawPath"], "/items/a%20b");
        assert_eq!(e["requestContext"]["http"]["path"], "/items/a b");
        assert_eq!(e["cookies"], json!(["s=1", "t=2"]));
        assert_eq!(e["headers"]["x-multi"], "v1,v2");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["queryStringParameters"], json!({"a": "1,2", "b": "x+y"}));
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], "/wAB");
        assert_eq!(e["requestContext"]["time"], "15/Jan/2025:10:20:30 +0000");
        assert_eq!(e["requestContext"]["http"]["sourceIp"], "127.0.0.9");
        assert!(is_text(Some("application/json; charset=utf-8")));
        assert!(!is_text(Some("application/octet-stream")));
    }
}
