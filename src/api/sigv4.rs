//! AWS Signature Version 4 verification, for the `Authorization` header and for presigned
//! query strings.
//!
//! The canonical request is rebuilt from the request as received (the raw, still
//! percent-encoded path and query), signed with the secret of the access key named in the
//! credential scope, and compared in constant time. Only the SigV4 algorithm is accepted.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Maximum clock difference between client and server (AWS allows 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Why a request is not authenticated; each maps to the AWS error a client expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No signature at all.
    #[error("Missing Authentication Token")]
    Missing,
    /// Malformed Authorization header or presign parameters.
    #[error("{0}")]
    Incomplete(String),
    /// The access key id is unknown or revoked.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// The signature does not match.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    BadSignature,
    /// Too old, too far in the future, or past its presigned expiry.
    #[error("{0}")]
    Expired(String),
    /// Credential scope names a region lambdabox does not serve.
    #[error("{0}")]
    WrongRegion(String),
}

/// The parts of a request the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Path exactly as received, still percent-encoded.
    pub raw_path: &'a str,
    /// Query string exactly as received (without `?`).
    pub raw_query: &'a str,
    /// Header names (any case) and values; repeated names appear repeatedly.
    pub headers: &'a [(String, String)],
    /// Lower-case hex SHA-256 of the body as received ([`hash_payload`]), computed while the
    /// body was read. For a body not read yet (streamed), the value the client declared in
    /// `x-amz-content-sha256`; the stream then checks it at its end.
    pub payload_hash: &'a str,
}

/// The hex SHA-256 of a whole body, as SigV4 signs it.
pub fn hash_payload(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// What a valid signature proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

/// Parsed signature material, before the secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub credential: Credential,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `x-amz-date` value, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// Presigned URL lifetime in seconds.
    pub expires: Option<i64>,
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Extracts the signature claim from the header or the query string.
    pub fn claim(&self) -> Result<Claim, AuthError> {
        if let Some(auth) = self.header("authorization") {
            return parse_header(auth, self.header("x-amz-date"));
        }
        let query = parse_query(self.raw_query);
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match get("X-Amz-Algorithm") {
            None => Err(AuthError::Missing),
            Some(alg) if alg != ALGORITHM => Err(AuthError::Incomplete(format!(
                "Unsupported algorithm {alg}; use {ALGORITHM}."
            ))),
            Some(_) => {
                let need = |k: &str| {
                    get(k).ok_or_else(|| {
                        AuthError::Incomplete(format!(
                            "AWS query-string parameters must include '{k}'. Re-examine the query-string parameters."
                        ))
                    })
                };
                let credential = parse_credential(&need("X-Amz-Credential")?)?;
                let expires = need("X-Amz-Expires")?.parse::<i64>().map_err(|_| {
                    AuthError::Incomplete("X-Amz-Expires must be a number of seconds.".into())
                })?;
                if !(1..=604_800).contains(&expires) {
                    return Err(AuthError::Incomplete(
                        "X-Amz-Expires must be between 1 and 604800 seconds.".into(),
                    ));
                }
                Ok(Claim {
                    credential,
                    signed_headers: split_signed_headers(&need("X-Amz-SignedHeaders")?),
                    signature: need("X-Amz-Signature")?,
                    amz_date: need("X-Amz-Date")?,
                    expires: Some(expires),
                })
            }
        }
    }
}

