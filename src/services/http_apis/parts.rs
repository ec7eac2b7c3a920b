//! Routes, integrations and stages of an HTTP API: create, get, list, update, delete.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::{lambda_target, need_api, read, write, Result};
use crate::domain::function::now_ms;
use crate::domain::http_api::{
    self as d, route_key::RouteKey, HttpApiError, Integration, PayloadFormat, Route, Stage,
};
use crate::services::Context;
use crate::store::http_apis::{self as store, Part};

/// What CreateRoute takes; for UpdateRoute, `None` members stay.
#[derive(Debug, Clone, Default)]
pub struct RouteInput {
    pub route_key: Option<String>,
    pub target: Option<String>,
    pub operation_name: Option<String>,
}

/// What CreateIntegration takes; for UpdateIntegration, `None` members stay.
#[derive(Debug, Clone, Default)]
pub struct IntegrationInput {
    pub integration_uri: Option<String>,
    pub payload_format_version: Option<String>,
    pub timeout_in_millis: Option<i64>,
    pub description: Option<String>,
}

/// What CreateStage takes; for UpdateStage, `None` members stay.
#[derive(Debug, Clone, Default)]
pub struct StageInput {
    pub stage_name: Option<String>,
    pub description: Option<String>,
    pub stage_variables: Option<BTreeMap<String, String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

fn check_target(c: &Connection, api: &str, target: &str) -> Result<()> {
    let id = d::target_integration(target)?;
    store::part::<Integration>(c, api, Part::Integration, id)?
        .map(|_| ())
        .ok_or_else(|| HttpApiError::integration_not_found(id))
}

fn check_route_key_free(c: &Connection, api: &str, key: &str, me: Option<&str>) -> Result<()> {
    match store::part_by_uniq(c, api, Part::Route, key)? {
        Some(id) if Some(id.as_str()) != me => Err(HttpApiError::Conflict(format!(
            "Unable to complete operation due to concurrent modification. Please try again later. A route with route key {key} already exists"
        ))),
        _ => Ok(()),
    }
}

fn need_route(c: &Connection, api: &str, id: &str) -> Result<Route> {
    need_api(c, api)?;
    store::part(c, api, Part::Route, id)?.ok_or_else(|| HttpApiError::route_not_found(id))
}

fn need_integration(c: &Connection, api: &str, id: &str) -> Result<Integration> {
    need_api(c, api)?;
    store::part(c, api, Part::Integration, id)?
        .ok_or_else(|| HttpApiError::integration_not_found(id))
}

fn need_stage(c: &Connection, api: &str, name: &str) -> Result<Stage> {
    need_api(c, api)?;
    store::part(c, api, Part::Stage, name)?.ok_or_else(|| HttpApiError::stage_not_found(name))
}

fn list_of<T>(c: &Connection, api: &str, kind: Part) -> Result<Vec<T>>
where
    T: serde::de::DeserializeOwned,
{
    need_api(c, api)?;
    Ok(store::parts(c, api, kind)?)
}

// ---- routes ----

pub async fn create_route(ctx: &Context, api: &str, input: RouteInput) -> Result<Route> {
    let key = input
        .route_key
        .ok_or_else(|| HttpApiError::bad("RouteKey is required"))?;
    RouteKey::parse(&key)?;
    if let Some(n) = &input.operation_name {
        d::validate_version(n).map_err(|_| {
            HttpApiError::bad("Invalid operation name: length must be between 1 and 64 characters")
        })?;
    }
    let route = Route {
        route_id: d::new_part_id(),
        route_key: key,
        target: input.target,
        operation_name: input.operation_name,
        api_gateway_managed: false,
    };
    let api = api.to_string();
    let r = route.clone();
    write(ctx, move |c| {
        need_api(c, &api)?;
        if let Some(t) = &r.target {
            check_target(c, &api, t)?;
        }
        check_route_key_free(c, &api, &r.route_key, None)?;
        store::put_part(c, &api, Part::Route, &r.route_id, Some(&r.route_key), &r)?;
        Ok(())
    })
    .await?;
    Ok(route)
}

pub async fn get_route(ctx: &Context, api: &str, id: &str) -> Result<Route> {
    let (api, id) = (api.to_string(), id.to_string());
    read(ctx, move |c| need_route(c, &api, &id)).await
}

pub async fn list_routes(ctx: &Context, api: &str) -> Result<Vec<Route>> {
    let api = api.to_string();
    read(ctx, move |c| list_of(c, &api, Part::Route)).await
}

pub async fn update_route(ctx: &Context, api: &str, id: &str, input: RouteInput) -> Result<Route> {
    if let Some(k) = &input.route_key {
        RouteKey::parse(k)?;
    }
    let (api, id) = (api.to_string(), id.to_string());
    write(ctx, move |c| {
        let mut r = need_route(c, &api, &id)?;
        if let Some(k) = input.route_key {
            check_route_key_free(c, &api, &k, Some(&id))?;
            r.route_key = k;
        }
        if let Some(t) = input.target {
            check_target(c, &api, &t)?;
            r.target = Some(t);
        }
        if let Some(n) = input.operation_name {
            r.operation_name = Some(n);
        }
        store::put_part(c, &api, Part::Route, &id, Some(&r.route_key), &r)?;
        Ok(r)
    })
    .await
}

pub async fn delete_route(ctx: &Context, api: &str, id: &str) -> Result<()> {
    let (api, id) = (api.to_string(), id.to_string());
    write(ctx, move |c| {
        need_route(c, &api, &id)?;
        store::delete_part(c, &api, Part::Route, &id)?;
        Ok(())
    })
    .await
}

// ---- integrations ----

fn apply_integration(ctx: &Context, i: &mut Integration, input: IntegrationInput) -> Result<()> {
    if let Some(u) = input.integration_uri {
        lambda_target(ctx, &u)?;
        i.integration_uri = u;
    }
    if let Some(v) = input.payload_format_version {
        i.payload_format_version = PayloadFormat::parse(&v)?;
    }
    if let Some(t) = input.timeout_in_millis {
        i.timeout_in_millis = d::validate_timeout(t)?;
    }
    if let Some(v) = input.description {
        d::validate_description(&v)?;
        i.description = Some(v);
    }
    Ok(())
}

pub async fn create_integration(
    ctx: &Context,
    api: &str,
    input: IntegrationInput,
) -> Result<Integration> {
    if input.integration_uri.is_none() {
        return Err(HttpApiError::bad(
            "IntegrationUri is required for an AWS_PROXY integration",
        ));
    }
    if input.payload_format_version.is_none() {
        return Err(HttpApiError::bad(
            "PayloadFormatVersion is required for HTTP APIs: 1.0 or 2.0",
        ));
    }
    let mut i = Integration {
        integration_id: d::new_part_id(),
        integration_uri: String::new(),
        payload_format_version: PayloadFormat::V2,
        timeout_in_millis: d::MAX_TIMEOUT_MS,
        description: None,
        api_gateway_managed: false,
    };
    apply_integration(ctx, &mut i, input)?;
    let api = api.to_string();
    let row = i.clone();
    write(ctx, move |c| {
        need_api(c, &api)?;
        store::put_part(c, &api, Part::Integration, &row.integration_id, None, &row)?;
        Ok(())
    })
    .await?;
    Ok(i)
}

pub async fn get_integration(ctx: &Context, api: &str, id: &str) -> Result<Integration> {
    let (api, id) = (api.to_string(), id.to_string());
    read(ctx, move |c| need_integration(c, &api, &id)).await
}

pub async fn list_integrations(ctx: &Context, api: &str) -> Result<Vec<Integration>> {
    let api = api.to_string();
    read(ctx, move |c| list_of(c, &api, Part::Integration)).await
}

pub async fn update_integration(
    ctx: &Context,
    api: &str,
    id: &str,
    input: IntegrationInput,
) -> Result<Integration> {
    // Validate before the transaction (no I/O in `lambda_target`).
    let mut probe = Integration {
        integration_id: String::new(),
        integration_uri: String::new(),
        payload_format_version: PayloadFormat::V2,
        timeout_in_millis: d::MAX_TIMEOUT_MS,
        description: None,
        api_gateway_managed: false,
    };
    apply_integration(ctx, &mut probe, input.clone())?;
    let (api, id) = (api.to_string(), id.to_string());
    write(ctx, move |c| {
        let mut i = need_integration(c, &api, &id)?;
        if input.integration_uri.is_some() {
            i.integration_uri = probe.integration_uri;
        }
        if input.payload_format_version.is_some() {
            i.payload_format_version = probe.payload_format_version;
        }
        if input.timeout_in_millis.is_some() {
            i.timeout_in_millis = probe.timeout_in_millis;
        }
        if input.description.is_some() {
            i.description = probe.description;
        }
        store::put_part(c, &api, Part::Integration, &id, None, &i)?;
        Ok(i)
    })
    .await
}

pub async fn delete_integration(ctx: &Context, api: &str, id: &str) -> Result<()> {
    let (api, id) = (api.to_string(), id.to_string());
    write(ctx, move |c| {
        need_integration(c, &api, &id)?;
        let routes: Vec<Route> = store::parts(c, &api, Part::Route)?;
        if let Some(r) = routes.iter().find(|r| r.integration_id() == Some(id.as_str())) {
            return Err(HttpApiError::Conflict(format!(
                "Unable to delete integration {id}: route {} ({}) targets it; update or delete the route first",
                r.route_id, r.route_key
            )));
        }
        store::delete_part(c, &api, Part::Integration, &id)?;
        Ok(())
    })
    .await
}

// ---- stages ----

fn check_stage_input(input: &StageInput) -> Result<()> {
    if let Some(v) = &input.description {
        d::validate_description(v)?;
    }
    if let Some(v) = &input.stage_variables {
        d::validate_stage_variables(v)?;
    }
    if let Some(t) = &input.tags {
        d::validate_tags(t)?;
    }
    Ok(())
}

pub async fn create_stage(ctx: &Context, api: &str, input: StageInput) -> Result<Stage> {
    let name = input
        .stage_name
        .clone()
        .ok_or_else(|| HttpApiError::bad("StageName is required"))?;
    d::validate_stage_name(&name)?;
    check_stage_input(&input)?;
    let now = now_ms();
    let stage = Stage {
        stage_name: name,
        description: input.description,
        stage_variables: input.stage_variables.unwrap_or_default(),
        tags: input.tags.unwrap_or_default(),
        api_gateway_managed: false,
        created_ms: now,
        last_updated_ms: now,
    };
    let api = api.to_string();
    let s = stage.clone();
    write(ctx, move |c| {
        need_api(c, &api)?;
        if store::part::<Stage>(c, &api, Part::Stage, &s.stage_name)?.is_some() {
            return Err(HttpApiError::Conflict(format!(
                "Stage already exists: {}",
                s.stage_name
            )));
        }
        store::put_part(c, &api, Part::Stage, &s.stage_name, None, &s)?;
        Ok(())
    })
    .await?;
    Ok(stage)
}

pub async fn get_stage(ctx: &Context, api: &str, name: &str) -> Result<Stage> {
    let (api, name) = (api.to_string(), name.to_string());
    read(ctx, move |c| need_stage(c, &api, &name)).await
}

pub async fn list_stages(ctx: &Context, api: &str) -> Result<Vec<Stage>> {
    let api = api.to_string();
    read(ctx, move |c| list_of(c, &api, Part::Stage)).await
}

pub async fn update_stage(
    ctx: &Context,
    api: &str,
    name: &str,
    input: StageInput,
) -> Result<Stage> {
    check_stage_input(&input)?;
    let (api, name) = (api.to_string(), name.to_string());
    write(ctx, move |c| {
        let mut s = need_stage(c, &api, &name)?;
        if let Some(v) = input.description {
            s.description = Some(v);
        }
        if let Some(vars) = input.stage_variables {
            // UpdateStage merges: an empty value removes the variable (as AWS's patch does).
            for (k, v) in vars {
                if v.is_empty() {
                    s.stage_variables.remove(&k);
                } else {
                    s.stage_variables.insert(k, v);
                }
            }
        }
        s.last_updated_ms = now_ms();
        store::put_part(c, &api, Part::Stage, &name, None, &s)?;
        Ok(s)
    })
    .await
}

pub async fn delete_stage(ctx: &Context, api: &str, name: &str) -> Result<()> {
    let (api, name) = (api.to_string(), name.to_string());
    write(ctx, move |c| {
        need_stage(c, &api, &name)?;
        store::delete_part(c, &api, Part::Stage, &name)?;
        Ok(())
    })
    .await
}
