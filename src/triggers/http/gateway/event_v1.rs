//! The payload format 1.0 event of an HTTP API route (lambda-compat §9.2): `resource`,
//! `path`, `httpMethod`, header (names lower-cased, as HTTP APIs send them) and query maps
//! with their multi-value twins (single-value maps keep the last value), path parameters and stage variables (`null` when none), the
//! version 1 request context with its `identity`, and the body (base64 when not text).

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::Request;
use crate::api::request::Head;
use crate::triggers::http::event::is_text;

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn push(single: &mut Map<String, Value>, multi: &mut Map<String, Value>, k: String, v: String) {
    single.insert(k.clone(), json!(v));
    match multi.get_mut(&k) {
        Some(Value::Array(a)) => a.push(json!(v)),
        _ => {
            multi.insert(k, json!([v]));
        }
    }
}

fn or_null(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m)
    }
}

/// Builds the 1.0 event of one request.
pub fn build(head: &Head, body: &[u8], r: &Request<'_>) -> Value {
    let (mut headers, mut multi_headers) = (Map::new(), Map::new());
    for (k, v) in &head.headers {
        push(
            &mut headers,
            &mut multi_headers,
            k.to_ascii_lowercase(),
            v.clone(),
        );
    }
    for (k, v) in r.forwarded_headers(&head.peer_ip) {
        if !head.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)) {
            push(&mut headers, &mut multi_headers, k.to_string(), v);
        }
    }
    let (mut query, mut multi_query) = (Map::new(), Map::new());
    for pair in head.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        push(&mut query, &mut multi_query, decode(k), decode(v));
    }
    let path = percent_encoding::percent_decode_str(r.event_path)
        .decode_utf8_lossy()
        .into_owned();
    let resource = r.resource();
    let user_agent = head.header("user-agent").unwrap_or("");
    let context = json!({
        "accountId": r.account_id,
        "apiId": r.api_id,
        "domainName": r.domain_name,
        "domainPrefix": r.api_id,
        "extendedRequestId": r.request_id,
        "httpMethod": head.method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": head.peer_ip,
            "user": null,
            "userAgent": user_agent,
            "userArn": null,
        },
        "path": path,
        "protocol": head.http_version,
        "requestId": r.request_id,
        "requestTime": crate::triggers::http::event::request_time(r.now_ms),
        "requestTimeEpoch": r.now_ms,
        "resourceId": r.route_key,
        "resourcePath": resource,
        "routeKey": r.route_key,
        "stage": r.stage,
    });
    let params: Map<String, Value> = r
        .path_params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let vars: Map<String, Value> = r
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let (body_v, b64) = if body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(s) if is_text(head.header("content-type")) => (json!(s), false),
            _ => (
                json!(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            ),
        }
    };
    json!({
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": head.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "requestContext": context,
        "pathParameters": or_null(params),
        "stageVariables": or_null(vars),
        "body": body_v,
        "isBase64Encoded": b64,
    })
}
