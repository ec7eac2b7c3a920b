//! Reserved concurrency (Put/Get/DeleteFunctionConcurrency) and provisioned concurrency
//! configurations (Put/Get/Delete/ListProvisionedConcurrencyConfigs): validate, then store,
//! with AWS's pool rules (`domain::concurrency`) checked inside the write transaction. The
//! engine applies the stored result to admission and keeps the environments provisioned;
//! callers go through `Engine`, which passes the pool it resolved for this host.

use super::functions::{cut_page, decode_marker, encode_marker};
use super::Context;
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::concurrency::{self as rules, AccountPool, Shares};
use crate::domain::function::now_ms;
use crate::domain::Error;
use crate::store::concurrency::{self as cstore, ProvisionedRow};
use crate::store::functions as fstore;

/// Reserved concurrency is set on the function, never on a version or alias.
fn unqualified(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    match r.qualifier.as_deref() {
        None => Ok(()),
        Some(q) => Err(Error::InvalidParameterValue(format!(
            "Reserved concurrency applies to the whole function, not to {}; name the function without a qualifier.",
            ctx.identity.qualified_arn(&r.name, q)
        ))),
    }
}

/// PutFunctionConcurrency.
pub async fn put_reserved(
    ctx: &Context,
    r: &FunctionRef,
    n: i64,
    pool: AccountPool,
) -> Result<u32, Error> {
    unqualified(ctx, r)?;
    let n = u32::try_from(n).map_err(|_| {
        Error::constraint(
            &n.to_string(),
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        )
    })?;
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    ctx.store
        .call(move |c| {
            cstore::set_reserved(c, &name, &arn, Some(n), |shares| {
                rules::check_reserved(&pool, shares, &name, n)
            })
        })
        .await?;
    Ok(n)
}

/// DeleteFunctionConcurrency.
pub async fn delete_reserved(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    unqualified(ctx, r)?;
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    ctx.store
        .call(move |c| cstore::set_reserved(c, &name, &arn, None, |_| Ok(())))
        .await?;
    Ok(())
}

/// GetFunctionConcurrency: the reservation, `None` when the function has none.
pub async fn get_reserved(ctx: &Context, r: &FunctionRef) -> Result<Option<u32>, Error> {
    unqualified(ctx, r)?;
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    let row = ctx
        .store
        .call(move |c| fstore::function_row(c, &name))
        .await?
        .ok_or_else(|| Error::function_not_found(&arn))?;
    Ok(row
        .reserved_concurrency
        .map(|n| u32::try_from(n.max(0)).unwrap_or(0)))
}

/// The qualifier a provisioned concurrency operation names: required, a version or alias.
fn provisioned_qualifier(r: &FunctionRef) -> Result<String, Error> {
    match r.qualifier.as_deref() {
        None => Err(Error::Validation(
            "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null".into(),
        )),
        Some(LATEST) => Err(Error::InvalidParameterValue(
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
                .into(),
        )),
        Some(q) => Ok(q.to_string()),
    }
}

/// PutProvisionedConcurrencyConfig.
pub async fn put_provisioned(
    ctx: &Context,
    r: &FunctionRef,
    n: i64,
    pool: AccountPool,
) -> Result<ProvisionedRow, Error> {
    let qualifier = provisioned_qualifier(r)?;
    let n = u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        Error::constraint(
            &n.to_string(),
            "provisionedConcurrentExecutions",
            "Member must have value greater than or equal to 1",
        )
    })?;
    let name = r.name.clone();
    let arn = ctx.identity.qualified_arn(&name, &qualifier);
    Ok(ctx
        .store
        .call(move |c| {
            cstore::put_provisioned(c, &name, &qualifier, &arn, n, now_ms(), |snap| {
                rules::check_provisioned(&pool, &snap.shares, &name, snap.other_qualifiers, n)?;
                rules::check_provisioned_memory(&pool, snap.others_mb, n, snap.memory_mb)
            })
        })
        .await?)
}

fn config_not_found() -> Error {
    Error::ProvisionedConcurrencyConfigNotFound(
        "No Provisioned Concurrency Config found for this function".into(),
    )
}

/// Checks that the function and the qualifier exist (ResourceNotFound otherwise).
fn require_target(
    c: &rusqlite::Connection,
    name: &str,
    qualifier: &str,
    arn: &str,
) -> Result<(), crate::store::StoreError> {
    if fstore::function_row(c, name)?.is_none()
        || cstore::qualifier_memory(c, name, qualifier)?.is_none()
    {
        return Err(Error::function_not_found(arn).into());
    }
    Ok(())
}

/// GetProvisionedConcurrencyConfig: the stored request (the engine adds the live status).
pub async fn get_provisioned(ctx: &Context, r: &FunctionRef) -> Result<ProvisionedRow, Error> {
    let qualifier = provisioned_qualifier(r)?;
    let name = r.name.clone();
    let arn = ctx.identity.qualified_arn(&name, &qualifier);
    ctx.store
        .call(move |c| {
            require_target(c, &name, &qualifier, &arn)?;
            cstore::get_provisioned(c, &name, &qualifier)
        })
        .await?
        .ok_or_else(config_not_found)
}

/// DeleteProvisionedConcurrencyConfig.
pub async fn delete_provisioned(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    let qualifier = provisioned_qualifier(r)?;
    let name = r.name.clone();
    let arn = ctx.identity.qualified_arn(&name, &qualifier);
    let deleted = ctx
        .store
        .call(move |c| {
            require_target(c, &name, &qualifier, &arn)?;
            cstore::delete_provisioned(c, &name, &qualifier)
        })
        .await?;
    if !deleted {
        return Err(config_not_found());
    }
    Ok(())
}

/// One page of ListProvisionedConcurrencyConfigs.
pub async fn list_provisioned(
    ctx: &Context,
    r: &FunctionRef,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<ProvisionedRow>, Option<String>), Error> {
    let limit = crate::domain::validate::page_size(max_items)?;
    let after = match marker.as_deref().map(decode_marker).transpose()? {
        Some((q, _)) => q,
        None => String::new(),
    };
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    let mut items = ctx
        .store
        .call(move |c| {
            fstore::function_row(c, &name)?.ok_or_else(|| Error::function_not_found(&arn))?;
            cstore::list_provisioned(c, &name, &after, limit + 1)
        })
        .await?;
    let next = cut_page(&mut items, limit, |p| encode_marker(&p.qualifier, 0));
    Ok((items, next))
}

/// Every function's reservation and provisioned total (for the engine's admission state).
pub async fn shares(ctx: &Context) -> Result<Shares, Error> {
    Ok(ctx.store.call(|c| cstore::shares(c)).await?)
}

/// Every provisioned concurrency configuration of the account.
pub async fn all_provisioned(ctx: &Context) -> Result<Vec<ProvisionedRow>, Error> {
    Ok(ctx.store.call(|c| cstore::all_provisioned(c)).await?)
}
