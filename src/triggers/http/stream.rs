//! Function URLs in `RESPONSE_STREAM` mode: the response goes to the HTTP client as the
//! runtime streams it (chunked), not after the function ends.
//!
//! A runtime that sets `Content-Type: application/vnd.awslambda.http-integration-response`
//! (node's `awslambda.HttpResponseStream.from`) starts its stream with a JSON prelude
//! `{"statusCode", "headers", "cookies"}` and 8 NUL bytes; the status line and headers come
//! from it, the bytes after it are the body. Any other stream is a 200 with the runtime's
//! content type (`application/octet-stream` when none). A function that does not stream is
//! answered like a `BUFFERED` URL (payload format 2.0). The response is capped at the
//! streaming limit (200 MB, `runtime::MAX_STREAMED_BYTES`) and the function's timeout; a
//! stream that fails after the status line was sent is cut (the connection closes without the
//! last chunk), so the client sees an incomplete response rather than a complete wrong one.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use bytes::{Bytes, BytesMut};
use serde_json::Value;

use super::response::{self, Answer};
use super::{answer_of, cors};
use crate::api::request::Head;
use crate::api::AppState;
use crate::engine::{InvokeRequest, Piece, Start, Streaming};
use crate::store::function_urls::StoredUrl;

/// The content type of a stream that starts with an HTTP prelude.
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
/// What ends the prelude.
const DELIMITER: [u8; 8] = [0; 8];
/// Largest prelude read before the stream is refused as malformed.
const MAX_PRELUDE: usize = 64 * 1024;

/// What a function URL request is answered with.
pub enum Reply {
    /// Status, headers and body decided at once.
    Whole(Answer),
    /// A streamed response (its status for the request log).
    Streamed(u16, HttpResponse),
}

impl Reply {
    pub fn status(&self) -> u16 {
        match self {
            Reply::Whole(a) => a.status,
            Reply::Streamed(s, _) => *s,
        }
    }

    pub fn into_response(self, request_id: &str) -> HttpResponse {
        match self {
            Reply::Whole(a) => a.into_response(request_id),
            Reply::Streamed(_, r) => r,
        }
    }
}

/// Invokes `request` for `url` and streams what the runtime streams.
pub async fn invoke(
    state: &AppState,
    head: &Head,
    url: &StoredUrl,
    request: InvokeRequest,
) -> Reply {
    let cors_cfg = url.config.cors.as_ref();
    let mut s = match state.engine.invoke_streaming(request).await {
        Start::Finished(result) => {
            let mut a = answer_of(result, url);
            cors::apply(cors_cfg, head, &mut a);
            return Reply::Whole(a);
        }
        Start::Streaming(s) => s,
    };
    let (mut answer, rest) = if s.content_type.as_deref() == Some(HTTP_INTEGRATION) {
        match prelude(&mut s).await {
            Ok(p) => p,
            Err(a) => {
                tracing::warn!(url_id = %url.url_id, function = %url.function,
                    "function URL stream without a valid HTTP prelude (502)");
                let mut a = a;
                cors::apply(cors_cfg, head, &mut a);
                return Reply::Whole(a);
            }
        }
    } else {
        match first_piece(&mut s).await {
            Ok(rest) => {
                let ct = s
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into());
                (
                    Answer {
                        status: 200,
                        headers: vec![("content-type".into(), ct)],
                        body: Vec::new(),
                    },
                    rest,
                )
            }
            Err(mut a) => {
                cors::apply(cors_cfg, head, &mut a);
                return Reply::Whole(a);
            }
        }
    };
    cors::apply(cors_cfg, head, &mut answer);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut b = HttpResponse::build(status);
    b.insert_header(("x-amzn-RequestId", head.request_id.clone()));
    for (k, v) in &answer.headers {
        b.append_header((k.as_str(), v.as_str()));
    }
    let url_id = url.url_id.clone();
    let resp = b.streaming(body(rest, s, url_id));
    Reply::Streamed(answer.status, resp)
}

