//! The AWS APIs inside an execution environment: requests to the Runtime API's listener
//! that are not Runtime API paths are forwarded to the daemon's own API listener, so
//! `AWS_ENDPOINT_URL` (set to this listener's address) works in every network mode. The
//! daemon's front door authenticates and authorizes them as any other call.
//!
//! What is forwarded (checked in this order, nothing of the body read before 3):
//! 1. only AWS API paths: never the dashboard (`/ui/…`), `/health`, `/metrics` or
//!    `/_lambdabox/…` (404; `GET /` without a signature is refused by 2, a signed one is
//!    the API's as on the main listener);
//! 2. only requests signed with this environment's own session key (403 otherwise: the
//!    endpoint serves no other credentials);
//! 3. at most [`AwsApi::rate_per_sec`] requests per second (bursts of twice that; 429
//!    `ThrottlingException`, which SDKs retry) and bodies of at most [`AwsApi::max_body`]
//!    bytes (413).
//!
//! Refusals come in the caller's error shape (`shape`: JSON, query XML or S3's XML).
//!
//! The request goes on unchanged (its head as signed, the body buffered), over a new
//! loopback connection; the answer comes back whole. This module never opens the database.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::body::{read_limited, BodyError};
use super::router::Body;

/// Where and for whom an environment's AWS API calls are forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsApi {
    /// The daemon's API listener.
    pub target: SocketAddr,
    /// The environment's session key: the only credentials served.
    pub access_key_id: String,
    pub rate_per_sec: u32,
    pub max_body: usize,
}

/// The forwarding state of one environment.
#[derive(Debug)]
pub struct Proxy {
    api: AwsApi,
    bucket: Mutex<(f64, Instant)>,
}

/// Headers of one hop only.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

impl Proxy {
    pub fn new(api: AwsApi) -> Proxy {
        let burst = f64::from(api.rate_per_sec.max(1)) * 2.0;
        Proxy {
            api,
            bucket: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes one request's token from the bucket.
    fn admit(&self) -> bool {
        let rate = f64::from(self.api.rate_per_sec.max(1));
        let mut b = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let refill = now.duration_since(b.1).as_secs_f64() * rate;
        b.0 = (b.0 + refill).min(rate * 2.0);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forwards one request (see the module doc for what is refused).
    pub async fn forward(&self, req: Request<Incoming>) -> Response<Body> {
        let cred = credential(&req).unwrap_or_default();
        let mut parts = cred.split('/');
        let key = parts.next().unwrap_or("");
        let service = parts.nth(2).unwrap_or("");
        let shape = shape(&req, service);
        let refusal = |status, code, message: &str| refusal(shape, status, code, message);
        let path = req.uri().path();
        if path.starts_with("/ui")
            || path == "/health"
            || path == "/metrics"
            || path.starts_with("/_lambdabox/")
        {
            return refusal(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                "This endpoint serves the AWS APIs only.",
            );
        }
        if key != self.api.access_key_id {
            return refusal(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "The AWS endpoint inside an execution environment serves only the environment's own credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).",
            );
        }
        if !self.admit() {
            return refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottlingException",
                &format!(
                    "Rate exceeded: an execution environment may make {} AWS API calls per second (iam.sandbox_api_rate).",
                    self.api.rate_per_sec
                ),
            );
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > self.api.max_body) {
            return too_large(shape, self.api.max_body);
        }
        let (parts, body) = req.into_parts();
        let body = match read_limited(body, self.api.max_body).await {
            Ok(b) => b,
            Err(BodyError::TooLarge(n)) => return too_large(shape, n),
            Err(e) => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    &e.to_string(),
                )
            }
        };
        match self.send(parts, body).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot forward an AWS API call from an execution environment");
                refusal(
                    StatusCode::BAD_GATEWAY,
                    "ServiceException",
                    "lambdabox could not forward the call to its API.",
                )
            }
        }
    }

    async fn send(
        &self,
        parts: hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<Response<Body>, Box<dyn std::error::Error + Send + Sync>> {
        let stream = tokio::net::TcpStream::connect(self.api.target).await?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let uri: hyper::Uri = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()?;
        let mut out = Request::builder().method(parts.method).uri(uri);
        for (k, v) in &parts.headers {
            if !HOP_BY_HOP.contains(&k.as_str()) {
                out = out.header(k, v);
            }
        }
        out = out.header(CONTENT_LENGTH, body.len());
        let resp = sender.send_request(out.body(Full::new(body))?).await?;
        let (rparts, rbody) = resp.into_parts();
        let bytes = rbody.collect().await?.to_bytes();
        let mut answer = Response::builder().status(rparts.status);
        for (k, v) in &rparts.headers {
            if !HOP_BY_HOP.contains(&k.as_str()) {
                answer = answer.header(k, v);
            }
        }
        Ok(answer.body(Full::new(bytes))?)
    }
}

