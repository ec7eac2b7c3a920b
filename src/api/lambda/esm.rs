//! CreateEventSourceMapping, ListEventSourceMappings, GetEventSourceMapping,
//! UpdateEventSourceMapping and DeleteEventSourceMapping
//! (`/2015-03-31/event-source-mappings/[UUID]`). SQS sources only; members that only
//! streams, Kafka or MQ take are refused by name rather than accepted and ignored.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use crate::api::request::ApiRequest;
use crate::api::{json_response, AppState};
use crate::domain::arn::FunctionRef;
use crate::domain::Error;
use crate::services::event_source_mappings::{self as svc, EsmChange};

type Result<T> = std::result::Result<T, Error>;

/// Members lambdabox takes; anything else of the model is refused as not supported for SQS.
const KNOWN: &[&str] = &[
    "FunctionName",
    "EventSourceArn",
    "Enabled",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
    "FilterCriteria",
    "MetricsConfig",
    "Tags",
];

fn parse(state: &AppState, req: &ApiRequest, creating: bool) -> Result<EsmChange> {
    let body: Map<String, Value> = req.json()?;
    for k in body.keys() {
        if !KNOWN.contains(&k.as_str()) {
            return Err(Error::InvalidParameterValue(format!(
                "lambdabox does not support {k} for event source mappings (SQS sources take BatchSize, MaximumBatchingWindowInSeconds, Enabled, FunctionResponseTypes, ScalingConfig, FilterCriteria and MetricsConfig)."
            )));
        }
    }
    let bad_type = |k: &str| {
        Error::Serialization(format!(
            "Could not parse the request body: {k} has the wrong type"
        ))
    };
    let int = |k: &str| -> Result<Option<i64>> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| bad_type(k)),
        }
    };
    let mut c = EsmChange {
        batch_size: int("BatchSize")?,
        batching_window_s: int("MaximumBatchingWindowInSeconds")?,
        ..EsmChange::default()
    };
    if let Some(v) = body.get("FunctionName").filter(|v| !v.is_null()) {
        let raw = v.as_str().ok_or_else(|| bad_type("FunctionName"))?;
        c.function = Some(FunctionRef::parse(
            raw,
            &state.ctx.identity,
            "functionName",
        )?);
    }
    if let Some(v) = body.get("EventSourceArn").filter(|v| !v.is_null()) {
        c.event_source_arn = Some(
            v.as_str()
                .ok_or_else(|| bad_type("EventSourceArn"))?
                .to_string(),
        );
    }
    if let Some(v) = body.get("Enabled").filter(|v| !v.is_null()) {
        c.enabled = Some(v.as_bool().ok_or_else(|| bad_type("Enabled"))?);
    }
    if let Some(v) = body.get("FunctionResponseTypes").filter(|v| !v.is_null()) {
        let list = v
            .as_array()
            .ok_or_else(|| bad_type("FunctionResponseTypes"))?;
        c.response_types = Some(
            list.iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .ok_or_else(|| bad_type("FunctionResponseTypes"))
                })
                .collect::<Result<_>>()?,
        );
    }
    if let Some(v) = body.get("ScalingConfig").filter(|v| !v.is_null()) {
        let o = v.as_object().ok_or_else(|| bad_type("ScalingConfig"))?;
        c.max_concurrency = Some(match o.get("MaximumConcurrency") {
            None | Some(Value::Null) => None,
            Some(m) => Some(m.as_i64().ok_or_else(|| bad_type("MaximumConcurrency"))?),
        });
    }
    if let Some(v) = body.get("FilterCriteria").filter(|v| !v.is_null()) {
        let filters = v
            .get("Filters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        c.filters = Some(
            filters
                .iter()
                .map(|f| {
                    f.get("Pattern")
                        .and_then(Value::as_str)
                        .map(String::from)
                        .ok_or_else(|| Error::InvalidParameterValue("Invalid filter pattern definition: every filter needs a Pattern string.".into()))
                })
                .collect::<Result<_>>()?,
        );
    }
    if let Some(v) = body.get("MetricsConfig").filter(|v| !v.is_null()) {
        let o = v.as_object().ok_or_else(|| bad_type("MetricsConfig"))?;
        let list = match o.get("Metrics") {
            None | Some(Value::Null) => Vec::new(),
            Some(m) => m
                .as_array()
                .ok_or_else(|| bad_type("Metrics"))?
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .ok_or_else(|| bad_type("Metrics"))
                })
                .collect::<Result<_>>()?,
        };
        c.metrics = Some(list);
    }
    if let Some(v) = body.get("Tags").filter(|v| !v.is_null()) {
        if !creating {
            return Err(Error::InvalidParameterValue(
                "Tags are set with TagResource.".into(),
            ));
        }
        let o = v.as_object().ok_or_else(|| bad_type("Tags"))?;
        for (k, t) in o {
            c.tags.insert(
                k.clone(),
                t.as_str().ok_or_else(|| bad_type("Tags"))?.to_string(),
            );
        }
    }
    Ok(c)
}

pub async fn create(state: &AppState, req: &ApiRequest) -> Result<HttpResponse> {
    let c = parse(state, req, true)?;
    let row = svc::create(&state.ctx, &state.sqs, c).await?;
    state.pollers.changed();
    Ok(json_response(
        StatusCode::ACCEPTED,
        req,
        &svc::shape(&state.ctx, &row),
    ))
}

pub async fn list(state: &AppState, req: &ApiRequest) -> Result<HttpResponse> {
    let function = match req.query_param("FunctionName") {
        Some(f) => Some(FunctionRef::parse(&f, &state.ctx.identity, "functionName")?.name),
        None => None,
    };
    let (rows, next) = svc::list(
        &state.ctx,
        function,
        req.query_param("EventSourceArn"),
        req.query_param("Marker"),
        req.max_items()?,
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(|r| svc::shape(&state.ctx, r)).collect();
    let mut body = json!({ "EventSourceMappings": items });
    if let Some(m) = next {
        body["NextMarker"] = json!(m);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn get(state: &AppState, req: &ApiRequest, uuid: &str) -> Result<HttpResponse> {
    let row = svc::get(&state.ctx, uuid).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &svc::shape(&state.ctx, &row),
    ))
}

pub async fn update(state: &AppState, req: &ApiRequest, uuid: &str) -> Result<HttpResponse> {
    let c = parse(state, req, false)?;
    let row = svc::update(&state.ctx, &state.sqs, uuid, c).await?;
    state.pollers.changed();
    Ok(json_response(
        StatusCode::ACCEPTED,
        req,
        &svc::shape(&state.ctx, &row),
    ))
}

pub async fn delete(state: &AppState, req: &ApiRequest, uuid: &str) -> Result<HttpResponse> {
    let row = svc::delete(&state.ctx, uuid).await?;
    state.pollers.changed();
    Ok(json_response(
        StatusCode::ACCEPTED,
        req,
        &svc::shape(&state.ctx, &row),
    ))
}
