//! Execution-environment pools, concurrency accounting and the invocation lifecycle.
//!
//! Must not touch SQL strings or raw syscalls.

pub mod codecache;
