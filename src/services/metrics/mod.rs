//! Function metrics as CloudWatch's `AWS/Lambda` namespace serves them: datapoints of one
//! metric, dimension set, window and period ([`statistics`]) and the series that exist
//! ([`list`]). Invocations, Errors, ColdStarts, Duration and InitDuration come from the
//! per-minute rows in logs.db (`store::function_metrics`); ConcurrentExecutions,
//! UnreservedConcurrentExecutions and Throttles from the engine's capacity metrics in the
//! main database (`store::capacity_metrics`, FunctionName or account only), and so do the
//! asynchronous queue's AsyncEventsReceived, AsyncEventsDropped and AsyncEventAge
//! (FunctionName only), and the event source mapping counts (PolledEventCount and the others
//! of [`ESM_METRICS`], EventSourceMappingUUID only, rows the pollers write:
//! `triggers::esm::metrics`). Wire shapes are
//! `api::cloudwatch`; the dashboard reads the same datapoints.

pub mod stats;

use std::collections::BTreeMap;

use crate::services::Context;
use crate::store::function_metrics::{self as fm, Filter, Minute};
use crate::store::{capacity_metrics, StoreError};
use stats::{Samples, Shape, Stat};

/// The namespace served.
pub const NAMESPACE: &str = "AWS/Lambda";
/// Metrics from the per-minute function rows.
pub const FUNCTION_METRICS: &[&str] = &[
    "Invocations",
    "Errors",
    "Duration",
    "ColdStarts",
    "InitDuration",
];
/// Metrics from the capacity rows.
pub const CAPACITY_METRICS: &[&str] = &[
    "ConcurrentExecutions",
    "UnreservedConcurrentExecutions",
    "Throttles",
    "AsyncEventsReceived",
    "AsyncEventsDropped",
    "AsyncEventAge",
];
/// The event source mapping metrics SQS mappings have (dimension EventSourceMappingUUID),
/// in the order `triggers::esm::metrics::Count` numbers them.
pub const ESM_METRICS: &[&str] = &[
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    "DeletedEventCount",
];
/// Most datapoints one answer may hold (CloudWatch's limit).
pub const MAX_DATAPOINTS: i64 = 1440;

/// Errors, by CloudWatch's query-protocol codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// InvalidParameterValue
    #[error("{0}")]
    InvalidParameterValue(String),
    /// InvalidParameterCombination
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// MissingParameter
    #[error("{0}")]
    MissingParameter(String),
    /// InternalServiceError
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for MetricsError {
    fn from(e: StoreError) -> MetricsError {
        tracing::error!(error = %e, "metric store failure");
        MetricsError::Internal("The metric store failed; see the daemon's log.".into())
    }
}

/// The dimensions of a query, by AWS/Lambda's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dimensions {
    pub function_name: Option<String>,
    pub resource: Option<String>,
    pub executed_version: Option<String>,
    /// EventSourceMappingUUID (the event source mapping metrics' only dimension).
    pub event_source_mapping: Option<String>,
    /// A dimension AWS/Lambda does not have: the query matches no series.
    pub unknown: bool,
}

impl Dimensions {
    /// From (Name, Value) pairs; a repeated name is refused.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Dimensions, MetricsError> {
        let mut d = Dimensions::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "FunctionName" => &mut d.function_name,
                "Resource" => &mut d.resource,
                "ExecutedVersion" => &mut d.executed_version,
                "EventSourceMappingUUID" => &mut d.event_source_mapping,
                _ => {
                    d.unknown = true;
                    continue;
                }
            };
            if slot.replace(value.clone()).is_some() {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The dimension {name} is given more than once."
                )));
            }
        }
        Ok(d)
    }

    fn filter(&self) -> Filter {
        Filter {
            function: self.function_name.clone().or_else(|| {
                self.resource
                    .as_ref()
                    .map(|r| r.split(':').next().unwrap_or(r).to_string())
            }),
            resource: self.resource.clone(),
            executed_version: self.executed_version.clone(),
        }
    }
}

