//! HTTP APIs (API Gateway v2): Create/Get/Update/Delete of APIs (with quick create: one
//! Lambda integration, its route and the auto-deployed `$default` stage in one transaction),
//! routes, integrations and stages, shared by the `apigatewayv2` API and the dashboard; and
//! the whole configuration of one API ([`load`]) the HTTP trigger serves from
//! (`triggers::http::gateway`).
//!
//! Every write checks its references (an API exists, a route's target integration exists, an
//! integration no route uses) inside the same `BEGIN IMMEDIATE` transaction as the write.

mod parts;

use std::collections::BTreeMap;

use rusqlite::Connection;

pub use parts::*;

use super::Context;
use crate::domain::arn::FunctionRef;
use crate::domain::function::now_ms;
use crate::domain::http_api::{
    self as d, route_key::RouteKey, Api, HttpApiError, Integration, PayloadFormat, Route, Stage,
};
use crate::store::http_apis::{self as store, Part};
use crate::store::StoreError;

type Result<T> = std::result::Result<T, HttpApiError>;

impl From<StoreError> for HttpApiError {
    fn from(e: StoreError) -> HttpApiError {
        tracing::error!(error = %e, "http api store failure");
        HttpApiError::Internal("An internal error occurred in the lambdabox store.".into())
    }
}

/// Runs `f` in one write transaction, committed only when it succeeds.
pub(crate) async fn write<T, F>(ctx: &Context, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    ctx.store
        .call(move |c| {
            let tx = crate::store::write_tx(c)?;
            match f(&tx) {
                Ok(v) => {
                    tx.commit()?;
                    Ok(Ok(v))
                }
                Err(e) => Ok(Err(e)),
            }
        })
        .await?
}

/// Runs the read `f`.
pub(crate) async fn read<T, F>(ctx: &Context, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    ctx.store.call(move |c| Ok(f(c))).await?
}

pub(crate) fn need_api(c: &Connection, id: &str) -> Result<Api> {
    store::api(c, id)?.ok_or_else(|| HttpApiError::api_not_found(id))
}

/// The function a Lambda integration URI names: a function ARN (optionally qualified) or
/// API Gateway's `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
pub fn lambda_target(ctx: &Context, uri: &str) -> Result<FunctionRef> {
    let arn = match uri.strip_prefix("arn:aws:apigateway:") {
        Some(rest) => rest
            .split_once(":lambda:path/2015-03-31/functions/")
            .and_then(|(_, a)| a.strip_suffix("/invocations"))
            .unwrap_or(""),
        None => uri,
    };
    let bad = || {
        HttpApiError::bad(format!(
            "Invalid integration URI specified {uri}: lambdabox integrates with Lambda functions of this host (arn:aws:lambda:{}:{}:function:<name>)",
            ctx.identity.region, ctx.identity.account_id
        ))
    };
    if !arn.starts_with("arn:") {
        return Err(bad());
    }
    FunctionRef::parse(arn, &ctx.identity, "integrationUri").map_err(|_| bad())
}

/// What CreateApi takes.
#[derive(Debug, Clone, Default)]
pub struct ApiInput {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Quick create: a function ARN.
    pub target: Option<String>,
    /// Quick create: the route key (default `$default`).
    pub route_key: Option<String>,
}

/// What UpdateApi changes; absent members stay.
#[derive(Debug, Clone, Default)]
pub struct ApiPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
}

/// An API with everything it serves.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub api: Api,
    pub routes: Vec<Route>,
    pub integrations: Vec<Integration>,
    pub stages: Vec<Stage>,
}

