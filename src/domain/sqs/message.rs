//! Messages: body and attribute validation as SQS applies it, and the MD5 digests SDKs
//! verify (`MD5OfMessageBody`, `MD5OfMessageAttributes`, `MD5OfMessageSystemAttributes`).
//!
//! The attribute digest is AWS's: attributes sorted by name; for each, the name, the data
//! type and the value, each as a 4-byte big-endian length followed by its UTF-8 (or raw)
//! bytes, with one transport byte between type and value (1 = String or Number, 2 = Binary).

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::SqsError;

/// Most message attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;

/// One message attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    /// `String`, `Number` or `Binary`, optionally with a custom suffix (`String.json`).
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Raw bytes (the wire carries them in base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<Vec<u8>>,
}

/// Attributes by name (sorted, as the digest needs them).
pub type Attributes = BTreeMap<String, AttributeValue>;

impl AttributeValue {
    fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }

    /// Bytes this attribute counts towards the message size.
    fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + self.string_value.as_ref().map_or(0, String::len)
            + self.binary_value.as_ref().map_or(0, Vec::len)
    }
}

/// Hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// `MD5OfMessageAttributes` / `MD5OfMessageSystemAttributes`; `None` without attributes.
pub fn attributes_md5(attrs: &Attributes) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    fn field(h: &mut Md5, b: &[u8]) {
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        h.update(len.to_be_bytes());
        h.update(b);
    }
    let mut h = Md5::new();
    for (name, v) in attrs {
        field(&mut h, name.as_bytes());
        field(&mut h, v.data_type.as_bytes());
        if v.is_binary() {
            h.update([2u8]);
            field(&mut h, v.binary_value.as_deref().unwrap_or_default());
        } else {
            h.update([1u8]);
            field(
                &mut h,
                v.string_value.as_deref().unwrap_or_default().as_bytes(),
            );
        }
    }
    Some(hex::encode(h.finalize()))
}

/// Whether every character of `s` is one SQS accepts: #x9, #xA, #xD, #x20–#xD7FF,
/// #xE000–#xFFFD, #x10000–#x10FFFF.
pub fn valid_chars(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    })
}

/// Checks a body.
pub fn check_body(body: &str) -> Result<(), SqsError> {
    if body.is_empty() {
        return Err(SqsError::MissingParameter(
            "The request must contain the parameter MessageBody.".into(),
        ));
    }
    if !valid_chars(body) {
        return Err(SqsError::InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF".into(),
        ));
    }
    Ok(())
}

/// Checks message attributes; returns the bytes they add to the message size.
pub fn check_attributes(attrs: &Attributes) -> Result<usize, SqsError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(SqsError::invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        check_attribute_name(name)?;
        let base = v.data_type.split('.').next().unwrap_or("");
        if !matches!(base, "String" | "Number" | "Binary")
            || v.data_type.len() > 256
            || !valid_chars(&v.data_type)
        {
            return Err(SqsError::invalid(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        match base {
            "Binary" => {
                if v.binary_value.as_ref().map_or(true, Vec::is_empty) {
                    return Err(SqsError::invalid(format!(
                        "Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'."
                    )));
                }
            }
            _ => {
                let s = v.string_value.as_deref().unwrap_or("");
                if s.is_empty() {
                    return Err(SqsError::invalid(format!(
                        "Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                    )));
                }
                if !valid_chars(s) {
                    return Err(SqsError::InvalidMessageContents(format!(
                        "Message (user) attribute '{name}' contains invalid characters."
                    )));
                }
                if base == "Number" && !is_number(s) {
                    return Err(SqsError::invalid(format!(
                        "Could not cast message (user) attribute '{name}' to number."
                    )));
                }
            }
        }
        size += v.size(name);
    }
    Ok(size)
}

fn check_attribute_name(name: &str) -> Result<(), SqsError> {
    let lower = name.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if ok {
        Ok(())
    } else {
        Err(SqsError::invalid(format!(
            "Message (user) attribute name '{name}' is invalid. The attribute name can contain only alphanumeric characters, hyphens, underscores and periods, must not start or end with a period, must not have consecutive periods, and must not start with AWS. or Amazon."
        )))
    }
}

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exp.map_or(true, |e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (!int.is_empty() || !frac.is_empty())
        && digits(int)
        && digits(frac)
        && exp_ok
        && int.len() + frac.len() <= 38
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str, v: &str) -> AttributeValue {
        AttributeValue {
            data_type: t.into(),
            string_value: Some(v.into()),
            binary_value: None,
        }
    }

    #[test]
    fn digests_match_aws() {
        // The body digest is plain MD5.
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
        // Reference values computed with the algorithm of the AWS SDKs' checksum handlers.
        let mut a = Attributes::new();
        a.insert("kind".into(), s("String", "demo"));
        assert_eq!(
            attributes_md5(&a).unwrap(),
            reference(&[("kind", "String", 1, b"demo")])
        );
        a.insert(
            "bin".into(),
            AttributeValue {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(vec![0, 1, 2]),
            },
        );
        a.insert("n".into(), s("Number.int", "42"));
        assert_eq!(
            attributes_md5(&a).unwrap(),
            reference(&[
                ("bin", "Binary", 2, &[0, 1, 2]),
                ("kind", "String", 1, b"demo"),
                ("n", "Number.int", 1, b"42"),
            ])
        );
        assert_eq!(attributes_md5(&Attributes::new()), None);
    }

    fn reference(items: &[(&str, &str, u8, &[u8])]) -> String {
        let mut buf = Vec::new();
        for (name, ty, transport, value) in items {
            for part in [name.as_bytes(), ty.as_bytes()] {
                buf.extend_from_slice(&(part.len() as u32).to_be_bytes());
                buf.extend_from_slice(part);
            }
            buf.push(*transport);
            buf.extend_from_slice(&(value.len() as u32).to_be_bytes());
            buf.extend_from_slice(value);
        }
        md5_hex(&buf)
    }

    #[test]
    fn bodies_and_attributes_are_checked() {
        assert!(check_body("ok\tline\n").is_ok());
        assert!(matches!(
            check_body("bad\u{1}"),
            Err(SqsError::InvalidMessageContents(_))
        ));
        assert!(check_body("").is_err());
        let mut a = Attributes::new();
        a.insert("AWS.x".into(), s("String", "v"));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("n".into(), s("Number", "12.5e3"));
        assert_eq!(check_attributes(&a).unwrap(), 1 + 6 + 6);
        a.insert("m".into(), s("Number", "abc"));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("t".into(), s("Date", "x"));
        assert!(check_attributes(&a).is_err());
        assert!(is_number("-0.5") && is_number("7") && !is_number("1e") && !is_number("."));
    }
}
