//! Event source mappings (SQS queues → functions): CreateEventSourceMapping and friends,
//! validated as Lambda does for SQS sources, stored in the main database. The pollers
//! (`triggers::esm`) read the rows and move each mapping through its states
//! (Creating/Enabling/Updating → Enabled, Disabling → Disabled).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::functions::resolve_for_invoke;
use super::sqs::Queues;
use super::Context;
use crate::domain::arn::FunctionRef;
use crate::domain::pattern::EventPattern;
use crate::domain::Error;
use crate::store::esm::{self, EsmRow};

/// Most filters of one mapping.
pub const MAX_FILTERS: usize = 5;
/// The MetricsConfig group of the event count metrics (the one SQS sources have).
pub const EVENT_COUNT: &str = "EventCount";

/// What a Create or Update call asks for (absent = unchanged / default).
#[derive(Debug, Clone, Default)]
pub struct EsmChange {
    pub function: Option<FunctionRef>,
    pub event_source_arn: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub batching_window_s: Option<i64>,
    pub response_types: Option<Vec<String>>,
    /// `Some(None)`: ScalingConfig given without MaximumConcurrency (cleared).
    pub max_concurrency: Option<Option<i64>>,
    pub filters: Option<Vec<String>>,
    /// MetricsConfig.Metrics (`Some(vec![])`: none).
    pub metrics: Option<Vec<String>>,
    pub tags: BTreeMap<String, String>,
}

/// A stored mapping's parsed configuration.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub row: EsmRow,
    pub function: FunctionRef,
    pub filters: Vec<EventPattern>,
    pub report_failures: bool,
    /// MetricsConfig has `EventCount`: the poller's counts go to CloudWatch (`AWS/Lambda`,
    /// dimension EventSourceMappingUUID).
    pub event_count_metrics: bool,
}

impl Mapping {
    /// Parses a stored row.
    pub fn from_row(row: EsmRow) -> Mapping {
        let filters: Vec<String> = serde_json::from_str(&row.filters).unwrap_or_default();
        let types: Vec<String> = serde_json::from_str(&row.response_types).unwrap_or_default();
        let metrics: Vec<String> = serde_json::from_str(&row.metrics).unwrap_or_default();
        Mapping {
            event_count_metrics: metrics.iter().any(|m| m == EVENT_COUNT),
            function: FunctionRef {
                name: row.function_name.clone(),
                qualifier: row.qualifier.clone(),
            },
            filters: filters
                .iter()
                .filter_map(|f| EventPattern::parse(f).ok())
                .collect(),
            report_failures: types.iter().any(|t| t == "ReportBatchItemFailures"),
            row,
        }
    }
}

fn bad(m: impl Into<String>) -> Error {
    Error::InvalidParameterValue(m.into())
}

/// The AWS shape of a mapping (EventSourceMappingConfiguration).
pub fn shape(ctx: &Context, row: &EsmRow) -> Value {
    let function_arn = match &row.qualifier {
        Some(q) => ctx.identity.qualified_arn(&row.function_name, q),
        None => ctx.identity.function_arn(&row.function_name),
    };
    let types: Value = serde_json::from_str(&row.response_types).unwrap_or(json!([]));
    let filters: Vec<String> = serde_json::from_str(&row.filters).unwrap_or_default();
    let mut v = json!({
        "UUID": row.uuid,
        "EventSourceMappingArn": format!(
            "arn:aws:lambda:{}:{}:event-source-mapping:{}",
            ctx.identity.region, ctx.identity.account_id, row.uuid
        ),
        "BatchSize": row.batch_size,
        "MaximumBatchingWindowInSeconds": row.batching_window_s,
        "EventSourceArn": row.event_source_arn,
        "FunctionArn": function_arn,
        "LastModified": row.last_modified_ms as f64 / 1000.0,
        "LastProcessingResult": row.last_result,
        "State": row.state,
        "StateTransitionReason": row.state_reason,
        "FunctionResponseTypes": types,
    });
    if let Some(m) = row.max_concurrency {
        v["ScalingConfig"] = json!({ "MaximumConcurrency": m });
    }
    if !filters.is_empty() {
        let f: Vec<Value> = filters.iter().map(|p| json!({ "Pattern": p })).collect();
        v["FilterCriteria"] = json!({ "Filters": f });
    }
    let metrics: Vec<String> = serde_json::from_str(&row.metrics).unwrap_or_default();
    if !metrics.is_empty() {
        v["MetricsConfig"] = json!({ "Metrics": metrics });
    }
    v
}

