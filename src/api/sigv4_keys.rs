//! A bounded cache of SigV4 signing keys per (access key id, date, region, service).
//!
//! Deriving a signing key takes four HMAC-SHA256s (`AWS4`+secret → date → region → service →
//! `aws4_request`); the signature itself one more. The key depends only on the secret and the
//! credential scope, so consecutive requests of one caller (one key, one day, one service)
//! reuse it and verify with one HMAC instead of five.
//!
//! Safety of the cache: an entry keeps the secret it was derived from and is used only when
//! the secret the request is being verified against (looked up by the caller: the key store
//! or a role session) is byte-for-byte the same (compared in constant time). A rotated secret
//! therefore never gets an old key — the entry is replaced — and a deleted or revoked key never
//! reaches the cache at all, because the caller's lookup fails before verification. The cache
//! is a fixed number of slots, replaced round-robin when full: no growth with the number of
//! callers or days, and a lookup allocates nothing.

use std::sync::Mutex;

use subtle::ConstantTimeEq;

use super::sigv4::signing_key;

/// Slots in the cache (distinct key × date × region × service in use at one time).
pub const SLOTS: usize = 64;

struct Entry {
    key_id: String,
    date: String,
    region: String,
    service: String,
    secret: String,
    signing_key: Vec<u8>,
}

impl Entry {
    fn scope_is(&self, key_id: &str, date: &str, region: &str, service: &str) -> bool {
        self.key_id == key_id
            && self.date == date
            && self.region == region
            && self.service == service
    }
}

#[derive(Default)]
struct Slots {
    entries: Vec<Entry>,
    /// The slot the next new scope replaces once `entries` is full.
    next: usize,
}

/// The cache; shared by every worker (one lock held for a few comparisons).
#[derive(Default)]
pub struct SigningKeys {
    slots: Mutex<Slots>,
}

impl SigningKeys {
    pub fn new() -> SigningKeys {
        SigningKeys::default()
    }