fn parse_header(auth: &str, amz_date: Option<&str>) -> Result<Claim, AuthError> {
    let rest = auth.strip_prefix(ALGORITHM).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "Authorization header requires the {ALGORITHM} algorithm."
        ))
    })?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(parse_credential(v)?);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(split_signed_headers(v));
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v.to_string());
        }
    }
    let missing = |what: &str| {
        AuthError::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={auth_prefix}",
            auth_prefix = ALGORITHM
        ))
    };
    let amz_date = amz_date.ok_or_else(|| {
        AuthError::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    Ok(Claim {
        credential: credential.ok_or_else(|| missing("Credential"))?,
        signed_headers: signed.ok_or_else(|| missing("SignedHeaders"))?,
        signature: signature.ok_or_else(|| missing("Signature"))?,
        amz_date: amz_date.to_string(),
        expires: None,
    })
}

fn parse_credential(v: &str) -> Result<Credential, AuthError> {
    let parts: Vec<&str> = v.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" || parts.iter().any(|p| p.is_empty()) {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid region and service, in the form <key>/<date>/<region>/<service>/aws4_request, not '{v}'."
        )));
    }
    Ok(Credential {
        access_key_id: parts[0].to_string(),
        date: parts[1].to_string(),
        region: parts[2].to_string(),
        service: parts[3].to_string(),
    })
}

fn split_signed_headers(v: &str) -> Vec<String> {
    v.split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

/// Checks the time window: `amz_date` within the skew of `now`, and a presigned URL unexpired.
pub fn check_time(claim: &Claim, now_unix: i64) -> Result<(), AuthError> {
    let signed_at = parse_amz_date(&claim.amz_date).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "X-Amz-Date must be in the ISO8601 basic format YYYYMMDD'T'HHMMSS'Z', not '{}'.",
            claim.amz_date
        ))
    })?;
    if !claim.amz_date.starts_with(&claim.credential.date) {
        return Err(AuthError::Incomplete(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            claim.credential.date,
            claim.amz_date.get(..8).unwrap_or_default()
        )));
    }
    match claim.expires {
        Some(expires) => {
            if now_unix > signed_at + expires {
                return Err(AuthError::Expired(format!(
                    "Signature expired: the presigned request from {} was valid for {expires} seconds.",
                    claim.amz_date
                )));
            }
            if signed_at - now_unix > MAX_SKEW_SECS {
                return Err(AuthError::Expired(format!(
                    "Signature not yet current: {} is still later than the server time plus 15 min.",
                    claim.amz_date
                )));
            }
        }
        None => {
            if (now_unix - signed_at).abs() > MAX_SKEW_SECS {
                return Err(AuthError::Expired(format!(
                    "Signature expired: {} is now earlier or later than the server time by more than 15 min. Check the client's clock.",
                    claim.amz_date
                )));
            }
        }
    }
    Ok(())
}

fn parse_amz_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Verifies `claim` against `secret`. The caller has already checked the key and the time.
pub fn verify(req: &SignedRequest<'_>, claim: &Claim, secret: &str) -> Result<(), AuthError> {
    let c = &claim.credential;
    verify_with_key(
        req,
        claim,
        &signing_key(secret, &c.date, &c.region, &c.service),
    )
}

