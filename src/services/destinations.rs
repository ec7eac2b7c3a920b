//! Destinations of asynchronous invocations: OnSuccess/OnFailure records and dead letters.
//!
//! A destination kind (Lambda function, SQS queue, SNS topic, EventBridge bus, S3 bucket) is
//! served by one [`Destination`] implementation registered at start-up in the
//! [`Destinations`] registry (`services::Context::destinations`). Configuration-time checks
//! (PutFunctionEventInvokeConfig, DeadLetterConfig) go through [`Destinations::check`]: an ARN
//! of a kind nobody registered is refused there with an InvalidParameterValueException, so
//! nothing is ever accepted and then dropped. Lambda functions are registered by the async
//! queue (`triggers::async_invoke`); a service that lands later (SQS, SNS, EventBridge)
//! registers its own implementation in `serve.rs`.
//!
//! Contract of [`Destination::deliver`]: return `Ok` only once the target has durably stored
//! the message (the queue deletes the event after that, so delivery is at-least-once).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::domain::event_invoke::{DestinationArn, DestinationKind, DestinationUse};
use crate::domain::{Error, Identity};

/// What a destination receives.
#[derive(Debug, Clone)]
pub enum Message {
    /// An invocation record (AWS's shape, `version` 1.0): the JSON body an SQS message, SNS
    /// `Message`, Lambda event or EventBridge `detail` carries. `success` selects the
    /// EventBridge detail-type ("… - Success" / "… - Failure").
    Record {
        record: serde_json::Value,
        success: bool,
    },
    /// A dead letter: the original event unchanged, with the attributes `RequestID`,
    /// `ErrorCode` (3-digit status) and `ErrorMessage` (at most 1 KB).
    DeadLetter {
        payload: Bytes,
        request_id: String,
        error_code: u16,
        error_message: String,
    },
    /// An EventBridge event a rule could not deliver (its target's DeadLetterConfig): the
    /// event unchanged, with EventBridge's string attributes (`RULE_ARN`, `TARGET_ARN`,
    /// `ERROR_CODE`, `ERROR_MESSAGE`, `RETRY_ATTEMPTS`, `EXHAUSTED_RETRY_CONDITION`).
    EventDeadLetter {
        payload: Bytes,
        attributes: Vec<(String, String)>,
    },
}

/// One message on its way to a destination.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message: Message,
    /// ARN of the function whose event produced the message (the record's source).
    pub source_function_arn: String,
    /// The trace header of the invocation that produced it (with its `Lineage`); a target
    /// that invokes functions again continues the chain from it (recursive loop detection).
    pub trace_header: String,
}

/// A kind of destination lambdabox can deliver to.
pub trait Destination: Send + Sync {
    /// The kind this implementation serves.
    fn kind(&self) -> DestinationKind;

    /// Checks at configuration time that `arn` names a target that exists and can receive
    /// messages; the error is the one the caller sees.
    fn check<'a>(&'a self, arn: &'a DestinationArn) -> BoxFuture<'a, Result<(), Error>>;

    /// Stores `delivery` in the target; `Ok` only once it is durable there.
    fn deliver<'a>(
        &'a self,
        arn: &'a DestinationArn,
        delivery: Delivery,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// The destination kinds this daemon serves.
#[derive(Default)]
pub struct Destinations {
    served: RwLock<BTreeMap<DestinationKind, Arc<dyn Destination>>>,
}

impl Destinations {
    /// Serves a kind from now on (replacing an earlier implementation of the same kind).
    pub fn register(&self, d: Arc<dyn Destination>) {
        if let Ok(mut m) = self.served.write() {
            m.insert(d.kind(), d);
        }
    }

    /// The kinds served, for messages and the dashboard.
    pub fn kinds(&self) -> Vec<DestinationKind> {
        self.served
            .read()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The implementation serving `arn`'s kind, or the InvalidParameterValueException that
    /// says lambdabox does not serve it (yet).
    pub fn target(
        &self,
        arn: &DestinationArn,
        used: DestinationUse,
    ) -> Result<Arc<dyn Destination>, Error> {
        let found = self
            .served
            .read()
            .ok()
            .and_then(|m| m.get(&arn.kind).cloned());
        found.ok_or_else(|| not_served(arn, used, &self.kinds()))
    }

    /// Parses and checks a destination or dead-letter ARN at configuration time.
    pub async fn check(
        &self,
        me: &Identity,
        raw: &str,
        used: DestinationUse,
    ) -> Result<DestinationArn, Error> {
        let arn = DestinationArn::parse(raw, me, used)?;
        let target = self.target(&arn, used)?;
        target.check(&arn).await?;
        Ok(arn)
    }
}

fn not_served(arn: &DestinationArn, used: DestinationUse, served: &[DestinationKind]) -> Error {
    let served: Vec<&str> = served.iter().map(|k| k.describe()).collect();
    let what = arn.kind.describe();
    match used {
        DestinationUse::DeadLetter => Error::InvalidParameterValue(format!(
            "lambdabox does not serve {what} yet, so it cannot deliver dead letters to {} (DeadLetterConfig.TargetArn takes an SQS queue or SNS topic). Use an OnFailure destination instead: aws lambda put-function-event-invoke-config --destination-config '{{\"OnFailure\": {{\"Destination\": \"<function ARN>\"}}}}'.",
            arn.arn
        )),
        _ => Error::InvalidParameterValue(format!(
            "lambdabox does not serve {what} yet, so it cannot deliver to {} ({}). Destinations served by this lambdabox: {}.",
            arn.arn,
            used.member(),
            if served.is_empty() { "none".to_string() } else { served.join(", ") }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;

    impl Destination for Fake {
        fn kind(&self) -> DestinationKind {
            DestinationKind::Lambda
        }
        fn check<'a>(&'a self, arn: &'a DestinationArn) -> BoxFuture<'a, Result<(), Error>> {
            Box::pin(async move {
                if arn.resource.ends_with(":missing") {
                    Err(Error::InvalidParameterValue("no such function".into()))
                } else {
                    Ok(())
                }
            })
        }
        fn deliver<'a>(
            &'a self,
            _arn: &'a DestinationArn,
            _d: Delivery,
        ) -> BoxFuture<'a, Result<(), Error>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn me() -> Identity {
        Identity {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }

    #[tokio::test]
    async fn unserved_kinds_are_refused_with_a_clear_message() {
        let d = Destinations::default();
        let sqs = "arn:aws:sqs:us-east-1:000000000000:q";
        let err = d
            .check(&me(), sqs, DestinationUse::OnFailure)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidParameterValue(m) if m.contains("does not serve SQS queues yet")),
            "{err:?}"
        );
        let err = d
            .check(&me(), sqs, DestinationUse::DeadLetter)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("OnFailure destination instead"),
            "{err}"
        );
        d.register(Arc::new(Fake));
        let f = "arn:aws:lambda:us-east-1:000000000000:function:f";
        assert!(d.check(&me(), f, DestinationUse::OnSuccess).await.is_ok());
        assert!(d
            .check(&me(), &format!("{f}:missing"), DestinationUse::OnSuccess)
            .await
            .is_err());
        assert_eq!(d.kinds(), vec![DestinationKind::Lambda]);
    }
}
