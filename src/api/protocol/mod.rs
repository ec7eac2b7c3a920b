//! The AWS wire protocols: one codec per protocol turns a service's result ([`Reply`]) or
//! error ([`ApiError`]) into the response that protocol's clients parse, and tells the
//! front door which protocol a request speaks.
//!
//! | protocol | request | result | error |
//! |---|---|---|---|
//! | rest-json (Lambda, Scheduler, API Gateway v2) | method + path, JSON body | JSON body | `x-amzn-ErrorType` + `{"Type","message","Message"}` |
//! | AWS JSON 1.0 / 1.1 (SQS, EventBridge, Logs, CloudWatch for boto3) | `POST /`, `X-Amz-Target: Prefix.Op` | JSON body | `{"__type","message"}` |
//! | query (STS, IAM, SQS for CLI 2.9, CloudWatch) | form body `Action=Op&…` | `<OpResponse><OpResult>` XML | `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` |
//! | rest-xml (S3) | method + path, XML or raw body | XML or raw | `<Error><Code/><Message/><RequestId/></Error>` |
//! | smithy-rpc-v2-cbor (CloudWatch, for SDKs that prefer it) | `POST /service/<Svc>/operation/<Op>`, `smithy-protocol: rpc-v2-cbor`, CBOR body | CBOR map | CBOR `{"__type","message"}` |

pub mod cbor;
pub mod eventstream;
pub mod json;
pub mod query;
pub mod rest_json;
pub mod rest_xml;
pub mod xml;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::error::{layer, ApiError};
use super::request::Head;
use super::sigv4::AuthError;

/// One AWS wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    RestJson,
    AwsJson10,
    AwsJson11,
    Query,
    RestXml,
    RpcV2Cbor,
}

/// What an operation handler answers; the request's protocol renders it.
pub enum Reply {
    /// A result structure. JSON protocols send it as the body; the query protocol wraps it
    /// in `<OpResponse><OpResult>` with objects as elements and arrays as `<member>` lists
    /// (`null`: an operation without a result).
    Value(serde_json::Value),
    /// Query protocol: the inner XML of `<OpResult>`, for shapes the generic conversion
    /// cannot express (flattened lists, maps as `<entry>`).
    Xml(String),
    /// The whole response, for REST operations that set status, headers or raw bodies.
    Http(HttpResponse),
    /// A result structure whose members named in the list hold timestamps (ISO 8601 text,
    /// or lists of it): the query protocol sends them as they are, AWS JSON as epoch
    /// seconds, RPC v2 CBOR as tag 1 epoch seconds.
    Timed(serde_json::Value, &'static [&'static str]),
}

/// Where an answer goes: what the codecs need besides the result.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub request_id: &'a str,
    /// The operation's name (`GetCallerIdentity`), for query-protocol wrappers.
    pub operation: &'a str,
    /// The service's XML namespace (query and rest-xml).
    pub xml_namespace: &'a str,
}

