//! The AWS event-stream framing (`application/vnd.amazon.eventstream`), encoder side: what
//! `InvokeWithResponseStream` answers with and botocore's `EventStreamBuffer` parses.
//!
//! One message: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes, the
//! headers, the payload, then CRC32 of everything before it. A header is its name length (u8),
//! name, value type (7 = string), value length (u16 BE), value. Events carry
//! `:message-type: event`, `:event-type: <Name>` and `:content-type`.

use bytes::{BufMut, Bytes, BytesMut};

/// `Content-Type` of an event-stream response.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

const STRING: u8 = 7;
/// Prelude (12 bytes) plus message CRC (4 bytes).
const OVERHEAD: usize = 16;

/// One message with string headers `headers` and `payload`.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let headers_len: usize = headers
        .iter()
        .map(|(n, v)| 1 + n.len().min(255) + 3 + v.len().min(u16::MAX as usize))
        .sum();
    let total = OVERHEAD + headers_len + payload.len();
    let mut buf = BytesMut::with_capacity(total);
    buf.put_u32(u32::try_from(total).unwrap_or(u32::MAX));
    buf.put_u32(u32::try_from(headers_len).unwrap_or(u32::MAX));
    let prelude_crc = crc32fast::hash(&buf[..8]);
    buf.put_u32(prelude_crc);
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        buf.put_u8(name.len() as u8);
        buf.put_slice(name);
        buf.put_u8(STRING);
        buf.put_u16(value.len() as u16);
        buf.put_slice(value);
    }
    buf.put_slice(payload);
    let crc = crc32fast::hash(&buf);
    buf.put_u32(crc);
    buf.freeze()
}

/// An event named `event_type` whose payload has `content_type`.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", event_type),
            (":content-type", content_type),
            (":message-type", "event"),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_message_matches_the_reference_frame() {
        // botocore's and aws-c-event-stream's test vector for a message with nothing in it.
        assert_eq!(
            &message(&[], b"")[..],
            b"\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb\x7d\x98\xc8\xff"
        );
    }

    #[test]
    fn header_and_payload_frame_has_both_crcs() {
        // Computed independently (Python zlib.crc32) for header `:event-type: PayloadChunk`
        // and payload `hi`.
        let m = message(&[(":event-type", "PayloadChunk")], b"hi");
        assert_eq!(m.len(), 16 + 1 + 11 + 3 + 12 + 2);
        assert_eq!(&m[..8], b"\x00\x00\x00\x2d\x00\x00\x00\x1b");
        assert_eq!(&m[8..12], &crc32fast::hash(&m[..8]).to_be_bytes());
        assert_eq!(&m[8..12], PRELUDE_CRC);
        assert_eq!(&m[m.len() - 4..], MESSAGE_CRC);
        assert_eq!(&m[12..13], b"\x0b");
        assert_eq!(&m[13..24], b":event-type");
        assert_eq!(&m[24..27], b"\x07\x00\x0c");
        assert_eq!(&m[27..39], b"PayloadChunk");
        assert_eq!(&m[39..41], b"hi");
    }

    const PRELUDE_CRC: &[u8] = b"\xd6\x16\xfd\x30";
    const MESSAGE_CRC: &[u8] = b"\x58\xc7\x67\x27";
}
