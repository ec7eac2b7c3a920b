//! Layer operations (PublishLayerVersion, ListLayers, ListLayerVersions, GetLayerVersion,
//! GetLayerVersionByArn, DeleteLayerVersion) and the resolution of a function's `Layers`
//! into the archives it will run with.

use super::functions::{check_code_off, cut_page, decode_marker, encode_marker, page_limit};
use super::Context;
use crate::domain::function::{now_ms, FunctionConfig};
use crate::domain::layer::{self, AttachedLayer, LayerVersion, MAX_LAYERS};
use crate::domain::zipcheck::MAX_UNZIPPED;
use crate::domain::{validate, Error};
use crate::store::blobs;
use crate::store::layers::{self as lstore, Filter, LayerMeta};

/// PublishLayerVersion.
pub async fn publish(
    ctx: &Context,
    name: String,
    zip: Vec<u8>,
    meta: LayerMeta,
) -> Result<LayerVersion, Error> {
    layer::name(&name)?;
    validate::description(&meta.description)?;
    layer::compatible_runtimes(&meta.compatible_runtimes)?;
    layer::compatible_architectures(&meta.compatible_architectures)?;
    if let Some(l) = &meta.license_info {
        layer::license_info(l)?;
    }
    let content = check_code_off(ctx, zip).await?;
    super::functions::check_storage(ctx, content.data.len() as u64).await?;
    Ok(ctx
        .store
        .call(move |c| lstore::publish(c, &name, &content, &meta, now_ms()))
        .await?)
}

fn version_not_found(ctx: &Context, name: &str, version: i64) -> Error {
    Error::ResourceNotFound(format!(
        "Layer version {} does not exist.",
        ctx.identity.layer_version_arn(name, version)
    ))
}

/// GetLayerVersion.
pub async fn get(ctx: &Context, name: &str, version: i64) -> Result<LayerVersion, Error> {
    layer::name(name)?;
    let n = name.to_string();
    ctx.store
        .call(move |c| lstore::get(c, &n, version, false))
        .await?
        .ok_or_else(|| version_not_found(ctx, name, version))
}

/// GetLayerVersionByArn.
pub async fn get_by_arn(ctx: &Context, arn: &str) -> Result<LayerVersion, Error> {
    let (name, version) = layer::parse_version_arn(arn, &ctx.identity).map_err(|_| {
        Error::constraint(
            arn,
            "arn",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)",
        )
    })?;
    get(ctx, &name, version).await
}

/// One page of ListLayerVersions (newest first).
pub async fn list_versions(
    ctx: &Context,
    name: &str,
    filter: Filter,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<LayerVersion>, Option<String>), Error> {
    layer::name(name)?;
    check_filter(&filter)?;
    let limit = page_limit(max_items)?;
    let before = match marker.as_deref().map(decode_marker).transpose()? {
        Some((n, v)) if n == name => v,
        Some(_) => return Err(Error::InvalidParameterValue("Invalid Marker".into())),
        None => i64::MAX,
    };
    let n = name.to_string();
    let mut items = ctx
        .store
        .call(move |c| lstore::list_versions(c, &n, &filter, before, limit + 1))
        .await?;
    let next = cut_page(&mut items, limit, |v| encode_marker(&v.name, v.version));
    Ok((items, next))
}

/// One page of ListLayers: each layer with its newest version matching the filter.
pub async fn list_layers(
    ctx: &Context,
    filter: Filter,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<LayerVersion>, Option<String>), Error> {
    check_filter(&filter)?;
    let limit = page_limit(max_items)?;
    let after = match marker.as_deref().map(decode_marker).transpose()? {
        Some((n, _)) => n,
        None => String::new(),
    };
    let mut items = ctx
        .store
        .call(move |c| lstore::list_layers(c, &filter, &after, limit + 1))
        .await?;
    let next = cut_page(&mut items, limit, |v| encode_marker(&v.name, 0));
    Ok((items, next))
}

fn check_filter(f: &Filter) -> Result<(), Error> {
    if let Some(r) = &f.runtime {
        layer::compatible_runtimes(std::slice::from_ref(r))?;
    }
    if let Some(a) = &f.architecture {
        layer::compatible_architectures(std::slice::from_ref(a))?;
    }
    Ok(())
}

/// DeleteLayerVersion (idempotent).
pub async fn delete(ctx: &Context, name: &str, version: i64) -> Result<(), Error> {
    layer::name(name)?;
    let n = name.to_string();
    ctx.store
        .call(move |c| lstore::delete(c, &n, version))
        .await?;
    Ok(())
}

/// Resolves the layers of `config` in place: each ARN to the archive it designates, checked
/// for existence, compatibility with the function, duplicates, and the 250 MB limit of code
/// plus layers (`code_unzipped` bytes of function code). Layers the function already used
/// (`current`) keep the archive they were configured with, even if deleted since.
pub async fn attach(
    ctx: &Context,
    config: &mut FunctionConfig,
    current: &[AttachedLayer],
    code_unzipped: u64,
) -> Result<(), Error> {
    if config.layers.len() > MAX_LAYERS {
        return Err(Error::InvalidParameterValue(format!(
            "Cannot reference more than {MAX_LAYERS} layers."
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for l in &mut config.layers {
        let (name, version) = layer::parse_version_arn(&l.arn, &ctx.identity)?;
        if !seen.insert(name.clone()) {
            return Err(Error::InvalidParameterValue(format!(
                "Two different versions of the same layer are not allowed: layer {name} is listed more than once."
            )));
        }
        if let Some(kept) = current
            .iter()
            .find(|c| c.arn == l.arn && !c.sha256.is_empty())
        {
            *l = kept.clone();
            continue;
        }
        let n = name.clone();
        let found = ctx
            .store
            .call(move |c| lstore::get(c, &n, version, false))
            .await?
            .ok_or_else(|| {
                Error::InvalidParameterValue(format!("Layer version {} does not exist.", l.arn))
            })?;
        found.check_compatible(&l.arn, &config.runtime, &config.architectures)?;
        l.sha256 = found.sha256;
        l.code_size = found.code_size;
        l.unzipped_size = found.unzipped_size;
    }
    let total = config
        .layers
        .iter()
        .fold(code_unzipped, |t, l| t.saturating_add(l.unzipped_size));
    if total > MAX_UNZIPPED {
        return Err(Error::InvalidParameterValue(format!(
            "Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED} bytes. The actual size is {total} bytes."
        )));
    }
    Ok(())
}

/// Unzipped size of a stored function package.
pub async fn code_unzipped(ctx: &Context, sha256: &str) -> Result<u64, Error> {
    let sha = sha256.to_string();
    Ok(ctx
        .store
        .call(move |c| blobs::unzipped_size(c, &sha))
        .await?
        .unwrap_or(0))
}
