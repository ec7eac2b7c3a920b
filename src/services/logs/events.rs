//! GetLogEvents (one stream, forward or backward from a token) and FilterLogEvents (a
//! group's streams in timestamp order, matched against a filter pattern).

use super::{bad_token, no_group, LogsError};
use crate::domain::logfilter::Pattern;
use crate::services::Context;
use crate::store::logs_query::{self as q, ApiEvent, Cursor};

/// Rows FilterLogEvents looks at per call before it answers with what it found and a
/// token to continue, as AWS does when a search takes long.
pub const SCAN_BUDGET: usize = 10_000;

/// A page of one stream.
pub struct StreamPage {
    pub events: Vec<ApiEvent>,
    pub forward: String,
    pub backward: String,
}

/// What GetLogEvents was asked.
pub struct GetInput<'a> {
    pub group: String,
    pub stream: &'a str,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub token: Option<&'a str>,
    pub limit: usize,
    pub start_from_head: bool,
}

fn cursor(token: Option<&str>, head: bool) -> Result<Cursor, LogsError> {
    let Some(t) = token else {
        return Ok(if head { Cursor::Head } else { Cursor::Tail });
    };
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad_token());
    match t.split_once('/') {
        Some(("f", n)) => Ok(Cursor::After(num(n)?)),
        Some(("b", n)) => Ok(Cursor::Before(num(n)?)),
        _ => Err(bad_token()),
    }
}

pub async fn get(ctx: &Context, input: GetInput<'_>) -> Result<StreamPage, LogsError> {
    let cur = cursor(input.token, input.start_from_head)?;
    let (g, s) = (input.group.clone(), input.stream.to_string());
    let (start, end, limit) = (
        input.start_ms.unwrap_or(i64::MIN),
        input.end_ms.unwrap_or(i64::MAX),
        input.limit,
    );
    let (exists, page) = ctx
        .logs
        .call(move |c| {
            if !q::group_exists(c, &g)? {
                return Ok((false, None));
            }
            let Some(id) = q::stream_id(c, &g, &s)? else {
                return Ok((true, None));
            };
            Ok((true, Some(q::stream_page(c, id, start, end, cur, limit)?)))
        })
        .await?;
    if !exists {
        return Err(no_group());
    }
    let events =
        page.ok_or_else(|| LogsError::NotFound("The specified log stream does not exist.".into()))?;
    // With nothing new, the tokens stay where they were: clients stop paging when a token
    // comes back unchanged.
    let (forward, backward) = match (events.first(), events.last(), cur) {
        (Some(f), Some(l), _) => (l.id, f.id),
        (_, _, Cursor::After(n)) | (_, _, Cursor::Before(n)) => (n, n),
        (_, _, Cursor::Head) | (_, _, Cursor::Tail) => (0, 0),
    };
    Ok(StreamPage {
        events,
        forward: format!("f/{forward}"),
        backward: format!("b/{backward}"),
    })
}

/// What FilterLogEvents was asked.
pub struct FilterInput<'a> {
    pub group: String,
    pub streams: Vec<String>,
    pub stream_prefix: &'a str,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub pattern: &'a str,
    pub token: Option<&'a str>,
    pub limit: usize,
}

/// The matched events and the token to continue, if the search is not complete.
pub async fn filter(
    ctx: &Context,
    input: FilterInput<'_>,
) -> Result<(Vec<ApiEvent>, Option<String>), LogsError> {
    if !input.streams.is_empty() && !input.stream_prefix.is_empty() {
        return Err(LogsError::InvalidParameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive".into(),
        ));
    }
    let pattern =
        Pattern::parse(input.pattern).map_err(|e| LogsError::InvalidParameter(e.to_string()))?;
    let mut after = match input.token {
        None => (i64::MIN, i64::MIN),
        Some(t) => {
            let mut parts = t.strip_prefix("e/").ok_or_else(bad_token)?.split('/');
            let ts = parts.next().and_then(|p| p.parse().ok());
            let id = parts.next().and_then(|p| p.parse().ok());
            match (ts, id, parts.next()) {
                (Some(ts), Some(id), None) => (ts, id),
                _ => return Err(bad_token()),
            }
        }
    };
    let (g, streams, prefix) = (
        input.group.clone(),
        input.streams.clone(),
        input.stream_prefix.to_string(),
    );
    let (start, end, limit) = (
        input.start_ms.unwrap_or(i64::MIN),
        input.end_ms.unwrap_or(i64::MAX),
        input.limit,
    );
    ctx.logs
        .call(move |c| {
            if !q::group_exists(c, &g)? {
                return Ok(Err(no_group()));
            }
            let mut found = Vec::new();
            let mut scanned = 0;
            loop {
                let batch = q::scan(c, &g, &streams, &prefix, start, end, after, 1000)?;
                let full = batch.len() == 1000;
                for e in batch {
                    scanned += 1;
                    after = (e.ts_ms, e.id);
                    if pattern.matches(&e.message) {
                        found.push(e);
                        if found.len() == limit {
                            return Ok(Ok((found, Some(format!("e/{}/{}", after.0, after.1)))));
                        }
                    }
                }
                if !full {
                    return Ok(Ok((found, None)));
                }
                if scanned >= SCAN_BUDGET {
                    return Ok(Ok((found, Some(format!("e/{}/{}", after.0, after.1)))));
                }
            }
        })
        .await?
}
