//! Queue attributes: the settable ones with AWS's ranges and defaults, the redrive policies,
//! and which names GetQueueAttributes knows. Attributes lambdabox cannot honour (KMS
//! encryption, access policies) are refused with a reason, never stored and ignored.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{name_from_arn, SqsError};
use crate::domain::Identity;

/// Every attribute name GetQueueAttributes accepts (`All` expands to these).
pub const READABLE: &[&str] = &[
    "All",
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

/// Where a queue sends messages received too often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    /// The queue name of the target (this account and region).
    pub target: String,
    pub max_receive_count: i64,
}

/// Which source queues may use a queue as their dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveAllow {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

/// The settable attributes of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAttributes {
    pub fifo: bool,
    pub delay_seconds: i64,
    pub maximum_message_size: i64,
    pub message_retention_period: i64,
    pub receive_message_wait_time_seconds: i64,
    pub visibility_timeout: i64,
    pub redrive_policy: Option<RedrivePolicy>,
    pub redrive_allow_policy: Option<(RedriveAllow, String)>,
    pub content_based_deduplication: bool,
    /// FIFO: `queue` or `messageGroup`.
    pub deduplication_scope: String,
    /// FIFO: `perQueue` or `perMessageGroupId` (lambdabox has no throughput quotas, so both
    /// mean "no limit").
    pub fifo_throughput_limit: String,
}

impl QueueAttributes {
    /// AWS's defaults.
    pub fn defaults(fifo: bool) -> QueueAttributes {
        QueueAttributes {
            fifo,
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
            redrive_policy: None,
            redrive_allow_policy: None,
            content_based_deduplication: false,
            deduplication_scope: "queue".into(),
            fifo_throughput_limit: "perQueue".into(),
        }
    }

    /// Applies `set` (name → value, as the wire carries them). `creating` allows `FifoQueue`.
    pub fn apply(
        &mut self,
        me: &Identity,
        set: &BTreeMap<String, String>,
        creating: bool,
    ) -> Result<(), SqsError> {
        // All or nothing: a refused attribute leaves the queue's attributes as they were.
        let mut next = self.clone();
        for (name, value) in set {
            next.apply_one(me, name, value, creating)?;
        }
        if !next.fifo {
            for fifo_only in [
                "ContentBasedDeduplication",
                "DeduplicationScope",
                "FifoThroughputLimit",
            ] {
                if set.contains_key(fifo_only) {
                    return Err(SqsError::InvalidAttributeName(format!(
                        "Unknown Attribute {fifo_only}."
                    )));
                }
            }
        }
        *self = next;
        Ok(())
    }

