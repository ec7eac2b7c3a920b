//! Asynchronous invocation settings: the event invoke config of a function, version or alias
//! (retries, maximum event age, OnSuccess/OnFailure destinations), destination ARNs and the
//! kinds of target they name, and the recursive loop setting.
//!
//! Nothing here knows whether lambdabox serves a destination kind: that is the destination
//! registry's job (`services::destinations`), asked at configuration time.

use serde::{Deserialize, Serialize};

use super::{Error, Identity};

/// MaximumRetryAttempts when none is configured.
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 2;
/// MaximumEventAgeInSeconds when none is configured (6 hours).
pub const DEFAULT_MAX_EVENT_AGE_SECS: u32 = 21_600;
/// Invocations one chain of events may make before recursive loop detection stops it.
pub const MAX_CHAIN_DEPTH: u32 = 16;
/// Largest asynchronous payload (1 MB).
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;

/// One event invoke config as stored; unset members take the AWS defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_secs: Option<u32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

impl EventInvokeConfig {
    /// Retries after a function error (0–2).
    pub fn retry_attempts(&self) -> u32 {
        self.maximum_retry_attempts
            .unwrap_or(DEFAULT_RETRY_ATTEMPTS)
    }

    /// Longest an event may wait in the queue, in seconds.
    pub fn max_event_age_secs(&self) -> u32 {
        self.maximum_event_age_secs
            .unwrap_or(DEFAULT_MAX_EVENT_AGE_SECS)
    }

    /// Checks the numeric members against AWS's ranges.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(n) = self.maximum_retry_attempts {
            retry_attempts(i64::from(n))?;
        }
        if let Some(n) = self.maximum_event_age_secs {
            max_event_age(i64::from(n))?;
        }
        Ok(())
    }
}

/// MaximumRetryAttempts: 0–2.
pub fn retry_attempts(n: i64) -> Result<u32, Error> {
    super::validate::range(n, 0, 2, "maximumRetryAttempts")
}

/// MaximumEventAgeInSeconds: 60–21600.
pub fn max_event_age(n: i64) -> Result<u32, Error> {
    super::validate::range(n, 60, 21_600, "maximumEventAgeInSeconds")
}

/// What a destination ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationKind {
    Lambda,
    Sqs,
    Sns,
    EventBridge,
    S3,
}

impl DestinationKind {
    /// How error messages name the kind.
    pub fn describe(self) -> &'static str {
        match self {
            DestinationKind::Lambda => "Lambda functions",
            DestinationKind::Sqs => "SQS queues",
            DestinationKind::Sns => "SNS topics",
            DestinationKind::EventBridge => "EventBridge event buses",
            DestinationKind::S3 => "S3 buckets",
        }
    }
}

/// Where a destination or dead-letter ARN is used: the rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationUse {
    OnSuccess,
    OnFailure,
    DeadLetter,
}

impl DestinationUse {
    /// The member name, as error messages show it.
    pub fn member(self) -> &'static str {
        match self {
            DestinationUse::OnSuccess => "DestinationConfig.OnSuccess.Destination",
            DestinationUse::OnFailure => "DestinationConfig.OnFailure.Destination",
            DestinationUse::DeadLetter => "DeadLetterConfig.TargetArn",
        }
    }
}

/// A parsed destination ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationArn {
    pub kind: DestinationKind,
    pub arn: String,
    /// What follows `arn:aws:SERVICE:REGION:ACCOUNT:` (`function:f[:q]`, a queue name, ...).
    pub resource: String,
}

