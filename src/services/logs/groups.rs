//! Log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, Put/DeleteRetentionPolicy,
//! DescribeLogStreams.

use super::{bad_token, check_group_name, no_group, LogsError};
use crate::domain::function::now_ms;
use crate::services::Context;
use crate::store::logs_query::{self as q, GroupRow, StreamRow};

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub async fn create(ctx: &Context, name: &str) -> Result<(), LogsError> {
    check_group_name(name)?;
    let n = name.to_string();
    if ctx
        .logs
        .call(move |c| q::create_group(c, &n, now_ms()))
        .await?
    {
        Ok(())
    } else {
        Err(LogsError::AlreadyExists(
            "The specified log group already exists".into(),
        ))
    }
}

pub async fn delete(ctx: &Context, name: &str) -> Result<(), LogsError> {
    check_group_name(name)?;
    let n = name.to_string();
    if ctx.logs.call(move |c| q::delete_group(c, &n)).await? {
        Ok(())
    } else {
        Err(no_group())
    }
}

pub async fn set_retention(ctx: &Context, name: &str, days: Option<i64>) -> Result<(), LogsError> {
    check_group_name(name)?;
    if let Some(d) = days {
        if !RETENTION_DAYS.contains(&d) {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{d}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
            )));
        }
    }
    let n = name.to_string();
    if ctx
        .logs
        .call(move |c| q::set_retention(c, &n, days))
        .await?
    {
        Ok(())
    } else {
        Err(no_group())
    }
}

/// A page of groups and the token of the next one.
pub async fn describe(
    ctx: &Context,
    prefix: &str,
    token: Option<&str>,
    limit: usize,
) -> Result<(Vec<GroupRow>, Option<String>), LogsError> {
    let after = match token {
        None => String::new(),
        Some(t) => t
            .strip_prefix("g/")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(bad_token)?,
    };
    let p = prefix.to_string();
    let mut rows = ctx
        .logs
        .call(move |c| q::list_groups(c, &p, &after, limit + 1))
        .await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|g| format!("g/{}", hex::encode(&g.name)))
    } else {
        None
    };
    Ok((rows, next))
}

/// How DescribeLogStreams orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOrder {
    pub by_last_event: bool,
    pub descending: bool,
}

/// A page of streams and the token of the next one.
pub async fn streams(
    ctx: &Context,
    group: &str,
    prefix: &str,
    order: StreamOrder,
    token: Option<&str>,
    limit: usize,
) -> Result<(Vec<StreamRow>, Option<String>), LogsError> {
    if order.by_last_event && !prefix.is_empty() {
        return Err(LogsError::InvalidParameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
        ));
    }
    let offset = match token {
        None => 0,
        Some(t) => t
            .strip_prefix("o/")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(bad_token)?,
    };
    let (g, p) = (group.to_string(), prefix.to_string());
    let (exists, mut rows) = ctx
        .logs
        .call(move |c| {
            Ok((
                q::group_exists(c, &g)?,
                q::list_streams(
                    c,
                    &g,
                    &p,
                    order.by_last_event,
                    order.descending,
                    offset,
                    limit + 1,
                )?,
            ))
        })
        .await?;
    if !exists {
        return Err(no_group());
    }
    let next = if rows.len() > limit {
        rows.truncate(limit);
        Some(format!("o/{}", offset + limit))
    } else {
        None
    };
    Ok((rows, next))
}
