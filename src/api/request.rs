//! One API request as the front door and the operations see it.
//!
//! [`Head`] is what is known before the body is read: method, raw path and query (still
//! encoded, as SigV4 needs them), headers, the declared length and the request id (a UUID,
//! sent back as `x-amzn-RequestId` on every answer). [`ApiRequest`] is what an operation
//! handler gets: the head's parts, the body read under the operation's cap, the verified
//! caller ([`Principal`]), and which service, operation and protocol it is.

use std::cell::RefCell;

use actix_web::HttpRequest;

use super::auth::Principal;
use super::body::BodyStream;
use super::protocol::query::QueryParams;
use super::protocol::Protocol;
use crate::domain::Error;

/// Largest body any API call may carry: a 50 MB zip in base64 inside JSON.
pub const MAX_BODY: usize = 69_905_067;

/// A request before its body.
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    pub raw_path: String,
    /// The path as the client sent and signed it, when routing uses another `raw_path`
    /// (S3's virtual-hosted-style requests: `/<key>` sent, `/<bucket>/<key>` routed).
    pub signed_path: Option<String>,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    /// `Host` header, used to build URLs that point back at this daemon.
    pub host: String,
    pub request_id: String,
    /// `Content-Length`, when the client declared one.
    pub content_length: Option<usize>,
    /// The connection's peer address (no port), empty when unknown.
    pub peer_ip: String,
    /// `HTTP/1.1`, `HTTP/2.0`…
    pub http_version: String,
}

impl Head {
    /// The head of an actix request, with a new request id.
    pub fn new(req: &HttpRequest) -> Head {
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect();
        let uri = req.uri();
        let content_length = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        Head {
            method: req.method().as_str().to_string(),
            raw_path: uri.path().to_string(),
            signed_path: None,
            raw_query: uri.query().unwrap_or("").to_string(),
            headers,
            host: req.connection_info().host().to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
            content_length,
            peer_ip: req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            http_version: format!("{:?}", req.version()),
        }
    }

    /// A head built from parts (unit tests).
    pub fn for_tests(
        method: &str,
        path: &str,
        query: &str,
        headers: Vec<(String, String)>,
    ) -> Head {
        Head {
            method: method.into(),
            raw_path: path.into(),
            signed_path: None,
            raw_query: query.into(),
            headers,
            host: "localhost".into(),
            request_id: "test-request".into(),
            content_length: None,
            peer_ip: "127.0.0.1".into(),
            http_version: "HTTP/1.1".into(),
        }
    }

    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The percent-decoded path segments (empty segments dropped).
    pub fn segments(&self) -> Vec<String> {
        self.raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// Percent-decoded query parameters.
    pub fn query(&self) -> Vec<(String, String)> {
        super::sigv4::parse_query(&self.raw_query)
    }
}

/// A request as an operation handler sees it.
pub struct ApiRequest {
    pub method: String,
    pub raw_path: String,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    /// The whole body (empty for an operation that streams it: see [`ApiRequest::take_stream`]).
    pub body: bytes::Bytes,
    pub request_id: String,
    /// `Host` header, used to build URLs that point back at this daemon.
    pub host: String,
    /// The connection's peer address (no port), empty when unknown.
    pub peer_ip: String,
    /// Who signed the request.
    pub principal: Principal,
    /// The service's signing name (`lambda`, `sts`).
    pub service: &'static str,
    /// The operation's name as AWS names it (`GetCallerIdentity`); Lambda routes that the
    /// operation table does not list yet are `Unlisted`.
    pub operation: &'static str,
    pub protocol: Protocol,
    /// REST protocols: the labels of the operation's path template (`FunctionName` → value).
    pub labels: Vec<(&'static str, String)>,
    /// Query protocol: the decoded parameters (from the body, or the URL for GET).
    pub params: QueryParams,
    pub(crate) stream: RefCell<Option<BodyStream>>,
    /// The share of the body budget this request holds until it is dropped.
    pub(crate) _budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl ApiRequest {
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

    /// The value of a path label of the operation's template.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The percent-decoded path segments.
    pub fn segments(&self) -> Vec<String> {
        self.raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// The body as a stream, for operations declared with `BodyMode::Stream`; `None` for
    /// buffered operations or once taken.
    pub fn take_stream(&self) -> Option<BodyStream> {
        self.stream.borrow_mut().take()
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
        parse_json(&self.body)
    }

    /// [`ApiRequest::json`] on a heavy-work thread when the body is large (uploads).
    pub async fn json_off<T>(&self, cpu: &crate::services::cpu::Cpu) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let body = self.body.clone();
        cpu.run_sized(body.len(), move || parse_json(&body)).await?
    }
}

/// `body` parsed as JSON into `T`; an empty body is `{}`. Large bodies should be parsed on a
/// blocking thread (`services::cpu`).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        Error::Serialization(format!(
            "Could not parse the request body as the expected JSON: {e}"
        ))
    })
}