impl DestinationArn {
    /// Parses `arn` as a destination of this lambdabox's region and account (S3 bucket ARNs
    /// carry neither).
    pub fn parse(arn: &str, me: &Identity, used: DestinationUse) -> Result<DestinationArn, Error> {
        let invalid = |why: &str| {
            Error::InvalidParameterValue(format!(
                "The destination ARN {arn} in {} is invalid: {why}",
                used.member()
            ))
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(invalid("expected arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE"));
        };
        if *prefix != "arn" || !partition.starts_with("aws") || resource.is_empty() {
            return Err(invalid("expected arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE"));
        }
        let kind = match *service {
            "lambda" => DestinationKind::Lambda,
            "sqs" => DestinationKind::Sqs,
            "sns" => DestinationKind::Sns,
            "events" => DestinationKind::EventBridge,
            "s3" => DestinationKind::S3,
            other => {
                return Err(invalid(&format!(
                    "destinations are Lambda functions, SQS queues, SNS topics, EventBridge event buses or S3 buckets, not '{other}' resources"
                )))
            }
        };
        if kind == DestinationKind::S3 {
            if !region.is_empty() || !account.is_empty() {
                return Err(invalid("an S3 bucket ARN is arn:aws:s3:::BUCKET"));
            }
        } else if *region != me.region || *account != me.account_id {
            return Err(invalid(&format!(
                "it must be in this lambdabox's region and account ({}:{})",
                me.region, me.account_id
            )));
        }
        if kind == DestinationKind::Lambda && !resource.starts_with("function:") {
            return Err(invalid("a Lambda destination is a function ARN"));
        }
        if kind == DestinationKind::EventBridge && !resource.starts_with("event-bus/") {
            return Err(invalid("an EventBridge destination is an event bus ARN"));
        }
        match (used, kind) {
            (DestinationUse::DeadLetter, DestinationKind::Sqs | DestinationKind::Sns) => {}
            (DestinationUse::DeadLetter, _) => {
                return Err(Error::InvalidParameterValue(format!(
                    "The target ARN {arn} of DeadLetterConfig is invalid: a dead-letter queue is an SQS queue or an SNS topic. Use an OnFailure destination (PutFunctionEventInvokeConfig) for {}.",
                    kind.describe()
                )))
            }
            (DestinationUse::OnSuccess, DestinationKind::S3) => {
                return Err(invalid("S3 buckets are supported only for on-failure destinations"))
            }
            _ => {}
        }
        Ok(DestinationArn {
            kind,
            arn: arn.to_string(),
            resource: resource.to_string(),
        })
    }
}

/// The recursive loop setting of a function (`PutFunctionRecursionConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecursiveLoop {
    Allow,
    #[default]
    Terminate,
}

impl RecursiveLoop {
    pub fn parse(s: &str) -> Result<RecursiveLoop, Error> {
        match s {
            "Allow" => Ok(RecursiveLoop::Allow),
            "Terminate" => Ok(RecursiveLoop::Terminate),
            other => Err(Error::constraint(
                other,
                "recursiveLoop",
                "Member must satisfy enum value set: [Allow, Terminate]",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecursiveLoop::Allow => "Allow",
            RecursiveLoop::Terminate => "Terminate",
        }
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

    #[test]
    fn ranges_match_aws() {
        assert!(retry_attempts(0).is_ok() && retry_attempts(2).is_ok());
        assert!(matches!(retry_attempts(3), Err(Error::Validation(_))));
        assert!(matches!(retry_attempts(-1), Err(Error::Validation(_))));
        assert!(max_event_age(60).is_ok() && max_event_age(21_600).is_ok());
        assert!(max_event_age(59).is_err() && max_event_age(21_601).is_err());
        let c = EventInvokeConfig::default();
        assert_eq!((c.retry_attempts(), c.max_event_age_secs()), (2, 21_600));
    }

    #[test]
    fn destination_arns_are_parsed_by_kind() {
        let p = |a: &str, u| DestinationArn::parse(a, &me(), u);
        let f = p(
            "arn:aws:lambda:us-east-1:000000000000:function:f:prod",
            DestinationUse::OnSuccess,
        )
        .unwrap();
        assert_eq!(f.kind, DestinationKind::Lambda);
        assert_eq!(f.resource, "function:f:prod");
        let q = p(
            "arn:aws:sqs:us-east-1:000000000000:q",
            DestinationUse::DeadLetter,
        )
        .unwrap();
        assert_eq!(q.kind, DestinationKind::Sqs);
        assert!(p("arn:aws:s3:::bucket", DestinationUse::OnFailure).is_ok());
        assert!(p("arn:aws:s3:::bucket", DestinationUse::OnSuccess).is_err());
        assert!(p(
            "arn:aws:events:us-east-1:000000000000:event-bus/default",
            DestinationUse::OnFailure
        )
        .is_ok());
        // Dead-letter queues are SQS or SNS only.
        assert!(p(
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            DestinationUse::DeadLetter
        )
        .is_err());
        // Foreign region or account, unknown services, garbage.
        assert!(p(
            "arn:aws:sqs:eu-west-1:000000000000:q",
            DestinationUse::OnFailure
        )
        .is_err());
        assert!(p(
            "arn:aws:sqs:us-east-1:111111111111:q",
            DestinationUse::OnFailure
        )
        .is_err());
        assert!(p(
            "arn:aws:dynamodb:us-east-1:000000000000:table/t",
            DestinationUse::OnFailure
        )
        .is_err());
        assert!(p("not-an-arn", DestinationUse::OnFailure).is_err());
        assert!(p(
            "arn:aws:lambda:us-east-1:000000000000:layer:l",
            DestinationUse::OnFailure
        )
        .is_err());
    }

    #[test]
    fn recursive_loop_values() {
        assert_eq!(RecursiveLoop::parse("Allow").unwrap(), RecursiveLoop::Allow);
        assert_eq!(RecursiveLoop::default().as_str(), "Terminate");
        assert!(RecursiveLoop::parse("allow").is_err());
    }
}