/// The credential a request is signed with (header or presigned query): `key/date/region/
/// service/aws4_request`.
fn credential(req: &Request<Incoming>) -> Option<String> {
    if let Some(auth) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        let cred = auth.split("Credential=").nth(1)?;
        return cred.split([',', ' ']).next().map(str::to_string);
    }
    let query = req.uri().query()?;
    query.split('&').find_map(|p| {
        let v = p.strip_prefix("X-Amz-Credential=")?;
        percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .ok()
            .map(|d| d.to_string())
    })
}

/// The error shape the caller's SDK parses, guessed from the request: AWS JSON when it
/// names an `X-Amz-Target`, the query protocol's XML for a form body or a query-protocol
/// service, S3's XML for `s3`, rest-json otherwise.
fn shape(req: &Request<Incoming>, service: &str) -> Shape {
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    if !h("x-amz-target").is_empty() {
        Shape::Json
    } else if h("content-type").starts_with("application/x-www-form-urlencoded")
        || matches!(service, "sts" | "iam" | "monitoring")
    {
        Shape::Query
    } else if service == "s3" {
        Shape::RestXml
    } else {
        Shape::Json
    }
}

fn too_large(shape: Shape, limit: usize) -> Response<Body> {
    refusal(
        shape,
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLargeException",
        &format!(
            "Request must be smaller than {limit} bytes for an AWS API call from an execution environment (iam.sandbox_api_max_body_mb)."
        ),
    )
}

/// The families of error documents SDKs parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `x-amzn-ErrorType` + `{"__type","message"}` (rest-json and AWS JSON)
    Json,
    /// `<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>`
    Query,
    /// `<Error><Code/><Message/></Error>`
    RestXml,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A refusal of the forwarder itself, in the caller's error shape (`code` without the
/// `Exception` suffix for the XML shapes, as those services name their codes).
fn refusal(shape: Shape, status: StatusCode, code: &'static str, message: &str) -> Response<Body> {
    let (body, content_type) = match shape {
        Shape::Json => (
            serde_json::json!({ "__type": code, "message": message, "Message": message })
                .to_string(),
            "application/json",
        ),
        Shape::Query | Shape::RestXml => {
            let code = code.strip_suffix("Exception").unwrap_or(code);
            let (m, c) = (escape(message), escape(code));
            let body = if shape == Shape::Query {
                format!("<ErrorResponse><Error><Type>Sender</Type><Code>{c}</Code><Message>{m}</Message></Error><RequestId></RequestId></ErrorResponse>")
            } else {
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{c}</Code><Message>{m}</Message><RequestId></RequestId></Error>")
            };
            (body, "text/xml")
        }
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if shape == Shape::Json {
        r.headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_admits_bursts_then_the_rate() {
        let p = Proxy::new(AwsApi {
            target: SocketAddr::from(([127, 0, 0, 1], 1)),
            access_key_id: "ASIAX".into(),
            rate_per_sec: 5,
            max_body: 10,
        });
        let admitted = (0..20).filter(|_| p.admit()).count();
        assert_eq!(admitted, 10);
    }
}
