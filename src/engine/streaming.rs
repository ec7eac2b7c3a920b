//! A synchronous invocation whose response may be streamed: what `InvokeWithResponseStream`
//! and `RESPONSE_STREAM` function URLs run.
//!
//! [`Engine::invoke_streaming`] starts the invocation with a stream sink and waits until
//! either the runtime starts streaming (its first part, the head) or the invocation ends
//! without streaming (a function that answers in one piece, an error before the function ran:
//! unknown function, throttle). Only then does the caller pick its status line, so
//! `ResourceNotFoundException` or a 429 is still a proper error answer.
//!
//! Ordering: [`Streaming::next`] gives every data part the runtime wrote, then the end. The
//! runtime sends the outcome only after its last part went into the channel, so parts still
//! queued when the invocation ends are drained before the end is given. Dropping a
//! [`Streaming`] (the client went away) does not stop the function: it runs to its end and
//! its response is read and discarded.

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::bandwidth::Pace;
use super::{invoke, Engine, InvokeRequest, InvokeResult};
use crate::domain::Error;
use crate::runtime::api::stream;
use crate::runtime::StreamPart;

/// How a streamed invocation started.
pub enum Start {
    /// The runtime is streaming.
    Streaming(Streaming),
    /// The invocation ended without streaming: the whole answer (or the error) is here.
    Finished(Result<InvokeResult, Error>),
}

/// One piece of a streaming invocation.
pub enum Piece {
    /// Bytes the runtime wrote.
    Data(Bytes),
    /// The invocation ended: its result (`streamed` true; an error document when it failed).
    End(Result<InvokeResult, Error>),
}

/// An invocation whose runtime is streaming its response.
pub struct Streaming {
    /// `Content-Type` the runtime gave its response.
    pub content_type: Option<String>,
    /// The version that runs (`X-Amz-Executed-Version`).
    pub version: String,
    parts: mpsc::Receiver<StreamPart>,
    task: JoinHandle<Result<InvokeResult, Error>>,
    /// The task's result once it ended (parts may still be queued).
    ended: Option<Result<InvokeResult, Error>>,
    done: bool,
    /// The 2 MB/s cap after the first 6 MB (`bandwidth`).
    pace: Pace,
}

fn joined(
    r: Result<Result<InvokeResult, Error>, tokio::task::JoinError>,
) -> Result<InvokeResult, Error> {
    r.map_err(|e| Error::Service(format!("invocation task failed: {e}")))?
}

impl Engine {
    /// Starts `req` with a stream sink (any sink in `req` is replaced) and waits for the
    /// runtime to start streaming or the invocation to end.
    pub async fn invoke_streaming(&self, mut req: InvokeRequest) -> Start {
        let (sink, mut parts) = stream::channel();
        req.stream = Some(sink);
        let inner = std::sync::Arc::clone(&self.inner);
        let mut task = self.rt.spawn(async move { invoke::run(inner, req).await });
        let first = tokio::select! {
            biased;
            p = parts.recv() => p,
            r = &mut task => return Start::Finished(joined(r)),
        };
        match first {
            Some(StreamPart::Head {
                content_type,
                version,
            }) => Start::Streaming(Streaming {
                content_type,
                version,
                parts,
                task,
                ended: None,
                done: false,
                pace: Pace::default(),
            }),
            // Every sender is gone without a head: the invocation ends without streaming.
            Some(StreamPart::Data(_)) | None => Start::Finished(joined(task.await)),
        }
    }
}

impl Streaming {
    /// The next data part (held back as AWS's bandwidth cap says), then the end, then `None`.
    pub async fn next(&mut self) -> Option<Piece> {
        let piece = self.next_unpaced().await;
        if let Some(Piece::Data(b)) = &piece {
            if let Some(due) = self.pace.admit(b.len(), std::time::Instant::now()) {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        piece
    }

    async fn next_unpaced(&mut self) -> Option<Piece> {
        if self.done {
            return None;
        }
        loop {
            if self.ended.is_some() {
                match self.parts.try_recv() {
                    Ok(StreamPart::Data(b)) => return Some(Piece::Data(b)),
                    Ok(StreamPart::Head { .. }) => continue,
                    Err(_) => {
                        self.done = true;
                        return self.ended.take().map(Piece::End);
                    }
                }
            }
            tokio::select! {
                biased;
                p = self.parts.recv() => match p {
                    Some(StreamPart::Data(b)) => return Some(Piece::Data(b)),
                    Some(StreamPart::Head { .. }) => continue,
                    None => {
                        self.done = true;
                        return Some(Piece::End(joined((&mut self.task).await)));
                    }
                },
                r = &mut self.task => self.ended = Some(joined(r)),
            }
        }
    }
}
