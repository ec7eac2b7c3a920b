//! Differential property test of lambdabox's SigV4 verifier against the `aws-sigv4` crate
//! (the signer of the AWS Rust SDK): for random methods, paths, queries, headers and bodies,
//! signed in the `Authorization` header or as a presigned URL, lambdabox accepts exactly
//! what aws-sigv4 signs, and refuses the request once any one byte of its body, path,
//! query or a signed header changed.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use lambdabox::api::sigv4::{self, AuthError, SignedRequest};
use proptest::prelude::*;

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "127.0.0.1:9070";

/// Percent-encodes everything but unreserved characters, as SDKs put labels on the wire.
fn enc(s: &str) -> String {
    sigv4::uri_encode(s, true)
}

/// A request as the server receives it.
#[derive(Debug, Clone)]
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    fn verify(&self) -> Result<(), AuthError> {
        let hash = sigv4::hash_payload(&self.body);
        let req = SignedRequest {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            payload_hash: &hash,
        };
        let claim = req.claim()?;
        sigv4::verify(&req, &claim, SECRET)
    }
}

#[allow(clippy::too_many_arguments)]
fn signed_by_aws(
    method: &str,
    service: &str,
    segments: &[String],
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
    presigned: bool,
    content_sha: bool,
) -> Wire {
    let path = format!(
        "/{}",
        segments
            .iter()
            .map(|s| enc(s))
            .collect::<Vec<_>>()
            .join("/")
    );
    let query_text = query
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let uri = if query_text.is_empty() {
        format!("http://{HOST}{path}")
    } else {
        format!("http://{HOST}{path}?{query_text}")
    };
    let identity: Identity = Credentials::new(KEY, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    if content_sha {
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        method,
        uri.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = http::Request::builder()
        .method(method)
        .uri(&uri)
        .body(())
        .expect("request");
    for (k, v) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    instructions.apply_to_request_http1x(&mut req);
    let mut wire_headers = vec![("host".to_string(), HOST.to_string())];
    for (k, v) in req.headers() {
        wire_headers.push((
            k.as_str().to_string(),
            v.to_str().expect("ascii").to_string(),
        ));
    }
    Wire {
        method: method.to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        headers: wire_headers,
        body: body.to_vec(),
    }
}

/// Replaces the alphanumeric byte at `pick` (modulo the candidates) of `s` by another one.
fn mutate_alnum(s: &str, pick: usize) -> Option<String> {
    let positions: Vec<usize> = s
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_alphanumeric())
        .map(|(i, _)| i)
        .collect();
    if positions.is_empty() {
        return None;
    }
    let i = positions[pick % positions.len()];
    let mut bytes = s.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'q' { b'r' } else { b'q' };
    String::from_utf8(bytes).ok()
}

fn segment() -> impl Strategy<Value = String> {
    // Any printable text, including reserved characters and UTF-8, but never a `.`/`..`
    // segment (whose normalization SDKs disagree on) and never empty.
    "[A-Za-z0-9_~ :@$!'()*+,;=&%é€-]{1,12}"
}

fn query_pair() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z][A-Za-z0-9_ =&+%é-]{0,8}",
        "[A-Za-z0-9_ :/?=&+%é-]{0,12}",
    )
}

fn header() -> impl Strategy<Value = (String, String)> {
    (
        "x-amz-meta-[a-z]{1,8}",
        "[A-Za-z0-9][A-Za-z0-9 ,;:=/_-]{0,20}[A-Za-z0-9]",
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn accepts_exactly_what_aws_sigv4_signs(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        service in prop::sample::select(vec!["lambda", "sts", "sqs", "events", "logs"]),
        segments in prop::collection::vec(segment(), 0..4),
        query in prop::collection::vec(query_pair(), 0..4),
        headers in prop::collection::btree_map("x-amz-meta-[a-z]{1,8}", header().prop_map(|h| h.1), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..300),
        presigned in any::<bool>(),
        content_sha in any::<bool>(),
        pick in any::<usize>(),
    ) {
        let headers: Vec<(String, String)> = headers.into_iter().collect();
        let wire = signed_by_aws(method, service, &segments, &query, &headers, &body, presigned, content_sha && !presigned);
        prop_assert_eq!(wire.verify(), Ok(()), "lambdabox refused what aws-sigv4 signed: {:?}", wire);

        // One byte of the body.
        let mut changed = wire.clone();
        if changed.body.is_empty() {
            changed.body.push(pick as u8);
        } else {
            let i = pick % changed.body.len();
            changed.body[i] ^= 1 + (pick % 255) as u8;
        }
        prop_assert_eq!(changed.verify(), Err(AuthError::BadSignature), "body change accepted: {:?}", changed);

        // One byte of the path.
        if let Some(p) = mutate_alnum(&wire.path, pick) {
            let mut changed = wire.clone();
            changed.path = p;
            prop_assert!(changed.verify().is_err(), "path change accepted: {:?}", changed);
        }
        // One byte of the query (outside the signature itself).
        let signable: Vec<&str> = wire.query.split('&').filter(|p| !p.starts_with("X-Amz-Signature=")).collect();
        if let Some(q) = mutate_alnum(&signable.join("&"), pick) {
            let mut changed = wire.clone();
            let sig: Vec<&str> = wire.query.split('&').filter(|p| p.starts_with("X-Amz-Signature=")).collect();
            changed.query = if sig.is_empty() { q } else { format!("{q}&{}", sig[0]) };
            prop_assert!(changed.verify().is_err(), "query change accepted: {:?}", changed);
        }
        // One byte of a signed header's value.
        if !headers.is_empty() {
            let name = &headers[pick % headers.len()].0;
            let mut changed = wire.clone();
            if let Some(h) = changed.headers.iter_mut().find(|(k, _)| k == name) {
                if let Some(v) = mutate_alnum(&h.1, pick) {
                    h.1 = v;
                    prop_assert_eq!(changed.verify(), Err(AuthError::BadSignature), "header change accepted: {:?}", changed);
                }
            }
        }
    }
}
