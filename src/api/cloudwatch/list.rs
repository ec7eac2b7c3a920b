//! ListMetrics: the AWS/Lambda series with data in the last two weeks, filtered by
//! MetricName and Dimensions (a dimension without Value matches any value), 500 to a page
//! with a NextToken for the rest.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use super::input;
use crate::api::error::ApiError;
use crate::api::protocol::query::QueryParams;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::function::now_ms;
use crate::services::metrics::{self, MetricsError, LIST_PAGE, NAMESPACE};

pub fn list_metrics<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let p = input::params(req)?;
        Ok(run(state, &p).await?)
    })
}

async fn run(state: &AppState, p: &QueryParams) -> Result<Reply, MetricsError> {
    if let Some(r) = p.get("RecentlyActive") {
        if r != "PT3H" {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter RecentlyActive must be PT3H, not {r}."
            )));
        }
    }
    if p.get("IncludeLinkedAccounts") == Some("true") || p.get("OwningAccount").is_some() {
        return Err(MetricsError::InvalidParameterValue(
            "lambdabox has no linked accounts: IncludeLinkedAccounts and OwningAccount are not supported.".into(),
        ));
    }
    let having = input::dimension_pairs(p, "Dimensions")?;
    let series = match p.get("Namespace") {
        None | Some(NAMESPACE) => {
            let since = if p.get("RecentlyActive").is_some() {
                now_ms() - 3 * 3_600_000
            } else {
                now_ms() - 14 * 86_400_000
            };
            let metric = p.get("MetricName").map(str::to_string);
            metrics::list(&state.ctx, metric, having, since).await?
        }
        Some(_) => Vec::new(),
    };
    let (series, next) = metrics::page(series, p.get("NextToken"), LIST_PAGE)?;
    let items: Vec<_> = series
        .iter()
        .map(|s| {
            json!({
                "Namespace": NAMESPACE,
                "MetricName": s.metric,
                "Dimensions": s.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut out = json!({ "Metrics": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(Reply::Value(out))
}
