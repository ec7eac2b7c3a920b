//! Errors of the runtime module: starting a Runtime API server and installing the clients.

use std::io;
use std::path::PathBuf;

/// Why the Runtime API could not be served or the runtime clients could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The listener handed over by the sandbox could not be adopted by tokio.
    #[error("cannot adopt runtime api listener: {0}")]
    Listener(#[source] io::Error),
    /// `serve` was called outside a tokio runtime.
    #[error("runtime api must be started inside a tokio runtime")]
    NoTokioRuntime,
    /// Creating a directory for the runtime clients failed.
    #[error("cannot create runtime client directory {0}: {1}")]
    CreateDir(PathBuf, #[source] io::Error),
    /// Writing one runtime client file failed.
    #[error("cannot write runtime client file {0}: {1}")]
    WriteFile(PathBuf, #[source] io::Error),
    /// The runtime id names no runtime family lambdabox can start.
    #[error("unknown runtime {0}")]
    UnknownRuntime(String),
}
