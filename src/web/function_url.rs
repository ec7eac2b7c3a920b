//! The function URL part of the Triggers tab: the URL of `$LATEST` (auth type, a copy
//! button, a curl example, a visible warning when it is public), and the actions that add
//! one (`NONE` or `AWS_IAM`) and remove it, through `services::function_urls` exactly as the
//! Lambda API's Create/DeleteFunctionUrlConfig are.

use actix_web::HttpRequest;
use serde::Serialize;

use super::WebError;
use crate::api::AppState;
use crate::domain::arn::FunctionRef;
use crate::domain::function_url::{AuthType, InvokeMode, UrlConfig};
use crate::services::function_urls as svc;

#[derive(Serialize)]
struct UrlView {
    url: String,
    auth_type: &'static str,
    public: bool,
    curl: String,
}

fn latest(name: &str) -> FunctionRef {
    FunctionRef {
        name: name.to_string(),
        qualifier: None,
    }
}

/// Puts `furl` (the URL, or nothing) into the tab's context.
pub async fn block(
    app: &AppState,
    req: &HttpRequest,
    name: &str,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let view = match svc::get(&app.ctx, &latest(name)).await {
        Ok(u) => {
            let url = svc::function_url(&app.ctx, req.connection_info().host(), &u.url_id);
            let public = u.config.auth_type == AuthType::None;
            let curl = if public {
                format!("curl -i '{url}'")
            } else {
                format!("curl -i --aws-sigv4 'aws:amz:{}:lambda' --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" '{url}'", app.ctx.identity.region)
            };
            Some(UrlView {
                url,
                auth_type: u.config.auth_type.as_str(),
                public,
                curl,
            })
        }
        Err(crate::domain::Error::ResourceNotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    ctx.insert("furl", &view);
    Ok(())
}

/// Adds a URL to `$LATEST` with `auth` (`NONE` or `AWS_IAM`); the error text when refused.
pub async fn create(app: &AppState, name: &str, auth: &str, user: &str) -> Result<(), String> {
    let auth_type =
        AuthType::parse(auth).map_err(|_| "Choose who may call the URL.".to_string())?;
    let config = UrlConfig {
        auth_type,
        cors: None,
        invoke_mode: InvokeMode::Buffered,
    };
    let u = svc::create(&app.ctx, &latest(name), config)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(function = %name, url_id = %u.url_id, auth_type = auth, user = %user, "function URL created from the dashboard");
    Ok(())
}

/// Removes the URL of `$LATEST`.
pub async fn delete(app: &AppState, name: &str, user: &str) -> Result<(), String> {
    svc::delete(&app.ctx, &latest(name))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(function = %name, user = %user, "function URL deleted from the dashboard");
    Ok(())
}
