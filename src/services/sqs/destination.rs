//! SQS queues as destinations of asynchronous invocations (OnSuccess/OnFailure records) and
//! as function dead-letter queues, in AWS's message formats: a record is the JSON body of one
//! message; a dead letter is the original event unchanged with the `RequestID`, `ErrorCode`
//! and `ErrorMessage` attributes. FIFO queues are refused (at configuration time, and at
//! delivery if one took a standard queue's place): AWS delivers only to standard queues and
//! counts such a delivery as a `DestinationDeliveryFailures`. `deliver` answers once the
//! message is committed (the queue's group commit).

use std::sync::Weak;

use futures_util::future::BoxFuture;

use super::{Queues, SendInput};
use crate::domain::event_invoke::{DestinationArn, DestinationKind};
use crate::domain::sqs::message::{AttributeValue, Attributes};
use crate::domain::Error;
use crate::services::destinations::{Delivery, Destination, Message};

/// Most bytes of `ErrorMessage` a dead letter carries.
const MAX_ERROR_MESSAGE: usize = 1024;

/// The SQS destination kind, over this daemon's queues.
pub struct SqsDestination {
    queues: Weak<Queues>,
}

impl SqsDestination {
    pub fn new(queues: Weak<Queues>) -> SqsDestination {
        SqsDestination { queues }
    }

    async fn queue(&self, arn: &DestinationArn) -> Result<std::sync::Arc<super::Queue>, Error> {
        let queues = self
            .queues
            .upgrade()
            .ok_or_else(|| Error::Service("the queue service is stopping".into()))?;
        let q = queues.by_arn(&arn.arn).await.ok_or_else(|| {
            Error::InvalidParameterValue(format!(
                "The destination ARN {} is invalid: the SQS queue does not exist.",
                arn.arn
            ))
        })?;
        if q.attrs.fifo {
            return Err(Error::InvalidParameterValue(format!(
                "The destination ARN {} is a FIFO queue: Lambda delivers invocation records and dead letters only to standard SQS queues.",
                arn.arn
            )));
        }
        Ok(q)
    }
}

fn string(v: &str) -> AttributeValue {
    AttributeValue {
        data_type: "String".into(),
        string_value: Some(v.to_string()),
        binary_value: None,
    }
}

/// The message a delivery becomes (on a standard queue).
fn message_of(d: &Delivery) -> SendInput {
    let (body, attributes) = match &d.message {
        Message::Record { record, .. } => (record.to_string(), Attributes::new()),
        Message::DeadLetter {
            payload,
            request_id,
            error_code,
            error_message,
        } => {
            let mut msg = error_message.clone();
            if msg.len() > MAX_ERROR_MESSAGE {
                let mut cut = MAX_ERROR_MESSAGE;
                while !msg.is_char_boundary(cut) {
                    cut -= 1;
                }
                msg.truncate(cut);
            }
            let mut a = Attributes::new();
            a.insert("RequestID".into(), string(request_id));
            a.insert(
                "ErrorCode".into(),
                AttributeValue {
                    data_type: "Number".into(),
                    string_value: Some(error_code.to_string()),
                    binary_value: None,
                },
            );
            if !msg.is_empty() {
                a.insert("ErrorMessage".into(), string(&msg));
            }
            (String::from_utf8_lossy(payload).into_owned(), a)
        }
        Message::EventDeadLetter {
            payload,
            attributes,
        } => {
            let mut a = Attributes::new();
            for (k, v) in attributes {
                let mut v = v.clone();
                if v.len() > MAX_ERROR_MESSAGE {
                    let mut cut = MAX_ERROR_MESSAGE;
                    while !v.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    v.truncate(cut);
                }
                if !v.is_empty() {
                    a.insert(k.clone(), string(&v));
                }
            }
            (String::from_utf8_lossy(payload).into_owned(), a)
        }
    };
    let mut system = Attributes::new();
    if !d.trace_header.is_empty() {
        system.insert("AWSTraceHeader".into(), string(&d.trace_header));
    }
    SendInput {
        body,
        delay_seconds: None,
        attributes,
        system_attributes: system,
        dedup_id: None,
        group_id: None,
    }
}

impl Destination for SqsDestination {
    fn kind(&self) -> DestinationKind {
        DestinationKind::Sqs
    }

    fn check<'a>(&'a self, arn: &'a DestinationArn) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { self.queue(arn).await.map(|_| ()) })
    }

    fn deliver<'a>(
        &'a self,
        arn: &'a DestinationArn,
        delivery: Delivery,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let q = self.queue(arn).await?;
            let queues = self
                .queues
                .upgrade()
                .ok_or_else(|| Error::Service("the queue service is stopping".into()))?;
            let m = message_of(&delivery);
            queues
                .send(&q, m, &queues.me.account_id)
                .await
                .map(|_| ())
                .map_err(|e| Error::Service(format!("cannot deliver to {}: {e}", arn.arn)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead(msg: &str) -> Delivery {
        Delivery {
            message: Message::DeadLetter {
                payload: bytes::Bytes::from_static(b"{\"orderId\":42}"),
                request_id: "req-1".into(),
                error_code: 200,
                error_message: msg.into(),
            },
            source_function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            trace_header: String::new(),
        }
    }

    #[test]
    fn dead_letters_keep_the_event_and_carry_the_error() {
        let m = message_of(&dead(&"é".repeat(700)));
        assert_eq!(m.body, "{\"orderId\":42}");
        assert_eq!(
            m.attributes["RequestID"].string_value.as_deref(),
            Some("req-1")
        );
        assert_eq!(m.attributes["ErrorCode"].data_type, "Number");
        assert_eq!(
            m.attributes["ErrorCode"].string_value.as_deref(),
            Some("200")
        );
        let e = m.attributes["ErrorMessage"].string_value.clone().unwrap();
        assert!(
            e.len() <= MAX_ERROR_MESSAGE && e.len() > 1000,
            "{}",
            e.len()
        );
        assert!(m.group_id.is_none() && m.dedup_id.is_none());
    }
}
