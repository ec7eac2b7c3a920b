//! The `[s3]` section: virtual-hosted-style addressing (`base_domain`) and the object store's
//! quotas (all buckets together, each bucket, named buckets). Quotas count the bytes of
//! objects and of the parts of multipart uploads in progress.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Settings of the object store (Amazon S3).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Base domain of virtual-hosted-style requests: Host `<bucket>.<base_domain>` (any
    /// port) names the bucket, the path the key. A Host equal to the base domain (or any
    /// other) is path-style. Unset: path-style only, and a request that looks
    /// virtual-hosted (`<bucket>.s3.…`, `<bucket>.localhost`) is refused, never misread.
    pub base_domain: Option<String>,
    /// Bytes all buckets together may hold. Unset: no total quota.
    pub max_total_bytes: Option<u64>,
    /// Bytes each bucket may hold, unless `bucket_max_bytes` names it. Unset: no quota.
    pub max_bucket_bytes: Option<u64>,
    /// Quotas of named buckets, overriding `max_bucket_bytes`: `{ photos = 10000000000 }`.
    pub bucket_max_bytes: BTreeMap<String, u64>,
}

impl S3Config {
    /// The base domain as Host headers are compared with it: lower case, no port.
    pub fn base_host(&self) -> Option<String> {
        self.base_domain.as_deref().map(|b| {
            let b = b.trim().trim_end_matches('.').to_ascii_lowercase();
            match b.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => h.to_string(),
                _ => b,
            }
        })
    }

    /// The quota of bucket `name`, if any.
    pub fn bucket_quota(&self, name: &str) -> Option<u64> {
        self.bucket_max_bytes
            .get(name)
            .copied()
            .or(self.max_bucket_bytes)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(h) = self.base_host() {
            let ok = !h.is_empty()
                && h.len() <= 200
                && h.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "s3.base_domain must be a host name such as \"s3.localhost\" (optionally with a :port), got {:?}",
                    self.base_domain.as_deref().unwrap_or("")
                )));
            }
        }
        for name in self.bucket_max_bytes.keys() {
            if crate::domain::s3::names::check_bucket(name).is_err() {
                return Err(ConfigError::Invalid(format!(
                    "s3.bucket_max_bytes names {name:?}, which is not a valid bucket name"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_host_and_quotas() {
        let mut c = S3Config {
            base_domain: Some("S3.Localhost:9070".into()),
            max_bucket_bytes: Some(10),
            ..S3Config::default()
        };
        c.bucket_max_bytes.insert("big".into(), 1000);
        assert_eq!(c.base_host().as_deref(), Some("s3.localhost"));
        assert_eq!(c.bucket_quota("big"), Some(1000));
        assert_eq!(c.bucket_quota("other"), Some(10));
        assert!(c.validate().is_ok());
        c.base_domain = Some("bad_domain".into());
        assert!(c.validate().is_err());
        c.base_domain = None;
        c.bucket_max_bytes.insert("Not_A_Bucket".into(), 1);
        assert!(c.validate().is_err());
    }
}
