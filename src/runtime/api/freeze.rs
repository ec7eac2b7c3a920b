//! Freezing an environment while its runtime waits for work, as AWS freezes an execution
//! environment between invocations: processes a function left running (threads, children,
//! timers) make no progress until the next event is delivered.
//!
//! The Runtime API only decides WHEN (the state machine calls [`IdleFreezer::freeze`] when a
//! `GET /next` parks with nothing to deliver, and [`IdleFreezer::thaw`] right after it handed an
//! event to that `/next` or on shutdown); HOW is the engine's business (the sandbox's cgroup
//! freezer). Both calls are made under the state mutex, so they never reorder, and must be
//! quick and must not block on the environment.

/// Freezes and thaws every process of one environment.
pub trait IdleFreezer: Send + Sync + std::fmt::Debug {
    /// Stops every process of the environment (asynchronously: it need not wait until they
    /// are all stopped). Errors are the implementation's to log.
    fn freeze(&self);
    /// Lets them run again.
    fn thaw(&self);
}
