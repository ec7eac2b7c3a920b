//! The platform's own log records in both of AWS's formats: the text lines (START, END,
//! REPORT, INIT_REPORT, see [`super::report`]) for `LogFormat: Text`, and the JSON records
//! (`{"time","type":"platform.start","record":{…}}`) for `LogFormat: JSON`, which
//! `SystemLogLevel` filters (`platform.runtimeDone` is DEBUG, the others INFO).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::report::{self, Status};
use crate::domain::function::LoggingConfig;
use crate::domain::logging::{passes, APPLICATION_LEVELS, SYSTEM_LEVELS};

/// How an environment's platform records are written, from the version's `LoggingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStyle {
    pub json: bool,
    /// `SystemLogLevel` (JSON only).
    pub system_level: String,
    /// `ApplicationLogLevel` (JSON only; None: no filter).
    pub application_level: Option<String>,
}

impl LogStyle {
    pub fn of(c: &LoggingConfig) -> LogStyle {
        LogStyle {
            json: c.log_format == "JSON",
            system_level: c.system_log_level.clone().unwrap_or_else(|| "INFO".into()),
            application_level: c
                .application_log_level
                .clone()
                .filter(|_| c.log_format == "JSON"),
        }
    }

    /// Whether a line the function wrote passes `ApplicationLogLevel`, as AWS filters it: a
    /// JSON object's `level`, INFO for any other line. The runtime clients filter before
    /// writing; this catches custom runtimes and direct writes to stdout.
    pub fn keeps_function_line(&self, line: &str) -> bool {
        let Some(min) = self.application_level.as_deref() else {
            return true;
        };
        if min == "TRACE" {
            return true;
        }
        let level = if line.starts_with('{') {
            serde_json::from_str::<LevelOnly>(line)
                .ok()
                .and_then(|l| l.level)
                .unwrap_or_else(|| "INFO".into())
        } else {
            "INFO".into()
        };
        passes(APPLICATION_LEVELS, &level, min)
    }

    /// [`LogStyle::keeps_function_line`] of a line as read from the pipe (converted only when
    /// a filter is set and the line is not valid UTF-8).
    pub fn keeps_function_bytes(&self, line: &[u8]) -> bool {
        if self.application_level.is_none() {
            return true;
        }
        match std::str::from_utf8(line) {
            Ok(s) => self.keeps_function_line(s),
            Err(_) => self.keeps_function_line(&String::from_utf8_lossy(line)),
        }
    }
}

#[derive(serde::Deserialize)]
struct LevelOnly {
    level: Option<String>,
}

/// One platform record.
#[derive(Debug, Clone)]
pub enum Platform<'a> {
    Start {
        request_id: &'a str,
        version: &'a str,
    },
    /// END (`platform.runtimeDone` in JSON).
    End {
        request_id: &'a str,
        duration: Duration,
        status: &'a Status,
    },
    Report {
        request_id: &'a str,
        duration: Duration,
        init: Option<Duration>,
        memory_mb: u32,
        max_memory_mb: u64,
        status: &'a Status,
    },
    /// A failed init (INIT_REPORT, `platform.initReport`).
    InitReport {
        init: Duration,
        timed_out: bool,
        error_type: &'a str,
        init_type: &'a str,
    },
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

fn status_fields(status: &Status, record: &mut Map<String, Value>) {
    let (word, error_type) = match status {
        Status::Success => ("success", None),
        Status::FunctionError(t) | Status::Error(t) => ("error", Some(t.as_str())),
        Status::Timeout => ("timeout", None),
    };
    record.insert("status".into(), json!(word));
    if let Some(t) = error_type {
        record.insert("errorType".into(), json!(t));
    }
}

