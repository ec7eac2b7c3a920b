//! Amazon API Gateway v2, HTTP APIs only (signing name `apigateway`, rest-json, `/v2/apis…`):
//! APIs (with quick create), routes, integrations and stages. Only wire shapes here; the
//! operations are `services::http_apis`, the serving of `/http-api/<api-id>/…` is
//! `triggers::http::gateway` (a public prefix of this service).
//!
//! Members lambdabox does not implement (authorizers, CORS, mTLS, throttling settings,
//! access logs, WebSocket APIs, HTTP_PROXY integrations, …) are refused with
//! `BadRequestException`, never stored and ignored.

mod apis;
mod input;
mod integrations;
mod routes;
mod stages;

use serde_json::{json, Value};

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Public, Service};
use crate::domain::http_api::HttpApiError;

macro_rules! op {
    ($name:literal, $method:literal, $path:literal, $f:path) => {
        Operation::rest($name, $method, $path, $f)
    };
}

pub static SERVICE: Service = Service {
    name: "Amazon API Gateway v2 (HTTP APIs)",
    signing_name: "apigateway",
    protocols: &[Protocol::RestJson],
    target_prefix: None,
    path_prefixes: &["/v2/apis"],
    xml_namespace: "",
    operations: &[
        op!("CreateApi", "POST", "/v2/apis", apis::create),
        op!("GetApis", "GET", "/v2/apis", apis::list),
        op!("GetApi", "GET", "/v2/apis/{apiId}", apis::get),
        op!("UpdateApi", "PATCH", "/v2/apis/{apiId}", apis::update),
        op!("DeleteApi", "DELETE", "/v2/apis/{apiId}", apis::delete),
        op!(
            "CreateRoute",
            "POST",
            "/v2/apis/{apiId}/routes",
            routes::create
        ),
        op!("GetRoutes", "GET", "/v2/apis/{apiId}/routes", routes::list),
        op!(
            "GetRoute",
            "GET",
            "/v2/apis/{apiId}/routes/{routeId}",
            routes::get
        ),
        op!(
            "UpdateRoute",
            "PATCH",
            "/v2/apis/{apiId}/routes/{routeId}",
            routes::update
        ),
        op!(
            "DeleteRoute",
            "DELETE",
            "/v2/apis/{apiId}/routes/{routeId}",
            routes::delete
        ),
        op!(
            "CreateIntegration",
            "POST",
            "/v2/apis/{apiId}/integrations",
            integrations::create
        ),
        op!(
            "GetIntegrations",
            "GET",
            "/v2/apis/{apiId}/integrations",
            integrations::list
        ),
        op!(
            "GetIntegration",
            "GET",
            "/v2/apis/{apiId}/integrations/{integrationId}",
            integrations::get
        ),
        op!(
            "UpdateIntegration",
            "PATCH",
            "/v2/apis/{apiId}/integrations/{integrationId}",
            integrations::update
        ),
        op!(
            "DeleteIntegration",
            "DELETE",
            "/v2/apis/{apiId}/integrations/{integrationId}",
            integrations::delete
        ),
        op!(
            "CreateStage",
            "POST",
            "/v2/apis/{apiId}/stages",
            stages::create
        ),
        op!("GetStages", "GET", "/v2/apis/{apiId}/stages", stages::list),
        op!(
            "GetStage",
            "GET",
            "/v2/apis/{apiId}/stages/{stageName}",
            stages::get
        ),
        op!(
            "UpdateStage",
            "PATCH",
            "/v2/apis/{apiId}/stages/{stageName}",
            stages::update
        ),
        op!(
            "DeleteStage",
            "DELETE",
            "/v2/apis/{apiId}/stages/{stageName}",
            stages::delete
        ),
    ],
    fallback: None,
    public: &[Public {
        prefix: crate::triggers::http::gateway::PREFIX,
        handler: crate::triggers::http::gateway::serve_path,
    }],
};

pub const NOT_FOUND: ErrorKind = ErrorKind::new("NotFoundException", 404);
pub const BAD_REQUEST: ErrorKind = ErrorKind::new("BadRequestException", 400);
pub const CONFLICT: ErrorKind = ErrorKind::new("ConflictException", 409);
pub const INTERNAL: ErrorKind = ErrorKind::new("InternalServerErrorException", 500);

impl From<HttpApiError> for ApiError {
    fn from(e: HttpApiError) -> ApiError {
        match &e {
            HttpApiError::NotFound { resource_type, .. } => NOT_FOUND
                .with(e.to_string())
                .field("resourceType", json!(resource_type)),
            HttpApiError::BadRequest(_) => BAD_REQUEST.with(e.to_string()),
            HttpApiError::Conflict(_) => CONFLICT.with(e.to_string()),
            HttpApiError::Internal(_) => INTERNAL.with(e.to_string()),
        }
    }
}

/// ISO 8601 timestamps (`createdDate`, `lastUpdatedDate`).
pub(crate) fn date(ms: i64) -> Value {
    json!(crate::domain::function_url::format_time(ms))
}