/// Checks a mapping's settings against its queue and function.
async fn validate(ctx: &Context, sqs: &Queues, row: &EsmRow) -> Result<(), Error> {
    let q = sqs.by_arn(&row.event_source_arn).await.ok_or_else(|| {
        bad(format!(
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist ({}).",
            row.event_source_arn
        ))
    })?;
    let fifo = q.attrs.fifo;
    if !(1..=10_000).contains(&row.batch_size) {
        return Err(Error::Validation(format!(
            "1 validation error detected: Value '{}' at 'batchSize' failed to satisfy constraint: Member must have value between 1 and 10000",
            row.batch_size
        )));
    }
    if fifo && row.batch_size > 10 {
        return Err(bad(
            "Batch size for FIFO SQS queues must be between 1 and 10.",
        ));
    }
    if !(0..=300).contains(&row.batching_window_s) {
        return Err(Error::Validation(format!(
            "1 validation error detected: Value '{}' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300",
            row.batching_window_s
        )));
    }
    if fifo && row.batching_window_s > 0 {
        return Err(bad(
            "Batching window is not supported for FIFO queues (MaximumBatchingWindowInSeconds must be 0).",
        ));
    }
    if row.batch_size > 10 && row.batching_window_s < 1 {
        return Err(bad(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    if let Some(m) = row.max_concurrency {
        if !(2..=1000).contains(&m) {
            return Err(Error::Validation(format!(
                "1 validation error detected: Value '{m}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value between 2 and 1000"
            )));
        }
    }
    let fv = resolve_for_invoke(
        ctx,
        &FunctionRef {
            name: row.function_name.clone(),
            qualifier: row.qualifier.clone(),
        },
    )
    .await?;
    let timeout = i64::from(fv.config.timeout);
    if timeout > q.attrs.visibility_timeout {
        return Err(bad(format!(
            "Queue visibility timeout: {} seconds is less than Function timeout: {timeout} seconds",
            q.attrs.visibility_timeout
        )));
    }
    Ok(())
}

fn apply(row: &mut EsmRow, c: &EsmChange) -> Result<(), Error> {
    if let Some(e) = c.enabled {
        row.enabled = e;
    }
    if let Some(b) = c.batch_size {
        row.batch_size = b;
    }
    if let Some(w) = c.batching_window_s {
        row.batching_window_s = w;
    }
    if let Some(t) = &c.response_types {
        for x in t {
            if x != "ReportBatchItemFailures" {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '[{x}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]"
                )));
            }
        }
        row.response_types = json!(t).to_string();
    }
    if let Some(m) = c.max_concurrency {
        row.max_concurrency = m;
    }
    if let Some(f) = &c.filters {
        if f.len() > MAX_FILTERS {
            return Err(bad(format!(
                "Invalid filter criteria: at most {MAX_FILTERS} filters are allowed per event source mapping."
            )));
        }
        for p in f {
            EventPattern::parse(p)
                .map_err(|e| bad(format!("Invalid filter pattern definition: {e}")))?;
        }
        row.filters = json!(f).to_string();
    }
    if let Some(m) = &c.metrics {
        for x in m {
            match x.as_str() {
                EVENT_COUNT => {}
                "ErrorCount" | "KafkaMetrics" => {
                    return Err(bad(format!(
                        "Unsupported MetricsConfig metric {x} for event source type SQS: only EventCount is supported."
                    )))
                }
                _ => {
                    return Err(Error::Validation(format!(
                        "1 validation error detected: Value '[{x}]' at 'metricsConfig.metrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [EventCount, ErrorCount, KafkaMetrics]]"
                    )))
                }
            }
        }
        let mut m = m.clone();
        m.dedup();
        row.metrics = json!(m).to_string();
    }
    if let Some(r) = &c.function {
        row.function_name = r.name.clone();
        row.qualifier = r.qualifier.clone();
    }
    Ok(())
}

