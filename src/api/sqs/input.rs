//! One view of an SQS request's parameters, whichever protocol carried them: AWS JSON 1.0
//! members (`{"QueueUrl": …, "MessageAttributes": {…}}`) or query parameters as botocore
//! flattens them for the CLI 2.9 (`QueueUrl=…&MessageAttribute.1.Name=…`,
//! `SendMessageBatchRequestEntry.1.Id=…`, `Attribute.1.Name`/`.Value`, `Tag.1.Key`).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::api::error::ApiError;
use crate::api::protocol::json;
use crate::api::protocol::query::QueryParams;
use crate::api::protocol::Protocol;
use crate::api::request::ApiRequest;
use crate::domain::sqs::message::{AttributeValue, Attributes};
use crate::domain::sqs::SqsError;

/// An operation's input (or one batch entry's).
pub enum Input {
    Json(Map<String, Value>),
    Query(QueryParams),
}

impl Input {
    /// The request's parameters.
    pub fn of(req: &ApiRequest) -> Result<Input, ApiError> {
        Ok(match req.protocol {
            Protocol::Query => Input::Query(req.params.clone()),
            _ => Input::Json(json::input(&req.body)?),
        })
    }

    /// A string member.
    pub fn str(&self, name: &str) -> Result<Option<String>, SqsError> {
        match self {
            Input::Json(m) => match m.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(wrong_type(name, "a string")),
            },
            Input::Query(p) => Ok(p.get(name).map(str::to_string)),
        }
    }

    /// A required string member.
    pub fn required(&self, name: &str) -> Result<String, SqsError> {
        self.str(name)?.ok_or_else(|| {
            SqsError::MissingParameter(format!("The request must contain the parameter {name}."))
        })
    }

    /// An integer member.
    pub fn int(&self, name: &str) -> Result<Option<i64>, SqsError> {
        match self {
            Input::Json(m) => match m.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| wrong_type(name, "an integer")),
                Some(_) => Err(wrong_type(name, "an integer")),
            },
            Input::Query(p) => p
                .get(name)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        SqsError::invalid(format!("Value {v} for parameter {name} is invalid. Reason: it must be an integer."))
                    })
                })
                .transpose(),
        }
    }

    /// A list of strings: a JSON array, or the query's `query_name.N`.
    pub fn strings(&self, json_name: &str, query_name: &str) -> Result<Vec<String>, SqsError> {
        match self {
            Input::Json(m) => match m.get(json_name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(String::from)
                            .ok_or_else(|| wrong_type(json_name, "a list of strings"))
                    })
                    .collect(),
                Some(_) => Err(wrong_type(json_name, "a list of strings")),
            },
            Input::Query(p) => Ok(p.list(query_name)),
        }
    }

    /// A map of strings: a JSON object, or the query's `query_name.N.key`/`.value`.
    pub fn string_map(
        &self,
        json_name: &str,
        query_name: &str,
        key: &str,
        value: &str,
    ) -> Result<BTreeMap<String, String>, SqsError> {
        match self {
            Input::Json(m) => match m.get(json_name) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(o)) => o
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|s| (k.clone(), s.to_string()))
                            .ok_or_else(|| wrong_type(json_name, "a map of strings"))
                    })
                    .collect(),
                Some(_) => Err(wrong_type(json_name, "a map of strings")),
            },
            Input::Query(p) => Ok(p.map(query_name, key, value).into_iter().collect()),
        }
    }

    /// Message attributes (`MessageAttributes` / `MessageAttribute.N.Name` + `.Value.*`).
    pub fn attributes(&self, json_name: &str, query_name: &str) -> Result<Attributes, SqsError> {
        let mut out = Attributes::new();
        match self {
            Input::Json(m) => match m.get(json_name) {
                None | Some(Value::Null) => {}
                Some(Value::Object(o)) => {
                    for (k, v) in o {
                        let v = v
                            .as_object()
                            .ok_or_else(|| wrong_type(json_name, "a map of attribute values"))?;
                        let get = |f: &str| v.get(f).and_then(Value::as_str).map(String::from);
                        if v.contains_key("StringListValues") || v.contains_key("BinaryListValues")
                        {
                            return Err(list_values(k));
                        }
                        out.insert(
                            k.clone(),
                            AttributeValue {
                                data_type: get("DataType").ok_or_else(|| missing_type(k))?,
                                string_value: get("StringValue"),
                                binary_value: get("BinaryValue")
                                    .map(|b| decode(k, &b))
                                    .transpose()?,
                            },
                        );
                    }
                }
                Some(_) => return Err(wrong_type(json_name, "a map of attribute values")),
            },
            Input::Query(p) => {
                for item in p.items(query_name) {
                    let name = item.get("Name").unwrap_or("").to_string();
                    let v = item.sub("Value");
                    if !v.items("StringListValue").is_empty()
                        || !v.items("BinaryListValue").is_empty()
                    {
                        return Err(list_values(&name));
                    }
                    out.insert(
                        name.clone(),
                        AttributeValue {
                            data_type: v
                                .get("DataType")
                                .map(String::from)
                                .ok_or_else(|| missing_type(&name))?,
                            string_value: v.get("StringValue").map(String::from),
                            binary_value: v
                                .get("BinaryValue")
                                .map(|b| decode(&name, b))
                                .transpose()?,
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Batch entries: a JSON array of objects, or the query's `query_name.N.*`.
    pub fn entries(&self, json_name: &str, query_name: &str) -> Result<Vec<Input>, SqsError> {
        match self {
            Input::Json(m) => match m.get(json_name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|e| match e {
                        Value::Object(o) => Ok(Input::Json(o.clone())),
                        _ => Err(wrong_type(json_name, "a list of entries")),
                    })
                    .collect(),
                Some(_) => Err(wrong_type(json_name, "a list of entries")),
            },
            Input::Query(p) => Ok(p.items(query_name).into_iter().map(Input::Query).collect()),
        }
    }
}

fn wrong_type(name: &str, what: &str) -> SqsError {
    SqsError::invalid(format!("The parameter {name} must be {what}."))
}

fn missing_type(name: &str) -> SqsError {
    SqsError::invalid(format!(
        "The message attribute '{name}' must contain a DataType."
    ))
}

fn list_values(name: &str) -> SqsError {
    SqsError::invalid(format!(
        "Message attribute '{name}': StringListValues and BinaryListValues are reserved by SQS and not supported."
    ))
}

fn decode(name: &str, b64: &str) -> Result<Vec<u8>, SqsError> {
    B64.decode(b64.trim()).map_err(|_| {
        SqsError::invalid(format!(
            "The BinaryValue of message attribute '{name}' is not valid base64."
        ))
    })
}