/// CreateApi (ProtocolType HTTP).
pub async fn create_api(ctx: &Context, input: ApiInput) -> Result<Api> {
    d::validate_name(&input.name)?;
    if let Some(v) = &input.description {
        d::validate_description(v)?;
    }
    if let Some(v) = &input.version {
        d::validate_version(v)?;
    }
    d::validate_tags(&input.tags)?;
    if input.route_key.is_some() && input.target.is_none() {
        return Err(HttpApiError::bad(
            "RouteKey is only used with Target (quick create)",
        ));
    }
    let now = now_ms();
    let api = Api {
        api_id: d::new_api_id(),
        name: input.name,
        description: input.description,
        version: input.version,
        tags: input.tags,
        created_ms: now,
    };
    let quick = match &input.target {
        Some(t) => {
            lambda_target(ctx, t)?;
            let key = input.route_key.unwrap_or_else(|| "$default".into());
            RouteKey::parse(&key)?;
            let integration = Integration {
                integration_id: d::new_part_id(),
                integration_uri: t.clone(),
                payload_format_version: PayloadFormat::V2,
                timeout_in_millis: d::MAX_TIMEOUT_MS,
                description: None,
                api_gateway_managed: true,
            };
            let route = Route {
                route_id: d::new_part_id(),
                route_key: key,
                target: Some(format!("integrations/{}", integration.integration_id)),
                operation_name: None,
                api_gateway_managed: true,
            };
            let stage = Stage {
                stage_name: d::DEFAULT_STAGE.into(),
                description: None,
                stage_variables: BTreeMap::new(),
                tags: BTreeMap::new(),
                api_gateway_managed: true,
                created_ms: now,
                last_updated_ms: now,
            };
            Some((integration, route, stage))
        }
        None => None,
    };
    let a = api.clone();
    write(ctx, move |c| {
        store::put_api(c, &a.api_id, a.created_ms, &a)?;
        if let Some((i, r, s)) = &quick {
            store::put_part(c, &a.api_id, Part::Integration, &i.integration_id, None, i)?;
            store::put_part(
                c,
                &a.api_id,
                Part::Route,
                &r.route_id,
                Some(&r.route_key),
                r,
            )?;
            store::put_part(c, &a.api_id, Part::Stage, &s.stage_name, None, s)?;
        }
        Ok(())
    })
    .await?;
    tracing::info!(api_id = %api.api_id, name = %api.name, quick_create = input.target.is_some(), "http api created");
    Ok(api)
}

pub async fn get_api(ctx: &Context, id: &str) -> Result<Api> {
    let id = id.to_string();
    read(ctx, move |c| need_api(c, &id)).await
}

pub async fn list_apis(ctx: &Context) -> Result<Vec<Api>> {
    read(ctx, |c| Ok(store::apis(c)?)).await
}

pub async fn update_api(ctx: &Context, id: &str, patch: ApiPatch) -> Result<Api> {
    if let Some(v) = &patch.name {
        d::validate_name(v)?;
    }
    if let Some(v) = &patch.description {
        d::validate_description(v)?;
    }
    if let Some(v) = &patch.version {
        d::validate_version(v)?;
    }
    let id = id.to_string();
    write(ctx, move |c| {
        let mut api = need_api(c, &id)?;
        if let Some(v) = patch.name {
            api.name = v;
        }
        if let Some(v) = patch.description {
            api.description = Some(v);
        }
        if let Some(v) = patch.version {
            api.version = Some(v);
        }
        store::put_api(c, &id, api.created_ms, &api)?;
        Ok(api)
    })
    .await
}

pub async fn delete_api(ctx: &Context, id: &str) -> Result<()> {
    let i = id.to_string();
    let gone = write(ctx, move |c| Ok(store::delete_api(c, &i)?)).await?;
    if !gone {
        return Err(HttpApiError::api_not_found(id));
    }
    tracing::info!(api_id = %id, "http api deleted");
    Ok(())
}

/// One API and everything it serves, if it exists.
pub async fn load(ctx: &Context, id: &str) -> Result<Option<Loaded>> {
    let id = id.to_string();
    read(ctx, move |c| load_in(c, &id)).await
}

fn load_in(c: &Connection, id: &str) -> Result<Option<Loaded>> {
    let Some(api) = store::api::<Api>(c, id)? else {
        return Ok(None);
    };
    Ok(Some(Loaded {
        routes: store::parts(c, id, Part::Route)?,
        integrations: store::parts(c, id, Part::Integration)?,
        stages: store::parts(c, id, Part::Stage)?,
        api,
    }))
}

/// Every API with its parts (the dashboard's list).
pub async fn overview(ctx: &Context) -> Result<Vec<Loaded>> {
    read(ctx, |c| {
        let apis: Vec<Api> = store::apis(c)?;
        let mut out = Vec::with_capacity(apis.len());
        for a in apis {
            if let Some(l) = load_in(c, &a.api_id)? {
                out.push(l);
            }
        }
        Ok(out)
    })
    .await
}

/// Where an API is served (`apiEndpoint`): by Host header under `server.url_base_domain`
/// when one is configured, else under `/http-api/<id>` on `host`, the address the caller
/// reached this daemon at.
pub fn endpoint(ctx: &Context, host: &str, api_id: &str) -> String {
    match &ctx.config.server.url_base_domain {
        Some(base) => format!("http://{api_id}.execute-api.{}.{base}", ctx.identity.region),
        None => format!("http://{host}/http-api/{api_id}"),
    }
}
