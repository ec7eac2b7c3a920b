//! Lambda functions as destinations: an invocation record becomes an asynchronous event of
//! the destination function (qualified or not), queued with the chain's trace header so
//! recursive loop detection counts the hop. Dead letters never come here (DeadLetterConfig
//! takes SQS queues and SNS topics only).

use std::sync::Weak;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{AsyncEvent, Provenance, Shared};
use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::{DestinationArn, DestinationKind, MAX_ASYNC_PAYLOAD};
use crate::domain::Error;
use crate::services::destinations::{Delivery, Destination, Message};

pub struct LambdaDestination {
    queue: Weak<Shared>,
}

impl LambdaDestination {
    pub fn new(queue: Weak<Shared>) -> LambdaDestination {
        LambdaDestination { queue }
    }
}

fn target(arn: &DestinationArn, shared: &Shared) -> Result<FunctionRef, Error> {
    FunctionRef::parse(&arn.arn, &shared.ctx.identity, "destination")
}

/// A record that does not fit the asynchronous payload limit loses its response payload,
/// then its request payload (each replaced by a note), as AWS drops payloads that do not fit.
fn fit(mut record: Value) -> Result<Bytes, Error> {
    for key in ["responsePayload", "requestPayload"] {
        let bytes = serde_json::to_vec(&record).map_err(|e| Error::Service(e.to_string()))?;
        if bytes.len() <= MAX_ASYNC_PAYLOAD {
            return Ok(Bytes::from(bytes));
        }
        if let Some(m) = record.as_object_mut() {
            m.insert(
                key.to_string(),
                Value::String(format!(
                    "(dropped: the record exceeded {MAX_ASYNC_PAYLOAD} bytes)"
                )),
            );
        }
    }
    Ok(Bytes::from(
        serde_json::to_vec(&record).map_err(|e| Error::Service(e.to_string()))?,
    ))
}

impl Destination for LambdaDestination {
    fn kind(&self) -> DestinationKind {
        DestinationKind::Lambda
    }

    fn check<'a>(&'a self, arn: &'a DestinationArn) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let shared = self
                .queue
                .upgrade()
                .ok_or_else(|| Error::Service("the queue is shutting down".into()))?;
            let r = target(arn, &shared).map_err(|_| {
                Error::InvalidParameterValue(format!(
                    "The destination ARN {} is not a valid function ARN.",
                    arn.arn
                ))
            })?;
            match crate::services::functions::get(&shared.ctx, &r).await {
                Ok(_) => Ok(()),
                Err(Error::ResourceNotFound(_)) => Err(Error::InvalidParameterValue(format!(
                    "The destination function {} does not exist. Create it first.",
                    arn.arn
                ))),
                Err(e) => Err(e),
            }
        })
    }

    fn deliver<'a>(
        &'a self,
        arn: &'a DestinationArn,
        delivery: Delivery,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let shared = self
                .queue
                .upgrade()
                .ok_or_else(|| Error::Service("the queue is shutting down".into()))?;
            let Message::Record { record, .. } = delivery.message else {
                return Err(Error::InvalidParameterValue(
                    "a Lambda function cannot be a dead-letter queue".into(),
                ));
            };
            let payload = fit(record)?;
            super::enqueue(
                &shared,
                AsyncEvent {
                    function: target(arn, &shared)?,
                    payload,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    provenance: Provenance {
                        source: "lambda:destination".into(),
                        source_arn: Some(delivery.source_function_arn),
                        trace_header: Some(delivery.trace_header),
                    },
                },
            )
            .await
            .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_records_lose_payloads_first() {
        let big = "x".repeat(MAX_ASYNC_PAYLOAD);
        let r = serde_json::json!({"version": "1.0", "requestPayload": {"a": 1}, "responsePayload": big});
        let out: Value = serde_json::from_slice(&fit(r).unwrap()).unwrap();
        assert_eq!(out["requestPayload"]["a"], 1);
        assert!(out["responsePayload"]
            .as_str()
            .unwrap()
            .starts_with("(dropped"));
    }
}
