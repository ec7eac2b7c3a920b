//! Searching the Logs tab: CloudWatch Logs filter patterns (the same parser and matcher as
//! FilterLogEvents, `services::logs::events::filter`), a time range, and pages of
//! [`PAGE`] events (oldest first, as FilterLogEvents returns them) with a token to go on.

use serde::Serialize;

use super::App;
use crate::domain::function::now_ms;
use crate::services::logs::events::{filter, FilterInput};
use crate::services::logs::LogsError;

/// Events per page of results.
pub const PAGE: usize = 100;

/// (id, label, span) of the time ranges offered; `all` has no start.
pub const RANGES: &[(&str, &str, i64)] = &[
    ("15m", "Last 15 minutes", 15 * 60_000),
    ("1h", "Last hour", 3_600_000),
    ("24h", "Last 24 hours", 86_400_000),
    ("7d", "Last 7 days", 7 * 86_400_000),
    ("all", "All retained", 0),
];

/// One matched event as shown.
#[derive(Serialize)]
pub struct Hit {
    pub time: String,
    pub stream: String,
    pub message: String,
}

/// A page of results, or why the search could not run.
pub struct Results {
    pub hits: Vec<Hit>,
    pub next: Option<String>,
    /// The pattern does not parse (shown beside the search box).
    pub pattern_error: Option<String>,
}

/// Runs one page of a search of `group` (one stream, or all).
pub async fn search(
    app: &App,
    group: &str,
    stream: Option<&str>,
    pattern: &str,
    range: &str,
    token: Option<&str>,
) -> Result<Results, super::WebError> {
    let span = RANGES
        .iter()
        .find(|(id, _, _)| *id == range)
        .map_or(3_600_000, |(_, _, s)| *s);
    let start_ms = (span > 0).then(|| now_ms() - span);
    let input = FilterInput {
        group: group.to_string(),
        streams: stream.map(|s| vec![s.to_string()]).unwrap_or_default(),
        stream_prefix: "",
        start_ms,
        end_ms: None,
        pattern,
        token,
        limit: PAGE,
    };
    match filter(&app.ctx, input).await {
        Ok((events, next)) => Ok(Results {
            hits: events
                .into_iter()
                .map(|e| Hit {
                    time: super::fmt_time(e.ts_ms),
                    stream: e.stream,
                    message: e.message,
                })
                .collect(),
            next,
            pattern_error: None,
        }),
        Err(LogsError::NotFound(_)) => Ok(Results {
            hits: Vec::new(),
            next: None,
            pattern_error: None,
        }),
        Err(LogsError::InvalidParameter(m)) => Ok(Results {
            hits: Vec::new(),
            next: None,
            pattern_error: Some(format!(
                "This filter pattern does not parse: {m}. Examples: ERROR, \"exact phrase\", ?ERROR ?WARN, -DEBUG, {{ $.level = \"ERROR\" }}."
            )),
        }),
        Err(e) => Err(super::WebError::Internal(e.to_string())),
    }
}