/// Reads the prelude: the answer it describes (empty body) and the body bytes that followed
/// the delimiter in the same pieces. A stream that ends or fails first, or a malformed
/// prelude, is a 502 (a timeout 504).
async fn prelude(s: &mut Streaming) -> Result<(Answer, Bytes), Answer> {
    let mut buf = BytesMut::new();
    loop {
        match s.next().await {
            Some(Piece::Data(b)) => {
                buf.extend_from_slice(&b);
                if let Some(i) = find(&buf, &DELIMITER) {
                    let rest = buf.split_off(i + DELIMITER.len()).freeze();
                    let answer = parse_prelude(&buf[..i]).ok_or_else(Answer::bad_gateway)?;
                    return Ok((answer, rest));
                }
                if buf.len() > MAX_PRELUDE {
                    return Err(Answer::bad_gateway());
                }
            }
            Some(Piece::End(Ok(r))) if r.function_error => {
                return Err(response::from_error(&r.payload))
            }
            Some(Piece::End(_)) | None => return Err(Answer::bad_gateway()),
        }
    }
}

/// Waits for the first bytes of a stream without a prelude, so a function that fails before
/// writing anything is still a 502 (504 on timeout) rather than a 200 cut short. A stream
/// that ends empty and well is an empty body.
async fn first_piece(s: &mut Streaming) -> Result<Bytes, Answer> {
    loop {
        match s.next().await {
            Some(Piece::Data(b)) if b.is_empty() => continue,
            Some(Piece::Data(b)) => return Ok(b),
            Some(Piece::End(Ok(r))) if r.function_error => {
                return Err(response::from_error(&r.payload))
            }
            Some(Piece::End(Ok(_))) | None => return Ok(Bytes::new()),
            Some(Piece::End(Err(_))) => return Err(Answer::bad_gateway()),
        }
    }
}

/// `{"statusCode", "headers", "cookies"}` as an answer; `statusCode` defaults to 200 and the
/// content type to `application/octet-stream`.
fn parse_prelude(raw: &[u8]) -> Option<Answer> {
    let mut v: Value = serde_json::from_slice(raw).ok()?;
    let o = v.as_object_mut()?;
    o.remove("body");
    o.remove("isBase64Encoded");
    o.entry("statusCode").or_insert(Value::from(200));
    let mut a = response::from_payload(v.to_string().as_bytes());
    if a.status == 502 {
        return None;
    }
    if !a.headers.iter().any(|(k, _)| k == "content-type") {
        a.headers
            .push(("content-type".into(), "application/octet-stream".into()));
    }
    Some(a)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The body: `first`, then every piece the runtime streams; cut when the stream fails.
fn body(
    first: Bytes,
    s: Streaming,
    url_id: String,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    let first = (!first.is_empty()).then_some(first);
    futures_util::stream::unfold((first, s, url_id), |(first, mut s, url_id)| async move {
        if let Some(b) = first {
            return Some((Ok(b), (None, s, url_id)));
        }
        loop {
            match s.next().await? {
                Piece::Data(b) if b.is_empty() => continue,
                Piece::Data(b) => return Some((Ok(b), (None, s, url_id))),
                Piece::End(Ok(r)) if !r.function_error => return None,
                Piece::End(r) => {
                    let why = match &r {
                        Ok(r) => r.error_type.clone().unwrap_or_default(),
                        Err(e) => e.to_string(),
                    };
                    tracing::info!(url_id = %url_id, error = %why,
                        "function URL stream failed after its status line; response cut");
                    let e = std::io::Error::other(format!("function stream failed: {why}"));
                    return Some((Err(e), (None, s, url_id)));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_gives_status_headers_and_cookies() {
        let a = parse_prelude(
            br#"{"statusCode":201,"headers":{"Content-Type":"text/plain","X-A":"1"},"cookies":["a=1"]}"#,
        )
        .unwrap();
        assert_eq!(a.status, 201);
        assert!(a
            .headers
            .contains(&("content-type".into(), "text/plain".into())));
        assert!(a.headers.contains(&("x-a".into(), "1".into())));
        assert!(a.headers.contains(&("set-cookie".into(), "a=1".into())));
        let d = parse_prelude(b"{}").unwrap();
        assert_eq!(d.status, 200);
        assert!(d
            .headers
            .contains(&("content-type".into(), "application/octet-stream".into())));
        assert!(parse_prelude(b"[1]").is_none());
        assert!(parse_prelude(b"not json").is_none());
        assert!(parse_prelude(br#"{"statusCode":"x"}"#).is_none());
    }

    #[test]
    fn finds_the_delimiter() {
        assert_eq!(find(b"{}\0\0\0\0\0\0\0\0body", &DELIMITER), Some(2));
        assert_eq!(find(b"{}\0\0\0", &DELIMITER), None);
    }
}
