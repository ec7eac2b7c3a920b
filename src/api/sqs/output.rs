//! Results in both protocols: JSON objects for AWS JSON 1.0, and the query protocol's
//! flattened XML (`<Attribute><Name/><Value/></Attribute>`, repeated `<QueueUrl>`,
//! `<Message>`, `<SendMessageBatchResultEntry>`…) as the SQS model names its elements.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::api::protocol::xml::Xml;
use crate::api::protocol::{Protocol, Reply};
use crate::api::request::ApiRequest;
use crate::domain::sqs::message::Attributes;
use crate::domain::sqs::SqsError;

/// The JSON value for JSON callers, the XML `xml` writes for query callers.
pub fn reply(req: &ApiRequest, json: Value, xml: impl FnOnce(&mut Xml)) -> Reply {
    if req.protocol == Protocol::Query {
        let mut x = Xml::new();
        xml(&mut x);
        Reply::Xml(x.finish())
    } else {
        Reply::Value(json)
    }
}

/// A result without members.
pub fn empty(req: &ApiRequest) -> Reply {
    reply(req, json!({}), |_| {})
}

/// A flattened map: `<element><key_name>k</key_name><value_name>v</value_name></element>`.
pub fn xml_map(
    x: &mut Xml,
    element: &str,
    key_name: &str,
    value_name: &str,
    map: &BTreeMap<String, String>,
) {
    for (k, v) in map {
        x.open(element)
            .leaf(key_name, k)
            .leaf(value_name, v)
            .close(element);
    }
}

/// Message attributes as JSON.
pub fn json_attributes(attrs: &Attributes) -> Value {
    let mut m = Map::new();
    for (k, v) in attrs {
        let mut e = Map::new();
        if let Some(s) = &v.string_value {
            e.insert("StringValue".into(), json!(s));
        }
        if let Some(b) = &v.binary_value {
            e.insert("BinaryValue".into(), json!(B64.encode(b)));
        }
        e.insert("DataType".into(), json!(v.data_type));
        m.insert(k.clone(), Value::Object(e));
    }
    Value::Object(m)
}

/// Message attributes as flattened `<MessageAttribute>` elements.
pub fn xml_attributes(x: &mut Xml, attrs: &Attributes) {
    for (k, v) in attrs {
        x.open("MessageAttribute").leaf("Name", k).open("Value");
        if let Some(s) = &v.string_value {
            x.leaf("StringValue", s);
        }
        if let Some(b) = &v.binary_value {
            x.leaf("BinaryValue", &B64.encode(b));
        }
        x.leaf("DataType", &v.data_type)
            .close("Value")
            .close("MessageAttribute");
    }
}

/// A failed batch entry (`Failed[]` / `<BatchResultErrorEntry>`).
pub fn failed_entry(id: &str, e: &SqsError) -> Value {
    json!({
        "Id": id,
        "SenderFault": e.sender_fault(),
        "Code": e.entry_code(),
        "Message": e.to_string(),
    })
}

/// `<BatchResultErrorEntry>` elements of `failed` (JSON entries of [`failed_entry`]).
pub fn xml_failed(x: &mut Xml, failed: &[Value]) {
    for f in failed {
        x.open("BatchResultErrorEntry")
            .leaf("Id", f["Id"].as_str().unwrap_or(""))
            .leaf(
                "SenderFault",
                if f["SenderFault"].as_bool().unwrap_or(true) {
                    "true"
                } else {
                    "false"
                },
            )
            .leaf("Code", f["Code"].as_str().unwrap_or(""))
            .leaf("Message", f["Message"].as_str().unwrap_or(""))
            .close("BatchResultErrorEntry");
    }
}
