//! Triggers: what turns outside events into invocations: the asynchronous invocation
//! queue ([`async_invoke`]), which every other trigger (schedules, bucket notifications,
//! topics, event buses) hands its events to, and the event source mapping pollers ([`esm`],
//! SQS queues → functions), and function URLs ([`http`]: HTTP requests → payload 2.0
//! events → HTTP answers). Must not touch SQL strings or the sandbox.

pub mod async_invoke;
pub mod esm;
pub mod http;
