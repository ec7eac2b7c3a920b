//! PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig,
//! DeleteProvisionedConcurrencyConfig and ListProvisionedConcurrencyConfigs
//! (`/2019-09-30/functions/{Fn}/provisioned-concurrency`, `?List=ALL` for the list).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::function::format_last_modified;
use crate::domain::Error;
use crate::engine::ProvisionedView;

type Result<T> = std::result::Result<T, Error>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutBody {
    provisioned_concurrent_executions: Option<i64>,
}

/// The configuration as AWS shapes it.
fn shape(v: &ProvisionedView) -> Value {
    let mut body = json!({
        "RequestedProvisionedConcurrentExecutions": v.row.requested,
        "AvailableProvisionedConcurrentExecutions": v.report.allocated.min(v.row.requested),
        "AllocatedProvisionedConcurrentExecutions": v.report.allocated.min(v.row.requested),
        "Status": v.status().as_str(),
        "LastModified": format_last_modified(v.row.last_modified_ms),
    });
    if let Some(reason) = &v.report.reason {
        body["StatusReason"] = json!(reason);
    }
    body
}

pub async fn put(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let body: PutBody = req.json()?;
    let n = body.provisioned_concurrent_executions.ok_or_else(|| {
        Error::Validation(
            "1 validation error detected: Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    let view = state.engine.put_provisioned(&r, n).await?;
    Ok(json_response(StatusCode::ACCEPTED, req, &shape(&view)))
}

/// GET: the list with `List=ALL`, else one configuration.
pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    match req.query_param("List").as_deref() {
        None => {
            let view = state.engine.get_provisioned(&r).await?;
            Ok(json_response(StatusCode::OK, req, &shape(&view)))
        }
        Some("ALL") => {
            let (items, next) = state
                .engine
                .list_provisioned(&r, req.query_param("Marker"), req.max_items()?)
                .await?;
            let configs: Vec<Value> = items
                .iter()
                .map(|v| {
                    let mut item = shape(v);
                    item["FunctionArn"] = json!(state
                        .ctx
                        .identity
                        .qualified_arn(&v.row.function, &v.row.qualifier));
                    item
                })
                .collect();
            let mut body = json!({ "ProvisionedConcurrencyConfigs": configs });
            if let Some(m) = next {
                body["NextMarker"] = json!(m);
            }
            Ok(json_response(StatusCode::OK, req, &body))
        }
        Some(other) => Err(Error::constraint(
            other,
            "list",
            "Member must satisfy enum value set: [ALL]",
        )),
    }
}

pub async fn delete(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    state.engine.delete_provisioned(&r).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}
