//! Smithy RPC v2 CBOR (`smithy-rpc-v2-cbor`, the first protocol of CloudWatch's current model):
//! `POST /service/<ServiceName>/operation/<Operation>` with `smithy-protocol: rpc-v2-cbor`
//! and a CBOR map body (RFC 8949); results are CBOR maps; errors are CBOR maps
//! `{"__type": code, "message": …}` with the same status as the JSON protocols, and, for a
//! query-compatible service, `x-amzn-query-error: <query code>;Sender|Receiver`. Every answer
//! carries `smithy-protocol: rpc-v2-cbor`.
//!
//! Values cross as `serde_json::Value`, the one in-memory shape the other codecs use:
//! decoding turns timestamps (tag 1, epoch seconds) into numbers and blobs (byte strings) into
//! base64 text, as AWS JSON carries them; encoding turns the members a [`Reply`] names as
//! timestamps (ISO 8601 text in the value) back into tag 1. The CBOR itself is read and
//! written by `ciborium` (its decoder bounds nesting depth, so a hostile body cannot exhaust
//! the stack).
//!
//! [`Reply`]: super::Reply

use actix_web::HttpResponse;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::api::error::{layer, ApiError};

/// The `smithy-protocol` header value of this protocol.
pub const PROTOCOL_HEADER: &str = "rpc-v2-cbor";
const CONTENT_TYPE: &str = "application/cbor";

/// The service and operation a request path names: `/service/<Service>/operation/<Op>`.
pub fn path_operation(raw_path: &str) -> Option<(&str, &str)> {
    let rest = raw_path.strip_prefix("/service/")?;
    let (service, rest) = rest.split_once('/')?;
    let op = rest.strip_prefix("operation/")?;
    (!service.is_empty() && !op.is_empty() && !op.contains('/')).then_some((service, op))
}

fn bad(message: impl Into<String>) -> ApiError {
    layer::SERIALIZATION.with(message.into())
}

/// The body as a structure (an empty body is `{}`).
pub fn input(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    let value: Cbor = ciborium::de::from_reader(body).map_err(|e| {
        bad(match e {
            ciborium::de::Error::Io(_) => "The CBOR request body ends early.".to_string(),
            ciborium::de::Error::Syntax(at) => {
                format!("The request body is not valid CBOR (at byte {at}).")
            }
            ciborium::de::Error::Semantic(_, m) => {
                format!("The request body is not valid CBOR: {m}.")
            }
            ciborium::de::Error::RecursionLimitExceeded => {
                "The CBOR request body is nested too deeply.".to_string()
            }
        })
    })?;
    match to_json(value)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(bad("The request body must be a CBOR map.")),
    }
}

fn to_json(v: Cbor) -> Result<Value, ApiError> {
    Ok(match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Text(s) => Value::String(s),
        Cbor::Bytes(b) => Value::String(B64.encode(b)),
        Cbor::Integer(i) => integer(i)?,
        Cbor::Float(f) => float(f)?,
        Cbor::Tag(1, inner) => match *inner {
            Cbor::Integer(i) => integer(i)?,
            Cbor::Float(f) => float(f)?,
            _ => {
                return Err(bad(
                    "A timestamp (CBOR tag 1) must hold a number of seconds.",
                ))
            }
        },
        Cbor::Tag(t, _) => {
            return Err(bad(format!(
                "CBOR tag {t} is not part of this protocol (only tag 1, timestamps)."
            )))
        }
        Cbor::Array(items) => Value::Array(
            items
                .into_iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Cbor::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let Cbor::Text(k) = k else {
                    return Err(bad("The keys of a CBOR map must be text."));
                };
                m.insert(k, to_json(v)?);
            }
            Value::Object(m)
        }
        _ => {
            return Err(bad(
                "The request body holds a CBOR value this protocol does not use.",
            ))
        }
    })
}

fn integer(i: Integer) -> Result<Value, ApiError> {
    let wide = i128::from(i);
    if let Ok(n) = i64::try_from(wide) {
        Ok(Value::from(n))
    } else if let Ok(n) = u64::try_from(wide) {
        Ok(Value::from(n))
    } else {
        Err(bad("A CBOR integer is out of range."))
    }
}

fn float(f: f64) -> Result<Value, ApiError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| bad("NaN and infinite numbers are not accepted here."))
}

/// The epoch seconds of an ISO 8601 timestamp: an integer when whole, else a float.
pub fn epoch_seconds(iso: &str) -> Option<EpochSeconds> {
    let t = OffsetDateTime::parse(iso, &Rfc3339).ok()?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    let ms = i64::try_from(ms).ok()?;
    Some(if ms % 1000 == 0 {
        EpochSeconds::Whole(ms / 1000)
    } else {
        EpochSeconds::Fraction(ms as f64 / 1000.0)
    })
}

/// A timestamp as a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EpochSeconds {
    Whole(i64),
    Fraction(f64),
}

fn encode(v: &Value, timestamps: &[&str], timestamp: bool) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Cbor::Integer(i.into())
            } else if let Some(u) = n.as_u64() {
                Cbor::Integer(u.into())
            } else {
                Cbor::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) if timestamp => match epoch_seconds(s) {
            Some(EpochSeconds::Whole(n)) => Cbor::Tag(1, Box::new(Cbor::Integer(n.into()))),
            Some(EpochSeconds::Fraction(f)) => Cbor::Tag(1, Box::new(Cbor::Float(f))),
            None => Cbor::Text(s.clone()),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => Cbor::Array(
            items
                .iter()
                .map(|i| encode(i, timestamps, timestamp))
                .collect(),
        ),
        Value::Object(m) => Cbor::Map(
            m.iter()
                .map(|(k, v)| {
                    let ts = timestamps.contains(&k.as_str());
                    (Cbor::Text(k.clone()), encode(v, timestamps, ts))
                })
                .collect(),
        ),
    }
}