impl Platform<'_> {
    /// The text line (`LogFormat: Text`).
    pub fn text(&self) -> String {
        match self {
            Platform::Start {
                request_id,
                version,
            } => report::start_line(request_id, version),
            Platform::End { request_id, .. } => report::end_line(request_id),
            Platform::Report {
                request_id,
                duration,
                init,
                memory_mb,
                max_memory_mb,
                status,
            } => report::report_line(
                request_id,
                *duration,
                *init,
                *memory_mb,
                *max_memory_mb,
                status,
            ),
            Platform::InitReport {
                init,
                timed_out,
                error_type,
                ..
            } => format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: {}\tError Type: {error_type}",
                init.as_secs_f64() * 1000.0,
                if *timed_out { "timeout" } else { "error" }
            ),
        }
    }

    /// The system log level of the record.
    pub fn level(&self) -> &'static str {
        match self {
            Platform::End { .. } => "DEBUG",
            _ => "INFO",
        }
    }

    /// The JSON record (`LogFormat: JSON`), stamped `time`.
    pub fn json(&self, time: &str) -> String {
        let (kind, record) = match self {
            Platform::Start {
                request_id,
                version,
            } => (
                "platform.start",
                json!({"requestId": request_id, "version": version}),
            ),
            Platform::End {
                request_id,
                duration,
                status,
            } => {
                let mut r = Map::new();
                r.insert("requestId".into(), json!(request_id));
                status_fields(status, &mut r);
                r.insert(
                    "metrics".into(),
                    json!({"durationMs": ms(*duration), "producedBytes": 0}),
                );
                ("platform.runtimeDone", Value::Object(r))
            }
            Platform::Report {
                request_id,
                duration,
                init,
                memory_mb,
                max_memory_mb,
                status,
            } => {
                let mut metrics = json!({
                    "durationMs": ms(*duration),
                    "billedDurationMs": report::billed_ms(*duration, *init),
                    "memorySizeMB": memory_mb,
                    "maxMemoryUsedMB": max_memory_mb,
                });
                if let Some(i) = init {
                    metrics["initDurationMs"] = json!(ms(*i));
                }
                let mut r = Map::new();
                r.insert("requestId".into(), json!(request_id));
                r.insert("metrics".into(), metrics);
                status_fields(status, &mut r);
                ("platform.report", Value::Object(r))
            }
            Platform::InitReport {
                init,
                timed_out,
                error_type,
                init_type,
            } => (
                "platform.initReport",
                json!({
                    "initializationType": init_type,
                    "phase": "init",
                    "status": if *timed_out { "timeout" } else { "error" },
                    "errorType": error_type,
                    "metrics": {"durationMs": ms(*init)},
                }),
            ),
        };
        json!({"time": time, "type": kind, "record": record}).to_string()
    }

    /// The line to write under `style`, or None when `SystemLogLevel` filters it out.
    pub fn render(&self, style: &LogStyle) -> Option<String> {
        if !style.json {
            return Some(self.text());
        }
        if !passes(SYSTEM_LEVELS, self.level(), &style.system_level) {
            return None;
        }
        Some(self.json(&report::iso_now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_report_matches_aws_shape() {
        let s = Status::Success;
        let r = Platform::Report {
            request_id: "r1",
            duration: Duration::from_micros(12_345),
            init: Some(Duration::from_micros(130_200)),
            memory_mb: 128,
            max_memory_mb: 41,
            status: &s,
        };
        let v: Value = serde_json::from_str(&r.json("2025-01-15T10:20:30.123Z")).unwrap();
        assert_eq!(v["type"], "platform.report");
        assert_eq!(v["time"], "2025-01-15T10:20:30.123Z");
        assert_eq!(v["record"]["requestId"], "r1");
        assert_eq!(v["record"]["status"], "success");
        assert_eq!(v["record"]["metrics"]["durationMs"], 12.345);
        assert_eq!(v["record"]["metrics"]["billedDurationMs"], 143);
        assert_eq!(v["record"]["metrics"]["initDurationMs"], 130.2);
        assert_eq!(v["record"]["metrics"]["memorySizeMB"], 128);
    }

    #[test]
    fn system_level_filters_json_records_only() {
        let s = Status::Timeout;
        let end = Platform::End {
            request_id: "r",
            duration: Duration::ZERO,
            status: &s,
        };
        let start = Platform::Start {
            request_id: "r",
            version: "$LATEST",
        };
        let info = LogStyle {
            json: true,
            system_level: "INFO".into(),
            application_level: None,
        };
        let warn = LogStyle {
            json: true,
            system_level: "WARN".into(),
            application_level: Some("WARN".into()),
        };
        assert!(warn.keeps_function_line(r#"{"level":"ERROR","message":"x"}"#));
        assert!(!warn.keeps_function_line(r#"{"level":"INFO","message":"x"}"#));
        assert!(!warn.keeps_function_line("plain print"));
        assert!(info.keeps_function_line("plain print"));
        assert!(end.render(&info).is_none());
        assert!(start.render(&info).is_some());
        assert!(start.render(&warn).is_none());
        assert_eq!(
            end.render(&LogStyle::default()).as_deref(),
            Some("END RequestId: r")
        );
        let debug = LogStyle {
            json: true,
            system_level: "DEBUG".into(),
            application_level: None,
        };
        let v: Value = serde_json::from_str(&end.render(&debug).unwrap()).unwrap();
        assert_eq!(v["type"], "platform.runtimeDone");
        assert_eq!(v["record"]["status"], "timeout");
    }
}
