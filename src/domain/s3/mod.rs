//! Amazon S3's pure rules: bucket names and keys (`names`), the checksums S3 and its SDKs
//! compute (`checksum`), notification configurations and which rule an event matches
//! (`notification`), the event record S3 sends to a function (`event`), and the error kinds
//! S3 reports (`error`). Nothing here imports HTTP or SQL.

pub mod checksum;
pub mod error;
pub mod event;
pub mod names;
pub mod notification;

pub use error::S3Error;

/// The `Content-Type` S3 stores for an object uploaded without one.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The largest object a single PutObject (and each part) may carry: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// Multipart parts other than the last must be at least this large (5 MiB).
pub const MIN_PART: u64 = 5 * 1024 * 1024;

/// Part numbers run from 1 to this.
pub const MAX_PART_NUMBER: i64 = 10_000;

/// At most this many keys per DeleteObjects call.
pub const MAX_DELETE_KEYS: usize = 1000;

/// The ETag of a multipart object: the MD5 of the parts' binary MD5s, `-` and their count.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for m in part_md5s {
        h.update(m);
    }
    format!("{}-{}", hex::encode(h.finalize()), part_md5s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_etags_are_md5_of_md5s() {
        use md5::{Digest, Md5};
        let a: [u8; 16] = Md5::digest(b"a").into();
        let b: [u8; 16] = Md5::digest(b"b").into();
        let mut cat = Vec::new();
        cat.extend_from_slice(&a);
        cat.extend_from_slice(&b);
        let want = format!("{}-2", hex::encode(Md5::digest(&cat)));
        assert_eq!(multipart_etag(&[a, b]), want);
    }
}
