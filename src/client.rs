//! A small signed client of lambdabox's own API, for the `invoke` command: reads the admin
//! credentials from the data directory and signs requests with SigV4 like any AWS SDK.

use std::path::Path;

use crate::api::sigv4::{self, Claim, Credential, SignedRequest};

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read credentials {0}: {1}")]
    Credentials(String, String),
    #[error("cannot reach lambdabox at {0}: {1}. Is `lambdabox serve` running there?")]
    Connect(String, String),
    #[error("{0}")]
    Api(String),
}

/// An access key pair.
pub struct Keys {
    pub access_key_id: String,
    pub secret: String,
}

/// Reads the `[default]` profile of an AWS shared-credentials file.
pub fn read_credentials(path: &Path) -> Result<Keys, ClientError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::Credentials(path.display().to_string(), e.to_string()))?;
    let get = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(access_key_id), Some(secret)) => Ok(Keys {
            access_key_id,
            secret,
        }),
        _ => Err(ClientError::Credentials(
            path.display().to_string(),
            "no aws_access_key_id / aws_secret_access_key".into(),
        )),
    }
}

/// A response: status, headers, body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a SigV4-signed request to `endpoint` (`host:port`).
pub fn call(
    endpoint: &str,
    region: &str,
    keys: &Keys,
    method: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, ClientError> {
    let amz_date = {
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        time::OffsetDateTime::now_utc()
            .format(&fmt)
            .unwrap_or_default()
    };
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), endpoint.to_string()),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    for (k, v) in extra_headers {
        headers.push(((*k).to_ascii_lowercase(), (*v).to_string()));
    }
    let claim = Claim {
        credential: Credential {
            access_key_id: keys.access_key_id.clone(),
            date: amz_date[..8].to_string(),
            region: region.to_string(),
            service: "lambda".into(),
        },
        signed_headers: headers.iter().map(|(k, _)| k.clone()).collect(),
        signature: String::new(),
        amz_date,
        expires: None,
    };
    let payload_hash = sigv4::hash_payload(body);
    let req = SignedRequest {
        method,
        raw_path: path,
        raw_query: "",
        headers: &headers,
        payload_hash: &payload_hash,
    };
    let sig = sigv4::signature(&req, &claim, &keys.secret);
    let c = &claim.credential;
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={sig}",
        c.access_key_id,
        c.date,
        c.region,
        c.service,
        claim.signed_headers.join(";")
    );
    let url = format!("http://{endpoint}{path}");
    let mut r = ureq::request(method, &url).set("Authorization", &auth);
    for (k, v) in &headers {
        if k != "host" {
            r = r.set(k, v);
        }
    }
    let resp = match r.send_bytes(body) {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(ClientError::Connect(endpoint.to_string(), e.to_string())),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body)
        .map_err(|e| ClientError::Api(format!("cannot read the response: {e}")))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}
