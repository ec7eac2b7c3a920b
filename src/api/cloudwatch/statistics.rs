//! GetMetricStatistics: Statistics (SampleCount, Average, Sum, Minimum, Maximum) and
//! ExtendedStatistics (`p50`, `p99.9`, …) of one metric per Period, with CloudWatch's checks
//! (one of the two lists, at most 5 of each, Period a multiple of 60, at most 1,440 points).

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value};

use super::input;
use crate::api::error::ApiError;
use crate::api::protocol::query::QueryParams;
use crate::api::protocol::xml::Xml;
use crate::api::protocol::{Protocol, Reply};
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::metrics::{self, stats::Stat, MetricsError, Query, NAMESPACE};

fn fmt_value(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

pub fn get_metric_statistics<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let p = input::params(req)?;
        Ok(run(state, &p, req.protocol).await?)
    })
}

async fn run(state: &AppState, p: &QueryParams, protocol: Protocol) -> Result<Reply, MetricsError> {
    let namespace = input::required(p, "Namespace")?;
    let metric = input::required(p, "MetricName")?.to_string();
    let start_ms = input::time_ms(p, "StartTime")?;
    let end_ms = input::time_ms(p, "EndTime")?;
    let period_secs = input::int(p, "Period")?.ok_or_else(|| {
        MetricsError::MissingParameter("The parameter Period is required.".into())
    })?;
    let names = p.list("Statistics");
    let extended = p.list("ExtendedStatistics");
    if names.is_empty() && extended.is_empty() {
        return Err(MetricsError::InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics".into(),
        ));
    }
    if names.len() > 5 || extended.len() > 10 {
        return Err(MetricsError::InvalidParameterValue(
            "At most 5 Statistics and 10 ExtendedStatistics may be given.".into(),
        ));
    }
    let mut basic = Vec::new();
    for n in &names {
        match metrics::stat(n)? {
            Stat::Percentile(_) => {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The parameter Statistics.member.N must be one of SampleCount, Average, Sum, Minimum, Maximum, not {n}; percentiles go in ExtendedStatistics."
                )))
            }
            s => basic.push((n.as_str(), s)),
        }
    }
    let mut pct = Vec::new();
    for n in &extended {
        match metrics::stat(n)? {
            s @ Stat::Percentile(_) => pct.push((n.as_str(), s)),
            _ => {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The parameter ExtendedStatistics.member.N must be a percentile such as p99, not {n}."
                )))
            }
        }
    }
    let dimensions = input::dimensions(p, "Dimensions")?;
    metrics::check_window(start_ms, end_ms, period_secs)?;
    let points = if namespace == NAMESPACE {
        let q = Query {
            metric: metric.clone(),
            dimensions,
            start_ms,
            end_ms,
            period_secs,
        };
        metrics::statistics(&state.ctx, q).await?
    } else {
        Vec::new()
    };
    let unit = metrics::unit(&metric);
    if protocol != Protocol::Query {
        let datapoints: Vec<Value> = points
            .iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("Timestamp".into(), json!(input::format_ms(d.timestamp_ms)));
                for (name, s) in &basic {
                    if let Some(v) = d.samples.value(*s) {
                        m.insert((*name).to_string(), json!(v));
                    }
                }
                m.insert("Unit".into(), json!(unit));
                if !pct.is_empty() {
                    let ext: Map<String, Value> = pct
                        .iter()
                        .filter_map(|(name, s)| {
                            Some(((*name).to_string(), json!(d.samples.value(*s)?)))
                        })
                        .collect();
                    m.insert("ExtendedStatistics".into(), Value::Object(ext));
                }
                Value::Object(m)
            })
            .collect();
        return Ok(Reply::Timed(
            json!({ "Label": metric, "Datapoints": datapoints }),
            &["Timestamp"],
        ));
    }
    let mut x = Xml::new();
    x.leaf("Label", &metric).open("Datapoints");
    for d in &points {
        x.open("member")
            .leaf("Timestamp", &input::format_ms(d.timestamp_ms));
        for (name, s) in &basic {
            if let Some(v) = d.samples.value(*s) {
                x.leaf(name, &fmt_value(v));
            }
        }
        x.leaf("Unit", unit);
        if !pct.is_empty() {
            x.open("ExtendedStatistics");
            for (name, s) in &pct {
                if let Some(v) = d.samples.value(*s) {
                    x.open("entry")
                        .leaf("key", name)
                        .leaf("value", &fmt_value(v))
                        .close("entry");
                }
            }
            x.close("ExtendedStatistics");
        }
        x.close("member");
    }
    x.close("Datapoints");
    Ok(Reply::Xml(x.finish()))
}
