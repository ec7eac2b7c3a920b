//! Amazon EventBridge (signing name `events`, AWS JSON 1.1, `X-Amz-Target: AWSEvents.*`):
//! event buses, rules, targets, PutEvents and TestEventPattern. Only wire shapes here; the
//! operations are `services::events`.

mod buses;
mod put_events;
mod rules;
mod targets;

use serde_json::{Map, Value};

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::{json, Protocol, Reply};
use crate::api::request::ApiRequest;
use crate::api::service::{Operation, Service};
use crate::api::AppState;
use crate::services::events::{self as ev, EbError};

pub static SERVICE: Service = Service {
    name: "Amazon EventBridge",
    signing_name: "events",
    protocols: &[Protocol::AwsJson11],
    target_prefix: Some("AWSEvents"),
    path_prefixes: &[],
    xml_namespace: "",
    operations: &[
        Operation::new("PutRule", rules::put_rule),
        Operation::new("DescribeRule", rules::describe_rule),
        Operation::new("ListRules", rules::list_rules),
        Operation::new("DeleteRule", rules::delete_rule),
        Operation::new("EnableRule", rules::enable_rule),
        Operation::new("DisableRule", rules::disable_rule),
        Operation::new("PutTargets", targets::put_targets),
        Operation::new("RemoveTargets", targets::remove_targets),
        Operation::new("ListTargetsByRule", targets::list_targets_by_rule),
        Operation::new("ListRuleNamesByTarget", targets::list_rule_names_by_target),
        Operation::new("PutEvents", put_events::put_events).cap(262_144 * 4),
        Operation::new("TestEventPattern", put_events::test_event_pattern),
        Operation::new("CreateEventBus", buses::create_event_bus),
        Operation::new("DescribeEventBus", buses::describe_event_bus),
        Operation::new("DeleteEventBus", buses::delete_event_bus),
        Operation::new("ListEventBuses", buses::list_event_buses),
    ],
    fallback: None,
    public: &[],
};

pub const NOT_FOUND: ErrorKind = ErrorKind::new("ResourceNotFoundException", 400);
pub const VALIDATION: ErrorKind = ErrorKind::new("ValidationException", 400);
pub const INVALID_PATTERN: ErrorKind = ErrorKind::new("InvalidEventPatternException", 400);
pub const ALREADY_EXISTS: ErrorKind = ErrorKind::new("ResourceAlreadyExistsException", 400);
pub const LIMIT_EXCEEDED: ErrorKind = ErrorKind::new("LimitExceededException", 400);
pub const INTERNAL: ErrorKind = ErrorKind::new("InternalException", 500);

/// EventBridge's code for each kind.
pub fn error(e: EbError) -> ApiError {
    let kind = match &e {
        EbError::NotFound(_) => NOT_FOUND,
        EbError::Validation(_) => VALIDATION,
        EbError::InvalidPattern(_) => INVALID_PATTERN,
        EbError::AlreadyExists(_) => ALREADY_EXISTS,
        EbError::LimitExceeded(_) => LIMIT_EXCEEDED,
        EbError::Internal(_) => INTERNAL,
    };
    kind.with(e.to_string())
}

/// The request body as a JSON object.
pub(crate) fn body(req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    json::input(&req.body)
}

/// The bus `EventBusName` names (the default bus when absent), as a name.
pub(crate) fn bus(state: &AppState, m: &Map<String, Value>) -> Result<String, ApiError> {
    ev::bus_name(&state.ctx.identity, text(m, "EventBusName")).map_err(error)
}

/// The required member `key` (a rule's `Name`, `Rule`, `TargetArn`) and the bus it is on:
/// the opening of every rule and target operation.
pub(crate) fn named<'a>(
    state: &AppState,
    m: &'a Map<String, Value>,
    key: &str,
) -> Result<(&'a str, String), ApiError> {
    let name = required(m, key)?;
    Ok((name, bus(state, m)?))
}

/// One page of `all` (`NextToken`, `Limit`, 100 by default) as `{member: [...], NextToken}`.
pub(crate) fn paged<T>(
    all: Vec<T>,
    m: &Map<String, Value>,
    member: &str,
    item: impl Fn(&T) -> Value,
) -> Result<Reply, ApiError> {
    let (page, next) = ev::page(
        all,
        text(m, "NextToken"),
        m.get("Limit").and_then(Value::as_i64),
        100,
    )
    .map_err(error)?;
    let mut out = Map::new();
    out.insert(member.to_string(), page.iter().map(item).collect());
    if let Some(n) = next {
        out.insert("NextToken".to_string(), Value::String(n));
    }
    Ok(Reply::Value(Value::Object(out)))
}

/// The empty answer of operations that return nothing.
pub(crate) fn empty() -> Reply {
    Reply::Value(Value::Object(Map::new()))
}

/// A string member.
pub(crate) fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// A required string member, or AWS's validation error naming it.
pub(crate) fn required<'a>(m: &'a Map<String, Value>, k: &str) -> Result<&'a str, ApiError> {
    text(m, k).filter(|s| !s.is_empty()).ok_or_else(|| {
        let member = lower_first(k);
        VALIDATION.with(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn lower_first(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Seconds since the epoch (AWS JSON timestamps).
pub(crate) fn epoch(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}
