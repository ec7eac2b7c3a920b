//! The per-environment state machine between the engine and the runtime process.
//!
//! Phases: `Init` (runtime starting) → `Ready` (first `GET /next`) or `InitFailed`
//! (`POST /init/error`); any phase → `Closed` (shutdown). While `Ready`, one invocation at a
//! time moves through: pending (accepted from the engine, not yet delivered) → in flight
//! (delivered on `/next`) → answered (`/response` or `/error`) → finished (the runtime's next
//! `GET /next`).
//!
//! Every method is synchronous and cheap: callers hold the mutex only around one call and never
//! across an `.await`; waiting happens on the oneshot receivers these methods hand out.
//!
//! Freezing (when a [`IdleFreezer`] is set): a `GET /next` that parks with nothing pending freezes
//! the environment; handing an invocation over (to the parked `/next` or as pending) and
//! closing thaw it. The event is handed to the parked `/next` BEFORE the thaw, so the
//! connection task writes it while the kernel thaws the runtime: the thaw overlaps the
//! delivery instead of preceding it. Both happen under the state mutex, so a freeze never
//! overtakes the thaw that follows it. The freeze happens exactly where `parked` becomes true
//! (the engine's `survives_error` waits for that watch after a function error), so an
//! environment that is back in the pool is a frozen one.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use super::error::ApiError;
use super::freeze::IdleFreezer;
use super::stream::StreamSink;
use super::types::{InitOutcome, Invocation, InvokeOutcome};

/// What a `GET /next` gets.
#[derive(Debug)]
pub enum Next {
    /// An invocation was already waiting: answer at once.
    Deliver(Invocation),
    /// Park until the engine sends an invocation (or the sender is dropped on shutdown).
    Wait(oneshot::Receiver<Invocation>),
}

/// Which kind of answer the runtime posts for an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `POST /invocation/{id}/response`.
    Response,
    /// `POST /invocation/{id}/error`.
    Error,
}

impl Answer {
    fn state_name(self) -> &'static str {
        match self {
            Answer::Response => "InvocationResponse",
            Answer::Error => "InvocationErrorResponse",
        }
    }
}

#[derive(Debug)]
enum Phase {
    Init,
    Ready,
    InitFailed { error_type: String, body: Bytes },
    Closed,
}

#[derive(Debug)]
struct InFlight {
    request_id: String,
    answered: bool,
    /// The invocation's stream sink, taken by the answer that streams.
    stream: Option<StreamSink>,
}

/// Shared state of one environment's Runtime API.
#[derive(Debug)]
pub struct State {
    phase: Phase,
    /// A parked `GET /next`.
    waiter: Option<oneshot::Sender<Invocation>>,
    /// Accepted from the engine, not yet delivered.
    pending: Option<Invocation>,
    /// Where the outcome of the pending or in-flight invocation goes.
    outcome: Option<oneshot::Sender<InvokeOutcome>>,
    /// Delivered and not yet finished by the next `GET /next`.
    in_flight: Option<InFlight>,
    /// `None` while initialising; then how init ended.
    readiness: watch::Sender<Option<InitOutcome>>,
    /// Flips to `true` once, on shutdown.
    closed: watch::Sender<bool>,
    freezer: Option<Arc<dyn IdleFreezer>>,
    /// The freezer was asked to freeze and not yet to thaw.
    frozen: bool,
    /// `true` while a `GET /next` is parked: the runtime finished its work and waits.
    parked: watch::Sender<bool>,
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    /// A fresh environment in the `Init` phase.
    pub fn new() -> State {
        State::with_freezer(None)
    }

    /// A fresh environment whose processes `freezer` stops while it waits for work.
    pub fn with_freezer(freezer: Option<Arc<dyn IdleFreezer>>) -> State {
        State {
            phase: Phase::Init,
            waiter: None,
            pending: None,
            outcome: None,
            in_flight: None,
            readiness: watch::Sender::new(None),
            closed: watch::Sender::new(false),
            freezer,
            frozen: false,
            parked: watch::Sender::new(false),
        }
    }

