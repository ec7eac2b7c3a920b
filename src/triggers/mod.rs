//! Triggers: what turns outside events into invocations. Today the asynchronous invocation
//! queue ([`async_invoke`]), which every other trigger (schedules, bucket notifications,
//! topics, event buses) hands its events to. Must not touch SQL strings or the sandbox.

pub mod async_invoke;
