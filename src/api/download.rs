//! Signed, expiring download URLs for deployment packages (GetFunction's `Code.Location`).
//!
//! The URL carries an expiry and an HMAC over the path and expiry made with a per-install
//! secret kept in the database, so it works without AWS credentials (like an S3 presigned
//! URL) and stops working after [`URL_LIFETIME_SECS`].

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How long a download URL stays valid (AWS: about 10 minutes).
pub const URL_LIFETIME_SECS: i64 = 600;

/// Signs and checks download URLs.
pub struct Downloads {
    key: Vec<u8>,
}

impl Downloads {
    pub fn new(key: Vec<u8>) -> Downloads {
        Downloads { key }
    }

    fn sign(&self, name: &str, sha256: &str, expires: i64) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(format!("{name}\n{sha256}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A URL on `host` that downloads the package `sha256` of function `name`.
    pub fn url(&self, host: &str, name: &str, sha256: &str) -> String {
        let expires = time::OffsetDateTime::now_utc().unix_timestamp() + URL_LIFETIME_SECS;
        format!(
            "http://{host}/_lambdabox/code/{name}/{sha256}.zip?Expires={expires}&Signature={}",
            self.sign(name, sha256, expires)
        )
    }

    /// True if the signature is ours and unexpired.
    pub fn check(&self, name: &str, sha256: &str, expires: i64, signature: &str, now: i64) -> bool {
        if now > expires {
            return false;
        }
        let want = self.sign(name, sha256, expires);
        want.as_bytes().ct_eq(signature.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_expire_and_cannot_be_forged() {
        let d = Downloads::new(b"k".to_vec());
        let sig = d.sign("f", "abc", 100);
        assert!(d.check("f", "abc", 100, &sig, 50));
        assert!(!d.check("f", "abc", 100, &sig, 101));
        assert!(!d.check("g", "abc", 100, &sig, 50));
        assert!(!d.check("f", "abc", 200, &sig, 50));
    }
}
