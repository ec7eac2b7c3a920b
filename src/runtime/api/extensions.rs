//! A minimal Extensions API (2020-01-01): extensions can register and poll without crashing.
//!
//! Registration answers like AWS (identifier header, function name/version/handler, account id
//! on request). `GET /event/next` parks until the environment shuts down, then answers a
//! `SHUTDOWN` event: INVOKE events are not delivered, so an extension never delays an
//! invocation. Init and exit error reports are accepted and logged.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;
use tokio::sync::watch;

use super::error::ApiError;
use super::types::EnvInfo;

/// Most extensions per environment, as on AWS.
const MAX_EXTENSIONS: usize = 10;
/// Milliseconds an extension gets after the `SHUTDOWN` event.
const SHUTDOWN_BUDGET_MS: u64 = 2000;

/// Header naming or identifying an extension.
pub const NAME_HEADER: &str = "lambda-extension-name";
/// Header carrying the identifier given at registration.
pub const ID_HEADER: &str = "lambda-extension-identifier";

/// Registered extensions of one environment.
#[derive(Debug, Default)]
pub struct Extensions {
    ids: Mutex<Vec<String>>,
}

impl Extensions {
    /// Registers an extension: returns its identifier and the register response body.
    pub fn register(
        &self,
        info: &EnvInfo,
        headers: &HeaderMap,
    ) -> Result<(String, String), ApiError> {
        let name = headers
            .get(NAME_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        {
            let mut ids = self.ids.lock().map_err(|_| ApiError::Closed)?;
            if ids.len() >= MAX_EXTENSIONS {
                return Err(ApiError::InvalidStateTransition {
                    from: "ExtensionsRegistered",
                    to: "TooManyExtensions",
                });
            }
            ids.push(id.clone());
        }
        tracing::debug!(extension = name, id = %id, "extension registered");
        let wants_account = headers
            .get("lambda-extension-accept-feature")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|f| f.trim() == "accountId"));
        let mut body = serde_json::json!({
            "functionName": info.function_name,
            "functionVersion": info.function_version,
            "handler": info.handler,
        });
        if wants_account {
            body["accountId"] = serde_json::Value::String(info.account_id.clone());
        }
        Ok((id, body.to_string()))
    }

    /// Checks the identifier of an extension call.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let id = headers
            .get(ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::MissingExtensionIdentifier)?;
        let ids = self.ids.lock().map_err(|_| ApiError::Closed)?;
        if ids.iter().any(|known| known == id) {
            Ok(())
        } else {
            Err(ApiError::InvalidExtensionIdentifier)
        }
    }

    /// Parks until shutdown, then returns the `SHUTDOWN` event body.
    pub async fn next_event(mut closed: watch::Receiver<bool>) -> String {
        // An error means the state is gone: that is a shutdown too.
        let _ = closed.wait_for(|c| *c).await;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        serde_json::json!({
            "eventType": "SHUTDOWN",
            "shutdownReason": "spindown",
            "deadlineMs": now_ms + SHUTDOWN_BUDGET_MS,
        })
        .to_string()
    }
}
