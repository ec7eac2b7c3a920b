//! Alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

use std::collections::BTreeMap;

use super::functions::{cut_page, decode_marker, encode_marker, page_limit};
use super::Context;
use crate::domain::alias::{self, Alias};
use crate::domain::{validate, Error};
use crate::store::aliases::{self as astore, AliasChange, Arns};

fn arns(ctx: &Context, function: &str, name: &str) -> (String, String) {
    (
        ctx.identity.function_arn(function),
        ctx.identity.qualified_arn(function, name),
    )
}

/// CreateAlias.
pub async fn create(
    ctx: &Context,
    function: &str,
    name: String,
    function_version: String,
    description: Option<String>,
    routing: BTreeMap<String, f64>,
) -> Result<Alias, Error> {
    alias::name(&name)?;
    alias::function_version(&function_version)?;
    let description = description.unwrap_or_default();
    validate::description(&description)?;
    alias::routing(&function_version, &routing)?;
    let (farn, aarn) = arns(ctx, function, &name);
    let new = Alias {
        function: function.to_string(),
        name,
        function_version,
        description,
        routing,
        revision_id: uuid::Uuid::new_v4().to_string(),
    };
    let created = ctx
        .store
        .call(move |c| {
            astore::create(
                c,
                &new,
                &Arns {
                    function: &farn,
                    alias: &aarn,
                },
            )
        })
        .await?;
    ctx.versions.changed();
    Ok(created)
}

/// GetAlias.
pub async fn get(ctx: &Context, function: &str, name: &str) -> Result<Alias, Error> {
    alias::name(name)?;
    let (farn, aarn) = arns(ctx, function, name);
    let (f, n) = (function.to_string(), name.to_string());
    Ok(ctx
        .store
        .call(move |c| {
            crate::store::functions::function_row(c, &f)?
                .ok_or_else(|| Error::function_not_found(&farn))?;
            Ok(astore::get(c, &f, &n)?
                .ok_or_else(|| Error::ResourceNotFound(format!("Alias not found: {aarn}")))?)
        })
        .await?)
}

/// UpdateAlias: fields left `None` keep their value.
pub async fn update(
    ctx: &Context,
    function: &str,
    name: &str,
    change: AliasChange,
    revision: Option<String>,
) -> Result<Alias, Error> {
    alias::name(name)?;
    if let Some(v) = &change.function_version {
        alias::function_version(v)?;
    }
    if let Some(d) = &change.description {
        validate::description(d)?;
    }
    let (farn, aarn) = arns(ctx, function, name);
    let (f, n) = (function.to_string(), name.to_string());
    let updated = ctx
        .store
        .call(move |c| {
            astore::update(
                c,
                &f,
                &n,
                change,
                revision.as_deref(),
                &Arns {
                    function: &farn,
                    alias: &aarn,
                },
                |a| alias::routing(&a.function_version, &a.routing),
            )
        })
        .await?;
    ctx.versions.changed();
    Ok(updated)
}

/// DeleteAlias.
pub async fn delete(ctx: &Context, function: &str, name: &str) -> Result<(), Error> {
    alias::name(name)?;
    let (farn, aarn) = arns(ctx, function, name);
    let (f, n) = (function.to_string(), name.to_string());
    ctx.store
        .call(move |c| {
            astore::delete(
                c,
                &f,
                &n,
                &Arns {
                    function: &farn,
                    alias: &aarn,
                },
            )
        })
        .await?;
    ctx.versions.changed();
    Ok(())
}

/// One page of ListAliases, optionally only the aliases that route to `version`.
pub async fn list(
    ctx: &Context,
    function: &str,
    version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<Alias>, Option<String>), Error> {
    if let Some(v) = &version {
        alias::function_version(v)?;
    }
    let limit = page_limit(max_items)?;
    let after = match marker.as_deref().map(decode_marker).transpose()? {
        Some((f, _)) => f,
        None => String::new(),
    };
    let f = function.to_string();
    let farn = ctx.identity.function_arn(function);
    let mut items = ctx
        .store
        .call(move |c| astore::list(c, &f, &farn, version.as_deref(), &after, limit + 1))
        .await?;
    let next = cut_page(&mut items, limit, |a| encode_marker(&a.name, 0));
    Ok((items, next))
}
