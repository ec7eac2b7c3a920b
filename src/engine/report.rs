//! The platform's log lines, exactly as AWS writes them: START, END, REPORT (tab-separated,
//! ending with a tab), the timeout line, and the error payloads the platform itself produces.

use std::time::Duration;

/// How one invocation ended, for the REPORT line's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Success,
    /// The function returned an error (the runtime is fine).
    FunctionError(String),
    Timeout,
    /// The platform or runtime failed (exit, OOM, init error).
    Error(String),
}

impl Status {
    /// The error type recorded for metrics (None on success).
    pub fn error_type(&self) -> Option<String> {
        match self {
            Status::Success => None,
            Status::FunctionError(t) | Status::Error(t) => Some(t.clone()),
            Status::Timeout => Some("Sandbox.Timedout".into()),
        }
    }
}

pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// Billed duration in whole milliseconds, rounded up; a cold start bills its init too.
pub fn billed_ms(duration: Duration, init: Option<Duration>) -> u64 {
    let total = duration + init.unwrap_or_default();
    let micros = total.as_micros();
    u64::try_from(micros.div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `REPORT RequestId: …\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t…`
pub fn report_line(
    request_id: &str,
    duration: Duration,
    init: Option<Duration>,
    memory_mb: u32,
    max_memory_mb: u64,
    status: &Status,
) -> String {
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t",
        ms(duration),
        billed_ms(duration, init),
    );
    if let Some(i) = init {
        line.push_str(&format!("Init Duration: {:.2} ms\t", ms(i)));
    }
    match status {
        Status::Success | Status::FunctionError(_) => {}
        Status::Timeout => line.push_str("Status: timeout\t"),
        Status::Error(t) => line.push_str(&format!("Status: error\tError Type: {t}\t")),
    }
    line
}

/// `2025-01-15T10:20:33.456Z <id> Task timed out after 3.00 seconds`
pub fn timeout_line(request_id: &str, timeout_secs: u32) -> String {
    format!(
        "{} {request_id} Task timed out after {timeout_secs}.00 seconds",
        iso_now()
    )
}

/// The payload of a timed-out invocation.
pub fn timeout_payload(request_id: &str, timeout_secs: u32) -> String {
    serde_json::json!({
        "errorType": "Sandbox.Timedout",
        "errorMessage": format!("RequestId: {request_id} Error: Task timed out after {timeout_secs}.00 seconds"),
    })
    .to_string()
}

/// The payload when the runtime died: `Runtime.ExitError` or `Runtime.OutOfMemory`.
pub fn exit_payload(request_id: &str, error_type: &str, how: &str) -> String {
    serde_json::json!({
        "errorType": error_type,
        "errorMessage": format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
    })
    .to_string()
}

/// The payload when the response exceeded the limit.
pub fn too_large_payload() -> String {
    serde_json::json!({
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    })
    .to_string()
}

/// The error of a streamed response cut at the streaming limit.
pub fn streamed_too_large_payload() -> String {
    serde_json::json!({
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": format!(
            "Response payload size exceeded maximum allowed payload size ({} bytes).",
            crate::runtime::MAX_STREAMED_BYTES
        ),
    })
    .to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Now as `2025-01-15T10:20:33.456Z`.
pub fn iso_now() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_matches_aws() {
        let l = report_line(
            "abc",
            Duration::from_micros(12_340),
            Some(Duration::from_micros(130_200)),
            128,
            41,
            &Status::Success,
        );
        assert_eq!(
            l,
            "REPORT RequestId: abc\tDuration: 12.34 ms\tBilled Duration: 143 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 130.20 ms\t"
        );
        let t = report_line(
            "a",
            Duration::from_millis(3000),
            None,
            128,
            20,
            &Status::Timeout,
        );
        assert!(t.ends_with("Status: timeout\t"));
        let e = report_line(
            "a",
            Duration::from_millis(1),
            None,
            128,
            20,
            &Status::Error("Runtime.ExitError".into()),
        );
        assert!(e.ends_with("Status: error\tError Type: Runtime.ExitError\t"));
    }

    #[test]
    fn billing_rounds_up() {
        assert_eq!(billed_ms(Duration::from_micros(1), None), 1);
        assert_eq!(billed_ms(Duration::from_micros(1001), None), 2);
        assert_eq!(billed_ms(Duration::from_millis(5), None), 5);
    }

    #[test]
    fn timeout_payload_shape() {
        let p: serde_json::Value = serde_json::from_str(&timeout_payload("r1", 3)).unwrap();
        assert_eq!(p["errorType"], "Sandbox.Timedout");
        assert_eq!(
            p["errorMessage"],
            "RequestId: r1 Error: Task timed out after 3.00 seconds"
        );
    }
}
