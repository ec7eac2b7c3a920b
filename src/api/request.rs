//! One API request as the services see it: method, raw path and query (still encoded, as
//! SigV4 needs them), headers, the whole body (read with a size cap), and its request id.

use actix_web::{web, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::domain::Error;

/// Largest body any API call may carry: a 50 MB zip in base64 inside JSON.
pub const MAX_BODY: usize = 69_905_067;

/// A buffered API request.
pub struct ApiRequest {
    pub method: String,
    pub raw_path: String,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub request_id: String,
    /// `Host` header, used to build URLs that point back at this daemon.
    pub host: String,
}

impl ApiRequest {
    /// Reads the request; a body over [`MAX_BODY`] is refused without reading it all.
    pub async fn read(
        req: &HttpRequest,
        mut payload: web::Payload,
    ) -> Result<ApiRequest, (Error, String)> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let too_large = || {
            Error::RequestEntityTooLarge(format!(
                "Request must be smaller than {MAX_BODY} bytes for the operation"
            ))
        };
        let declared = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY) {
            return Err((too_large(), request_id));
        }
        let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                (
                    Error::InvalidRequestContent(format!("Could not read the request body: {e}")),
                    request_id.clone(),
                )
            })?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err((too_large(), request_id));
            }
            body.extend_from_slice(&chunk);
        }
        let headers = req
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect();
        let uri = req.uri();
        Ok(ApiRequest {
            method: req.method().as_str().to_string(),
            raw_path: uri.path().to_string(),
            raw_query: uri.query().unwrap_or("").to_string(),
            headers,
            body: body.freeze(),
            host: req.connection_info().host().to_string(),
            request_id,
        })
    }

    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Percent-decoded query parameters.
    pub fn query(&self) -> Vec<(String, String)> {
        super::sigv4::parse_query(&self.raw_query)
    }

    /// First value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Every value of a repeated query parameter.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The `MaxItems` query parameter, if given, as a number.
    pub fn max_items(&self) -> Result<Option<i64>, Error> {
        self.query_param("MaxItems")
            .map(|m| {
                m.parse::<i64>()
                    .map_err(|_| Error::constraint(&m, "maxItems", "Member must be a number"))
            })
            .transpose()
    }

    /// The body parsed as JSON into `T`; an empty body is `{}`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            Error::Serialization(format!(
                "Could not parse the request body as the expected JSON: {e}"
            ))
        })
    }
}
