//! GetAccountSettings and the tag operations (TagResource, UntagResource, ListTags).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::dto::TagsBody;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::zipcheck::{MAX_UNZIPPED, MAX_ZIPPED};
use crate::domain::Error;
use crate::services::functions as svc;

type Result<T> = std::result::Result<T, Error>;

pub async fn account_settings(state: &AppState, req: &ApiRequest) -> Result<HttpResponse> {
    let (code, count) = svc::usage(&state.ctx).await?;
    let c = &state.ctx.config;
    let pool = state.engine.pool();
    let unreserved = state.engine.unreserved_concurrency().await?;
    let body = json!({
        "AccountLimit": {
            "TotalCodeSize": c.limits.total_code_size,
            "CodeSizeUnzipped": MAX_UNZIPPED,
            "CodeSizeZipped": MAX_ZIPPED,
            "ConcurrentExecutions": pool.limit,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": {"TotalCodeSize": code, "FunctionCount": count},
    });
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn tag(state: &AppState, req: &ApiRequest, arn: &str) -> Result<HttpResponse> {
    let body: TagsBody = req.json()?;
    let add = body.tags.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::InvalidParameterValue("Tags must contain at least one tag.".into())
    })?;
    svc::change_tags(&state.ctx, arn, move |tags| {
        tags.extend(add);
        Ok(())
    })
    .await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

pub async fn untag(state: &AppState, req: &ApiRequest, arn: &str) -> Result<HttpResponse> {
    let keys = req.query_all("tagKeys");
    if keys.is_empty() {
        return Err(Error::InvalidParameterValue(
            "tagKeys must name at least one key.".into(),
        ));
    }
    svc::change_tags(&state.ctx, arn, move |tags| {
        for k in &keys {
            tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

pub async fn list_tags(state: &AppState, req: &ApiRequest, arn: &str) -> Result<HttpResponse> {
    let tags = svc::tags(&state.ctx, arn).await?;
    Ok(json_response(StatusCode::OK, req, &json!({ "Tags": tags })))
}
