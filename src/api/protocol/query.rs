//! The query protocol (STS, IAM, CloudWatch, SQS for Debian's CLI 2.9, SNS): parameters are
//! form-encoded (`Action=Op&Version=…&Name.member.1=…`) in a POST body or, for GET, in the
//! query string; results are `<OpResponse xmlns=…><OpResult>…</OpResult>
//! <ResponseMetadata><RequestId/></ResponseMetadata></OpResponse>`; errors are
//! `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
//!
//! [`QueryParams`] reads the flattened names: lists as `Name.member.N` (or flattened
//! `Name.N`), structures as `Name.Field`, maps as `Name.entry.N.key`/`.value` (or a
//! service's own key and value names).

use actix_web::HttpResponse;

use super::xml::Xml;
use super::Answer;
use crate::api::error::{layer, ApiError};

/// Decoded query-protocol parameters, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses a form-encoded string (`+` is a space, as HTML forms and botocore send it).
    pub fn parse(form: &[u8]) -> Result<QueryParams, ApiError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(form)
            .map(|pairs| QueryParams { pairs })
            .map_err(|e| {
                layer::INVALID_PARAMETER_VALUE.with(format!(
                    "The request parameters are not valid form encoding: {e}"
                ))
            })
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> QueryParams {
        QueryParams { pairs }
    }

    /// A structure that came as AWS JSON or RPC v2 CBOR, flattened into the names the query
    /// protocol gives the same input (a query-compatible service's one view of its input):
    /// members as `Name`, nested structures as `Name.Field`, lists as `Name.member.N`
    /// (from 1), numbers (timestamps: epoch seconds) and booleans as their text; nulls are
    /// left out. Maps cannot be told from structures without the model, so this view is for
    /// inputs without maps (CloudWatch's GetMetricStatistics, GetMetricData, ListMetrics).
    pub fn from_structure(m: &serde_json::Map<String, serde_json::Value>) -> QueryParams {
        fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
            use serde_json::Value;
            match v {
                Value::Null => {}
                Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
                Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
                Value::String(s) => out.push((prefix.to_string(), s.clone())),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(&format!("{prefix}.member.{}", i + 1), item, out);
                    }
                }
                Value::Object(m) => {
                    for (k, v) in m {
                        walk(&format!("{prefix}.{k}"), v, out);
                    }
                }
            }
        }
        let mut pairs = Vec::new();
        for (k, v) in m {
            walk(k, v, &mut pairs);
        }
        QueryParams { pairs }
    }

    /// Every (name, value) pair.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or the query protocol's `MissingParameter`.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            layer::MISSING_PARAMETER.with(format!("The request must contain the parameter {name}."))
        })
    }

    /// The parameters under `prefix.` with the prefix removed (a nested structure).
    pub fn sub(&self, prefix: &str) -> QueryParams {
        let dotted = format!("{prefix}.");
        QueryParams {
            pairs: self
                .pairs
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&dotted).map(|r| (r.to_string(), v.clone())))
                .collect(),
        }
    }

    /// The items of list `name`, each as its own parameters, ordered by index: the items of
    /// `name.member.N…` or, for flattened lists, `name.N…`. A scalar item is under the key "".
    pub fn items(&self, name: &str) -> Vec<QueryParams> {
        let member = self.sub(name);
        let wrapped = member.sub("member");
        let base = if wrapped.pairs.is_empty() {
            member
        } else {
            wrapped
        };
        let mut items: Vec<(u64, QueryParams)> = Vec::new();
        for (k, v) in base.pairs {
            let (index, rest) = match k.split_once('.') {
                Some((i, rest)) => (i.to_string(), rest.to_string()),
                None => (k.clone(), String::new()),
            };
            let Ok(index) = index.parse::<u64>() else {
                continue;
            };
            match items.iter_mut().find(|(i, _)| *i == index) {
                Some((_, p)) => p.pairs.push((rest, v)),
                None => items.push((index, QueryParams::from_pairs(vec![(rest, v)]))),
            }
        }
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, p)| p).collect()
    }

    /// The scalar items of list `name` (`name.member.N` or `name.N`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.items(name)
            .into_iter()
            .filter_map(|p| p.get("").map(str::to_string))
            .collect()
    }

    /// Map `name` with entries `key_name`/`value_name` (`entry.N.key`/`entry.N.value` by
    /// default, or e.g. `Attribute.N.Name`/`Attribute.N.Value` for SQS), in index order.
    pub fn map(&self, name: &str, key_name: &str, value_name: &str) -> Vec<(String, String)> {
        let under = self.sub(name);
        let entries = if under.pairs.iter().any(|(k, _)| k.starts_with("entry.")) {
            under.items("entry")
        } else {
            self.items(name)
        };
        entries
            .into_iter()
            .filter_map(|p| Some((p.get(key_name)?.to_string(), p.get(value_name)?.to_string())))
            .collect()
    }
}

