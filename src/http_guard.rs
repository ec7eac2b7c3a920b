//! Connection discipline of the main HTTP port (API, dashboard, function URLs), beside
//! actix-web's own head and keep-alive timeouts that `serve` sets:
//! - [`PerClient`]: at most N connections per client address. The cap is checked in actix's
//!   `on_connect` hook, before any byte is read; a connection over the cap is shut down at
//!   once (the client reads EOF), and a slot is given back when its connection is dropped.
//! - [`idle_body`]: a request body that stops arriving for longer than the idle timeout ends
//!   with an error, so a client cannot hold a connection (and whatever the handler buffered)
//!   by never finishing its upload.
//!
//! Must not touch: request routing, authentication, the store.

use std::collections::HashMap;
use std::future::Future as _;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Extensions, Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::HttpMessage;
use bytes::Bytes;
use futures_util::Stream;

/// Open connections per client address.
#[derive(Debug)]
pub struct PerClient {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; gives its slot back when dropped (with the connection).
#[derive(Debug)]
pub struct Slot {
    table: Arc<PerClient>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl PerClient {
    /// `max` = 0 means no cap.
    pub fn new(max: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for one more connection from `ip`, or `None` when it holds `max` already.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.lock();
        let n = open.entry(ip).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: Arc::clone(self),
            ip,
        })
    }

    /// Connections open from `ip`.
    pub fn open(&self, ip: IpAddr) -> usize {
        self.lock().get(&ip).copied().unwrap_or(0)
    }

    /// actix-web's `on_connect` hook: admits the connection or shuts it down.
    pub fn on_connect(self: &Arc<Self>, conn: &dyn std::any::Any, ext: &mut Extensions) {
        let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        match self.admit(peer.ip()) {
            Some(slot) => {
                ext.insert(Arc::new(slot));
            }
            None => {
                tracing::debug!(client = %peer.ip(), max = self.max, "connection over the per-client cap closed");
                let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// Replaces the request's body with one that fails when no bytes arrive for `idle`.
pub fn idle_body(req: &mut ServiceRequest, idle: Duration) {
    let inner = req.take_payload();
    let timed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(IdleBody {
        inner,
        idle,
        timer: Box::pin(tokio::time::sleep(idle)),
    });
    req.set_payload(Payload::from(timed));
}

struct IdleBody {
    inner: Payload,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for IdleBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = tokio::time::Instant::now() + self.idle;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(item)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body stopped arriving",
                ))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_gives_slots_back() {
        let table = PerClient::new(2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let s1 = table.admit(a).unwrap();
        let _s2 = table.admit(a).unwrap();
        assert!(table.admit(a).is_none());
        assert!(table.admit(b).is_some(), "another address is not affected");
        drop(s1);
        assert_eq!(table.open(a), 1);
        assert!(table.admit(a).is_some());
        let unlimited = PerClient::new(0);
        let slots: Vec<_> = (0..1000).filter_map(|_| unlimited.admit(a)).collect();
        assert_eq!(slots.len(), 1000);
    }
}
