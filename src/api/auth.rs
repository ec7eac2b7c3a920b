//! Authentication of API calls: SigV4 against lambdabox's own access keys.
//!
//! Key lookups are cached for a few seconds so that the invoke path does not touch SQLite;
//! a key revoked with `lambdabox keys revoke` stops working within [`KEY_CACHE_TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::request::ApiRequest;
use super::sigv4::{self, AuthError, SignedRequest};
use crate::store::{keys, Store};

/// SigV4 service names this daemon answers to.
pub const SERVICES: &[&str] = &["lambda"];

/// How long a looked-up key (or its absence) is trusted.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The caller of an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub role: String,
    pub service: String,
    pub region: String,
}

type Entry = (Option<(String, String)>, Instant);

/// Verifies requests; shared by every worker.
pub struct Authenticator {
    store: Store,
    region: String,
    cache: Mutex<HashMap<String, Entry>>,
}

impl Authenticator {
    pub fn new(store: Store, region: String) -> Authenticator {
        Authenticator {
            store,
            region,
            cache: Mutex::new(HashMap::new()),
        }
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

    /// Checks the request's signature; on success says who signed it.
    pub async fn authenticate(&self, req: &ApiRequest) -> Result<Principal, AuthError> {
        let signed = SignedRequest {
            method: &req.method,
            raw_path: &req.raw_path,
            raw_query: &req.raw_query,
            headers: &req.headers,
            body: &req.body,
        };
        let claim = signed.claim()?;
        if claim.credential.region != self.region {
            return Err(AuthError::WrongRegion(format!(
                "Credential should be scoped to a valid region, not '{}'. This lambdabox serves '{}': pass --region {} (or set region in its config).",
                claim.credential.region, self.region, self.region
            )));
        }
        if !SERVICES.contains(&claim.credential.service.as_str()) {
            return Err(AuthError::WrongRegion(format!(
                "Credential should be scoped to correct service: '{}'. This endpoint serves: {}.",
                claim.credential.service,
                SERVICES.join(", ")
            )));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        sigv4::check_time(&claim, now)?;
        let (secret, role) = self
            .secret(&claim.credential.access_key_id)
            .await?
            .ok_or(AuthError::UnknownKey)?;
        sigv4::verify(&signed, &claim, &secret)?;
        Ok(Principal {
            access_key_id: claim.credential.access_key_id,
            role,
            service: claim.credential.service,
            region: claim.credential.region,
        })
    }
}