/// One metric query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub metric: String,
    pub dimensions: Dimensions,
    pub start_ms: i64,
    pub end_ms: i64,
    pub period_secs: i64,
}

/// The statistics of one period starting at `timestamp_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    pub timestamp_ms: i64,
    pub samples: Samples,
}

/// The unit CloudWatch reports for `metric`.
pub fn unit(metric: &str) -> &'static str {
    match metric {
        "Duration" | "InitDuration" | "AsyncEventAge" => "Milliseconds",
        _ => "Count",
    }
}

/// Checks a window and period the way GetMetricStatistics does.
pub fn check_window(start_ms: i64, end_ms: i64, period_secs: i64) -> Result<(), MetricsError> {
    if period_secs < 60 || period_secs % 60 != 0 {
        return Err(MetricsError::InvalidParameterValue(
            "The parameter Period must be a multiple of 60.".into(),
        ));
    }
    if start_ms >= end_ms {
        return Err(MetricsError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    let width = period_secs * 1000;
    let points = (end_ms - start_ms + width - 1) / width;
    if points > MAX_DATAPOINTS {
        return Err(MetricsError::InvalidParameterCombination(format!(
            "You have requested up to {points} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    Ok(())
}

fn period_of(q: &Query, minute_ms: i64) -> i64 {
    let width = q.period_secs * 1000;
    q.start_ms + (minute_ms - q.start_ms).div_euclid(width) * width
}

/// The datapoints of `q`, oldest first; periods without samples are left out.
pub async fn statistics(ctx: &Context, q: Query) -> Result<Vec<Datapoint>, MetricsError> {
    check_window(q.start_ms, q.end_ms, q.period_secs)?;
    if q.dimensions.unknown {
        return Ok(Vec::new());
    }
    if ESM_METRICS.contains(&q.metric.as_str()) {
        return esm_statistics(ctx, &q).await;
    }
    if q.dimensions.event_source_mapping.is_some() {
        return Ok(Vec::new());
    }
    if FUNCTION_METRICS.contains(&q.metric.as_str()) {
        let filter = q.dimensions.filter();
        let (from, to) = (q.start_ms, q.end_ms);
        let rows = ctx
            .logs
            .call(move |c| fm::range(c, &filter, from, to))
            .await?;
        let mut periods: BTreeMap<i64, Minute> = BTreeMap::new();
        for (minute, m) in rows {
            periods.entry(period_of(&q, minute)).or_default().merge(&m);
        }
        return Ok(periods
            .into_iter()
            .filter_map(|(t, m)| {
                let samples = stats::of_minute(&q.metric, &m)?;
                (samples.count > 0).then_some(Datapoint {
                    timestamp_ms: t,
                    samples,
                })
            })
            .collect());
    }
    if CAPACITY_METRICS.contains(&q.metric.as_str())
        && q.dimensions.resource.is_none()
        && q.dimensions.executed_version.is_none()
    {
        let function = q.dimensions.function_name.clone().unwrap_or_default();
        let since = q.start_ms;
        let rows = ctx
            .store
            .call(move |c| capacity_metrics::series(c, &function, since))
            .await?;
        let mut periods: BTreeMap<i64, Samples> = BTreeMap::new();
        let rows = rows
            .iter()
            .filter(|r| r.metric == q.metric && r.minute_ms < q.end_ms);
        if q.metric.starts_with("Async") {
            for r in rows {
                let p = periods
                    .entry(period_of(&q, r.minute_ms))
                    .or_insert_with(stats::empty_aggregate);
                stats::add_async(p, &q.metric, r);
            }
            return Ok(periods
                .into_iter()
                .filter(|(_, s)| s.count > 0)
                .map(|(t, samples)| Datapoint {
                    timestamp_ms: t,
                    samples,
                })
                .collect());
        }
        for r in rows {
            let p = periods
                .entry(period_of(&q, r.minute_ms))
                .or_insert(Samples {
                    count: 0,
                    sum: 0.0,
                    min: f64::INFINITY,
                    max: 0.0,
                    shape: Shape::Aggregate,
                });
            p.count += r.samples.max(1);
            p.sum += r.sum;
            p.max = p.max.max(r.max);
            p.min = p.min.min(if q.metric == "Throttles" {
                r.sum
            } else {
                r.max
            });
        }
        return Ok(periods
            .into_iter()
            .map(|(t, samples)| Datapoint {
                timestamp_ms: t,
                samples,
            })
            .collect());
    }
    Ok(Vec::new())
}

/// An event source mapping metric: only the EventSourceMappingUUID dimension has series.
async fn esm_statistics(ctx: &Context, q: &Query) -> Result<Vec<Datapoint>, MetricsError> {
    let d = &q.dimensions;
    let Some(uuid) = d.event_source_mapping.clone() else {
        return Ok(Vec::new());
    };
    if d.function_name.is_some() || d.resource.is_some() || d.executed_version.is_some() {
        return Ok(Vec::new());
    }
    let (metric, from, to) = (q.metric.clone(), q.start_ms, q.end_ms);
    let rows = ctx
        .store
        .call(move |c| capacity_metrics::of_dimension(c, &metric, &uuid, from, to))
        .await?;
    let mut periods: BTreeMap<i64, Samples> = BTreeMap::new();
    for r in &rows {
        let p = periods
            .entry(period_of(q, r.minute_ms))
            .or_insert_with(stats::empty_aggregate);
        stats::add_async(p, &q.metric, r);
    }
    Ok(periods
        .into_iter()
        .filter(|(_, s)| s.count > 0)
        .map(|(t, samples)| Datapoint {
            timestamp_ms: t,
            samples,
        })
        .collect())
}

/// One series ListMetrics names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Series {
    pub metric: &'static str,
    /// (Name, Value) in AWS/Lambda's order.
    pub dimensions: Vec<(&'static str, String)>,
}

/// The series with data since `since` (ListMetrics: the last two weeks), optionally only
/// `metric` and only those having every dimension of `having` (a None value matches any).
pub async fn list(
    ctx: &Context,
    metric: Option<String>,
    having: Vec<(String, Option<String>)>,
    since: i64,
) -> Result<Vec<Series>, MetricsError> {
    let dims = ctx.logs.call(move |c| fm::dimensions(c, since)).await?;
    let capacity = ctx
        .store
        .call(move |c| capacity_metrics::functions_since(c, since))
        .await?;
    let mappings = ctx
        .store
        .call(move |c| capacity_metrics::dimensions_since(c, ESM_METRICS, since))
        .await?;
    let mut out = Vec::new();
    for (f, resource, version) in dims {
        let mut d = vec![("FunctionName", f)];
        if !resource.is_empty() {
            d.push(("Resource", resource));
        }
        if !version.is_empty() {
            d.push(("ExecutedVersion", version));
        }
        for m in FUNCTION_METRICS {
            out.push(Series {
                metric: m,
                dimensions: d.clone(),
            });
        }
    }
    for (f, metric) in capacity {
        let Some(m) = CAPACITY_METRICS.iter().find(|m| **m == metric) else {
            continue;
        };
        let dimensions = if f.is_empty() {
            Vec::new()
        } else {
            vec![("FunctionName", f)]
        };
        out.push(Series {
            metric: m,
            dimensions,
        });
    }
    for (metric, uuid) in mappings {
        let Some(m) = ESM_METRICS.iter().find(|m| **m == metric) else {
            continue;
        };
        out.push(Series {
            metric: m,
            dimensions: vec![("EventSourceMappingUUID", uuid)],
        });
    }
    out.sort();
    out.dedup();
    out.retain(|s| {
        metric.as_deref().map_or(true, |m| m == s.metric)
            && having.iter().all(|(name, value)| {
                s.dimensions
                    .iter()
                    .any(|(n, v)| n == name && value.as_ref().map_or(true, |want| want == v))
            })
    });
    Ok(out)
}

/// Series per ListMetrics page (CloudWatch's).
pub const LIST_PAGE: usize = 500;

impl Series {
    /// The series' place in the listing order, as a paging token carries it.
    fn key(&self) -> String {
        let mut k = self.metric.to_string();
        for (n, v) in &self.dimensions {
            k.push('\u{1f}');
            k.push_str(n);
            k.push('=');
            k.push_str(v);
        }
        k
    }
}

const TOKEN_PREFIX: &str = "lm1.";

/// One ListMetrics page: at most `size` of `series` after the one `token` names (from the
/// start without a token), and the token of the next page if there is one. Tokens name the
/// last series sent, so a page stays right when series appear or expire between calls.
pub fn page(
    mut series: Vec<Series>,
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<Series>, Option<String>), MetricsError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let after = match token {
        None => None,
        Some(t) => {
            let key = t
                .strip_prefix(TOKEN_PREFIX)
                .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    MetricsError::InvalidParameterValue(format!(
                        "The NextToken {t} is not valid: pass the NextToken of the previous answer."
                    ))
                })?;
            Some(key)
        }
    };
    series.sort_by_cached_key(Series::key);
    let start = match &after {
        Some(a) => series.partition_point(|s| s.key() <= *a),
        None => 0,
    };
    let mut rest = series.split_off(start.min(series.len()));
    let more = rest.len() > size;
    rest.truncate(size);
    let next = if more {
        rest.last()
            .map(|s| format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(s.key())))
    } else {
        None
    };
    Ok((rest, next))
}

/// Parses a statistic name or refuses it.
pub fn stat(name: &str) -> Result<Stat, MetricsError> {
    Stat::parse(name).ok_or_else(|| {
        MetricsError::InvalidParameterValue(format!(
            "The statistic {name} is not valid: use SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p99 or p99.9."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<Series> {
        (0..n)
            .map(|i| Series {
                metric: FUNCTION_METRICS[i % FUNCTION_METRICS.len()],
                dimensions: vec![("FunctionName", format!("f{i:03}"))],
            })
            .collect()
    }

    #[test]
    fn pages_cover_every_series_once_in_order() {
        let all = series(23);
        let mut seen = Vec::new();
        let mut token = None;
        let mut pages = 0;
        loop {
            let (items, next) = page(all.clone(), token.as_deref(), 5).unwrap();
            pages += 1;
            assert!(items.len() <= 5);
            seen.extend(items);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(pages, 5);
        assert_eq!(seen.len(), 23);
        let mut sorted = all.clone();
        sorted.sort_by_cached_key(Series::key);
        assert_eq!(seen, sorted);
        // Exactly one page: no token.
        assert!(page(series(5), None, 5).unwrap().1.is_none());
    }

    #[test]
    fn a_token_stays_right_when_series_change_and_bad_tokens_are_refused() {
        let (first, next) = page(series(10), None, 4).unwrap();
        let next = next.unwrap();
        // A series sorting before the token's appears: the next page does not repeat any.
        let mut more = series(10);
        more.push(Series {
            metric: "Duration",
            dimensions: vec![("FunctionName", "a".into())],
        });
        let (second, _) = page(more, Some(&next), 4).unwrap();
        assert!(second.iter().all(|s| !first.contains(s)));
        for bad in ["nope", "lm1.!!", "lm1."] {
            let r = page(series(3), Some(bad), 4);
            assert!(
                matches!(r, Err(MetricsError::InvalidParameterValue(_)))
                    || r.as_ref().is_ok_and(|(items, _)| items.len() == 3),
                "{bad}"
            );
        }
        assert!(matches!(
            page(series(3), Some("nope"), 4),
            Err(MetricsError::InvalidParameterValue(_))
        ));
    }
}