    /// The signing key of `secret` for the scope, from the cache when an entry of that scope
    /// was derived from this same secret, else derived (and cached).
    pub fn get(
        &self,
        key_id: &str,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> Vec<u8> {
        let Ok(mut slots) = self.slots.lock() else {
            return signing_key(secret, date, region, service);
        };
        let found = slots
            .entries
            .iter()
            .position(|e| e.scope_is(key_id, date, region, service));
        if let Some(i) = found {
            let e = &slots.entries[i];
            if bool::from(e.secret.as_bytes().ct_eq(secret.as_bytes())) {
                return e.signing_key.clone();
            }
        }
        let derived = signing_key(secret, date, region, service);
        let entry = Entry {
            key_id: key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            secret: secret.to_string(),
            signing_key: derived.clone(),
        };
        match found {
            Some(i) => slots.entries[i] = entry,
            None if slots.entries.len() < SLOTS => slots.entries.push(entry),
            None => {
                let i = slots.next % SLOTS;
                slots.entries[i] = entry;
                slots.next = (i + 1) % SLOTS;
            }
        }
        derived
    }

    /// Entries held (diagnostics and tests).
    pub fn len(&self) -> usize {
        self.slots.lock().map_or(0, |s| s.entries.len())
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sigv4::{verify, verify_with_key, Claim, SignedRequest};

    #[test]
    fn cached_keys_equal_derived_keys() {
        let cache = SigningKeys::new();
        for _ in 0..3 {
            for (secret, date, region, service) in [
                ("s1", "20260101", "us-east-1", "lambda"),
                ("s1", "20260102", "us-east-1", "lambda"),
                ("s1", "20260101", "eu-west-1", "lambda"),
                ("s1", "20260101", "us-east-1", "s3"),
            ] {
                assert_eq!(
                    cache.get("AKID", secret, date, region, service),
                    signing_key(secret, date, region, service)
                );
            }
        }
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn a_changed_secret_is_never_served_from_the_cache() {
        let cache = SigningKeys::new();
        let old = cache.get("AKID", "old-secret", "20260101", "us-east-1", "lambda");
        assert_eq!(
            old,
            signing_key("old-secret", "20260101", "us-east-1", "lambda")
        );
        // Rotation: same key id and scope, new secret.
        let new = cache.get("AKID", "new-secret", "20260101", "us-east-1", "lambda");
        assert_eq!(
            new,
            signing_key("new-secret", "20260101", "us-east-1", "lambda")
        );
        assert_ne!(old, new);
        // The old secret again (e.g. a request signed before the rotation) is re-derived too.
        assert_eq!(
            cache.get("AKID", "old-secret", "20260101", "us-east-1", "lambda"),
            old
        );
        // A secret that is a prefix of the cached one is not equal to it.
        assert_eq!(
            cache.get("AKID", "old-secre", "20260101", "us-east-1", "lambda"),
            signing_key("old-secre", "20260101", "us-east-1", "lambda")
        );
        assert_eq!(cache.len(), 1);
        // Another key id with the same secret and scope has an entry of its own.
        cache.get("AKID2", "old-secre", "20260101", "us-east-1", "lambda");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn bounded_and_still_correct_when_full() {
        let cache = SigningKeys::new();
        for i in 0..(SLOTS * 3) {
            let id = format!("AK{i}");
            let secret = format!("secret{i}");
            assert_eq!(
                cache.get(&id, &secret, "20260101", "us-east-1", "lambda"),
                signing_key(&secret, "20260101", "us-east-1", "lambda")
            );
        }
        assert_eq!(cache.len(), SLOTS);
        // The earliest entries were replaced; asking again derives the right key.
        assert_eq!(
            cache.get("AK0", "secret0", "20260101", "us-east-1", "lambda"),
            signing_key("secret0", "20260101", "us-east-1", "lambda")
        );
        assert_eq!(cache.len(), SLOTS);
    }

    #[test]
    fn verification_with_a_cached_key_matches_verification_with_the_secret() {
        // AWS's get-vanilla vector (as in sigv4's own tests).
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
            ("Authorization".to_string(), auth.to_string()),
        ];
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        };
        let claim: Claim = req.claim().unwrap_or_else(|e| panic!("claim: {e}"));
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let cache = SigningKeys::new();
        for _ in 0..2 {
            let c = &claim.credential;
            let key = cache.get(&c.access_key_id, secret, &c.date, &c.region, &c.service);
            assert_eq!(
                verify_with_key(&req, &claim, &key),
                verify(&req, &claim, secret)
            );
            assert!(verify_with_key(&req, &claim, &key).is_ok());
            let wrong = cache.get(&c.access_key_id, "rotated", &c.date, &c.region, &c.service);
            assert!(verify_with_key(&req, &claim, &wrong).is_err());
            assert_eq!(
                verify_with_key(&req, &claim, &wrong),
                verify(&req, &claim, "rotated")
            );
        }
    }

    /// `cargo test --release --lib sigv4_keys::tests::bench -- --ignored --nocapture`:
    /// per-request verification cost with the derived key cached and without, interleaved.
    #[test]
    #[ignore]
    fn bench_cached_vs_derived() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
            ("Authorization".to_string(), auth.to_string()),
        ];
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        };
        let claim: Claim = req.claim().unwrap_or_else(|e| panic!("claim: {e}"));
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let cache = SigningKeys::new();
        let c = &claim.credential;
        let (mut derived, mut cached) = (Vec::new(), Vec::new());
        for _ in 0..21 {
            let t = std::time::Instant::now();
            for _ in 0..2000 {
                assert!(verify(&req, &claim, secret).is_ok());
            }
            derived.push(t.elapsed().as_nanos() as f64 / 2000.0);
            let t = std::time::Instant::now();
            for _ in 0..2000 {
                let key = cache.get(&c.access_key_id, secret, &c.date, &c.region, &c.service);
                assert!(verify_with_key(&req, &claim, &key).is_ok());
            }
            cached.push(t.elapsed().as_nanos() as f64 / 2000.0);
        }
        derived.sort_by(f64::total_cmp);
        cached.sort_by(f64::total_cmp);
        println!(
            "sigv4 verify p50: derived {:.2} µs, cached {:.2} µs ({:.2}×)",
            derived[10] / 1000.0,
            cached[10] / 1000.0,
            derived[10] / cached[10]
        );
    }
}
