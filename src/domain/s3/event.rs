//! The event records S3 sends to notification targets: the `Records` document of
//! `ObjectCreated:*` and `ObjectRemoved:*` events (eventVersion 2.1, the key URL-encoded,
//! size and eTag only for created objects, the sequencer), and the `s3:TestEvent` sent to a
//! queue when a configuration naming it is saved.

use serde_json::{json, Value};

use super::names::url_encode;

/// What one event is about.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`…
    pub name: String,
    pub bucket: String,
    pub key: String,
    /// Created objects: size and ETag (without quotes).
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub sequencer: String,
    pub time_ms: i64,
    /// The caller (`AWS:<access key id>`), the caller's address and the request id.
    pub principal_id: String,
    pub source_ip: String,
    pub request_id: String,
}

/// `2025-01-15T10:20:30.123Z`
pub fn event_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A stand-in for S3's `x-amz-id-2` host id, derived from the request id.
pub fn host_id(request_id: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(request_id.as_bytes()))
}

/// The `Records` document for one event matched by the configuration `configuration_id`.
pub fn record(e: &ObjectEvent, region: &str, owner: &str, configuration_id: &str) -> Value {
    let mut object = json!({
        "key": url_encode(&e.key),
        "sequencer": e.sequencer,
    });
    if let Some(size) = e.size {
        object["size"] = json!(size);
    }
    if let Some(etag) = &e.etag {
        object["eTag"] = json!(etag);
    }
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time(e.time_ms),
        "eventName": e.name,
        "userIdentity": {"principalId": e.principal_id},
        "requestParameters": {"sourceIPAddress": e.source_ip},
        "responseElements": {
            "x-amz-request-id": e.request_id,
            "x-amz-id-2": host_id(&e.request_id),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": e.bucket,
                "ownerIdentity": {"principalId": owner},
                "arn": format!("arn:aws:s3:::{}", e.bucket),
            },
            "object": object,
        },
    }]})
}

/// The `s3:TestEvent` S3 sends to a queue when a configuration naming it is saved.
pub fn test_event(bucket: &str, request_id: &str, time_ms: i64) -> Value {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": event_time(time_ms),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": host_id(request_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_the_documented_shape() {
        let e = ObjectEvent {
            name: "ObjectCreated:Put".into(),
            bucket: "photos".into(),
            key: "2025/cat picture.jpg".into(),
            size: Some(1024),
            etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            sequencer: "0055AED6DCD90281E5".into(),
            time_ms: 1_736_936_430_123,
            principal_id: "AWS:AIDAEXAMPLE".into(),
            source_ip: "203.0.113.7".into(),
            request_id: "C3D13FE58DE4C810".into(),
        };
        let r = record(&e, "us-east-1", "A3NL1KOZZKExample", "on-upload");
        let r0 = &r["Records"][0];
        assert_eq!(r0["eventTime"], "2025-01-15T10:20:30.123Z");
        assert_eq!(r0["s3"]["object"]["key"], "2025/cat+picture.jpg");
        assert_eq!(r0["s3"]["bucket"]["arn"], "arn:aws:s3:::photos");
        assert_eq!(r0["s3"]["object"]["size"], 1024);
        let mut removed = e.clone();
        removed.name = "ObjectRemoved:Delete".into();
        removed.size = None;
        removed.etag = None;
        let r = record(&removed, "us-east-1", "o", "c");
        assert!(r["Records"][0]["s3"]["object"].get("size").is_none());
        assert!(r["Records"][0]["s3"]["object"].get("eTag").is_none());
    }
}
