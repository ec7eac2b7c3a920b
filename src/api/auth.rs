//! Authentication of API calls: SigV4 against lambdabox's own access keys, in two steps so
//! that nothing is read from an unauthenticated connection but its headers.
//!
//! 1. [`Authenticator::precheck`] (headers only): the claim is well formed, its region is
//!    ours, its time is within the window, and the access key exists and is active.
//! 2. [`Authenticator::verify`] (after the body was read and hashed, or with the digest the
//!    client declared for a streamed body): the signature matches.
//!
//! Key lookups are cached for a few seconds so that the invoke path does not touch SQLite;
//! a key revoked with `lambdabox keys revoke` stops working within [`KEY_CACHE_TTL`].
//! Temporary credentials of role sessions (`ASIA…`, `services::iam::sessions`) are looked
//! up in memory on every call, so an expired or revoked session stops at once; their
//! requests must carry the session token (`X-Amz-Security-Token`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::chunked::ChunkSigner;
use super::request::Head;
use super::sigv4::{self, AuthError, Claim, SignedRequest};
use super::sigv4_keys::SigningKeys;
use crate::services::iam::sessions::Sessions;
use crate::store::{keys, Store};

/// How long a looked-up key (or its absence) is trusted.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The caller of an authenticated request, as IAM policy evaluation will need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    /// The role stored with the key (`admin` for keys made by `lambdabox keys create`).
    pub role: String,
    /// The SigV4 service name the request was signed for.
    pub service: String,
    pub region: String,
    /// The role session of temporary credentials (an assumed role), when there is one.
    pub session: Option<String>,
}

impl Principal {
    /// The caller's ARN, as `sts get-caller-identity` reports it: an IAM user named after
    /// the key's role, or the assumed-role session.
    pub fn arn(&self, account_id: &str) -> String {
        match &self.session {
            Some(s) => format!("arn:aws:sts::{account_id}:assumed-role/{}/{s}", self.role),
            None => format!("arn:aws:iam::{account_id}:user/{}", self.role),
        }
    }
}

type Entry = (Option<(String, String)>, Instant);

/// A claim whose key exists; the signature is still to be checked.
pub struct Pending {
    claim: Claim,
    secret: String,
    principal: Principal,
    /// A role session's token, which the request must carry.
    token: Option<String>,
}

impl Pending {
    /// The SigV4 service name of the credential scope.
    pub fn service(&self) -> &str {
        &self.claim.credential.service
    }

    /// True for a presigned URL (query-string auth).
    pub fn presigned(&self) -> bool {
        self.claim.expires.is_some()
    }

    /// What an aws-chunked body's chunk signatures are checked with (after the request's own
    /// signature was verified: it seeds the chain).
    pub fn chunk_signer(&self) -> super::chunked::ChunkSigner {
        let c = &self.claim.credential;
        ChunkSigner {
            key: sigv4::signing_key(&self.secret, &c.date, &c.region, &c.service),
            amz_date: self.claim.amz_date.clone(),
            scope: format!("{}/{}/{}/aws4_request", c.date, c.region, c.service),
            seed: self.claim.signature.to_ascii_lowercase(),
        }
    }
}

/// Verifies requests; shared by every worker.
pub struct Authenticator {
    store: Store,
    region: String,
    cache: Mutex<HashMap<String, Entry>>,
    sessions: Option<Arc<Sessions>>,
    /// Derived signing keys, reused while the secret and the credential scope stay the same.
    signing_keys: SigningKeys,
}

impl Authenticator {
    pub fn new(store: Store, region: String) -> Authenticator {
        Authenticator {
            store,
            region,
            cache: Mutex::new(HashMap::new()),
            sessions: None,
            signing_keys: SigningKeys::new(),
        }
    }

    /// Also accepts the temporary credentials of these role sessions.
    pub fn with_sessions(mut self, sessions: Arc<Sessions>) -> Authenticator {
        self.sessions = Some(sessions);
        self
    }

