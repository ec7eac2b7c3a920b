//! Asynchronous invocation settings: Put/Update/Get/Delete/ListFunctionEventInvokeConfigs
//! (per function and qualifier) and Put/GetFunctionRecursionConfig. Destination ARNs are
//! checked against the destination registry before anything is stored, so a destination
//! lambdabox cannot deliver to is refused, never stored.
//!
//! Every write bumps the version cache's generation (`VersionCache::changed`), which is
//! what the async queue's own cache of these settings keys on.

use super::Context;
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::event_invoke::{DestinationUse, EventInvokeConfig, RecursiveLoop};
use crate::domain::function::now_ms;
use crate::domain::Error;
use crate::store::event_invoke::{self as store, StoredConfig};

/// One member of an UpdateFunctionEventInvokeConfig: absent leaves the value as it is.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_secs: Option<u32>,
    /// `Some(None)` removes the destination.
    pub on_success: Option<Option<String>>,
    pub on_failure: Option<Option<String>>,
}

fn qualifier_of(r: &FunctionRef) -> String {
    r.qualifier.clone().unwrap_or_else(|| LATEST.to_string())
}

/// The ARN a config is reported under: always qualified (`…:$LATEST` when unqualified).
pub fn config_arn(ctx: &Context, name: &str, qualifier: &str) -> String {
    ctx.identity.qualified_arn(name, qualifier)
}

async fn check_destinations(ctx: &Context, c: &EventInvokeConfig) -> Result<(), Error> {
    if let Some(a) = &c.on_success {
        ctx.destinations
            .check(&ctx.identity, a, DestinationUse::OnSuccess)
            .await?;
    }
    if let Some(a) = &c.on_failure {
        ctx.destinations
            .check(&ctx.identity, a, DestinationUse::OnFailure)
            .await?;
    }
    Ok(())
}

async fn write(
    ctx: &Context,
    r: &FunctionRef,
    change: impl FnOnce(Option<EventInvokeConfig>) -> EventInvokeConfig + Send + 'static,
    preview: &EventInvokeConfig,
) -> Result<StoredConfig, Error> {
    preview.validate()?;
    check_destinations(ctx, preview).await?;
    let name = r.name.clone();
    let q = qualifier_of(r);
    let function_arn = ctx.identity.function_arn(&name);
    let qualified = config_arn(ctx, &name, &q);
    let stored = ctx
        .store
        .call(move |c| {
            store::write(c, &name, &q, (&function_arn, &qualified), now_ms(), |cur| {
                let next = change(cur);
                next.validate()?;
                Ok(next)
            })
        })
        .await?;
    ctx.versions.changed();
    Ok(stored)
}

/// PutFunctionEventInvokeConfig: replaces the whole config (absent members are unset).
pub async fn put(
    ctx: &Context,
    r: &FunctionRef,
    config: EventInvokeConfig,
) -> Result<StoredConfig, Error> {
    let preview = config.clone();
    write(ctx, r, move |_| config, &preview).await
}

/// UpdateFunctionEventInvokeConfig: changes only the members given.
pub async fn update(ctx: &Context, r: &FunctionRef, patch: Patch) -> Result<StoredConfig, Error> {
    let current = current(ctx, r).await?.map(|s| s.config);
    let apply = move |cur: Option<EventInvokeConfig>| {
        let mut c = cur.unwrap_or_default();
        if let Some(n) = patch.maximum_retry_attempts {
            c.maximum_retry_attempts = Some(n);
        }
        if let Some(n) = patch.maximum_event_age_secs {
            c.maximum_event_age_secs = Some(n);
        }
        if let Some(d) = patch.on_success {
            c.on_success = d;
        }
        if let Some(d) = patch.on_failure {
            c.on_failure = d;
        }
        c
    };
    let preview = apply.clone()(current);
    write(ctx, r, apply, &preview).await
}

async fn current(ctx: &Context, r: &FunctionRef) -> Result<Option<StoredConfig>, Error> {
    let name = r.name.clone();
    let q = qualifier_of(r);
    Ok(ctx.store.call(move |c| store::get(c, &name, &q)).await?)
}

/// The config of a function or qualifier, as stored (None when there is none; the function
/// must exist).
pub async fn find(ctx: &Context, r: &FunctionRef) -> Result<Option<StoredConfig>, Error> {
    super::functions::get(ctx, r).await?;
    current(ctx, r).await
}

/// GetFunctionEventInvokeConfig: 404 when the function, qualifier or config is missing.
pub async fn get(ctx: &Context, r: &FunctionRef) -> Result<StoredConfig, Error> {
    find(ctx, r).await?.ok_or_else(|| no_config(ctx, r))
}

fn no_config(ctx: &Context, r: &FunctionRef) -> Error {
    Error::ResourceNotFound(format!(
        "The function {} doesn't have an EventInvokeConfig",
        config_arn(ctx, &r.name, &qualifier_of(r))
    ))
}

/// DeleteFunctionEventInvokeConfig.
pub async fn delete(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    super::functions::get(ctx, r).await?;
    let name = r.name.clone();
    let q = qualifier_of(r);
    let arn = ctx.identity.function_arn(&name);
    let deleted = ctx
        .store
        .call(move |c| store::delete(c, &name, &q, &arn))
        .await?;
    ctx.versions.changed();
    if deleted {
        Ok(())
    } else {
        Err(no_config(ctx, r))
    }
}

/// ListFunctionEventInvokeConfigs: one page and the next marker (the last qualifier).
pub async fn list(
    ctx: &Context,
    name: &str,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<StoredConfig>, Option<String>), Error> {
    let limit = crate::domain::validate::page_size(max_items)?;
    let n = name.to_string();
    let arn = ctx.identity.function_arn(name);
    let mut items = ctx
        .store
        .call(move |c| store::list(c, &n, &arn, marker.as_deref(), limit + 1))
        .await?;
    let next = super::functions::cut_page(&mut items, limit, |s| s.qualifier.clone());
    Ok((items, next))
}

/// The settings an asynchronous event of (function, qualifier) runs with: its config, or
/// the defaults when it has none.
pub async fn effective(
    ctx: &Context,
    name: &str,
    qualifier: Option<&str>,
) -> Result<EventInvokeConfig, Error> {
    let n = name.to_string();
    let q = qualifier.unwrap_or(LATEST).to_string();
    Ok(ctx
        .store
        .call(move |c| store::get(c, &n, &q))
        .await?
        .map(|s| s.config)
        .unwrap_or_default())
}

/// GetFunctionRecursionConfig.
pub async fn recursion(ctx: &Context, name: &str) -> Result<RecursiveLoop, Error> {
    let n = name.to_string();
    let arn = ctx.identity.function_arn(name);
    Ok(ctx
        .store
        .call(move |c| store::recursion(c, &n, &arn))
        .await?)
}

/// PutFunctionRecursionConfig.
pub async fn set_recursion(ctx: &Context, name: &str, value: RecursiveLoop) -> Result<(), Error> {
    let n = name.to_string();
    let arn = ctx.identity.function_arn(name);
    ctx.store
        .call(move |c| store::set_recursion(c, &n, &arn, value))
        .await?;
    ctx.versions.changed();
    Ok(())
}
