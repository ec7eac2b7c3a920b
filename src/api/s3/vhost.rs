//! Virtual-hosted-style addressing: with `s3.base_domain` set, a request whose Host is
//! `<bucket>.<base_domain>` (any port) is the bucket's, its path the key. It is routed as
//! the path-style `/<bucket>/<key>` while SigV4 is verified over the path and Host as sent
//! (`Head::signed_path`). The route is registered ahead of the dashboard, so every path
//! under a bucket host (`/ui`, `/health`) is a key.
//!
//! A request that looks virtual-hosted but is not under the base domain (`<x>.s3.<…>`,
//! `<x>.localhost`, signed for `s3`) is refused with `InvalidRequest` naming the setting:
//! read path-style it would name another bucket (`PUT /key` would be CreateBucket `key`).

use std::sync::Arc;

use actix_web::{guard, web, HttpRequest, HttpResponse};

use crate::api::error::ErrorKind;
use crate::api::protocol::{Answer, Protocol};
use crate::api::request::Head;
use crate::api::AppState;
use crate::config::Config;

/// The hosts that name buckets.
#[derive(Clone, Debug)]
pub struct BucketHosts {
    /// `s3.base_domain`, lower case, without port.
    base: Option<String>,
}

/// A Host header without its port, lower case.
fn host_name(host: &str) -> String {
    let h = host.trim().trim_end_matches('.');
    let h = if h.starts_with('[') {
        h.split(']').next().map_or(h, |s| s.trim_start_matches('['))
    } else {
        match h.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => h,
        }
    };
    h.to_ascii_lowercase()
}

impl BucketHosts {
    pub fn from_config(c: &Config) -> BucketHosts {
        BucketHosts {
            base: c.s3.base_host(),
        }
    }

    /// The bucket a Host header names under the base domain.
    pub fn bucket(&self, host: &str) -> Option<String> {
        let base = self.base.as_deref()?;
        let h = host_name(host);
        let bucket = h.strip_suffix(base)?.strip_suffix('.')?;
        (!bucket.is_empty()).then(|| bucket.to_string())
    }

    /// The bucket a Host header looks like it names virtual-hosted-style while not being
    /// under the base domain: `<bucket>.s3.<…>`, `<bucket>.s3-<region>.<…>`,
    /// `<bucket>.localhost`.
    pub fn looks_virtual(&self, host: &str) -> Option<String> {
        let h = host_name(host);
        if h.parse::<std::net::IpAddr>().is_ok() || self.base.as_deref() == Some(h.as_str()) {
            return None;
        }
        if self.bucket(host).is_some() {
            return None;
        }
        let (first, rest) = h.split_once('.')?;
        let next = rest.split('.').next().unwrap_or("");
        let aws_shape = next == "s3" || next.starts_with("s3-");
        (aws_shape || rest == "localhost").then(|| first.to_string())
    }
}

fn host_of(ctx: &guard::GuardContext<'_>) -> String {
    ctx.head()
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// True when the request is signed (header or presigned URL) for service `s3`.
fn signed_for_s3(head: &actix_web::dev::RequestHead) -> bool {
    let auth = head
        .headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let query = head.uri.query().unwrap_or("");
    auth.contains("/s3/aws4_request") || query.contains("%2Fs3%2Faws4_request")
}

/// Registers the bucket-host route and the refusal of look-alike hosts, ahead of every
/// other route but function URLs and HTTP APIs by Host.
pub fn configure(cfg: &mut web::ServiceConfig, hosts: BucketHosts) {
    let a = hosts.clone();
    cfg.service(
        web::scope("")
            .app_data(web::Data::new(hosts))
            .guard(guard::fn_guard(move |ctx| {
                let host = host_of(ctx);
                a.bucket(&host).is_some()
                    || (signed_for_s3(ctx.head()) && a.looks_virtual(&host).is_some())
            }))
            .default_service(web::to(serve_host)),
    );
}

async fn serve_host(
    state: web::Data<Arc<AppState>>,
    hosts: web::Data<BucketHosts>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let mut head = Head::new(&req);
    let host = head.header("host").unwrap_or("").to_string();
    let Some(bucket) = hosts.bucket(&host) else {
        let guessed = hosts.looks_virtual(&host).unwrap_or_default();
        return refuse_virtual(&head, &host, &guessed, hosts.base.as_deref());
    };
    let sent = head.raw_path.clone();
    head.raw_path = if sent == "/" || sent.is_empty() {
        format!("/{bucket}")
    } else {
        format!("/{bucket}{sent}")
    };
    head.signed_path = Some(sent);
    crate::api::front::serve_head(&state, head, payload, Some(&super::SERVICE)).await
}

fn refuse_virtual(head: &Head, host: &str, bucket: &str, base: Option<&str>) -> HttpResponse {
    let how = match base {
        Some(b) => format!(
            "virtual-hosted-style requests are served under s3.base_domain = \"{b}\" (Host <bucket>.{b})"
        ),
        None => "lambdabox serves virtual-hosted-style requests only when s3.base_domain is set (for example s3.base_domain = \"s3.localhost\")".to_string(),
    };
    let e = ErrorKind::new("InvalidRequest", 400).with(format!(
        "The Host header '{}' looks like a virtual-hosted-style request for bucket '{bucket}', but {how}. Use path-style addressing (boto3: Config(s3={{'addressing_style': 'path'}}); aws: s3.addressing_style = path) or an endpoint under the base domain.",
        host
    ));
    Protocol::RestXml.error(
        &e,
        Answer {
            request_id: &head.request_id,
            operation: "",
            xml_namespace: super::NAMESPACE,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(base: Option<&str>) -> BucketHosts {
        BucketHosts {
            base: base.map(str::to_string),
        }
    }

    #[test]
    fn bucket_hosts() {
        let h = hosts(Some("s3.localhost"));
        assert_eq!(
            h.bucket("photos.s3.localhost:9070").as_deref(),
            Some("photos")
        );
        assert_eq!(
            h.bucket("My.Dotted.S3.localhost").as_deref(),
            Some("my.dotted")
        );
        assert_eq!(h.bucket("s3.localhost:9070"), None);
        assert_eq!(h.bucket("xs3.localhost"), None);
        assert_eq!(h.bucket("127.0.0.1:9070"), None);
        assert_eq!(h.looks_virtual("s3.localhost:1"), None);
        assert_eq!(h.looks_virtual("photos.s3.localhost:1"), None);
        assert_eq!(h.looks_virtual("b.localhost:1").as_deref(), Some("b"));
        let none = hosts(None);
        assert_eq!(none.bucket("photos.s3.localhost"), None);
        assert_eq!(
            none.looks_virtual("photos.s3.localhost:9").as_deref(),
            Some("photos")
        );
        assert_eq!(
            none.looks_virtual("b.s3-eu-west-1.amazonaws.com")
                .as_deref(),
            Some("b")
        );
        assert_eq!(
            none.looks_virtual("photos.localhost").as_deref(),
            Some("photos")
        );
        assert_eq!(none.looks_virtual("localhost:9070"), None);
        assert_eq!(none.looks_virtual("127.0.0.1:9070"), None);
        assert_eq!(none.looks_virtual("[::1]:9070"), None);
        assert_eq!(none.looks_virtual("lambdabox.home.arpa"), None);
    }
}