    async fn secret(&self, key_id: &str) -> Result<Option<(String, String)>, AuthError> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((v, at)) = cache.get(key_id) {
                if at.elapsed() < KEY_CACHE_TTL {
                    return Ok(v.clone());
                }
            }
        }
        let id = key_id.to_string();
        let found = self
            .store
            .call(move |c| keys::lookup(c, &id))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "key lookup failed");
                AuthError::UnknownKey
            })?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key_id.to_string(), (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// The signature claim of a request (header or presigned query), not yet checked.
    pub fn claim(head: &Head) -> Result<Claim, AuthError> {
        signed(head, "").claim()
    }

    /// Step 1, before the body: region, time window, and an active key.
    pub async fn precheck(&self, claim: Claim) -> Result<Pending, AuthError> {
        if claim.credential.region != self.region {
            return Err(AuthError::WrongRegion(format!(
                "Credential should be scoped to a valid region, not '{}'. This lambdabox serves '{}': pass --region {} (or set region in its config).",
                claim.credential.region, self.region, self.region
            )));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        sigv4::check_time(&claim, now)?;
        if let Some(session) = self
            .sessions
            .as_ref()
            .and_then(|s| s.lookup(&claim.credential.access_key_id, now.saturating_mul(1000)))
        {
            let principal = Principal {
                access_key_id: claim.credential.access_key_id.clone(),
                role: session.role_name.clone(),
                service: claim.credential.service.clone(),
                region: claim.credential.region.clone(),
                session: Some(session.session_name.clone()),
            };
            return Ok(Pending {
                claim,
                secret: session.secret.clone(),
                principal,
                token: Some(session.token.clone()),
            });
        }
        let (secret, role) = self
            .secret(&claim.credential.access_key_id)
            .await?
            .ok_or(AuthError::UnknownKey)?;
        let principal = Principal {
            access_key_id: claim.credential.access_key_id.clone(),
            role,
            service: claim.credential.service.clone(),
            region: claim.credential.region.clone(),
            session: None,
        };
        Ok(Pending {
            claim,
            secret,
            principal,
            token: None,
        })
    }

    /// Step 2: the signature over the head and `payload_hash` (the hex SHA-256 of the body
    /// as read, or the digest declared for a streamed body). Says who signed.
    pub fn verify(
        &self,
        pending: &Pending,
        head: &Head,
        payload_hash: &str,
    ) -> Result<Principal, AuthError> {
        let c = &pending.claim.credential;
        let key = self.signing_keys.get(
            &c.access_key_id,
            &pending.secret,
            &c.date,
            &c.region,
            &c.service,
        );
        sigv4::verify_with_key(&signed(head, payload_hash), &pending.claim, &key)?;
        if let Some(token) = &pending.token {
            let sent = head
                .header("x-amz-security-token")
                .map(str::to_string)
                .or_else(|| {
                    head.query()
                        .into_iter()
                        .find(|(k, _)| k == "X-Amz-Security-Token")
                        .map(|(_, v)| v)
                });
            let matches = sent.is_some_and(|t| {
                subtle::ConstantTimeEq::ct_eq(t.as_bytes(), token.as_bytes()).into()
            });
            if !matches {
                return Err(AuthError::UnknownKey);
            }
        }
        Ok(pending.principal.clone())
    }

    /// Both steps at once, for callers that read the body themselves (public paths whose
    /// owner asks for IAM auth, such as function URLs with `AuthType: AWS_IAM`).
    pub async fn authenticate(
        &self,
        head: &Head,
        payload_hash: &str,
    ) -> Result<Principal, AuthError> {
        let pending = self.precheck(Authenticator::claim(head)?).await?;
        self.verify(&pending, head, payload_hash)
    }
}

fn signed<'a>(head: &'a Head, payload_hash: &'a str) -> SignedRequest<'a> {
    SignedRequest {
        method: &head.method,
        raw_path: head.signed_path.as_deref().unwrap_or(&head.raw_path),
        raw_query: &head.raw_query,
        headers: &head.headers,
        payload_hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_arns() {
        let mut p = Principal {
            access_key_id: "LBXA".into(),
            role: "admin".into(),
            service: "sts".into(),
            region: "us-east-1".into(),
            session: None,
        };
        assert_eq!(
            p.arn("000000000000"),
            "arn:aws:iam::000000000000:user/admin"
        );
        p.session = Some("s1".into());
        assert_eq!(
            p.arn("000000000000"),
            "arn:aws:sts::000000000000:assumed-role/admin/s1"
        );
    }
}
