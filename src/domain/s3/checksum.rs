//! The checksums S3 verifies and stores besides the MD5 ETag: CRC32, CRC32C, CRC64NVME, SHA1
//! and SHA256 (`x-amz-checksum-*`, base64 of the big-endian digest). The CRCs are computed
//! here (tables), the SHAs by RustCrypto's `sha1` and `sha2`.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A checksum algorithm S3 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

/// Every algorithm, for messages.
pub const NAMES: &str = "CRC32, CRC32C, CRC64NVME, SHA1 or SHA256";

impl Algorithm {
    /// From `CRC32`, `crc32c`… (the `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`
    /// value or the suffix of an `x-amz-checksum-*` header).
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "CRC32" => Some(Algorithm::Crc32),
            "CRC32C" => Some(Algorithm::Crc32c),
            "CRC64NVME" => Some(Algorithm::Crc64Nvme),
            "SHA1" => Some(Algorithm::Sha1),
            "SHA256" => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    /// `CRC32`, as S3 names it in XML (`ChecksumCRC32`) and headers.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying it: `x-amz-checksum-crc32`.
    pub fn header(self) -> String {
        format!("x-amz-checksum-{}", self.name().to_ascii_lowercase())
    }
}

/// A running checksum.
pub enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64(u64),
    Sha1(Box<sha1::Sha1>),
    Sha256(Box<Sha256>),
}

impl Hasher {
    pub fn new(a: Algorithm) -> Hasher {
        match a {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(!0),
            Algorithm::Crc64Nvme => Hasher::Crc64(!0),
            Algorithm::Sha1 => Hasher::Sha1(Box::default()),
            Algorithm::Sha256 => Hasher::Sha256(Box::default()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Crc32c(c) => *c = crc32c_update(*c, data),
            Hasher::Crc64(c) => *c = crc64_update(*c, data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest, base64 as S3 writes it.
    pub fn finish(self) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        match self {
            Hasher::Crc32(h) => b64(&h.finalize().to_be_bytes()),
            Hasher::Crc32c(c) => b64(&(!c).to_be_bytes()),
            Hasher::Crc64(c) => b64(&(!c).to_be_bytes()),
            Hasher::Sha1(h) => b64(&h.finalize()),
            Hasher::Sha256(h) => b64(&h.finalize()),
        }
    }
}

const fn table32(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const fn table64(poly: u64) -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32C: [u32; 256] = table32(0x82F6_3B78);
static CRC64NVME: [u64; 256] = table64(0x9A6C_9329_AC4B_C9B5);

fn crc32c_update(mut c: u32, data: &[u8]) -> u32 {
    for &b in data {
        c = CRC32C[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c
}

fn crc64_update(mut c: u64, data: &[u8]) -> u64 {
    for &b in data {
        c = CRC64NVME[((c ^ u64::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(a: Algorithm, data: &[u8]) -> String {
        let mut h = Hasher::new(a);
        h.update(data);
        let b = base64::engine::general_purpose::STANDARD
            .decode(h.finish())
            .unwrap();
        hex::encode(b)
    }

    #[test]
    fn check_values() {
        assert_eq!(hex_of(Algorithm::Crc32, b"123456789"), "cbf43926");
        assert_eq!(hex_of(Algorithm::Crc32c, b"123456789"), "e3069283");
        assert_eq!(
            hex_of(Algorithm::Crc64Nvme, b"123456789"),
            "ae8b14860a799888"
        );
        assert_eq!(Algorithm::parse("crc32c"), Some(Algorithm::Crc32c));
        assert_eq!(
            hex_of(Algorithm::Sha1, b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(Algorithm::parse("sha1"), Some(Algorithm::Sha1));
        assert_eq!(Algorithm::parse("MD5"), None);
        assert_eq!(Algorithm::Crc32.header(), "x-amz-checksum-crc32");
    }
}