/// `v` as CBOR bytes; members named in `timestamps` become tag 1 epoch seconds.
pub fn to_bytes(v: &Value, timestamps: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = ciborium::ser::into_writer(&encode(v, timestamps, false), &mut out) {
        // Writing into memory cannot fail but for a bug; answer an empty map.
        tracing::error!(error = ?e, "cannot encode a CBOR answer");
        out = vec![0xa0];
    }
    out
}

/// A result.
pub fn result(body: &Value, timestamps: &[&str], request_id: &str) -> HttpResponse {
    let body = if body.is_null() {
        vec![0xa0]
    } else {
        to_bytes(body, timestamps)
    };
    HttpResponse::Ok()
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("smithy-protocol", PROTOCOL_HEADER))
        .content_type(CONTENT_TYPE)
        .body(body)
}

/// An error.
pub fn error(e: &ApiError, request_id: &str) -> HttpResponse {
    let mut body = Map::new();
    body.insert("__type".into(), Value::String(e.code.to_string()));
    body.insert("message".into(), Value::String(e.message.clone()));
    for (k, v) in &e.fields {
        body.insert((*k).to_string(), v.clone());
    }
    let mut b = HttpResponse::build(e.status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.clone()));
    }
    if let Some(q) = e.query_code {
        let fault = if e.sender { "Sender" } else { "Receiver" };
        b.insert_header(("x-amzn-query-error", format!("{q};{fault}")));
    }
    b.insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("smithy-protocol", PROTOCOL_HEADER))
        .content_type(CONTENT_TYPE)
        .body(to_bytes(&Value::Object(body), &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cbor(v: &Cbor) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(v, &mut out).unwrap();
        out
    }

    #[test]
    fn paths_name_service_and_operation() {
        assert_eq!(
            path_operation("/service/GraniteServiceVersion20100801/operation/ListMetrics"),
            Some(("GraniteServiceVersion20100801", "ListMetrics"))
        );
        assert_eq!(path_operation("/service//operation/X"), None);
        assert_eq!(path_operation("/service/S/operation/"), None);
        assert_eq!(path_operation("/service/S/operation/a/b"), None);
        assert_eq!(path_operation("/"), None);
    }

    #[test]
    fn decodes_maps_timestamps_blobs_and_indefinite_lengths() {
        let body = cbor(&Cbor::Map(vec![
            (
                Cbor::Text("Namespace".into()),
                Cbor::Text("AWS/Lambda".into()),
            ),
            (
                Cbor::Text("StartTime".into()),
                Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.5))),
            ),
            (Cbor::Text("Period".into()), Cbor::Integer(60.into())),
            (Cbor::Text("Blob".into()), Cbor::Bytes(b"hi".to_vec())),
            (
                Cbor::Text("List".into()),
                Cbor::Array(vec![Cbor::Bool(true), Cbor::Null]),
            ),
        ]));
        let m = input(&body).unwrap();
        assert_eq!(m["Namespace"], "AWS/Lambda");
        assert_eq!(m["StartTime"], json!(1_700_000_000.5));
        assert_eq!(m["Period"], 60);
        assert_eq!(m["Blob"], "aGk=");
        assert_eq!(m["List"], json!([true, null]));
        // An indefinite-length map (0xbf … 0xff) with one text key, as encoders may send.
        let m = input(&[0xbf, 0x61, b'a', 0x01, 0xff]).unwrap();
        assert_eq!(m["a"], 1);
        assert!(input(b"").unwrap().is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_cbor_map() {
        for body in [
            &[0x82, 0x01, 0x02][..], // an array
            &[0xa1, 0x01, 0x02],     // an integer key
            &[0xa1, 0x61],           // truncated
            &[0xc2, 0x41, 0x01],     // tag 2 (bignum)
            &[0xff],                 // a lone break
        ] {
            assert_eq!(
                input(body).unwrap_err().code,
                "SerializationException",
                "{body:?}"
            );
        }
        let deep = [vec![0x81u8; 10_000], vec![0x01]].concat();
        assert!(input(&deep).is_err());
    }

    #[test]
    fn encodes_named_members_as_tag_1() {
        let v = json!({
            "Label": "Duration",
            "Datapoints": [{"Timestamp": "2026-12-03T13:00:00Z", "Sum": 2.5, "SampleCount": 3.0}],
            "Timestamps": ["2026-12-03T13:00:00.250Z"],
        });
        let bytes = to_bytes(&v, &["Timestamp", "Timestamps"]);
        let back: Cbor = ciborium::de::from_reader(&bytes[..]).unwrap();
        let Cbor::Map(top) = back else { panic!() };
        let get = |m: &[(Cbor, Cbor)], k: &str| {
            m.iter()
                .find(|(key, _)| key.as_text() == Some(k))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let Cbor::Array(points) = get(&top, "Datapoints") else {
            panic!()
        };
        let Cbor::Map(p) = &points[0] else { panic!() };
        assert_eq!(
            get(p, "Timestamp"),
            Cbor::Tag(1, Box::new(Cbor::Integer(1_796_302_800.into())))
        );
        assert_eq!(get(p, "Sum"), Cbor::Float(2.5));
        assert_eq!(get(p, "SampleCount"), Cbor::Float(3.0));
        assert_eq!(
            get(&top, "Timestamps"),
            Cbor::Array(vec![Cbor::Tag(1, Box::new(Cbor::Float(1_796_302_800.25)))])
        );
        assert_eq!(get(&top, "Label"), Cbor::Text("Duration".into()));
    }
}
