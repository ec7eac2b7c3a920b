//! The values the engine exchanges with a Runtime API server: what an environment is, what one
//! invocation carries, and how init and invocations end.

use bytes::Bytes;

use super::stream::{StreamEnd, StreamSink};

/// Largest response or error body a runtime may post, in bytes (RAPID's 6 MiB + 100 B).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// Identity of the execution environment, answered to extensions on register.
#[derive(Debug, Clone, Default)]
pub struct EnvInfo {
    /// Function name, e.g. `hello`.
    pub function_name: String,
    /// Function version, `$LATEST` or a number.
    pub function_version: String,
    /// Handler string, e.g. `app.handler`.
    pub handler: String,
    /// Account id, sent to extensions that ask for it with `Lambda-Extension-Accept-Feature`.
    pub account_id: String,
    /// Set when the environment's AWS API calls are forwarded to the daemon (`aws`).
    pub aws_api: Option<super::aws::AwsApi>,
}

/// One invocation handed to the runtime on `GET /next`.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`; also the id in the response and error paths.
    pub request_id: String,
    /// The event bytes, the body of the `/next` response.
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`: absolute deadline, Unix epoch milliseconds.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`; omitted when empty.
    pub trace_id: String,
    /// `Lambda-Runtime-Client-Context`: decoded JSON; omitted when `None` or empty.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`: JSON; omitted when `None` or empty.
    pub cognito_identity: Option<String>,
    /// Where a streamed response goes as it arrives (`InvokeWithResponseStream`, function
    /// URLs in `RESPONSE_STREAM` mode); `None` buffers a streamed response like a plain one.
    pub stream: Option<StreamSink>,
}

/// How the runtime's init phase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitOutcome {
    /// The runtime asked for work (its first `GET /next`).
    Ready,
    /// The runtime posted to `/runtime/init/error`.
    InitError {
        /// `Lambda-Runtime-Function-Error-Type`, `Runtime.Unknown` when absent.
        error_type: String,
        /// The posted error document.
        body: Bytes,
    },
    /// The server was shut down (the environment died or was retired).
    Closed,
}

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeOutcome {
    /// The runtime posted a response.
    Response(Bytes),
    /// The runtime posted an error, or init had failed before the invocation was delivered.
    Error {
        /// `Lambda-Runtime-Function-Error-Type`, when the runtime sent one.
        error_type: Option<String>,
        /// The posted error document.
        body: Bytes,
    },
    /// The runtime streamed its response into [`Invocation::stream`] (see `stream`).
    Streamed(StreamEnd),
    /// The posted response exceeded [`MAX_RESPONSE_BYTES`]; the engine reports
    /// `Function.ResponseSizeTooLarge`.
    ResponseTooLarge,
    /// The server was shut down, the runtime's connection broke mid-response, or another
    /// invocation was still outstanding: the environment must not be reused.
    Closed,
}