    fn apply_one(
        &mut self,
        me: &Identity,
        name: &str,
        value: &str,
        creating: bool,
    ) -> Result<(), SqsError> {
        let int = |lo: i64, hi: i64| -> Result<i64, SqsError> {
            value
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| invalid_value(name, value))
        };
        match name {
            "DelaySeconds" => self.delay_seconds = int(0, 900)?,
            "MaximumMessageSize" => self.maximum_message_size = int(1024, 1_048_576)?,
            "MessageRetentionPeriod" => self.message_retention_period = int(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => self.receive_message_wait_time_seconds = int(0, 20)?,
            "VisibilityTimeout" => self.visibility_timeout = int(0, 43_200)?,
            "RedrivePolicy" => {
                self.redrive_policy = if value.is_empty() {
                    None
                } else {
                    Some(parse_redrive(me, value)?)
                }
            }
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy = if value.is_empty() {
                    None
                } else {
                    Some((parse_redrive_allow(value)?, value.to_string()))
                }
            }
            "FifoQueue" if creating => match value {
                "true" => self.fifo = true,
                "false" if !self.fifo => {}
                _ => return Err(invalid_value(name, value)),
            },
            "FifoQueue" => {
                return Err(SqsError::InvalidAttributeName(
                    "Attribute FifoQueue can only be set when the queue is created.".into(),
                ))
            }
            "ContentBasedDeduplication" => self.content_based_deduplication = boolean(name, value)?,
            "DeduplicationScope" => match value {
                "queue" | "messageGroup" => self.deduplication_scope = value.into(),
                _ => return Err(invalid_value(name, value)),
            },
            "FifoThroughputLimit" => match value {
                "perQueue" | "perMessageGroupId" => self.fifo_throughput_limit = value.into(),
                _ => return Err(invalid_value(name, value)),
            },
            "SqsManagedSseEnabled" => match value {
                "false" => {}
                "true" => return Err(SqsError::InvalidAttributeValue(
                    "lambdabox does not encrypt queues (messages are stored in its SQLite database on this host, protected by the data directory's permissions); set SqsManagedSseEnabled to false or leave it out.".into(),
                )),
                _ => return Err(invalid_value(name, value)),
            },
            "KmsMasterKeyId" | "KmsDataKeyReusePeriodSeconds" => {
                return Err(SqsError::InvalidAttributeValue(format!(
                    "lambdabox does not encrypt queues with KMS, so it cannot honour {name}; leave it out."
                )))
            }
            "Policy" => {
                return Err(SqsError::InvalidAttributeValue(
                    "lambdabox does not evaluate queue policies (every key lambdabox issued may use every queue), so it cannot honour Policy; leave it out.".into(),
                ))
            }
            _ if READABLE.contains(&name) => {
                return Err(SqsError::InvalidAttributeName(format!(
                    "Attribute {name} cannot be set."
                )))
            }
            _ => {
                return Err(SqsError::InvalidAttributeName(format!(
                    "Unknown Attribute {name}."
                )))
            }
        }
        Ok(())
    }

    /// The settable attributes as GetQueueAttributes shows them.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("DelaySeconds".into(), self.delay_seconds.to_string());
        m.insert(
            "MaximumMessageSize".into(),
            self.maximum_message_size.to_string(),
        );
        m.insert(
            "MessageRetentionPeriod".into(),
            self.message_retention_period.to_string(),
        );
        m.insert(
            "ReceiveMessageWaitTimeSeconds".into(),
            self.receive_message_wait_time_seconds.to_string(),
        );
        m.insert(
            "VisibilityTimeout".into(),
            self.visibility_timeout.to_string(),
        );
        m.insert("SqsManagedSseEnabled".into(), "false".into());
        if let Some(r) = &self.redrive_policy {
            m.insert(
                "RedrivePolicy".into(),
                serde_json::json!({
                    "deadLetterTargetArn": r.dead_letter_target_arn,
                    "maxReceiveCount": r.max_receive_count,
                })
                .to_string(),
            );
        }
        if let Some((_, raw)) = &self.redrive_allow_policy {
            m.insert("RedriveAllowPolicy".into(), raw.clone());
        }
        if self.fifo {
            m.insert("FifoQueue".into(), "true".into());
            m.insert(
                "ContentBasedDeduplication".into(),
                self.content_based_deduplication.to_string(),
            );
            m.insert(
                "DeduplicationScope".into(),
                self.deduplication_scope.clone(),
            );
            m.insert(
                "FifoThroughputLimit".into(),
                self.fifo_throughput_limit.clone(),
            );
        }
        m
    }

    /// Stored form (the same map as JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_map()).unwrap_or_else(|_| "{}".into())
    }

    /// Reads the stored form back.
    pub fn from_json(me: &Identity, fifo: bool, text: &str) -> Result<QueueAttributes, SqsError> {
        let map: BTreeMap<String, String> = serde_json::from_str(text)
            .map_err(|e| SqsError::Internal(format!("stored queue attributes are corrupt: {e}")))?;
        let mut a = QueueAttributes::defaults(fifo);
        let mut settable = map;
        settable.remove("FifoQueue");
        settable.remove("SqsManagedSseEnabled");
        a.apply(me, &settable, false)?;
        Ok(a)
    }

    /// Whether `source_arn` may name this queue as its dead-letter queue.
    pub fn allows_source(&self, source_arn: &str) -> bool {
        match &self.redrive_allow_policy {
            None | Some((RedriveAllow::AllowAll, _)) => true,
            Some((RedriveAllow::DenyAll, _)) => false,
            Some((RedriveAllow::ByQueue(arns), _)) => arns.iter().any(|a| a == source_arn),
        }
    }
}

fn invalid_value(name: &str, value: &str) -> SqsError {
    SqsError::InvalidAttributeValue(format!("Invalid value for the parameter {name}: {value}."))
}

fn boolean(name: &str, value: &str) -> Result<bool, SqsError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_value(name, value)),
    }
}

