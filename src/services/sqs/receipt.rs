//! Receipt handles: opaque to clients, they name the queue, the message row and the token of
//! the receive that handed the message out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::sqs::SqsError;

/// A decoded receipt handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub queue_id: i64,
    pub row: i64,
    pub token: String,
}

/// The handle for a message received with `token`.
pub fn encode(queue_id: i64, row: i64, token: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("lbx1:{queue_id}:{row}:{token}"))
}

/// Reads a handle given for queue `queue_id`.
pub fn decode(handle: &str, queue_id: i64) -> Result<Receipt, SqsError> {
    let invalid = || {
        SqsError::ReceiptHandleIsInvalid(format!(
            "The input receipt handle \"{handle}\" is not a valid receipt handle."
        ))
    };
    let raw = URL_SAFE_NO_PAD
        .decode(handle.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    if parts.next() != Some("lbx1") {
        return Err(invalid());
    }
    let q: i64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let row: i64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let token = parts.next().filter(|t| !t.is_empty()).ok_or_else(invalid)?;
    if q != queue_id || parts.next().is_some() {
        return Err(invalid());
    }
    Ok(Receipt {
        queue_id: q,
        row,
        token: token.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let h = encode(3, 99, "abc");
        assert_eq!(
            decode(&h, 3).unwrap(),
            Receipt {
                queue_id: 3,
                row: 99,
                token: "abc".into()
            }
        );
        assert!(decode(&h, 4).is_err(), "another queue's handle");
        assert!(decode("garbage!", 3).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("lbx1:3:x:t"), 3).is_err());
    }
}
