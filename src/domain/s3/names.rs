//! Bucket names and object keys as S3 accepts them, and the key encoding S3 uses in listings
//! (`encoding-type=url`) and in event records.

use super::S3Error;

/// Bucket names that would be shadowed by lambdabox's own paths on the shared port
/// (`/health`, `/metrics`, the dashboard, function URLs, HTTP API routes).
pub const RESERVED: &[&str] = &["health", "metrics", "ui", "lambda-url", "http-api"];

/// S3's general purpose bucket naming rules: 3–63 characters of lower-case letters, digits,
/// dots and hyphens, beginning and ending with a letter or digit, no `..`, not an IP address,
/// none of the reserved prefixes and suffixes.
pub fn check_bucket(name: &str) -> Result<(), S3Error> {
    let bad = || {
        S3Error::new(
            "InvalidBucketName",
            400,
            "The specified bucket is not valid.",
        )
        .with("BucketName", name)
    };
    let len_ok = (3..=63).contains(&name.len());
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ends_ok = name
        .bytes()
        .next()
        .zip(name.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    let ip_like = name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let affixes = name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
        || name.ends_with(".mrap")
        || name.ends_with("--x-s3");
    if !len_ok || !chars_ok || !ends_ok || ip_like || affixes || name.contains("..") {
        return Err(bad());
    }
    if RESERVED.contains(&name) {
        let mut e = bad();
        e.message = format!(
            "The specified bucket is not valid. lambdabox serves /{name} itself on this port; choose another name."
        );
        return Err(e);
    }
    Ok(())
}

/// Keys are 1 to 1024 bytes of UTF-8.
pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() {
        return Err(S3Error::invalid_argument("Object key must not be empty.").with("Key", key));
    }
    if key.len() > 1024 {
        return Err(S3Error::new("KeyTooLongError", 400, "Your key is too long"));
    }
    Ok(())
}

/// `s` percent-encoded as S3 encodes keys with `encoding-type=url` and in event records:
/// unreserved characters and `/` kept, a space as `+`, every other byte as `%XX`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["my-uploads", "a.b.c", "abc", "x1-2"] {
            assert!(check_bucket(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.0.1",
            "xn--abc",
            "a_b",
            "health",
            "ui",
        ] {
            assert_eq!(
                check_bucket(bad).unwrap_err().code,
                "InvalidBucketName",
                "{bad}"
            );
        }
        assert!(check_bucket(&"a".repeat(64)).is_err());
    }

    #[test]
    fn keys_encode_as_s3_does() {
        assert_eq!(url_encode("2025/cat picture.jpg"), "2025/cat+picture.jpg");
        assert_eq!(url_encode("a+b(1)é"), "a%2Bb%281%29%C3%A9");
        assert!(check_key(&"k".repeat(1025)).is_err());
        assert!(check_key("").is_err());
    }
}
