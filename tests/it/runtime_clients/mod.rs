//! Runtime API server + the embedded python/node clients (and the official `awslambdaric`),
//! run unsandboxed as child processes against a `RuntimeApi` on a host loopback listener.
//!
//! Each test gets its own temp dir standing in for `/var/task` (`LAMBDA_TASK_ROOT`); on failure
//! the assertion message carries the command and the child's stdout/stderr.

mod api;
mod awslambdaric;
mod bench;
mod harness;
mod node;
mod python;
