//! Reading API Gateway v2 request bodies (lowerCamel JSON members) and query strings:
//! members lambdabox serves, members it accepts only at their default value, and every other
//! modeled member refused by name; `maxResults`/`nextToken` paging.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use serde_json::{json, Map, Value};

use super::BAD_REQUEST;
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;

/// A request body's members.
pub struct Body(Map<String, Value>);

impl Body {
    /// The body as a JSON object (an empty body is `{}`).
    pub fn of(req: &ApiRequest) -> Result<Body, ApiError> {
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(m)) => Ok(Body(m)),
            _ => Err(BAD_REQUEST
                .with("Could not parse request body into json: the body must be a JSON object")),
        }
    }

    /// Refuses members outside `served`, unless they carry the one value lambdabox
    /// implements (`defaults`: member and its accepted value).
    pub fn only(&self, served: &[&str], defaults: &[(&str, Value)]) -> Result<(), ApiError> {
        for (k, v) in &self.0 {
            if served.contains(&k.as_str()) || v.is_null() {
                continue;
            }
            match defaults.iter().find(|(d, _)| d == k) {
                Some((_, ok)) if ok == v => {}
                Some((_, ok)) => {
                    return Err(BAD_REQUEST.with(format!(
                        "lambdabox supports {k} = {ok} only on HTTP APIs; got {v}"
                    )))
                }
                None => {
                    return Err(BAD_REQUEST.with(format!(
                        "lambdabox does not support {k} on HTTP APIs yet; leave it out"
                    )))
                }
            }
        }
        Ok(())
    }

    pub fn string(&self, k: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(BAD_REQUEST.with(format!("Invalid input: {k} must be a string"))),
        }
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| BAD_REQUEST.with(format!("Invalid input: {k} must be an integer"))),
        }
    }

    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(BAD_REQUEST.with(format!("Invalid input: {k} must be a boolean"))),
        }
    }

    pub fn map(&self, k: &str) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => {
                let mut out = BTreeMap::new();
                for (mk, mv) in m {
                    let Some(s) = mv.as_str() else {
                        return Err(BAD_REQUEST
                            .with(format!("Invalid input: the values of {k} must be strings")));
                    };
                    out.insert(mk.clone(), s.to_string());
                }
                Ok(Some(out))
            }
            Some(_) => Err(BAD_REQUEST.with(format!("Invalid input: {k} must be a map"))),
        }
    }
}

/// A label of the path (`apiId`, `routeId`, …).
pub fn label<'r>(req: &'r ApiRequest, name: &str) -> &'r str {
    req.label(name).unwrap_or_default()
}

/// One page of `items` (`maxResults` 1–500 items, `nextToken` an offset) as
/// `{"items": [...], "nextToken": ...}`.
pub fn page(req: &ApiRequest, items: Vec<Value>) -> Result<Reply, ApiError> {
    let max = match req.query_param("maxResults") {
        None => 500,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                BAD_REQUEST.with(format!(
                    "Invalid maxResults specified {m}: must be between 1 and 500"
                ))
            })?,
    };
    let start = match req.query_param("nextToken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| BAD_REQUEST.with("Invalid nextToken specified"))?,
    };
    let end = (start + max).min(items.len());
    let mut out = json!({ "items": items[start..end].to_vec() });
    if end < items.len() {
        out["nextToken"] = json!(end.to_string());
    }
    Ok(Reply::Value(out))
}

/// A created resource: 201 with its JSON.
pub fn created(req: &ApiRequest, v: &Value) -> Reply {
    Reply::Http(crate::api::json_response(StatusCode::CREATED, req, v))
}

/// A deleted resource: 204.
pub fn deleted(req: &ApiRequest) -> Reply {
    Reply::Http(crate::api::empty_response(StatusCode::NO_CONTENT, req))
}