/// [`verify`] with the credential scope's signing key already derived ([`signing_key`], or
/// a [`super::sigv4_keys::SigningKeys`] cache of it).
pub fn verify_with_key(
    req: &SignedRequest<'_>,
    claim: &Claim,
    signing_key: &[u8],
) -> Result<(), AuthError> {
    if !claim.signed_headers.iter().any(|h| h == "host") {
        return Err(AuthError::Incomplete(
            "'Host' must be a signed header.".into(),
        ));
    }
    if let Some(h) = req.header("x-amz-content-sha256") {
        let special = claim.credential.service == "s3" && is_unsigned_payload(h);
        if !special && !h.eq_ignore_ascii_case(req.payload_hash) {
            return Err(AuthError::BadSignature);
        }
    }
    let mode = PathMode::for_service(&claim.credential.service);
    let expected = signature_with_key(req, claim, signing_key, mode);
    let given = claim.signature.to_ascii_lowercase();
    if expected.as_bytes().ct_eq(given.as_bytes()).into() {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

/// True for the `x-amz-content-sha256` values that do not name the body's digest.
pub fn is_unsigned_payload(h: &str) -> bool {
    h == "UNSIGNED-PAYLOAD" || h.starts_with("STREAMING-")
}

/// Computes the hex signature of a request as a client would.
pub fn signature(req: &SignedRequest<'_>, claim: &Claim, secret: &str) -> String {
    signature_in(
        req,
        claim,
        secret,
        PathMode::for_service(&claim.credential.service),
    )
}

/// [`signature`] with an explicit [`PathMode`].
pub fn signature_in(
    req: &SignedRequest<'_>,
    claim: &Claim,
    secret: &str,
    mode: PathMode,
) -> String {
    let c = &claim.credential;
    let key = signing_key(secret, &c.date, &c.region, &c.service);
    signature_with_key(req, claim, &key, mode)
}

/// The hex signature of a request with the credential scope's signing key already derived:
/// one HMAC over the string to sign instead of five.
pub fn signature_with_key(
    req: &SignedRequest<'_>,
    claim: &Claim,
    signing_key: &[u8],
    mode: PathMode,
) -> String {
    let canonical = canonical_request_in(req, claim, mode);
    let c = &claim.credential;
    let scope = format!("{}/{}/{}/aws4_request", c.date, c.region, c.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        claim.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// The SigV4 signing key of a credential scope.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical request string of SigV4.
pub fn canonical_request(req: &SignedRequest<'_>, claim: &Claim) -> String {
    canonical_request_in(req, claim, PathMode::for_service(&claim.credential.service))
}

/// The canonical request with an explicit [`PathMode`] (the published test suite signs
/// service "service" without double encoding).
pub fn canonical_request_in(req: &SignedRequest<'_>, claim: &Claim, mode: PathMode) -> String {
    let path = if req.raw_path.is_empty() {
        "/"
    } else {
        req.raw_path
    };
    let path = if mode.normalize {
        normalize_path(path)
    } else {
        path.to_string()
    };
    let canonical_uri = if mode.double_encode {
        uri_encode(&path, false)
    } else {
        path
    };
    let mut query: Vec<(String, String)> = parse_query(req.raw_query)
        .into_iter()
        .filter(|(k, _)| !(claim.expires.is_some() && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k, true), uri_encode(&v, true)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in &claim.signed_headers {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    // The payload hash is always computed from the body received. Only S3 may sign an
    // unsigned or streamed payload instead; any other claimed hash must match the body
    // (checked in `verify`), so a body cannot be swapped after signing.
    let actual = req.payload_hash.to_ascii_lowercase();
    let payload_hash = match req.header("x-amz-content-sha256") {
        Some(h) if claim.credential.service == "s3" && is_unsigned_payload(h) => h.to_string(),
        None if claim.credential.service == "s3" && claim.expires.is_some() => {
            "UNSIGNED-PAYLOAD".to_string()
        }
        _ => actual,
    };
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri,
        canonical_query,
        canonical_headers,
        claim.signed_headers.join(";"),
        payload_hash
    )
}

/// SigV4's normalization of a path (every service but S3): `.` and `..` segments resolved
/// (RFC 3986 5.2.4) and empty segments (`//`) dropped, keeping the leading and a trailing
/// slash, as the published test suite and botocore do.
pub fn normalize_path(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut normalized = format!("/{}", out.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && normalized != "/" {
        normalized.push('/');
    }
    normalized
}

/// How the canonical URI is formed from the path as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathMode {
    /// Resolve `.`/`..` and drop empty segments ([`normalize_path`]).
    pub normalize: bool,
    /// Encode the (already encoded) path once more.
    pub double_encode: bool,
}

impl PathMode {
    /// S3 signs the path as sent; every other service normalizes and encodes it again.
    pub fn for_service(service: &str) -> PathMode {
        let other = service != "s3";
        PathMode {
            normalize: other,
            double_encode: other,
        }
    }
}

/// Splits a raw query string into percent-decoded pairs.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    // In query strings '+' means space for form encodings; SigV4 clients send %20, but a
    // literal '+' must then be '+' again (it is re-encoded as %2B), so do not translate it.
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// SigV4's URI encoding: unreserved characters kept, everything else `%XX` upper-case.
/// With `encode_slash` false, `/` is kept (for paths).
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "sigv4_conformance.rs"]
mod conformance;

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    // The "get-vanilla" example of the AWS SigV4 test suite.
    fn vanilla_headers() -> Vec<(String, String)> {
        vec![
            ("Host".into(), "example.amazonaws.com".into()),
            ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ("Authorization".into(), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31".into()),
        ]
    }

    fn bare<'a>(method: &'a str, headers: &'a [(String, String)]) -> SignedRequest<'a> {
        SignedRequest {
            method,
            raw_path: "/",
            raw_query: "",
            headers,
            payload_hash: EMPTY_SHA256,
        }
    }

    #[test]
    fn verifies_the_aws_get_vanilla_vector() {
        let headers = vanilla_headers();
        let req = bare("GET", &headers);
        let claim = req.claim().unwrap();
        assert_eq!(claim.credential.access_key_id, "AKIDEXAMPLE");
        verify(&req, &claim, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
        assert_eq!(verify(&req, &claim, "wrong"), Err(AuthError::BadSignature));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let headers = vanilla_headers();
        let req = bare("POST", &headers);
        let claim = req.claim().unwrap();
        assert!(verify(&req, &claim, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").is_err());
    }

    #[test]
    fn time_window() {
        let headers = vanilla_headers();
        let req = bare("GET", &headers);
        let claim = req.claim().unwrap();
        let signed = parse_amz_date("20150830T123600Z").unwrap();
        assert!(check_time(&claim, signed + 60).is_ok());
        assert!(matches!(
            check_time(&claim, signed + 16 * 60),
            Err(AuthError::Expired(_))
        ));
        assert!(matches!(
            check_time(&claim, signed - 16 * 60),
            Err(AuthError::Expired(_))
        ));
    }

    #[test]
    fn missing_and_malformed() {
        let headers: Vec<(String, String)> = vec![("Host".into(), "x".into())];
        let req = bare("GET", &headers);
        assert_eq!(req.claim(), Err(AuthError::Missing));
        let headers: Vec<(String, String)> = vec![
            (
                "Authorization".into(),
                "AWS4-HMAC-SHA256 Credential=bad".into(),
            ),
            ("X-Amz-Date".into(), "20150830T123600Z".into()),
        ];
        let req = bare("GET", &headers);
        assert!(matches!(req.claim(), Err(AuthError::Incomplete(_))));
    }

    #[test]
    fn a_claimed_payload_hash_must_match_the_body() {
        let body_hash = hex::encode(Sha256::digest(b"{\"a\":1}"));
        let headers: Vec<(String, String)> = vec![
            ("Host".into(), "h".into()),
            ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ("x-amz-content-sha256".into(), body_hash),
            ("Authorization".into(), "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00".into()),
        ];
        let signed = SignedRequest {
            method: "PUT",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: &hash_payload(b"{\"a\":1}"),
        };
        let mut claim = signed.claim().unwrap();
        claim.signature = signature(&signed, &claim, "secret");
        verify(&signed, &claim, "secret").unwrap();
        let other = hash_payload(b"{\"a\":2}");
        let swapped = SignedRequest {
            payload_hash: &other,
            ..signed
        };
        assert_eq!(
            verify(&swapped, &claim, "secret"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn normalized_paths() {
        assert_eq!(normalize_path("/a/b"), "/a/b");
        assert_eq!(normalize_path("/a//b/"), "/a/b/");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/a/b/c/./../../g"), "/a/g");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/a/b/.."), "/a/");
        assert_eq!(normalize_path("/../a"), "/a");
        assert_eq!(normalize_path("/a.b/c"), "/a.b/c");
        assert_eq!(normalize_path(""), "/");
    }

    #[test]
    fn encodes_like_sigv4() {
        assert_eq!(uri_encode("/a b/c%3A", false), "/a%20b/c%253A");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }
}