/// A result document.
pub fn result(to: &Answer<'_>, inner: impl FnOnce(&mut Xml)) -> HttpResponse {
    let op = to.operation;
    let mut x = Xml::new();
    x.open_ns(&format!("{op}Response"), to.xml_namespace);
    x.open(&format!("{op}Result"));
    inner(&mut x);
    x.close(&format!("{op}Result"));
    x.open("ResponseMetadata")
        .leaf("RequestId", to.request_id)
        .close("ResponseMetadata")
        .close(&format!("{op}Response"));
    HttpResponse::Ok()
        .insert_header(("x-amzn-RequestId", to.request_id.to_string()))
        .content_type("text/xml")
        .body(x.finish())
}

/// An error document.
pub fn error(e: &ApiError, to: &Answer<'_>) -> HttpResponse {
    let mut x = Xml::new();
    x.open_ns("ErrorResponse", to.xml_namespace)
        .open("Error")
        .leaf("Type", if e.sender { "Sender" } else { "Receiver" })
        .leaf("Code", e.query_code.unwrap_or(&e.code))
        .leaf("Message", &e.message);
    for (k, v) in &e.fields {
        x.open(k).value(v).close(k);
    }
    x.close("Error")
        .leaf("RequestId", to.request_id)
        .close("ErrorResponse");
    let mut b = HttpResponse::build(e.status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.clone()));
    }
    b.insert_header(("x-amzn-RequestId", to.request_id.to_string()))
        .content_type("text/xml")
        .body(x.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_structures_and_maps() {
        let p = QueryParams::parse(
            b"Action=SendMessage&MessageBody=a+b%26c&AttributeName.2=B&AttributeName.1=A\
&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2&Tags.member.2.Value=v2\
&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30\
&Labels.entry.1.key=x&Labels.entry.1.value=y&Policy.Version=2012",
        )
        .unwrap();
        assert_eq!(p.get("Action"), Some("SendMessage"));
        assert_eq!(p.get("MessageBody"), Some("a b&c"));
        assert_eq!(p.list("AttributeName"), vec!["A", "B"]);
        let tags = p.items("Tags");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1].get("Key"), Some("k2"));
        assert_eq!(
            p.map("Attribute", "Name", "Value"),
            vec![("VisibilityTimeout".to_string(), "30".to_string())]
        );
        assert_eq!(
            p.map("Labels", "key", "value"),
            vec![("x".to_string(), "y".to_string())]
        );
        assert_eq!(p.sub("Policy").get("Version"), Some("2012"));
        assert_eq!(p.require("Nope").unwrap_err().code, "MissingParameter");
    }

    #[test]
    fn structures_flatten_as_the_query_protocol_names_them() {
        let v = serde_json::json!({
            "Namespace": "AWS/Lambda",
            "Period": 60,
            "StartTime": 1_700_000_000.5,
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            "Statistics": ["Sum", "Maximum"],
            "MetricDataQueries": [{"Id": "a", "ReturnData": false,
                                   "MetricStat": {"Metric": {"MetricName": "Errors"}}}],
            "NextToken": null,
        });
        let serde_json::Value::Object(m) = v else {
            panic!()
        };
        let p = QueryParams::from_structure(&m);
        assert_eq!(p.get("Namespace"), Some("AWS/Lambda"));
        assert_eq!(p.get("Period"), Some("60"));
        assert_eq!(p.get("StartTime"), Some("1700000000.5"));
        assert_eq!(p.items("Dimensions")[0].get("Value"), Some("f"));
        assert_eq!(p.list("Statistics"), vec!["Sum", "Maximum"]);
        let q = &p.items("MetricDataQueries")[0];
        assert_eq!(q.get("ReturnData"), Some("false"));
        assert_eq!(
            q.sub("MetricStat").sub("Metric").get("MetricName"),
            Some("Errors")
        );
        assert_eq!(p.get("NextToken"), None);
    }

    #[test]
    fn result_and_error_documents() {
        let to = Answer {
            request_id: "rid",
            operation: "GetCallerIdentity",
            xml_namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
        };
        let r = result(&to, |x| {
            x.leaf("Account", "000000000000");
        });
        assert_eq!(r.status().as_u16(), 200);
        let e = error(&layer::INVALID_ACTION.with("no <such> action"), &to);
        assert_eq!(e.status().as_u16(), 400);
    }
}