fn parse_redrive(me: &Identity, text: &str) -> Result<RedrivePolicy, SqsError> {
    let bad = |why: &str| {
        SqsError::InvalidAttributeValue(format!(
            "Value {text} for parameter RedrivePolicy is invalid. Reason: {why}"
        ))
    };
    let v: Value = serde_json::from_str(text).map_err(|_| bad("Invalid JSON."))?;
    let arn = v
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        })?;
    let count = match v.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        _ => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ))
        }
    }
    .filter(|n| (1..=1000).contains(n))
    .ok_or_else(|| bad("Invalid value for maxReceiveCount: must be an integer from 1 to 1000."))?;
    let target = name_from_arn(me, arn).ok_or_else(|| {
        bad("Dead-letter target ARN must name a queue of this account and region.")
    })?;
    Ok(RedrivePolicy {
        dead_letter_target_arn: arn.to_string(),
        target,
        max_receive_count: count,
    })
}

fn parse_redrive_allow(text: &str) -> Result<RedriveAllow, SqsError> {
    let bad = |why: &str| {
        SqsError::InvalidAttributeValue(format!(
            "Value {text} for parameter RedriveAllowPolicy is invalid. Reason: {why}"
        ))
    };
    let v: Value = serde_json::from_str(text).map_err(|_| bad("Invalid JSON."))?;
    let arns: Option<Vec<String>> = v.get("sourceQueueArns").map(|a| {
        a.as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    });
    match v.get("redrivePermission").and_then(Value::as_str) {
        Some("allowAll") if arns.is_none() => Ok(RedriveAllow::AllowAll),
        Some("denyAll") if arns.is_none() => Ok(RedriveAllow::DenyAll),
        Some("byQueue") => match arns {
            Some(a) if !a.is_empty() && a.len() <= 10 => Ok(RedriveAllow::ByQueue(a)),
            _ => Err(bad(
                "sourceQueueArns must list 1 to 10 queue ARNs when redrivePermission is byQueue.",
            )),
        },
        Some("allowAll" | "denyAll") => Err(bad(
            "sourceQueueArns can be given only when redrivePermission is byQueue.",
        )),
        _ => Err(bad(
            "redrivePermission must be allowAll, denyAll or byQueue.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Identity {
        Identity {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ranges_policies_and_refusals() {
        let mut a = QueueAttributes::defaults(false);
        a.apply(
            &me(),
            &set(&[("VisibilityTimeout", "5"), ("DelaySeconds", "900")]),
            true,
        )
        .unwrap();
        assert_eq!((a.visibility_timeout, a.delay_seconds), (5, 900));
        assert!(matches!(
            a.apply(&me(), &set(&[("VisibilityTimeout", "43201")]), false),
            Err(SqsError::InvalidAttributeValue(_))
        ));
        assert!(matches!(
            a.apply(&me(), &set(&[("Nope", "1")]), false),
            Err(SqsError::InvalidAttributeName(_))
        ));
        assert!(matches!(
            a.apply(&me(), &set(&[("ContentBasedDeduplication", "true")]), false),
            Err(SqsError::InvalidAttributeName(_))
        ));
        assert!(a
            .apply(&me(), &set(&[("KmsMasterKeyId", "alias/aws/sqs")]), false)
            .is_err());
        let rp = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#;
        a.apply(&me(), &set(&[("RedrivePolicy", rp)]), false)
            .unwrap();
        let p = a.redrive_policy.clone().unwrap();
        assert_eq!((p.target.as_str(), p.max_receive_count), ("dlq", 3));
        let back = QueueAttributes::from_json(&me(), false, &a.to_json()).unwrap();
        assert_eq!(back, a);
        let allow = r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:src"]}"#;
        a.apply(&me(), &set(&[("RedriveAllowPolicy", allow)]), false)
            .unwrap();
        assert!(a.allows_source("arn:aws:sqs:us-east-1:000000000000:src"));
        assert!(!a.allows_source("arn:aws:sqs:us-east-1:000000000000:other"));
        let mut f = QueueAttributes::defaults(false);
        f.apply(
            &me(),
            &set(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
            true,
        )
        .unwrap();
        assert!(f.fifo && f.content_based_deduplication);
        assert_eq!(f.to_map()["FifoQueue"], "true");
    }
}
