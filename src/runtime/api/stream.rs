//! Streamed responses: `POST /invocation/{id}/response` with
//! `Lambda-Runtime-Function-Response-Mode: streaming` and a chunked body.
//!
//! Each data frame is forwarded to the invocation's [`StreamSink`] as it arrives (a bounded
//! channel: a slow reader slows the runtime's writes, nothing piles up in the daemon). A
//! mid-stream failure comes as trailers, `Lambda-Runtime-Function-Error-Type` and
//! `Lambda-Runtime-Function-Error-Body` (base64 of the JSON error document). An invocation
//! without a sink (a plain `Invoke` of a streaming function) gets the body buffered under the
//! 6 MB cap, as AWS does.
//!
//! Ordering: the sink gets one [`StreamPart::Head`] before any data; the outcome
//! ([`InvokeOutcome::Streamed`]) is sent only after the last data frame went into the sink, so
//! a reader that drains the sink after seeing the outcome has every byte. A reader that went
//! away stops the forwarding, not the reading: the body is drained so the runtime's request
//! completes and the function runs to its end.

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::HeaderMap;
use tokio::sync::mpsc;

use super::types::{InvokeOutcome, MAX_RESPONSE_BYTES};

/// The header that selects a streamed response, and its one accepted value.
pub const RESPONSE_MODE: &str = "lambda-runtime-function-response-mode";
/// The value of [`RESPONSE_MODE`] for a streamed response.
pub const STREAMING: &str = "streaming";
/// Largest streamed response, in bytes (AWS's 200 MB default for response streaming).
pub const MAX_STREAMED_BYTES: u64 = 200 * 1024 * 1024;
/// How many parts may wait in a sink before the runtime's writes are slowed down.
pub const SINK_DEPTH: usize = 16;

const ERROR_TYPE: &str = "lambda-runtime-function-error-type";
const ERROR_BODY: &str = "lambda-runtime-function-error-body";

/// One piece of a streamed response, in order: one `Head`, then `Data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamPart {
    /// The response started: its `Content-Type` as the runtime sent it, and the function
    /// version the environment runs (what `X-Amz-Executed-Version` reports).
    Head {
        content_type: Option<String>,
        version: String,
    },
    /// Response bytes, as the runtime wrote them.
    Data(Bytes),
}

/// Where a streamed response's parts go.
pub type StreamSink = mpsc::Sender<StreamPart>;

/// A sink and the reader of its parts.
pub fn channel() -> (StreamSink, mpsc::Receiver<StreamPart>) {
    mpsc::channel(SINK_DEPTH)
}

/// How a streamed body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEnd {
    /// Bytes the runtime wrote.
    pub bytes: u64,
    /// Error type and (decoded) error document from the trailers.
    pub error: Option<(String, Bytes)>,
    /// The body went over [`MAX_STREAMED_BYTES`]; forwarding stopped there.
    pub too_large: bool,
}

/// Reads a streamed response body and ends it as an outcome: forwarded to `sink` when there
/// is one, else buffered like a plain response. `Err` when the connection broke mid-body.
pub async fn forward(
    body: Incoming,
    head: StreamPart,
    sink: Option<StreamSink>,
) -> Result<InvokeOutcome, hyper::Error> {
    match sink {
        Some(sink) => {
            let end = pump(body, head, sink).await?;
            Ok(InvokeOutcome::Streamed(end))
        }
        None => buffer(body).await,
    }
}

async fn pump(
    mut body: Incoming,
    head: StreamPart,
    sink: StreamSink,
) -> Result<StreamEnd, hyper::Error> {
    let mut sink = Some(sink);
    if let Some(s) = &sink {
        if s.send(head).await.is_err() {
            sink = None;
        }
    }
    let mut end = StreamEnd {
        bytes: 0,
        error: None,
        too_large: false,
    };
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let frame = match frame.into_data() {
            Ok(data) => {
                end.bytes = end.bytes.saturating_add(data.len() as u64);
                if end.bytes > MAX_STREAMED_BYTES {
                    end.too_large = true;
                    sink = None;
                }
                if let Some(s) = &sink {
                    if !data.is_empty() && s.send(StreamPart::Data(data)).await.is_err() {
                        // The reader went away: keep reading so the runtime can finish.
                        sink = None;
                    }
                }
                continue;
            }
            Err(f) => f,
        };
        if let Ok(trailers) = frame.into_trailers() {
            end.error = trailer_error(&trailers);
        }
    }
    Ok(end)
}

async fn buffer(mut body: Incoming) -> Result<InvokeOutcome, hyper::Error> {
    let mut buf = BytesMut::new();
    let mut total = 0usize;
    let mut error = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame?.into_data() {
            Ok(data) => {
                total = total.saturating_add(data.len());
                if total <= MAX_RESPONSE_BYTES {
                    buf.extend_from_slice(&data);
                }
                continue;
            }
            Err(f) => f,
        };
        if let Ok(trailers) = frame.into_trailers() {
            error = trailer_error(&trailers);
        }
    }
    Ok(match error {
        Some((error_type, body)) => InvokeOutcome::Error {
            error_type: Some(error_type),
            body,
        },
        None if total > MAX_RESPONSE_BYTES => InvokeOutcome::ResponseTooLarge,
        None => InvokeOutcome::Response(buf.freeze()),
    })
}

/// The error the trailers report: its type (required) and the document, base64-decoded (kept
/// as sent when it is not base64).
pub fn trailer_error(trailers: &HeaderMap) -> Option<(String, Bytes)> {
    let error_type = trailers
        .get(ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())?
        .to_owned();
    let raw = trailers
        .get(ERROR_BODY)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let body = base64::engine::general_purpose::STANDARD
        .decode(&raw)
        .unwrap_or(raw);
    Some((error_type, Bytes::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn trailers_carry_a_base64_error_document() {
        let mut t = HeaderMap::new();
        t.insert(ERROR_TYPE, HeaderValue::from_static("Error"));
        t.insert(
            ERROR_BODY,
            HeaderValue::from_static("eyJlcnJvclR5cGUiOiJFcnJvciJ9"),
        );
        assert_eq!(
            trailer_error(&t),
            Some((
                "Error".to_string(),
                Bytes::from_static(br#"{"errorType":"Error"}"#)
            ))
        );
        t.insert(ERROR_BODY, HeaderValue::from_static("not base64!"));
        assert_eq!(
            trailer_error(&t).map(|e| e.1),
            Some(Bytes::from_static(b"not base64!"))
        );
        assert_eq!(trailer_error(&HeaderMap::new()), None);
    }
}