/// CreateEventSourceMapping.
pub async fn create(ctx: &Context, sqs: &Queues, c: EsmChange) -> Result<EsmRow, Error> {
    let function = c
        .function
        .clone()
        .ok_or_else(|| bad("FunctionName is required."))?;
    let source = c.event_source_arn.clone().ok_or_else(|| {
        bad("Unrecognized event source, must be kafka or specify an EventSourceArn.")
    })?;
    if !source.starts_with("arn:aws:sqs:") {
        return Err(bad(format!(
            "lambdabox serves event source mappings for SQS queues only; {source} is not an SQS queue ARN."
        )));
    }
    let now = crate::domain::function::now_ms();
    let mut row = EsmRow {
        uuid: uuid::Uuid::new_v4().to_string(),
        function_name: function.name.clone(),
        qualifier: function.qualifier.clone(),
        event_source_arn: source.clone(),
        batch_size: 10,
        batching_window_s: 0,
        enabled: true,
        state: "Creating".into(),
        state_reason: "USER_INITIATED".into(),
        response_types: "[]".into(),
        max_concurrency: None,
        filters: "[]".into(),
        last_modified_ms: now,
        last_result: "No records processed".into(),
        tags: json!(c.tags).to_string(),
        metrics: "[]".into(),
    };
    apply(&mut row, &c)?;
    validate(ctx, sqs, &row).await?;
    let r = row.clone();
    ctx.store
        .call(move |conn| {
            let same = esm::list(conn, Some(&r.function_name), Some(&r.event_source_arn), "", 1)?;
            if let Some(existing) = same.first() {
                return Err(Error::ResourceConflict(format!(
                    "An event source mapping with SQS arn (\" {} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {}",
                    existing.event_source_arn, existing.function_name, existing.uuid
                ))
                .into());
            }
            esm::insert(conn, &r)
        })
        .await?;
    Ok(row)
}

/// GetEventSourceMapping.
pub async fn get(ctx: &Context, uuid: &str) -> Result<EsmRow, Error> {
    let u = uuid.to_string();
    ctx.store
        .call(move |c| esm::get(c, &u))
        .await?
        .ok_or_else(|| not_found(uuid))
}

fn not_found(uuid: &str) -> Error {
    Error::ResourceNotFound(format!(
        "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
    ))
}

/// ListEventSourceMappings (by function and/or source), paged by UUID.
pub async fn list(
    ctx: &Context,
    function: Option<String>,
    source: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<EsmRow>, Option<String>), Error> {
    let limit = super::functions::page_limit(max_items)?;
    let after = marker.unwrap_or_default();
    let mut rows = ctx
        .store
        .call(move |c| {
            esm::list(
                c,
                function.as_deref(),
                source.as_deref(),
                &after,
                i64::try_from(limit + 1).unwrap_or(i64::MAX),
            )
        })
        .await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.uuid.clone())
    } else {
        None
    };
    Ok((rows, next))
}

/// UpdateEventSourceMapping.
pub async fn update(
    ctx: &Context,
    sqs: &Queues,
    uuid: &str,
    c: EsmChange,
) -> Result<EsmRow, Error> {
    if c.event_source_arn.is_some() {
        return Err(bad("The EventSourceArn of a mapping cannot be changed."));
    }
    let current = get(ctx, uuid).await?;
    if matches!(current.state.as_str(), "Creating" | "Updating" | "Deleting") {
        return Err(Error::ResourceInUse(format!(
            "Cannot update the event source mapping because it is in use (state {}). Retry shortly.",
            current.state
        )));
    }
    let mut next = current.clone();
    apply(&mut next, &c)?;
    validate(ctx, sqs, &next).await?;
    let enabled_changed = next.enabled != current.enabled;
    next.state = match (enabled_changed, next.enabled) {
        (true, true) => "Enabling",
        (true, false) => "Disabling",
        (false, _) => "Updating",
    }
    .into();
    next.state_reason = "USER_INITIATED".into();
    next.last_modified_ms = crate::domain::function::now_ms();
    let n = next.clone();
    let u = uuid.to_string();
    ctx.store
        .call(move |conn| esm::update(conn, &u, |_| Ok(n)))
        .await?
        .ok_or_else(|| not_found(uuid))
}

/// DeleteEventSourceMapping: the row as it was, with State `Deleting`.
pub async fn delete(ctx: &Context, uuid: &str) -> Result<EsmRow, Error> {
    let u = uuid.to_string();
    let row = ctx
        .store
        .call(move |conn| {
            esm::delete(conn, &u, |r| {
                if matches!(r.state.as_str(), "Creating" | "Updating") {
                    Err(Error::ResourceInUse(format!(
                        "Cannot delete the event source mapping because it is in use (state {}). Retry shortly.",
                        r.state
                    ))
                    .into())
                } else {
                    Ok(())
                }
            })
        })
        .await?
        .ok_or_else(|| not_found(uuid))?;
    Ok(EsmRow {
        state: "Deleting".into(),
        ..row
    })
}
