//! Reading request bodies: under the operation's cap, inside the global budget of body bytes
//! in flight, hashing (SHA-256, for SigV4) as the bytes arrive so that no second pass over a
//! 70 MB upload is needed.
//!
//! Order (enforced by `api::front`): the signature claim and the key are checked before
//! anything here runs, so unsigned or badly signed requests never reach a body read. A
//! declared `Content-Length` over the cap is refused before reading; a declared length
//! reserves its bytes from the budget up front, a chunked body reserves each chunk as it
//! comes. When the budget is spent the request is refused (503, retryable) instead of
//! growing memory. The reservation lives as long as the request.

use std::sync::Arc;

use actix_web::web;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the budget of request bytes in flight is spent")]
    Busy,
    #[error("could not read the request body: {0}")]
    Read(String),
    #[error(
        "the body's SHA-256 does not match the x-amz-content-sha256 the request was signed with"
    )]
    DigestMismatch,
    /// An aws-chunked body's chunk or trailer signature does not match.
    #[error("a chunk signature of the aws-chunked body does not match")]
    ChunkSignature,
    /// An aws-chunked body is not well formed.
    #[error("the aws-chunked body is malformed: {0}")]
    Chunked(String),
}

/// The global budget of body bytes held by requests in flight.
#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl BodyBudget {
    pub fn new(total: usize) -> BodyBudget {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
            total,
        }
    }

    /// The budget in bytes.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes not reserved right now.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }

    /// Reserves `n` bytes now, or `None` when they are not free.
    pub fn try_reserve(&self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok()?;
        Arc::clone(&self.bytes).try_acquire_many_owned(n).ok()
    }
}

/// A body read whole.
pub struct Buffered {
    pub body: Bytes,
    /// Lower-case hex SHA-256 of `body`.
    pub sha256: String,
    pub permit: Option<OwnedSemaphorePermit>,
}

fn reserve(
    budget: &BodyBudget,
    held: &mut Option<OwnedSemaphorePermit>,
    n: usize,
) -> Result<(), BodyError> {
    if n == 0 {
        return Ok(());
    }
    let more = budget.try_reserve(n).ok_or(BodyError::Busy)?;
    match held {
        Some(p) => p.merge(more),
        None => *held = Some(more),
    }
    Ok(())
}

/// Reads the whole body: at most `cap` bytes, reserved from `budget`, hashed as it arrives.
pub async fn read(
    payload: &mut web::Payload,
    declared: Option<usize>,
    cap: usize,
    budget: &BodyBudget,
) -> Result<Buffered, BodyError> {
    if declared.is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge(cap));
    }
    let mut permit = None;
    let mut reserved = declared.unwrap_or(0);
    reserve(budget, &mut permit, reserved)?;
    let mut body = BytesMut::with_capacity(reserved);
    let mut hasher = Sha256::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        let len = body.len() + chunk.len();
        if len > cap {
            return Err(BodyError::TooLarge(cap));
        }
        if len > reserved {
            reserve(budget, &mut permit, len - reserved)?;
            reserved = len;
        }
        hasher.update(&chunk);
        body.extend_from_slice(&chunk);
    }
    Ok(Buffered {
        body: body.freeze(),
        sha256: hex::encode(hasher.finalize()),
        permit,
    })
}

/// A body handed to an operation as a stream (S3 objects): chunks as they arrive, at most
/// `cap` bytes in all; when the request was signed with the body's digest, the last call
/// reports a mismatch instead of the end, so the handler must not commit before the end.
pub struct BodyStream {
    payload: web::Payload,
    cap: usize,
    read: usize,
    hasher: Sha256,
    expected: Option<String>,
    finished: bool,
    /// aws-chunked bodies: the decoder the raw bytes go through.
    decoder: Option<super::chunked::Decoder>,
}

impl BodyStream {
    /// `expected`: the hex digest the signature covers, or `None` for an unsigned payload.
    pub fn new(payload: web::Payload, cap: usize, expected: Option<String>) -> BodyStream {
        BodyStream {
            payload,
            cap,
            read: 0,
            hasher: Sha256::new(),
            expected: expected.map(|e| e.to_ascii_lowercase()),
            finished: false,
            decoder: None,
        }
    }

    /// An aws-chunked body: the handler gets the decoded bytes, every chunk signature checked.
    pub fn chunked(
        payload: web::Payload,
        cap: usize,
        decoder: super::chunked::Decoder,
    ) -> BodyStream {
        BodyStream {
            decoder: Some(decoder),
            ..BodyStream::new(payload, cap, None)
        }
    }

    /// The trailing headers of an aws-chunked body, once it has ended.
    pub fn trailers(&self) -> &[(String, String)] {
        self.decoder.as_ref().map_or(&[], |d| d.trailers.as_slice())
    }

    async fn next_decoded(&mut self) -> Option<Result<Bytes, BodyError>> {
        use super::chunked::ChunkError;
        let fail = |e: ChunkError| match e {
            ChunkError::Signature => BodyError::ChunkSignature,
            ChunkError::Malformed(m) => BodyError::Chunked(m),
        };
        loop {
            let decoder = self.decoder.as_mut()?;
            match decoder.next_bytes() {
                Ok(Some(b)) => {
                    self.read += b.len();
                    if self.read > self.cap {
                        self.finished = true;
                        return Some(Err(BodyError::TooLarge(self.cap)));
                    }
                    return Some(Ok(b));
                }
                Ok(None) => {}
                Err(e) => {
                    self.finished = true;
                    return Some(Err(fail(e)));
                }
            }
            match self.payload.next().await {
                Some(Ok(raw)) => decoder.push(&raw),
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(BodyError::Read(e.to_string())));
                }
                None => {
                    self.finished = true;
                    return decoder.done().err().map(|e| Err(fail(e)));
                }
            }
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> usize {
        self.read
    }

    /// The next chunk; `None` at the end of a body whose digest matched.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        if self.finished {
            return None;
        }
        if self.decoder.is_some() {
            return self.next_decoded().await;
        }
        match self.payload.next().await {
            Some(Ok(chunk)) => {
                self.read += chunk.len();
                if self.read > self.cap {
                    self.finished = true;
                    return Some(Err(BodyError::TooLarge(self.cap)));
                }
                self.hasher.update(&chunk);
                Some(Ok(chunk))
            }
            Some(Err(e)) => {
                self.finished = true;
                Some(Err(BodyError::Read(e.to_string())))
            }
            None => {
                self.finished = true;
                let actual = hex::encode(std::mem::take(&mut self.hasher).finalize());
                match &self.expected {
                    Some(e) if *e != actual => Some(Err(BodyError::DigestMismatch)),
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_rather_than_waits() {
        let b = BodyBudget::new(100);
        let a = b.try_reserve(60).unwrap();
        assert!(b.try_reserve(50).is_none());
        let mut held = Some(a);
        assert_eq!(reserve(&b, &mut held, 40), Ok(()));
        assert_eq!(b.available(), 0);
        assert_eq!(reserve(&b, &mut held, 1), Err(BodyError::Busy));
        drop(held);
        assert_eq!(b.available(), 100);
    }
}
