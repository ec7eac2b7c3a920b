//! PutEvents (events from applications, such as home automation, onto a bus; every enabled
//! rule of the bus whose pattern matches sends the event to its targets) and
//! TestEventPattern.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::fanout::Fanout;
use super::rules::check_pattern;
use super::{bus_name, EbError};
use crate::store::rules as rstore;

/// One entry's outcome: its event id, or an error code and message.
pub type EntryResult = Result<String, (String, String)>;

/// Largest total size of one PutEvents call's entries (256 KB).
pub const MAX_ENTRIES_SIZE: usize = 262_144;

fn invalid(member: &str, reason: &str) -> (String, String) {
    (
        "InvalidArgument".into(),
        format!("Parameter {member} is not valid. Reason: {reason}"),
    )
}

/// Builds the event of one entry, or the entry's error.
fn event_of(
    fanout: &Fanout,
    entry: &Map<String, Value>,
    now: jiff::Timestamp,
) -> Result<(String, Value), (String, String)> {
    let me = &fanout.ctx.identity;
    let text = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let source =
        text("Source").ok_or_else(|| invalid("Source", "Source is a required argument."))?;
    if source.starts_with("aws.") {
        return Err((
            "NotAuthorizedForSourceException".into(),
            format!("Not authorized for the source {source}: sources starting with aws. are reserved for AWS services."),
        ));
    }
    let detail_type = text("DetailType")
        .ok_or_else(|| invalid("DetailType", "DetailType is a required argument."))?;
    let detail =
        text("Detail").ok_or_else(|| invalid("Detail", "Detail is a required argument."))?;
    let detail: Value = match serde_json::from_str(detail) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Err(invalid("Detail", "Detail is malformed.")),
    };
    let resources: Vec<Value> = match entry.get("Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a.clone(),
        Some(_) => return Err(invalid("Resources", "Resources must be a list of strings.")),
    };
    let time = match entry.get("Time") {
        None | Some(Value::Null) => now,
        Some(v) => v
            .as_f64()
            .and_then(|s| jiff::Timestamp::from_millisecond((s * 1000.0) as i64).ok())
            .ok_or_else(|| invalid("Time", "Time must be a timestamp."))?,
    };
    let bus = bus_name(me, text("EventBusName"))
        .map_err(|e| ("InvalidArgument".to_string(), e.to_string()))?;
    let id = uuid::Uuid::new_v4().to_string();
    let event = json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": source,
        "account": me.account_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": me.region,
        "resources": resources,
        "detail": detail,
    });
    Ok((bus, event))
}

/// PutEvents: each entry is checked and matched on its own; the call answers once every
/// matching target's first delivery attempt ended.
pub async fn put_events(
    fanout: &Arc<Fanout>,
    entries: &[Value],
) -> Result<Vec<EntryResult>, EbError> {
    if entries.is_empty() || entries.len() > 10 {
        return Err(super::error::constraint(
            &format!("{} entries", entries.len()),
            "entries",
            "Member must have length between 1 and 10",
        ));
    }
    let size: usize = entries.iter().map(|e| e.to_string().len()).sum();
    if size > MAX_ENTRIES_SIZE {
        return Err(EbError::Validation(format!(
            "Total size of the entries in the request is over the limit ({size} bytes; at most {MAX_ENTRIES_SIZE})."
        )));
    }
    let now = jiff::Timestamp::now();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let Some(obj) = e.as_object() else {
            out.push(Err(invalid("Entries", "each entry must be an object.")));
            continue;
        };
        let (bus, event) = match event_of(fanout, obj, now) {
            Ok(x) => x,
            Err(err) => {
                out.push(Err(err));
                continue;
            }
        };
        let b = bus.clone();
        let rules = fanout
            .ctx
            .store
            .call(move |c| {
                Ok(match rstore::get_bus(c, &b)? {
                    None => None,
                    Some(_) => Some(rstore::pattern_rules(c, &b)?),
                })
            })
            .await?;
        let Some(rules) = rules else {
            out.push(Err((
                "NotFoundException".into(),
                format!("Event bus {bus} does not exist."),
            )));
            continue;
        };
        for (rule, targets) in rules {
            let Some(p) = rule.pattern.as_deref().and_then(|p| check_pattern(p).ok()) else {
                continue;
            };
            if p.matches(&event) && !targets.is_empty() {
                fanout.rule_event(&rule, &targets, &event, None).await;
            }
        }
        out.push(Ok(event["id"].as_str().unwrap_or_default().to_string()));
    }
    Ok(out)
}

/// TestEventPattern: whether `event` (JSON text with the envelope's fields) matches.
pub fn test_pattern(pattern: &str, event: &str) -> Result<bool, EbError> {
    let p = check_pattern(pattern)?;
    let e: Value = serde_json::from_str(event)
        .map_err(|e| EbError::Validation(format!("Parameter Event is not valid: {e}.")))?;
    let Some(obj) = e.as_object() else {
        return Err(EbError::Validation(
            "Parameter Event is not valid: it must be a JSON object.".into(),
        ));
    };
    for k in ["id", "account", "source", "time", "region", "detail-type"] {
        if !obj.contains_key(k) {
            return Err(EbError::Validation(format!(
                "Parameter Event is not valid: the event has no {k:?} field."
            )));
        }
    }
    Ok(p.matches(&e))
}
