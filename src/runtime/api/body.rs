//! Reading request bodies with a size cap.
//!
//! A body over the cap is still read to its end (and discarded) so the runtime's request
//! completes and the keep-alive connection stays usable; the engine's timeout bounds the time.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Why a body could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body exceeded the cap; it was drained.
    #[error("body exceeds {0} bytes")]
    TooLarge(usize),
    /// The connection failed while reading.
    #[error("cannot read request body: {0}")]
    Read(#[source] hyper::Error),
}

/// Reads `body` whole if it is at most `limit` bytes. One-chunk bodies are not copied.
pub async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > limit {
            first = None;
            rest = None;
            continue;
        }
        match (&mut first, &mut rest) {
            (None, None) => first = Some(data),
            (Some(head), None) => {
                let mut buf = BytesMut::with_capacity(head.len() + data.len());
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                first = None;
                rest = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    if total > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}
