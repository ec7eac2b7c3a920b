//! aws-chunked request bodies (S3 uploads with `Content-Encoding: aws-chunked`):
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (every chunk signed, each signature chained to the
//! previous one, the first to the request's), `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`
//! (the same, then trailing headers with their own signature) and
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (plain chunks, then trailers, e.g. a CRC32 that the
//! handler verifies). Decoded bytes are handed on as they arrive; a chunk's signature is
//! checked when its last byte is in, so a handler must not commit before the end.

use bytes::{Buf, Bytes, BytesMut};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The SHA-256 of nothing, part of every chunk's string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const MAX_LINE: usize = 4096;

/// What verifying chunk signatures needs from the request's signature.
#[derive(Clone)]
pub struct ChunkSigner {
    /// The SigV4 signing key of the request's scope.
    pub key: Vec<u8>,
    pub amz_date: String,
    /// `date/region/service/aws4_request`
    pub scope: String,
    /// The request's own signature: the first chunk's previous signature.
    pub seed: String,
}

impl ChunkSigner {
    fn sign(&self, kind: &str, prev: &str, tail: &str) -> String {
        let sts = format!("{kind}\n{}\n{}\n{prev}\n{tail}", self.amz_date, self.scope);
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(sts.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The signature of a chunk whose data hashes to `data_sha256`.
    pub fn chunk(&self, prev: &str, data_sha256: &str) -> String {
        self.sign(
            "AWS4-HMAC-SHA256-PAYLOAD",
            prev,
            &format!("{EMPTY_SHA256}\n{data_sha256}"),
        )
    }

    /// The signature of the trailing headers (`name:value\n` each).
    pub fn trailer(&self, prev: &str, trailers: &str) -> String {
        self.sign(
            "AWS4-HMAC-SHA256-TRAILER",
            prev,
            &hex::encode(Sha256::digest(trailers.as_bytes())),
        )
    }
}

/// Why a chunked body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    Signature,
    Malformed(String),
}

enum State {
    Header,
    Data { left: usize },
    DataEnd,
    Trailers,
    Done,
}

/// Decodes one aws-chunked body.
pub struct Decoder {
    buf: BytesMut,
    state: State,
    /// `None`: unsigned chunks (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    signer: Option<ChunkSigner>,
    prev: String,
    chunk_sig: String,
    hasher: Sha256,
    /// Trailers are expected after the last chunk.
    trailer: bool,
    trailer_lines: Vec<(String, String)>,
    trailer_sig: Option<String>,
    /// The zero-length chunk was read.
    last: bool,
    /// Trailing headers, once the body is done.
    pub trailers: Vec<(String, String)>,
}

impl Decoder {
    /// For the `x-amz-content-sha256` value `mode`; `None` if it is not an aws-chunked mode
    /// lambdabox decodes.
    pub fn new(mode: &str, signer: ChunkSigner) -> Option<Decoder> {
        let (signed, trailer) = match mode {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => (true, false),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => (true, true),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => (false, true),
            _ => return None,
        };
        let prev = signer.seed.clone();
        Some(Decoder {
            buf: BytesMut::new(),
            state: State::Header,
            signer: signed.then_some(signer),
            prev,
            chunk_sig: String::new(),
            hasher: Sha256::new(),
            trailer,
            trailer_lines: Vec::new(),
            trailer_sig: None,
            last: false,
            trailers: Vec::new(),
        })
    }

    /// Raw bytes from the connection.
    pub fn push(&mut self, raw: &[u8]) {
        self.buf.extend_from_slice(raw);
    }

    fn line(&mut self) -> Result<Option<String>, ChunkError> {
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                let line = self.buf.split_to(i);
                self.buf.advance(2);
                String::from_utf8(line.to_vec())
                    .map(Some)
                    .map_err(|_| ChunkError::Malformed("a chunk header is not text".into()))
            }
            None if self.buf.len() > MAX_LINE => Err(ChunkError::Malformed(
                "a chunk header line is too long".into(),
            )),
            None => Ok(None),
        }
    }

    fn verify_chunk(&mut self) -> Result<(), ChunkError> {
        let digest = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if let Some(s) = &self.signer {
            let want = s.chunk(&self.prev, &digest);
            if !bool::from(
                want.as_bytes()
                    .ct_eq(self.chunk_sig.to_ascii_lowercase().as_bytes()),
            ) {
                return Err(ChunkError::Signature);
            }
            self.prev = want;
        }
        Ok(())
    }

    /// The next decoded bytes available; `Ok(None)` when more raw input is needed (or the
    /// body is done: see [`Decoder::done`]).
    pub fn next_bytes(&mut self) -> Result<Option<Bytes>, ChunkError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = self.line()? else {
                        return Ok(None);
                    };
                    let (size, ext) = line.split_once(';').unwrap_or((line.as_str(), ""));
                    let size = usize::from_str_radix(size.trim(), 16)
                        .map_err(|_| ChunkError::Malformed(format!("bad chunk size '{size}'")))?;
                    self.chunk_sig = ext
                        .split(';')
                        .find_map(|e| e.trim().strip_prefix("chunk-signature="))
                        .unwrap_or("")
                        .to_string();
                    if self.signer.is_some() && self.chunk_sig.is_empty() {
                        return Err(ChunkError::Signature);
                    }
                    if size == 0 {
                        self.verify_chunk()?;
                        self.last = true;
                        self.state = if self.trailer {
                            State::Trailers
                        } else {
                            State::DataEnd
                        };
                    } else {
                        self.state = State::Data { left: size };
                    }
                }
                State::Data { left } => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let n = left.min(self.buf.len());
                    let out = self.buf.split_to(n).freeze();
                    self.hasher.update(&out);
                    self.state = if n == left {
                        State::DataEnd
                    } else {
                        State::Data { left: left - n }
                    };
                    if n == left {
                        self.verify_chunk()?;
                    }
                    return Ok(Some(out));
                }
                State::DataEnd => {
                    if self.buf.len() < 2 {
                        return Ok(None);
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(ChunkError::Malformed(
                            "a chunk does not end with CRLF".into(),
                        ));
                    }
                    self.buf.advance(2);
                    self.state = if self.last {
                        State::Done
                    } else {
                        State::Header
                    };
                }
                State::Trailers => {
                    let Some(line) = self.line()? else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        self.finish_trailers()?;
                        self.state = State::Done;
                        continue;
                    }
                    let (k, v) = line
                        .split_once(':')
                        .ok_or_else(|| ChunkError::Malformed(format!("bad trailer '{line}'")))?;
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "x-amz-trailer-signature" {
                        self.trailer_sig = Some(v);
                    } else {
                        self.trailer_lines.push((k, v));
                    }
                }
                State::Done => {
                    if !self.buf.is_empty() {
                        return Err(ChunkError::Malformed("bytes after the last chunk".into()));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn finish_trailers(&mut self) -> Result<(), ChunkError> {
        if let Some(s) = &self.signer {
            let canonical: String = self
                .trailer_lines
                .iter()
                .map(|(k, v)| format!("{k}:{v}\n"))
                .collect();
            let want = s.trailer(&self.prev, &canonical);
            let given = self
                .trailer_sig
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !bool::from(want.as_bytes().ct_eq(given.as_bytes())) {
                return Err(ChunkError::Signature);
            }
        }
        self.trailers = std::mem::take(&mut self.trailer_lines);
        Ok(())
    }

    /// At the end of the raw input: the body must be complete.
    pub fn done(&mut self) -> Result<(), ChunkError> {
        match self.state {
            State::Done => Ok(()),
            // Some clients end the trailers without the final blank line.
            State::Trailers if self.buf.is_empty() => {
                self.finish_trailers()?;
                self.state = State::Done;
                Ok(())
            }
            _ => Err(ChunkError::Malformed(
                "the body ended inside a chunk".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> ChunkSigner {
        // The example of AWS's "Signature Calculations for the Authorization Header:
        // Transferring Payload in Multiple Chunks" (secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let h = |k: &[u8], d: &[u8]| {
            let mut m = Hmac::<Sha256>::new_from_slice(k).unwrap();
            m.update(d);
            m.finalize().into_bytes().to_vec()
        };
        let k = h(format!("AWS4{secret}").as_bytes(), b"20130524");
        let k = h(&k, b"us-east-1");
        let k = h(&k, b"s3");
        let k = h(&k, b"aws4_request");
        ChunkSigner {
            key: k,
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        }
    }

    #[test]
    fn aws_documented_chunk_signatures() {
        let s = signer();
        let first = s.chunk(&s.seed, &hex::encode(Sha256::digest(vec![b'a'; 65536])));
        assert_eq!(
            first,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        let second = s.chunk(&first, &hex::encode(Sha256::digest(vec![b'a'; 1024])));
        assert_eq!(
            second,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        let last = s.chunk(&second, EMPTY_SHA256);
        assert_eq!(
            last,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
    }

    fn encode(s: &ChunkSigner, chunks: &[&[u8]], trailer: Option<&str>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = s.seed.clone();
        for c in chunks.iter().chain(std::iter::once(&&b""[..])) {
            let sig = s.chunk(&prev, &hex::encode(Sha256::digest(c)));
            out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            if !c.is_empty() || trailer.is_none() {
                out.extend_from_slice(b"\r\n");
            }
            prev = sig;
        }
        if let Some(t) = trailer {
            let sig = s.trailer(&prev, &format!("{t}\n"));
            out.extend_from_slice(
                format!("{t}\r\nx-amz-trailer-signature:{sig}\r\n\r\n").as_bytes(),
            );
        }
        out
    }

    type Decoded = (Vec<u8>, Vec<(String, String)>);

    fn decode(mode: &str, raw: &[u8], step: usize) -> Result<Decoded, ChunkError> {
        let mut d = Decoder::new(mode, signer()).unwrap();
        let mut out = Vec::new();
        for piece in raw.chunks(step) {
            d.push(piece);
            while let Some(b) = d.next_bytes()? {
                out.extend_from_slice(&b);
            }
        }
        d.done()?;
        Ok((out, d.trailers.clone()))
    }

    #[test]
    fn signed_chunks_decode_in_any_split() {
        let s = signer();
        let raw = encode(&s, &[b"hello ", b"world"], None);
        for step in [1, 3, 7, 1000] {
            let (body, _) = decode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", &raw, step).unwrap();
            assert_eq!(body, b"hello world");
        }
        let raw = encode(&s, &[b"abc"], Some("x-amz-checksum-crc32:NSRBwg=="));
        let (body, t) = decode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", &raw, 5).unwrap();
        assert_eq!(body, b"abc");
        assert_eq!(
            t,
            vec![("x-amz-checksum-crc32".to_string(), "NSRBwg==".to_string())]
        );
    }

    #[test]
    fn tampering_is_refused() {
        let s = signer();
        let mut raw = encode(&s, &[b"hello ", b"world"], None);
        let i = raw.iter().position(|b| *b == b'w').unwrap();
        raw[i] = b'W';
        assert_eq!(
            decode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", &raw, 4).unwrap_err(),
            ChunkError::Signature
        );
        let raw = encode(&s, &[b"hello"], None);
        assert!(decode(
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            &raw[..raw.len() - 10],
            4
        )
        .is_err());
    }

    #[test]
    fn unsigned_trailer_bodies() {
        let raw = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let (body, t) = decode("STREAMING-UNSIGNED-PAYLOAD-TRAILER", raw, 2).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(t[0].1, "NhCmhg==");
    }
}