    /// True while the environment is (being) frozen.
    #[cfg(test)]
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    fn freeze(&mut self) {
        if let (Some(f), false) = (&self.freezer, self.frozen) {
            f.freeze();
            self.frozen = true;
        }
    }

    fn thaw(&mut self) {
        if let (Some(f), true) = (&self.freezer, self.frozen) {
            f.thaw();
            self.frozen = false;
        }
    }

    /// Watches how init ends.
    pub fn readiness(&self) -> watch::Receiver<Option<InitOutcome>> {
        self.readiness.subscribe()
    }

    /// Watches shutdown.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Watches whether a `GET /next` is parked (the runtime is idle and asking for work).
    pub fn parked(&self) -> watch::Receiver<bool> {
        self.parked.subscribe()
    }

    /// The runtime calls `GET /next`: it is ready, and finished any previous invocation.
    pub fn next(&mut self) -> Result<Next, ApiError> {
        match self.phase {
            Phase::Closed => return Err(ApiError::Closed),
            Phase::InitFailed { .. } => {
                return Err(ApiError::InvalidStateTransition {
                    from: "InitError",
                    to: "Ready",
                })
            }
            Phase::Init => {
                self.phase = Phase::Ready;
                self.readiness.send_replace(Some(InitOutcome::Ready));
            }
            Phase::Ready => {}
        }
        if self.in_flight.as_ref().is_some_and(|f| !f.answered) {
            return Err(ApiError::InvalidStateTransition {
                from: "Invoke",
                to: "Ready",
            });
        }
        self.in_flight = None;
        if let Some(inv) = self.pending.take() {
            self.in_flight = Some(InFlight {
                request_id: inv.request_id.clone(),
                answered: false,
                stream: inv.stream.clone(),
            });
            return Ok(Next::Deliver(inv));
        }
        let (tx, rx) = oneshot::channel();
        // A newer poll replaces an older one; the older connection is gone or confused.
        self.waiter = Some(tx);
        self.parked.send_replace(true);
        // Nothing to do until the engine offers an invocation: stop the environment meanwhile.
        self.freeze();
        Ok(Next::Wait(rx))
    }

    /// The engine hands over an invocation. Returns where its outcome will arrive, or the
    /// outcome right away when the environment cannot take it.
    pub fn invoke(
        &mut self,
        inv: Invocation,
    ) -> Result<oneshot::Receiver<InvokeOutcome>, InvokeOutcome> {
        match &self.phase {
            Phase::Closed => return Err(InvokeOutcome::Closed),
            Phase::InitFailed { error_type, body } => {
                return Err(InvokeOutcome::Error {
                    error_type: Some(error_type.clone()),
                    body: body.clone(),
                })
            }
            Phase::Init | Phase::Ready => {}
        }
        if self.outcome.is_some() || self.pending.is_some() {
            tracing::warn!(request_id = %inv.request_id, "invocation refused: another one is outstanding");
            return Err(InvokeOutcome::Closed);
        }
        let (tx, rx) = oneshot::channel();
        self.outcome = Some(tx);
        self.offer(inv);
        Ok(rx)
    }

    /// Gives `inv` to a parked `/next`, or keeps it pending.
    fn offer(&mut self, inv: Invocation) {
        if let Some(waiter) = self.waiter.take() {
            self.parked.send_replace(false);
            let request_id = inv.request_id.clone();
            let stream = inv.stream.clone();
            match waiter.send(inv) {
                Ok(()) => {
                    self.in_flight = Some(InFlight {
                        request_id,
                        answered: false,
                        stream,
                    });
                    self.thaw();
                    return;
                }
                Err(inv) => {
                    self.pending = Some(inv);
                    self.thaw();
                    return;
                }
            }
        }
        self.pending = Some(inv);
        // The runtime must run to come and fetch it.
        self.thaw();
    }

