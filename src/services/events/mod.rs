//! EventBridge: event buses, rules (schedule expressions or event patterns) and their
//! targets, PutEvents and TestEventPattern — validated here, stored by `store::rules`,
//! fired by the clock (`scheduler`) and by PutEvents through [`fanout::Fanout`].
//!
//! Rules: a rule lives on one bus (`default` unless named); a schedule expression is
//! allowed on the default bus only; a rule with targets is deleted only with `Force`; a
//! disabled rule never fires. Every write names the rule to the clock ([`changes`]) after
//! it committed.

pub mod buses;
pub mod changes;
pub mod clock;
pub mod deliver;
pub mod error;
pub mod fanout;
pub mod input;
pub mod put_events;
pub mod record;
pub mod rules;
pub mod target;

use crate::domain::Identity;
pub use error::EbError;

/// The default bus of every account.
pub const DEFAULT_BUS: &str = "default";

/// `arn:aws:events:<region>:<account>:event-bus/<name>`
pub fn bus_arn(me: &Identity, bus: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:event-bus/{bus}",
        me.region, me.account_id
    )
}

/// A rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` on another.
pub fn rule_arn(me: &Identity, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{}:{}:rule/{name}", me.region, me.account_id)
    } else {
        format!(
            "arn:aws:events:{}:{}:rule/{bus}/{name}",
            me.region, me.account_id
        )
    }
}

/// The bus an `EventBusName` member names (a name or a bus ARN; absent: the default bus).
pub fn bus_name(me: &Identity, given: Option<&str>) -> Result<String, EbError> {
    let Some(g) = given.filter(|g| !g.is_empty()) else {
        return Ok(DEFAULT_BUS.to_string());
    };
    if let Some(rest) = g.strip_prefix("arn:") {
        let prefix = format!("aws:events:{}:{}:event-bus/", me.region, me.account_id);
        return match rest.strip_prefix(&prefix) {
            Some(name) if !name.is_empty() => Ok(name.to_string()),
            _ => Err(EbError::Validation(format!(
                "{g} is not an event bus ARN of this lambdabox ({})",
                bus_arn(me, "NAME")
            ))),
        };
    }
    error::check_name(g, "eventBusName", 256, "/")?;
    Ok(g.to_string())
}

/// Pages of a sorted list: `NextToken` is the index to continue from.
pub fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<i64>,
    default_limit: usize,
) -> Result<(Vec<T>, Option<String>), EbError> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| EbError::Validation("The NextToken is not valid.".into()))?,
    };
    let limit = match limit {
        None => default_limit,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(error::constraint(
                &n.to_string(),
                "limit",
                "Member must have value between 1 and 100",
            ))
        }
    };
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + out.len() < total).then(|| (start + out.len()).to_string());
    Ok((out, next))
}
