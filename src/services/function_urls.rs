//! Function URLs: Create/Get/Update/Delete/ListFunctionUrlConfigs on `$LATEST` or an alias,
//! the `FunctionUrl` string each one is reached at, and the lookup by url id the HTTP
//! trigger (`triggers::http`) makes for every request.

use super::Context;
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::function::now_ms;
use crate::domain::function_url::{self as fu, AuthType, Cors, InvokeMode, UrlConfig};
use crate::domain::Error;
use crate::store::function_urls::{self as store, StoredUrl};

/// The members of an UpdateFunctionUrlConfig; absent ones stay as they are.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub auth_type: Option<AuthType>,
    pub cors: Option<Cors>,
    pub invoke_mode: Option<InvokeMode>,
}

/// The qualifier a URL is stored under: `$LATEST` when the caller gave none.
fn qualifier_of(r: &FunctionRef) -> Result<String, Error> {
    match &r.qualifier {
        None => Ok(LATEST.to_string()),
        Some(q) => {
            fu::validate_qualifier(q)?;
            Ok(q.clone())
        }
    }
}

/// The ARN a URL is reported under: the function's, qualified when the URL is on an alias.
pub fn url_function_arn(ctx: &Context, name: &str, qualifier: &str) -> String {
    if qualifier == LATEST {
        ctx.identity.function_arn(name)
    } else {
        ctx.identity.qualified_arn(name, qualifier)
    }
}

/// Where the URL is served: by Host header under `server.url_base_domain` when one is
/// configured, else under `/lambda-url/<id>/` on `host`, the address the caller reached this
/// daemon at (its `Host` header).
pub fn function_url(ctx: &Context, host: &str, url_id: &str) -> String {
    match &ctx.config.server.url_base_domain {
        Some(base) => format!("http://{url_id}.lambda-url.{}.{base}/", ctx.identity.region),
        None => format!("http://{host}/lambda-url/{url_id}/"),
    }
}

fn missing() -> Error {
    Error::ResourceNotFound("The resource you requested does not exist.".into())
}

fn check(c: &UrlConfig) -> Result<(), Error> {
    if let Some(cors) = &c.cors {
        cors.validate()?;
    }
    Ok(())
}

/// CreateFunctionUrlConfig: refused with ResourceConflictException when the function (or
/// alias) already has a URL.
pub async fn create(ctx: &Context, r: &FunctionRef, config: UrlConfig) -> Result<StoredUrl, Error> {
    check(&config)?;
    let q = qualifier_of(r)?;
    let now = now_ms();
    let arn = url_function_arn(ctx, &r.name, &q);
    let exists = Error::ResourceConflict(format!(
        "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
    ));
    let url = StoredUrl {
        url_id: fu::new_url_id(),
        function: r.name.clone(),
        qualifier: q,
        config,
        created_ms: now,
        last_modified_ms: now,
    };
    let row = url.clone();
    let created = ctx
        .store
        .call(move |c| store::create(c, &row, &arn, exists))
        .await;
    ctx.versions.changed();
    created?;
    tracing::info!(function = %url.function, qualifier = %url.qualifier, url_id = %url.url_id,
        auth_type = url.config.auth_type.as_str(), "function URL created");
    Ok(url)
}

/// GetFunctionUrlConfig.
pub async fn get(ctx: &Context, r: &FunctionRef) -> Result<StoredUrl, Error> {
    let q = qualifier_of(r)?;
    let name = r.name.clone();
    let arn = url_function_arn(ctx, &name, &q);
    ctx.store
        .call(move |c| store::find(c, &name, &q, &arn))
        .await?
        .ok_or_else(missing)
}

/// UpdateFunctionUrlConfig: changes the members given.
pub async fn update(ctx: &Context, r: &FunctionRef, patch: Patch) -> Result<StoredUrl, Error> {
    if let Some(c) = &patch.cors {
        c.validate()?;
    }
    let q = qualifier_of(r)?;
    let name = r.name.clone();
    let arn = url_function_arn(ctx, &name, &q);
    let updated = ctx
        .store
        .call(move |c| {
            store::update(c, &name, &q, now_ms(), &arn, missing(), |mut cur| {
                if let Some(a) = patch.auth_type {
                    cur.auth_type = a;
                }
                if let Some(m) = patch.invoke_mode {
                    cur.invoke_mode = m;
                }
                if let Some(c) = patch.cors {
                    cur.cors = Some(c);
                }
                Ok(cur)
            })
        })
        .await;
    ctx.versions.changed();
    let url = updated?;
    tracing::info!(function = %url.function, qualifier = %url.qualifier, url_id = %url.url_id,
        auth_type = url.config.auth_type.as_str(), "function URL updated");
    Ok(url)
}

/// DeleteFunctionUrlConfig.
pub async fn delete(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    let q = qualifier_of(r)?;
    let name = r.name.clone();
    let arn = url_function_arn(ctx, &name, &q);
    let deleted = ctx
        .store
        .call(move |c| store::delete(c, &name, &q, &arn))
        .await;
    ctx.versions.changed();
    if deleted? {
        tracing::info!(function = %r.name, "function URL deleted");
        Ok(())
    } else {
        Err(missing())
    }
}

/// ListFunctionUrlConfigs: one page and the next marker (the last qualifier).
pub async fn list(
    ctx: &Context,
    name: &str,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<StoredUrl>, Option<String>), Error> {
    let limit = crate::domain::validate::page_size(max_items)?;
    let n = name.to_string();
    let arn = ctx.identity.function_arn(name);
    let mut items = ctx
        .store
        .call(move |c| store::list(c, &n, &arn, marker.as_deref(), limit + 1))
        .await?;
    let next = super::functions::cut_page(&mut items, limit, |u| u.qualifier.clone());
    Ok((items, next))
}

/// What serving the URL `url_id` needs (its row; for `AuthType NONE` whether the function's
/// policy lets everyone in), from the cache while nothing changed.
pub async fn serving(
    ctx: &Context,
    url_id: &str,
) -> Result<Option<std::sync::Arc<super::url_cache::Serving>>, Error> {
    let read_at = ctx.versions.generation();
    if let Some(s) = ctx.urls.get(url_id, read_at) {
        return Ok(Some(s));
    }
    let Some(url) = by_id(ctx, url_id).await? else {
        return Ok(None);
    };
    let public_allowed = url.config.auth_type == crate::domain::function_url::AuthType::None
        && super::url_policy::allows_public_url(ctx, &url.function, &url.qualifier).await?;
    let s = std::sync::Arc::new(super::url_cache::Serving {
        url,
        public_allowed,
    });
    ctx.urls.put(url_id, read_at, std::sync::Arc::clone(&s));
    Ok(Some(s))
}

/// The URL a request names by its id, if there is one.
pub async fn by_id(ctx: &Context, url_id: &str) -> Result<Option<StoredUrl>, Error> {
    let id = url_id.to_string();
    Ok(ctx.store.call(move |c| store::by_id(c, &id)).await?)
}