    /// The runtime starts posting a response or error for `request_id`. On success the caller
    /// owns the outcome sender and sends the outcome once the body is read.
    pub fn answer(
        &mut self,
        request_id: &str,
        kind: Answer,
    ) -> Result<Option<oneshot::Sender<InvokeOutcome>>, ApiError> {
        if let Phase::Closed = self.phase {
            return Err(ApiError::Closed);
        }
        let Some(flight) = self.in_flight.as_mut() else {
            return Err(ApiError::InvalidRequestId);
        };
        if flight.request_id != request_id {
            return Err(ApiError::InvalidRequestId);
        }
        if flight.answered {
            return Err(ApiError::InvalidStateTransition {
                from: "ResponseSent",
                to: kind.state_name(),
            });
        }
        flight.answered = true;
        Ok(self.outcome.take())
    }

    /// The stream sink of the invocation just answered (call right after [`State::answer`]
    /// succeeded): the answer that streams owns it, so the sink closes when that answer ends.
    pub fn take_stream(&mut self) -> Option<StreamSink> {
        self.in_flight.as_mut().and_then(|f| f.stream.take())
    }

    /// The runtime posts `/init/error`.
    pub fn init_error(&mut self, error_type: String, body: Bytes) -> Result<(), ApiError> {
        match self.phase {
            Phase::Init => {}
            Phase::Closed => return Err(ApiError::Closed),
            Phase::Ready => {
                return Err(ApiError::InvalidStateTransition {
                    from: "Ready",
                    to: "InitError",
                })
            }
            Phase::InitFailed { .. } => {
                return Err(ApiError::InvalidStateTransition {
                    from: "InitError",
                    to: "InitError",
                })
            }
        }
        self.readiness.send_replace(Some(InitOutcome::InitError {
            error_type: error_type.clone(),
            body: body.clone(),
        }));
        // An invocation accepted before init failed is answered with the init error.
        if self.pending.take().is_some() {
            if let Some(tx) = self.outcome.take() {
                let _ = tx.send(InvokeOutcome::Error {
                    error_type: Some(error_type.clone()),
                    body: body.clone(),
                });
            }
        }
        self.phase = Phase::InitFailed { error_type, body };
        Ok(())
    }

