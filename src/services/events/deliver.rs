//! The one interface through which rules and schedules hand an event to a function:
//! [`Deliver::deliver`] returns once the event is accepted for an asynchronous invocation
//! (queued durably, when the async queue serves it), or with the reason it was not.
//! Implementations live above the services (`scheduler::delivery`).

use futures_util::future::BoxFuture;

use crate::domain::arn::FunctionRef;
use crate::domain::Error;

/// One event for one function.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub function: FunctionRef,
    pub payload: bytes::Bytes,
    /// `aws:events` or `aws:scheduler`.
    pub source: &'static str,
    /// The rule's or schedule's ARN.
    pub source_arn: String,
}

/// Hands events to asynchronous invocation.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, d: Delivery) -> BoxFuture<'_, Result<(), Error>>;
}

/// Whether a failed delivery may succeed when tried again (throttles, lambdabox faults), as
/// EventBridge retries only those; a missing function or a refused permission is final.
pub fn retryable(e: &Error) -> bool {
    matches!(e, Error::TooManyRequests { .. } | Error::Service(_))
}
