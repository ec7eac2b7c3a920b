//! The HTTP APIs page (read only): every HTTP API (API Gateway v2) with its stages and their
//! invoke URLs (a copy button each), its routes with the function each integration invokes (a
//! link to the function's page), the payload format and timeout, and a curl example per route.
//! Reads `services::http_apis::overview` as the API's GetApis/GetRoutes/… would; APIs are
//! made with `aws apigatewayv2` (the page says how).

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::login::current;
use super::{enc, fmt_time, App, Web, WebError};
use crate::domain::http_api::{HttpApiError, DEFAULT_STAGE};
use crate::services::http_apis::{self as svc, Loaded};

#[derive(Serialize)]
struct StageView {
    name: String,
    url: String,
    variables: String,
    updated: String,
}

#[derive(Serialize)]
struct RouteView {
    key: String,
    /// The function the route's integration invokes (`name` or `name:qualifier`).
    function: Option<String>,
    function_link: Option<String>,
    payload: String,
    timeout_ms: u32,
    curl: String,
}

#[derive(Serialize)]
struct ApiView {
    id: String,
    name: String,
    description: Option<String>,
    created: String,
    stages: Vec<StageView>,
    routes: Vec<RouteView>,
}

impl From<HttpApiError> for WebError {
    fn from(e: HttpApiError) -> Self {
        match e {
            HttpApiError::NotFound { message, .. } => WebError::NotFound(message),
            HttpApiError::Internal(m) => WebError::Internal(m),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// A path that matches `route_key` (`{id}` → `1`, `{proxy+}` → `hello`) and the curl flag
/// of its method; `$default` matches `/`.
fn sample(route_key: &str) -> (Option<String>, String) {
    let Some((method, path)) = route_key.split_once(' ') else {
        return (None, "/".into());
    };
    let path = path
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(p) if p.ends_with('+') => "hello",
                Some(_) => "1",
                None => seg,
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    let flag = match method {
        "GET" | "ANY" => None,
        m => Some(m.to_string()),
    };
    (flag, path)
}

/// A shell-safe curl command for `method` (none: GET) of `url`.
fn curl(method: Option<&str>, url: &str) -> String {
    let quoted = url.replace('\'', "'\\''");
    match method {
        Some(m) => format!("curl -i -X {m} '{quoted}'"),
        None => format!("curl -i '{quoted}'"),
    }
}

fn view(app: &App, host: &str, l: Loaded) -> ApiView {
    let base = svc::endpoint(&app.ctx, host, &l.api.api_id);
    let mut stages: Vec<StageView> = l
        .stages
        .iter()
        .map(|s| StageView {
            url: if s.stage_name == DEFAULT_STAGE {
                base.clone()
            } else {
                format!("{base}/{}", s.stage_name)
            },
            name: s.stage_name.clone(),
            variables: s
                .stage_variables
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            updated: fmt_time(s.last_updated_ms),
        })
        .collect();
    // `$default` first: it is what the API's endpoint serves.
    stages.sort_by_key(|s| s.name != DEFAULT_STAGE);
    let first_url = stages.first().map(|s| s.url.clone());
    let routes = l
        .routes
        .iter()
        .map(|r| {
            let integ = r
                .integration_id()
                .and_then(|id| l.integrations.iter().find(|i| i.integration_id == id));
            let target = integ.and_then(|i| svc::lambda_target(&app.ctx, &i.integration_uri).ok());
            let (method, path) = sample(&r.route_key);
            RouteView {
                key: r.route_key.clone(),
                function: target.as_ref().map(|f| match &f.qualifier {
                    Some(q) => format!("{}:{q}", f.name),
                    None => f.name.clone(),
                }),
                function_link: target
                    .as_ref()
                    .map(|f| format!("/ui/functions/{}", enc(&f.name))),
                payload: integ
                    .map(|i| i.payload_format_version.as_str().to_string())
                    .unwrap_or_default(),
                timeout_ms: integ.map(|i| i.timeout_in_millis).unwrap_or_default(),
                curl: first_url
                    .as_deref()
                    .map(|u| curl(method.as_deref(), &format!("{u}{path}")))
                    .unwrap_or_default(),
            }
        })
        .collect();
    ApiView {
        id: l.api.api_id.clone(),
        name: l.api.name.clone(),
        description: l.api.description.clone(),
        created: fmt_time(l.api.created_ms),
        stages,
        routes,
    }
}

/// `GET /ui/apis`
pub async fn list(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let host = req.connection_info().host().to_string();
    let apis: Vec<ApiView> = svc::overview(&app.ctx)
        .await?
        .into_iter()
        .map(|l| view(&app, &host, l))
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "apis");
    ctx.insert("apis", &apis);
    web.render.page("http_apis.html", Some(&s), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_match_their_route() {
        assert_eq!(sample("GET /items/{id}"), (None, "/items/1".into()));
        assert_eq!(sample("ANY /{proxy+}"), (None, "/hello".into()));
        assert_eq!(
            sample("POST /items"),
            (Some("POST".into()), "/items".into())
        );
        assert_eq!(sample("$default"), (None, "/".into()));
        assert_eq!(
            curl(Some("POST"), "http://h/a'b"),
            "curl -i -X POST 'http://h/a'\\''b'"
        );
    }
}
