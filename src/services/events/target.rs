//! A rule's target as PutTargets receives it, checked: only Lambda functions of this
//! account and region are targets here, and every member given is honoured or refused.
//! `DeadLetterConfig.Arn` names a standard SQS queue of this lambdabox (checked to exist by
//! `rules::put_targets`); undeliverable events go there (`fanout`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{check_name, constraint, EbError};
use super::input;
use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::{DestinationArn, DestinationKind, DestinationUse};
use crate::domain::Identity;

/// `RetryPolicy` of a target (EventBridge's and Scheduler's share the shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u32>,
}

impl RetryPolicy {
    /// AWS's defaults: 185 attempts within 24 hours.
    pub fn attempts(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(185)
    }
    pub fn max_age_secs(&self) -> u32 {
        self.maximum_event_age_in_seconds.unwrap_or(86_400)
    }

    /// Checks the ranges AWS allows.
    pub fn check(&self, member: &str) -> Result<(), EbError> {
        if let Some(n) = self.maximum_retry_attempts {
            if n > 185 {
                return Err(constraint(
                    &n.to_string(),
                    &format!("{member}.maximumRetryAttempts"),
                    "Member must have value less than or equal to 185",
                ));
            }
        }
        if let Some(n) = self.maximum_event_age_in_seconds {
            if !(60..=86_400).contains(&n) {
                return Err(constraint(
                    &n.to_string(),
                    &format!("{member}.maximumEventAgeInSeconds"),
                    "Member must have value between 60 and 86400",
                ));
            }
        }
        Ok(())
    }
}

/// `InputTransformer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputTransformer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_paths_map: Option<std::collections::BTreeMap<String, String>>,
    pub input_template: String,
}

/// One target, as stored and as ListTargetsByRule returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub id: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
}

/// `DeadLetterConfig` of a target: the SQS queue undeliverable events go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

const MEMBERS: &[&str] = &[
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
    "DeadLetterConfig",
];

impl Target {
    /// Checks one entry of PutTargets' `Targets` (index `i` for messages).
    pub fn from_wire(v: &Value, i: usize, me: &Identity) -> Result<Target, EbError> {
        let Some(obj) = v.as_object() else {
            return Err(EbError::Validation(format!(
                "Targets[{i}] must be an object."
            )));
        };
        check_members(obj, i)?;
        let t: Target = serde_json::from_value(v.clone())
            .map_err(|e| EbError::Validation(format!("Targets[{i}] is not a valid target: {e}")))?;
        check_name(&t.id, &format!("targets.{}.member.id", i + 1), 64, "")?;
        t.function(me)?;
        t.dead_letter(me)?;
        let given = [
            t.input.is_some(),
            t.input_path.is_some(),
            t.input_transformer.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(EbError::Validation(format!(
                "Target {}: only one of Input, InputPath and InputTransformer may be given.",
                t.id
            )));
        }
        if let Some(text) = &t.input {
            if serde_json::from_str::<Value>(text).is_err() {
                return Err(EbError::Validation(format!(
                    "Target {}: Input is not valid JSON text.",
                    t.id
                )));
            }
        }
        if let Some(p) = &t.input_path {
            input::JsonPath::parse(p).map_err(|e| {
                EbError::Validation(format!(
                    "Target {}: InputPath {p:?} is not valid: {e}",
                    t.id
                ))
            })?;
        }
        if let Some(x) = &t.input_transformer {
            input::check_transformer(x).map_err(|e| {
                EbError::Validation(format!("Target {}: InputTransformer: {e}", t.id))
            })?;
        }
        if let Some(r) = &t.retry_policy {
            r.check(&format!("targets.{}.member.retryPolicy", i + 1))?;
        }
        Ok(t)
    }

    /// The queue of `DeadLetterConfig` (SQS only, as EventBridge allows), if one is set.
    pub fn dead_letter(&self, me: &Identity) -> Result<Option<DestinationArn>, EbError> {
        let Some(raw) = self
            .dead_letter_config
            .as_ref()
            .and_then(|d| d.arn.as_deref())
        else {
            return Ok(None);
        };
        let arn = DestinationArn::parse(raw, me, DestinationUse::DeadLetter).map_err(|e| {
            EbError::Validation(format!("Target {}: DeadLetterConfig.Arn: {e}", self.id))
        })?;
        if arn.kind != DestinationKind::Sqs {
            return Err(EbError::Validation(format!(
                "Target {}: DeadLetterConfig.Arn {raw} is not an SQS queue ARN; EventBridge dead-letter queues are SQS queues.",
                self.id
            )));
        }
        Ok(Some(arn))
    }

    /// The function this target invokes.
    pub fn function(&self, me: &Identity) -> Result<FunctionRef, EbError> {
        lambda_target(&self.arn, me)
            .map_err(|m| EbError::Validation(format!("Target {}: {m}", self.id)))
    }
}

fn check_members(obj: &Map<String, Value>, i: usize) -> Result<(), EbError> {
    for k in obj.keys() {
        if !MEMBERS.contains(&k.as_str()) {
            return Err(EbError::Validation(format!(
                "Targets[{i}].{k}: lambdabox delivers rule targets to Lambda functions only, and {k} does not apply to them."
            )));
        }
    }
    Ok(())
}

/// The function a target ARN names (`arn:aws:lambda:<region>:<account>:function:<name>[:q]`),
/// or why it is not one this lambdabox can invoke.
pub fn lambda_target(arn: &str, me: &Identity) -> Result<FunctionRef, String> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[5] != "function" {
        return Err(format!(
            "{arn} is not a Lambda function ARN; lambdabox delivers to Lambda functions only (arn:aws:lambda:{}:{}:function:NAME).",
            me.region, me.account_id
        ));
    }
    if parts[2] != "lambda" {
        return Err(format!(
            "{arn} is a {} ARN; lambdabox delivers to Lambda functions only.",
            parts[2]
        ));
    }
    if parts[3] != me.region || parts[4] != me.account_id {
        return Err(format!(
            "{arn} is not in this lambdabox's region and account ({} {}).",
            me.region, me.account_id
        ));
    }
    let (name, qualifier) = match parts[6].split_once(':') {
        Some((n, q)) => (n, Some(q.to_string())),
        None => (parts[6], None),
    };
    if name.is_empty() || qualifier.as_deref() == Some("") {
        return Err(format!("{arn} does not name a function."));
    }
    Ok(FunctionRef {
        name: name.to_string(),
        qualifier,
    })
}
