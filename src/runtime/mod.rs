//! The Lambda Runtime API (2018-06-01) served to each execution environment, and the runtime
//! clients (python, node) embedded in the binary.
//!
//! - [`api`]: one [`RuntimeApi`] per execution environment, served with hyper on a listener the
//!   sandbox hands over; the engine drives it with `wait_ready`, `invoke` and `shutdown`.
//! - [`clients`]: the embedded python and node runtime clients, written to a directory that the
//!   sandbox bind-mounts read-only at `/var/runtime`.
//! - [`command`]: the argv and environment additions that start a managed runtime.
//! - [`precompile`]: the python client's bytecode, written once per host interpreter.
//!
//! Must not touch the database, the sandbox or the engine's pools.

pub mod api;
pub mod clients;
pub mod command;
mod error;
pub mod precompile;

pub use api::{
    AwsApi, ConnLimits, EnvInfo, IdleFreezer, InitOutcome, Invocation, InvokeOutcome, RuntimeApi,
    ServeOptions, StreamEnd, StreamPart, StreamSink, MAX_RESPONSE_BYTES, MAX_STREAMED_BYTES,
};
pub use clients::install_clients;
pub use command::{command_for, env_for, RuntimeKind};
pub use error::RuntimeError;
