//! GetMetricData: MetricStat queries (`MetricDataQueries.member.N.MetricStat.…`), each
//! answered as Timestamps and Values (newest first unless ScanBy=TimestampAscending).
//! Metric math (`Expression`) is refused with InvalidParameterValue: it is not evaluated.

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
    if p.get("NextToken").is_some() {
        return Err(MetricsError::InvalidParameterValue(
            "The NextToken is not valid: lambdabox answers every datapoint in one page.".into(),
        ));
    }
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
    let mut results = Vec::new();
    let mut seen = Vec::new();
    for q in &queries {
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
        let (times, values): (Vec<Value>, Vec<Value>) = points
            .iter()
            .filter_map(|d| {
                let v = d.samples.value(stat)?;
                Some((json!(input::format_ms(d.timestamp_ms)), json!(v)))
            })
            .unzip();
        results.push(json!({
            "Id": id,
            "Label": q.get("Label").unwrap_or(&name),
            "Timestamps": times,
            "Values": values,
            "StatusCode": "Complete",
        }));
    }
    Ok(Reply::Timed(
        json!({
            "MetricDataResults": results,
            "Messages": [],
        }),
        &["Timestamps"],
    ))
}
