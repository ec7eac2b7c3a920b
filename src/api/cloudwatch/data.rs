//! GetMetricData: MetricStat queries (`MetricDataQueries.member.N.MetricStat.…`), each
//! answered as Timestamps and Values (newest first unless ScanBy=TimestampAscending).
//! Metric math (`Expression`) is refused with InvalidParameterValue: it is not evaluated.
//!
//! Paging as CloudWatch documents it: one answer holds at most MaxDatapoints datapoints
//! (default 100,800) over all its queries, in query order; the query it stopped in has
//! StatusCode `PartialData`, and NextToken says where the next page starts (the query and
//! the last timestamp sent, so a page stays right when new minutes arrive between calls). A
//! page holds the results of the queries it reached: the one it resumes, then the following.
//! The CLI's `--page-size`, `--max-items` and `--starting-token` and boto3's paginator use it.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::input;
use crate::api::error::ApiError;
use crate::api::protocol::query::QueryParams;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::metrics::{self, MetricsError, Query, NAMESPACE};

pub fn get_metric_data<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let p = input::params(req)?;
        Ok(run(state, &p).await?)
    })
}

fn valid_id(id: &str) -> bool {
    let mut c = id.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

async fn run(state: &AppState, p: &QueryParams) -> Result<Reply, MetricsError> {
    let start_ms = input::time_ms(p, "StartTime")?;
    let end_ms = input::time_ms(p, "EndTime")?;
    let ascending = match p.get("ScanBy") {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(o) => {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter ScanBy must be TimestampDescending or TimestampAscending, not {o}."
            )))
        }
    };
    let max_points = match input::int(p, "MaxDatapoints")? {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
        Some(n) => {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter MaxDatapoints must be at least 1, not {n}."
            )))
        }
    };
    let resume = p.get("NextToken").map(Resume::decode).transpose()?;
    let queries = p.items("MetricDataQueries");
    if queries.is_empty() {
        return Err(MetricsError::MissingParameter(
            "The parameter MetricDataQueries is required.".into(),
        ));
    }
    if queries.len() > 500 {
        return Err(MetricsError::InvalidParameterValue(
            "At most 500 MetricDataQueries may be given.".into(),
        ));
    }
    if let Some(r) = &resume {
        if r.query >= queries.len() {
            return Err(MetricsError::InvalidParameterValue(
                "The NextToken is not valid for these MetricDataQueries: pass the NextToken of the previous answer with the same queries.".into(),
            ));
        }
    }
    let mut results = Vec::new();
    let mut seen = Vec::new();
    let mut budget = max_points;
    let mut next: Option<Resume> = None;
    for (index, q) in queries.iter().enumerate() {
        let id = input::required(q, "Id")?;
        if !valid_id(id) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The Id {id} is not valid: it must start with a lower-case letter and hold only letters, digits and underscores."
            )));
        }
        if seen.contains(&id) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The Id {id} is used by more than one query."
            )));
        }
        seen.push(id);
        if q.get("Expression").is_some() {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The query {id} has an Expression: metric math is not supported by lambdabox; use MetricStat."
            )));
        }
        let ms = q.sub("MetricStat");
        if ms.pairs().is_empty() {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "The query {id} must have MetricStat."
            )));
        }
        let metric = ms.sub("Metric");
        let namespace = input::required(&metric, "Namespace")?;
        let name = input::required(&metric, "MetricName")?.to_string();
        let period_secs = input::int(&ms, "Period")?.ok_or_else(|| {
            MetricsError::MissingParameter("The parameter MetricStat.Period is required.".into())
        })?;
        let stat = metrics::stat(input::required(&ms, "Stat")?)?;
        let dimensions = input::dimensions(&metric, "Dimensions")?;
        let mut points = if namespace == NAMESPACE {
            let query = Query {
                metric: name.clone(),
                dimensions,
                start_ms,
                end_ms,
                period_secs,
            };
            metrics::statistics(&state.ctx, query).await?
        } else {
            metrics::check_window(start_ms, end_ms, period_secs)?;
            Vec::new()
        };
        if !ascending {
            points.reverse();
        }
        if matches!(q.get("ReturnData"), Some("false" | "0")) {
            continue;
        }
        // Queries a previous page finished, and every query after the page is full, are only
        // checked.
        let after = match &resume {
            Some(r) if index < r.query => continue,
            Some(r) if index == r.query => r.after_ms,
            _ => None,
        };
        if next.is_some() {
            continue;
        }
        let values: Vec<(i64, f64)> = points
            .iter()
            .filter(|d| {
                after.map_or(true, |t| {
                    if ascending {
                        d.timestamp_ms > t
                    } else {
                        d.timestamp_ms < t
                    }
                })
            })
            .filter_map(|d| Some((d.timestamp_ms, d.samples.value(stat)?)))
            .collect();
        if budget == 0 {
            // The page filled exactly at the previous query's end: this one starts the next.
            next = Some(Resume {
                query: index,
                after_ms: None,
            });
            continue;
        }
        let partial = values.len() > budget;
        let sent = &values[..values.len().min(budget)];
        budget -= sent.len();
        if partial {
            next = Some(Resume {
                query: index,
                after_ms: sent.last().map(|(t, _)| *t),
            });
        }
        let (times, vals): (Vec<Value>, Vec<Value>) = sent
            .iter()
            .map(|(t, v)| (json!(input::format_ms(*t)), json!(v)))
            .unzip();
        results.push(json!({
            "Id": id,
            "Label": q.get("Label").unwrap_or(&name),
            "Timestamps": times,
            "Values": vals,
            "StatusCode": if partial { "PartialData" } else { "Complete" },
        }));
    }
    let mut body = json!({
        "MetricDataResults": results,
        "Messages": [],
    });
    if let Some(n) = next {
        body["NextToken"] = json!(n.encode());
    }
    Ok(Reply::Timed(body, &["Timestamps"]))
}

/// MaxDatapoints when the request has none (CloudWatch's default).
pub const DEFAULT_MAX_DATAPOINTS: usize = 100_800;

const TOKEN_PREFIX: &str = "gmd1.";

/// Where a page starts: the query (its index among MetricDataQueries) and, inside it, after
/// which timestamp (in the scan order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resume {
    query: usize,
    after_ms: Option<i64>,
}

impl Resume {
    fn encode(self) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let at = self.after_ms.map_or_else(String::new, |t| t.to_string());
        format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(format!("{}:{at}", self.query))
        )
    }

    fn decode(token: &str) -> Result<Resume, MetricsError> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let bad = || {
            MetricsError::InvalidParameterValue(format!(
                "The NextToken {token} is not valid: pass the NextToken of the previous answer."
            ))
        };
        let text = token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(bad)?;
        let (q, at) = text.split_once(':').ok_or_else(bad)?;
        Ok(Resume {
            query: q.parse().map_err(|_| bad())?,
            after_ms: if at.is_empty() {
                None
            } else {
                Some(at.parse().map_err(|_| bad())?)
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        for r in [
            Resume {
                query: 0,
                after_ms: None,
            },
            Resume {
                query: 3,
                after_ms: Some(1_764_000_000_000),
            },
        ] {
            assert_eq!(Resume::decode(&r.encode()).unwrap(), r);
        }
        for bad in ["", "gmd1.", "gmd1.!!", "lm1.MDo", "gmd1.eDox"] {
            assert!(Resume::decode(bad).is_err(), "{bad}");
        }
    }
}
