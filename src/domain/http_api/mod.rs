//! HTTP APIs (API Gateway v2, `ProtocolType: HTTP`): the API, its routes, integrations and
//! stages as lambdabox stores them, their ids, AWS's validation rules and wording, and the
//! error kinds of the API Gateway v2 service. Route keys and route selection are
//! [`route_key`].
//!
//! Nothing here imports HTTP or SQL.

pub mod route_key;

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The route selection expression of every HTTP API.
pub const ROUTE_SELECTION: &str = "$request.method $request.path";
/// The API key selection expression AWS reports for HTTP APIs.
pub const API_KEY_SELECTION: &str = "$request.header.x-api-key";
/// The stage served at the root of the API.
pub const DEFAULT_STAGE: &str = "$default";
/// The integration timeout when none is given, and the largest allowed (ms).
pub const MAX_TIMEOUT_MS: u32 = 30_000;

/// The error kinds of the API Gateway v2 service (`NotFoundException` 404,
/// `BadRequestException` 400, `ConflictException` 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpApiError {
    #[error("{message}")]
    NotFound {
        resource_type: &'static str,
        message: String,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl HttpApiError {
    pub fn bad(m: impl Into<String>) -> HttpApiError {
        HttpApiError::BadRequest(m.into())
    }

    pub fn api_not_found(id: &str) -> HttpApiError {
        HttpApiError::NotFound {
            resource_type: "Api",
            message: format!("Invalid API identifier specified {id}"),
        }
    }

    pub fn route_not_found(id: &str) -> HttpApiError {
        HttpApiError::NotFound {
            resource_type: "Route",
            message: format!("Invalid Route identifier specified {id}"),
        }
    }

    pub fn integration_not_found(id: &str) -> HttpApiError {
        HttpApiError::NotFound {
            resource_type: "Integration",
            message: format!("Invalid Integration identifier specified {id}"),
        }
    }

    pub fn stage_not_found(name: &str) -> HttpApiError {
        HttpApiError::NotFound {
            resource_type: "Stage",
            message: format!("Invalid stage identifier specified {name}"),
        }
    }
}

/// An HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    pub api_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_ms: i64,
}

/// A route: `$default` or `METHOD /path`, sending to `integrations/<id>` (or nowhere yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub api_gateway_managed: bool,
}

impl Route {
    /// The integration id the target names (`integrations/<id>`).
    pub fn integration_id(&self) -> Option<&str> {
        self.target.as_deref()?.strip_prefix("integrations/")
    }
}

/// Payload format versions of Lambda proxy integrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayloadFormat {
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "2.0")]
    V2,
}

impl PayloadFormat {
    pub fn parse(s: &str) -> Result<PayloadFormat, HttpApiError> {
        match s {
            "1.0" => Ok(PayloadFormat::V1),
            "2.0" => Ok(PayloadFormat::V2),
            other => Err(HttpApiError::bad(format!(
                "Invalid payload format version specified {other}; HTTP APIs support 1.0 and 2.0"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayloadFormat::V1 => "1.0",
            PayloadFormat::V2 => "2.0",
        }
    }
}

/// An `AWS_PROXY` integration with a Lambda function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub integration_id: String,
    /// The function ARN as given (possibly qualified, or in the `arn:aws:apigateway:…`
    /// invocation form).
    pub integration_uri: String,
    pub payload_format_version: PayloadFormat,
    pub timeout_in_millis: u32,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub api_gateway_managed: bool,
}

/// A stage: where the API is served (`$default` at the root, others under `/<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub api_gateway_managed: bool,
    pub created_ms: i64,
    pub last_updated_ms: i64,
}

fn random_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// A new API id (10 characters, as AWS's).
pub fn new_api_id() -> String {
    random_id(10)
}

/// A new route or integration id (7 characters, as AWS's).
pub fn new_part_id() -> String {
    random_id(7)
}

/// True when `s` has the shape of an API id (checked before any lookup when serving).
pub fn is_api_id(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn length(field: &str, v: &str, min: usize, max: usize) -> Result<(), HttpApiError> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(HttpApiError::bad(format!(
            "Invalid {field}: length must be between {min} and {max} characters"
        )));
    }
    Ok(())
}

pub fn validate_name(v: &str) -> Result<(), HttpApiError> {
    length("name", v, 1, 128)
}

pub fn validate_description(v: &str) -> Result<(), HttpApiError> {
    length("description", v, 0, 1024)
}

pub fn validate_version(v: &str) -> Result<(), HttpApiError> {
    length("version", v, 1, 64)
}

/// Stage names: `$default`, or 1–128 of `[A-Za-z0-9_-]`.
pub fn validate_stage_name(v: &str) -> Result<(), HttpApiError> {
    if v == DEFAULT_STAGE {
        return Ok(());
    }
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(HttpApiError::bad(format!(
            "Stage name only allows a-zA-Z0-9_- (or $default): {v}"
        )));
    }
    Ok(())
}

/// Stage variables: names `[A-Za-z0-9_]{1,64}`, values of at most 2048 characters from
/// `[A-Za-z0-9-._~:/?#&=,]`.
pub fn validate_stage_variables(vars: &BTreeMap<String, String>) -> Result<(), HttpApiError> {
    for (k, v) in vars {
        let name_ok = !k.is_empty()
            && k.len() <= 64
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(HttpApiError::bad(format!(
                "Stage variable name must match [A-Za-z0-9_]{{1,64}}: {k}"
            )));
        }
        let value_ok = v.chars().count() <= 2048
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#&=, ".contains(c));
        if !value_ok {
            return Err(HttpApiError::bad(format!(
                "Stage variable value for {k} contains characters that are not allowed (A-Za-z0-9-._~:/?#&=,)"
            )));
        }
    }
    Ok(())
}

/// Tags: at most 50, keys 1–128 characters, values at most 256.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), HttpApiError> {
    if tags.len() > 50 {
        return Err(HttpApiError::bad("An API can have at most 50 tags"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(HttpApiError::bad(format!(
                "Invalid tag {k}: keys are 1-128 characters, values at most 256"
            )));
        }
    }
    Ok(())
}

/// Integration timeouts: 50–30000 ms.
pub fn validate_timeout(ms: i64) -> Result<u32, HttpApiError> {
    if !(50..=i64::from(MAX_TIMEOUT_MS)).contains(&ms) {
        return Err(HttpApiError::bad(format!(
            "Invalid timeout specified {ms}: TimeoutInMillis must be between 50 and 30000"
        )));
    }
    Ok(ms as u32)
}

/// Route targets: `integrations/<id>`.
pub fn target_integration(target: &str) -> Result<&str, HttpApiError> {
    target
        .strip_prefix("integrations/")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            HttpApiError::bad(format!(
                "Invalid target specified {target}: a route's target must be integrations/<integration id>"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert!(is_api_id(&new_api_id()));
        assert_eq!(new_part_id().len(), 7);
        assert!(!is_api_id("ABCDEFGHIJ"));
        assert!(validate_stage_name("$default").is_ok());
        assert!(validate_stage_name("prod-1").is_ok());
        assert!(validate_stage_name("a b").is_err());
        assert!(validate_timeout(49).is_err());
        assert_eq!(validate_timeout(30_000).ok(), Some(30_000));
        assert_eq!(target_integration("integrations/abc").ok(), Some("abc"));
        assert!(target_integration("abc").is_err());
        let mut v = BTreeMap::new();
        v.insert("env".to_string(), "prod".to_string());
        assert!(validate_stage_variables(&v).is_ok());
        v.insert("bad-name".to_string(), "x".to_string());
        assert!(validate_stage_variables(&v).is_err());
    }
}
