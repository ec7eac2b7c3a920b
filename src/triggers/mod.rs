//! Triggers: what turns outside events into invocations. [`esm`]: the event source mapping
//! pollers (SQS queues → functions).

pub mod esm;