impl Protocol {
    /// The protocol's name as AWS service models write it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::RestJson => "rest-json",
            Protocol::AwsJson10 => "json 1.0",
            Protocol::AwsJson11 => "json 1.1",
            Protocol::Query => "query",
            Protocol::RestXml => "rest-xml",
            Protocol::RpcV2Cbor => "smithy-rpc-v2-cbor",
        }
    }

    /// The protocol a request's headers announce: `smithy-protocol: rpc-v2-cbor` → RPC v2
    /// CBOR, `X-Amz-Target` → AWS JSON (version from `Content-Type`), a form body or
    /// `Action=` in the query → query, otherwise `rest`.
    pub fn announced(head: &Head, rest: Protocol) -> Protocol {
        let content_type = head
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if head
            .header("smithy-protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case(cbor::PROTOCOL_HEADER))
        {
            Protocol::RpcV2Cbor
        } else if head.header("x-amz-target").is_some() {
            if content_type.contains("json-1.0") {
                Protocol::AwsJson10
            } else {
                Protocol::AwsJson11
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || head.raw_query.split('&').any(|p| p.starts_with("Action="))
        {
            Protocol::Query
        } else {
            rest
        }
    }

    /// True for the protocols whose operation comes from the method and path.
    pub fn is_rest(self) -> bool {
        matches!(self, Protocol::RestJson | Protocol::RestXml)
    }

    /// Renders a result.
    pub fn reply(self, reply: Reply, to: Answer<'_>) -> HttpResponse {
        match (self, reply) {
            (_, Reply::Http(resp)) => resp,
            (Protocol::Query, Reply::Value(v) | Reply::Timed(v, _)) => query::result(&to, |x| {
                x.value(&v);
            }),
            (Protocol::Query, Reply::Xml(inner)) => query::result(&to, |x| {
                x.raw(&inner);
            }),
            (Protocol::AwsJson10 | Protocol::AwsJson11, Reply::Value(v)) => {
                json::result(self, &v, to.request_id)
            }
            (Protocol::AwsJson10 | Protocol::AwsJson11, Reply::Timed(v, timestamps)) => {
                json::result(self, &json::epoch_timestamps(&v, timestamps), to.request_id)
            }
            (Protocol::RpcV2Cbor, Reply::Value(v)) => cbor::result(&v, &[], to.request_id),
            (Protocol::RpcV2Cbor, Reply::Timed(v, timestamps)) => {
                cbor::result(&v, timestamps, to.request_id)
            }
            (Protocol::RestJson, Reply::Value(v)) => {
                rest_json::result(StatusCode::OK, &v, to.request_id)
            }
            (Protocol::RestXml, Reply::Xml(doc)) => rest_xml::result(&doc, to.request_id),
            (p, Reply::Value(_) | Reply::Xml(_) | Reply::Timed(..)) => {
                tracing::error!(
                    protocol = p.name(),
                    operation = to.operation,
                    "the operation answered in a shape its protocol cannot carry"
                );
                self.error(
                    &layer::INTERNAL
                        .with("The operation produced a result its protocol cannot carry."),
                    to,
                )
            }
        }
    }

    /// Renders an error.
    pub fn error(self, e: &ApiError, to: Answer<'_>) -> HttpResponse {
        match self {
            Protocol::RestJson => rest_json::error(e, to.request_id),
            Protocol::AwsJson10 | Protocol::AwsJson11 => json::error(self, e, to.request_id),
            Protocol::Query => query::error(e, &to),
            Protocol::RestXml => rest_xml::error(e, to.request_id),
            Protocol::RpcV2Cbor => cbor::error(e, to.request_id),
        }
    }

    /// The error for an operation the service does not have.
    pub fn unknown_operation(self, service: &str, what: &str) -> ApiError {
        let hint = "see `lambdabox operations` for the operations served";
        match self {
            Protocol::Query => layer::INVALID_ACTION.with(format!(
                "The action {what} is not valid for {service} in lambdabox ({hint})."
            )),
            Protocol::RestJson | Protocol::RestXml => layer::UNKNOWN_PATH.with(format!(
                "{service} has no operation {what} in lambdabox ({hint}). Check the endpoint URL and the service name."
            )),
            Protocol::AwsJson10 | Protocol::AwsJson11 | Protocol::RpcV2Cbor => layer::UNKNOWN_OPERATION.with(format!(
                "{service} has no operation {what} in lambdabox ({hint})."
            )),
        }
    }

    /// The error for a body over `cap` bytes.
    pub fn too_large(self, operation: &str, cap: usize) -> ApiError {
        let kind = match self {
            Protocol::Query => layer::TOO_LARGE_QUERY,
            _ => layer::TOO_LARGE,
        };
        kind.with(format!(
            "Request must be smaller than {cap} bytes for the {operation} operation"
        ))
    }

    /// The error for a request the daemon has no room to read now (retryable).
    pub fn unavailable(self) -> ApiError {
        layer::UNAVAILABLE
            .with("lambdabox is reading too many request bodies at once; retry shortly.")
            .header("Retry-After", "1")
    }

    /// An authentication failure (always 403), named as this protocol's services name it.
    pub fn auth_error(self, e: &AuthError) -> ApiError {
        let code = match (self, e) {
            (Protocol::Query, AuthError::Missing) => "MissingAuthenticationToken",
            (Protocol::Query, AuthError::UnknownKey) => "InvalidClientTokenId",
            (Protocol::Query, AuthError::Incomplete(_)) => "IncompleteSignature",
            (Protocol::Query, _) => "SignatureDoesNotMatch",
            (Protocol::RestXml, AuthError::Missing) => "AccessDenied",
            (Protocol::RestXml, AuthError::UnknownKey) => "InvalidAccessKeyId",
            (Protocol::RestXml, AuthError::Incomplete(_) | AuthError::WrongRegion(_)) => {
                "AuthorizationHeaderMalformed"
            }
            (Protocol::RestXml, AuthError::Expired(_)) => "AccessDenied",
            (Protocol::RestXml, AuthError::BadSignature) => "SignatureDoesNotMatch",
            (_, AuthError::Missing) => "MissingAuthenticationTokenException",
            (_, AuthError::UnknownKey) => "UnrecognizedClientException",
            (_, AuthError::Incomplete(_)) => "IncompleteSignatureException",
            (_, _) => "InvalidSignatureException",
        };
        ApiError {
            code: code.into(),
            status: StatusCode::FORBIDDEN,
            sender: true,
            message: e.to_string(),
            query_code: None,
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)], query: &str) -> Head {
        Head::for_tests(
            "POST",
            "/",
            query,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn announced_protocols() {
        let h = head(
            &[
                ("X-Amz-Target", "AmazonSQS.ListQueues"),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            "",
        );
        assert_eq!(
            Protocol::announced(&h, Protocol::RestJson),
            Protocol::AwsJson10
        );
        let h = head(
            &[
                ("X-Amz-Target", "Logs_20140328.FilterLogEvents"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            "",
        );
        assert_eq!(
            Protocol::announced(&h, Protocol::RestJson),
            Protocol::AwsJson11
        );
        let h = head(
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            "",
        );
        assert_eq!(Protocol::announced(&h, Protocol::RestJson), Protocol::Query);
        let h = head(&[], "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(Protocol::announced(&h, Protocol::RestJson), Protocol::Query);
        let h = head(
            &[
                ("smithy-protocol", "rpc-v2-cbor"),
                ("Content-Type", "application/cbor"),
            ],
            "",
        );
        assert_eq!(
            Protocol::announced(&h, Protocol::RestJson),
            Protocol::RpcV2Cbor
        );
        let h = head(&[("Content-Type", "application/json")], "");
        assert_eq!(
            Protocol::announced(&h, Protocol::RestXml),
            Protocol::RestXml
        );
    }

    #[test]
    fn auth_codes_follow_the_protocol_family() {
        assert_eq!(
            Protocol::Query.auth_error(&AuthError::UnknownKey).code,
            "InvalidClientTokenId"
        );
        assert_eq!(
            Protocol::AwsJson10
                .auth_error(&AuthError::BadSignature)
                .code,
            "InvalidSignatureException"
        );
        assert_eq!(
            Protocol::RestXml.auth_error(&AuthError::UnknownKey).code,
            "InvalidAccessKeyId"
        );
        assert_eq!(
            Protocol::RestJson.auth_error(&AuthError::Missing).status,
            StatusCode::FORBIDDEN
        );
    }
}