    /// Shutdown: parked polls fail, an outstanding invocation ends `Closed`.
    pub fn close(&mut self) {
        // A frozen environment must be able to exit (cgroup v1 frozen tasks do not die).
        self.thaw();
        self.phase = Phase::Closed;
        self.waiter = None;
        self.parked.send_replace(false);
        self.pending = None;
        self.in_flight = None;
        if let Some(tx) = self.outcome.take() {
            let _ = tx.send(InvokeOutcome::Closed);
        }
        self.readiness.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(InitOutcome::Closed);
                true
            } else {
                false
            }
        });
        self.closed.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(id: &str) -> Invocation {
        Invocation {
            request_id: id.to_string(),
            payload: Bytes::from_static(b"{}"),
            ..Invocation::default()
        }
    }

    fn delivered(next: Result<Next, ApiError>) -> Invocation {
        match next {
            Ok(Next::Deliver(inv)) => inv,
            other => panic!("expected delivery, got {other:?}"),
        }
    }

    #[test]
    fn first_next_makes_ready_and_parks() {
        let mut s = State::new();
        let ready = s.readiness();
        assert_eq!(*ready.borrow(), None);
        let Ok(Next::Wait(mut rx)) = s.next() else {
            panic!("expected wait")
        };
        assert_eq!(*ready.borrow(), Some(InitOutcome::Ready));
        let mut out = s.invoke(inv("a")).ok().unwrap_or_else(|| panic!("refused"));
        assert_eq!(
            rx.try_recv().map(|i| i.request_id).ok().as_deref(),
            Some("a")
        );
        let tx = s.answer("a", Answer::Response);
        let tx = tx.ok().flatten().unwrap_or_else(|| panic!("no sender"));
        let _ = tx.send(InvokeOutcome::Response(Bytes::from_static(b"1")));
        assert_eq!(
            out.try_recv().ok(),
            Some(InvokeOutcome::Response(Bytes::from_static(b"1")))
        );
    }

    #[test]
    fn invoke_before_next_is_delivered_on_next() {
        let mut s = State::new();
        let _out = s.invoke(inv("a"));
        assert_eq!(delivered(s.next()).request_id, "a");
    }

    #[test]
    fn wrong_id_is_400_and_second_answer_is_403() {
        let mut s = State::new();
        let _out = s.invoke(inv("a"));
        delivered(s.next());
        assert_eq!(
            s.answer("b", Answer::Response).err(),
            Some(ApiError::InvalidRequestId)
        );
        assert!(s.answer("a", Answer::Response).is_ok());
        let again = s.answer("a", Answer::Error).err();
        assert!(matches!(
            again,
            Some(ApiError::InvalidStateTransition { .. })
        ));
        assert_eq!(again.map(|e| e.status().as_u16()), Some(403));
    }

    #[test]
    fn answer_without_invocation_is_400() {
        let mut s = State::new();
        let _ = s.next();
        assert_eq!(
            s.answer("x", Answer::Response).err(),
            Some(ApiError::InvalidRequestId)
        );
    }

    #[test]
    fn next_while_unanswered_is_403() {
        let mut s = State::new();
        let _out = s.invoke(inv("a"));
        delivered(s.next());
        assert!(matches!(
            s.next(),
            Err(ApiError::InvalidStateTransition { .. })
        ));
    }

    #[test]
    fn next_after_answer_clears_and_parks() {
        let mut s = State::new();
        let _out = s.invoke(inv("a"));
        delivered(s.next());
        let _ = s.answer("a", Answer::Response);
        let Ok(Next::Wait(_parked)) = s.next() else {
            panic!("expected wait")
        };
        // the old id is no longer known
        assert_eq!(
            s.answer("a", Answer::Response).err(),
            Some(ApiError::InvalidRequestId)
        );
        let _out = s.invoke(inv("b"));
        assert!(s.answer("b", Answer::Response).is_ok());
    }

    #[test]
    fn parked_follows_the_runtime_asking_for_work() {
        let mut s = State::new();
        let parked = s.parked();
        assert!(!*parked.borrow());
        let Ok(Next::Wait(_rx)) = s.next() else {
            panic!("expected wait")
        };
        assert!(*parked.borrow());
        let _out = s.invoke(inv("a"));
        assert!(!*parked.borrow(), "delivery ends the parking");
        let _ = s.answer("a", Answer::Error);
        assert!(!*parked.borrow(), "an answer alone is not a new poll");
        let Ok(Next::Wait(_rx)) = s.next() else {
            panic!("expected wait")
        };
        assert!(*parked.borrow());
        s.close();
        assert!(!*parked.borrow());
    }

    #[test]
    fn second_outstanding_invoke_is_refused() {
        let mut s = State::new();
        let _out = s.invoke(inv("a"));
        assert_eq!(s.invoke(inv("b")).err(), Some(InvokeOutcome::Closed));
    }

    #[test]
    fn dropped_waiter_keeps_invocation_pending() {
        let mut s = State::new();
        let Ok(Next::Wait(rx)) = s.next() else {
            panic!("expected wait")
        };
        drop(rx);
        let _out = s.invoke(inv("a"));
        assert_eq!(delivered(s.next()).request_id, "a");
    }

    #[test]
    fn init_error_reports_and_fails_pending_invoke() {
        let mut s = State::new();
        let ready = s.readiness();
        let mut out = s.invoke(inv("a")).ok().unwrap_or_else(|| panic!("refused"));
        assert!(s
            .init_error(
                "Runtime.ImportModuleError".into(),
                Bytes::from_static(b"{}")
            )
            .is_ok());
        assert!(matches!(
            *ready.borrow(),
            Some(InitOutcome::InitError { .. })
        ));
        assert!(matches!(out.try_recv(), Ok(InvokeOutcome::Error { .. })));
        assert!(matches!(
            s.invoke(inv("b")),
            Err(InvokeOutcome::Error { .. })
        ));
        assert!(s.next().is_err());
        assert!(s.init_error("x".into(), Bytes::new()).is_err());
    }

    #[test]
    fn init_error_after_ready_is_403() {
        let mut s = State::new();
        let _ = s.next();
        let err = s.init_error("x".into(), Bytes::new()).err();
        assert_eq!(err.map(|e| e.status().as_u16()), Some(403));
    }

    /// Records the freezer calls in order.
    #[derive(Debug, Default)]
    struct Recorder(std::sync::Mutex<Vec<&'static str>>);

    impl IdleFreezer for Recorder {
        fn freeze(&self) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push("freeze");
        }
        fn thaw(&self) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push("thaw");
        }
    }

    impl Recorder {
        fn calls(&self) -> Vec<&'static str> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }
    }

    #[test]
    fn parked_next_freezes_and_an_invocation_thaws_after_delivery() {
        let rec = Arc::new(Recorder::default());
        let mut s = State::with_freezer(Some(rec.clone() as Arc<dyn IdleFreezer>));
        let parked = s.parked();
        let Ok(Next::Wait(mut rx)) = s.next() else {
            panic!("expected wait")
        };
        assert!(s.is_frozen());
        assert!(*parked.borrow(), "frozen exactly when parked");
        assert_eq!(rec.calls(), ["freeze"]);
        let _out = s.invoke(inv("a"));
        // Delivered first, then thawed.
        assert!(rx.try_recv().is_ok());
        assert!(!s.is_frozen());
        assert!(!*parked.borrow());
        assert_eq!(rec.calls(), ["freeze", "thaw"]);
        let _ = s.answer("a", Answer::Response);
        let Ok(Next::Wait(_rx)) = s.next() else {
            panic!("expected wait")
        };
        assert_eq!(rec.calls(), ["freeze", "thaw", "freeze"]);
        s.close();
        assert_eq!(rec.calls(), ["freeze", "thaw", "freeze", "thaw"]);
    }

    #[test]
    fn no_freeze_when_work_is_waiting_and_no_thaw_when_not_frozen() {
        let rec = Arc::new(Recorder::default());
        let mut s = State::with_freezer(Some(rec.clone() as Arc<dyn IdleFreezer>));
        let _out = s.invoke(inv("a"));
        delivered(s.next());
        assert!(rec.calls().is_empty(), "{:?}", rec.calls());
        s.close();
        assert!(rec.calls().is_empty(), "{:?}", rec.calls());
    }

    #[test]
    fn dropped_waiter_thaws_so_the_runtime_can_fetch_the_event() {
        let rec = Arc::new(Recorder::default());
        let mut s = State::with_freezer(Some(rec.clone() as Arc<dyn IdleFreezer>));
        let Ok(Next::Wait(rx)) = s.next() else {
            panic!("expected wait")
        };
        drop(rx);
        let _out = s.invoke(inv("a"));
        assert_eq!(rec.calls(), ["freeze", "thaw"]);
        assert_eq!(delivered(s.next()).request_id, "a");
    }

    #[test]
    fn close_ends_everything() {
        let mut s = State::new();
        let ready = s.readiness();
        let closed = s.closed();
        let mut out = s.invoke(inv("a")).ok().unwrap_or_else(|| panic!("refused"));
        s.close();
        assert_eq!(out.try_recv().ok(), Some(InvokeOutcome::Closed));
        assert_eq!(*ready.borrow(), Some(InitOutcome::Closed));
        assert!(*closed.borrow());
        assert_eq!(s.next().err(), Some(ApiError::Closed));
        assert_eq!(s.invoke(inv("b")).err(), Some(InvokeOutcome::Closed));
    }
}
