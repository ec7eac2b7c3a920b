//! Function lifecycle operations: create, read, list, update code and configuration, delete,
//! tags and account usage. Every check that AWS makes before changing anything is made here,
//! so a refused call changes nothing.

use std::collections::BTreeMap;

use super::{Context, Target};
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::function::{now_ms, FunctionConfig, FunctionVersion};
use crate::domain::{validate, zipcheck, Error};
use crate::store::aliases as astore;
use crate::store::functions::{self as fstore, Code, FunctionRow};
use crate::store::{blobs, StoreError};

/// Page size cap AWS applies to ListFunctions.
pub const LIST_PAGE_MAX: usize = 50;

/// A function version together with its function-level row.
pub struct Found {
    pub version: FunctionVersion,
    pub row: FunctionRow,
}

/// Checks a whole configuration against AWS's constraints and this host's capabilities.
pub fn validate_config(ctx: &Context, c: &FunctionConfig) -> Result<(), Error> {
    validate::package_type(&c.package_type)?;
    ctx.catalog.check(&c.runtime)?;
    validate::handler(&c.handler)?;
    validate::role(&c.role)?;
    validate::description(&c.description)?;
    validate::timeout(i64::from(c.timeout))?;
    validate::memory_size(i64::from(c.memory_size))?;
    validate::ephemeral_storage(i64::from(c.ephemeral_storage))?;
    validate::environment(&c.environment)?;
    validate::architectures(&c.architectures)?;
    let arns: Vec<String> = c.layers.iter().map(|l| l.arn.clone()).collect();
    validate::layers(&arns)?;
    validate::tracing_mode(&c.tracing_mode)?;
    validate::log_format(&c.logging.log_format)?;
    let sb = &ctx.config.sandbox;
    crate::netconfig::policy(
        &sb.default_network,
        &sb.subnets,
        &sb.security_groups,
        &c.vpc.subnet_ids,
        &c.vpc.security_group_ids,
    )
    .map_err(Error::InvalidParameterValue)?;
    Ok(())
}

/// DeadLetterConfig.TargetArn must name an SQS queue or SNS topic that this lambdabox
/// serves; until those services exist, it is refused with a message that says so.
async fn check_dead_letter(ctx: &Context, c: &FunctionConfig) -> Result<(), Error> {
    if let Some(arn) = &c.dead_letter_target {
        ctx.destinations
            .check(
                &ctx.identity,
                arn,
                crate::domain::event_invoke::DestinationUse::DeadLetter,
            )
            .await?;
    }
    Ok(())
}

/// Validates a package and computes its digest.
pub fn check_code(zip: Vec<u8>) -> Result<Code, Error> {
    let info = zipcheck::check(&zip)?;
    Ok(Code {
        sha256: blobs::sha256_hex(&zip),
        data: zip,
        unzipped_size: info.unzipped_size,
    })
}

/// [`check_code`] on a heavy-work thread (`services::cpu`).
pub async fn check_code_off(ctx: &Context, zip: Vec<u8>) -> Result<Code, Error> {
    ctx.cpu.run(move || check_code(zip)).await?
}

pub(crate) async fn check_storage(ctx: &Context, adding: u64) -> Result<(), Error> {
    let limit = ctx.config.limits.total_code_size;
    let used = ctx.store.call(|c| blobs::total_size(c)).await?;
    if used.saturating_add(adding) > limit {
        return Err(Error::CodeStorageExceeded(format!(
            "Code storage limit exceeded: {used} bytes used, {adding} more requested, limit {limit} (config key limits.total_code_size)."
        )));
    }
    Ok(())
}

/// CreateFunction.
pub async fn create(
    ctx: &Context,
    name: String,
    config: FunctionConfig,
    zip: Vec<u8>,
    tags: BTreeMap<String, String>,
    publish: bool,
) -> Result<FunctionVersion, Error> {
    validate::function_name(&name)?;
    validate_config(ctx, &config)?;
    super::iam::execution::check_function_role(
        ctx,
        &config.role,
        &ctx.identity.function_arn(&name),
    )
    .await
    .map_err(Error::InvalidParameterValue)?;
    check_dead_letter(ctx, &config).await?;
    validate_tags(&tags)?;
    let code = check_code_off(ctx, zip).await?;
    let mut config = config;
    super::layers::attach(ctx, &mut config, &[], code.unzipped_size).await?;
    check_storage(ctx, code.data.len() as u64).await?;
    let created = ctx
        .store
        .call(move |c| fstore::create(c, &name, &config, &code, &tags, now_ms()))
        .await?;
    ctx.versions.changed();
    if publish {
        return publish_version(ctx, &created.name, None, None, None).await;
    }
    Ok(created)
}

/// Resolves a reference (with its qualifier) to a stored version.
pub async fn get(ctx: &Context, r: &FunctionRef) -> Result<Found, Error> {
    let name = r.name.clone();
    let qualifier = r.qualifier.clone();
    let arn = match &r.qualifier {
        Some(q) => ctx.identity.qualified_arn(&r.name, q),
        None => ctx.identity.function_arn(&r.name),
    };
    ctx.store
        .call(move |c| {
            let row =
                fstore::function_row(c, &name)?.ok_or_else(|| Error::function_not_found(&arn))?;
            // An unknown alias reads as a missing qualified function, as on AWS.
            let version = resolve_version(c, &name, qualifier.as_deref())?
                .ok_or_else(|| Error::function_not_found(&arn))?;
            let v = fstore::get_version(c, &name, &version)?
                .ok_or_else(|| Error::function_not_found(&arn))?;
            Ok(Found { version: v, row })
        })
        .await
        .map_err(Error::from)
}

/// The version one invocation of `r` runs, served from the version cache while no function
/// changed since it was read. A weighted alias picks its additional version with the
/// probability of its weight.
pub async fn resolve_for_invoke(ctx: &Context, r: &FunctionRef) -> Result<FunctionVersion, Error> {
    let key = (r.name.clone(), r.qualifier.clone());
    let target = match ctx.versions.get(&key) {
        Some(t) => t,
        None => {
            let read_at = ctx.versions.generation();
            let t = std::sync::Arc::new(target(ctx, r).await?);
            ctx.versions.put(key, read_at, t.clone());
            t
        }
    };
    let roll = if target.additional.is_some() {
        rand::random::<f64>()
    } else {
        0.0
    };
    Ok(target.pick(roll).clone())
}

/// Reads what an invocation of `r` may run.
async fn target(ctx: &Context, r: &FunctionRef) -> Result<Target, Error> {
    let Some(alias_name) = r.qualifier.as_deref().filter(|q| is_alias_name(q)) else {
        return Ok(Target {
            primary: get(ctx, r).await?.version,
            additional: None,
        });
    };
    let name = r.name.clone();
    let alias_name = alias_name.to_string();
    let arn = ctx.identity.qualified_arn(&r.name, &alias_name);
    ctx.store
        .call(move |c| {
            let missing = || Error::function_not_found(&arn);
            let alias = astore::get(c, &name, &alias_name)?.ok_or_else(missing)?;
            let primary =
                fstore::get_version(c, &name, &alias.function_version)?.ok_or_else(missing)?;
            let additional = match alias.routing.iter().next() {
                Some((v, w)) => Some((fstore::get_version(c, &name, v)?.ok_or_else(missing)?, *w)),
                None => None,
            };
            Ok(Target {
                primary,
                additional,
            })
        })
        .await
        .map_err(Error::from)
}

/// True for a qualifier that names an alias rather than `$LATEST` or a version number.
pub fn is_alias_name(q: &str) -> bool {
    q != LATEST && !q.bytes().all(|b| b.is_ascii_digit())
}

/// `$LATEST`, a version number, or an alias name → the version it designates (`None`
/// for an unknown alias).
fn resolve_version(
    c: &rusqlite::Connection,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Option<String>, StoreError> {
    match qualifier {
        None => Ok(Some(LATEST.to_string())),
        Some(q) if !is_alias_name(q) => Ok(Some(q.to_string())),
        Some(alias) => Ok(astore::get(c, name, alias)?.map(|a| a.function_version)),
    }
}

/// Page size for a `MaxItems` (1–10000 accepted; AWS serves at most 50 per page).
pub fn page_limit(max_items: Option<i64>) -> Result<usize, Error> {
    match max_items {
        None => Ok(LIST_PAGE_MAX),
        Some(n) if (1..=10_000).contains(&n) => Ok(usize::try_from(n)
            .unwrap_or(LIST_PAGE_MAX)
            .min(LIST_PAGE_MAX)),
        Some(n) => Err(Error::constraint(
            &n.to_string(),
            "maxItems",
            "Member must have value between 1 and 10000",
        )),
    }
}

/// One page of ListFunctions: items and the next marker.
pub async fn list(
    ctx: &Context,
    marker: Option<String>,
    max_items: Option<i64>,
    all_versions: bool,
) -> Result<(Vec<FunctionVersion>, Option<String>), Error> {
    let limit = page_limit(max_items)?;
    let after = marker.as_deref().map(decode_marker).transpose()?;
    let items = ctx
        .store
        .call(move |c| {
            if all_versions {
                let after = after.as_ref().map(|(n, v)| (n.as_str(), *v));
                fstore::list_all_versions(c, after, limit + 1)
            } else {
                fstore::list_latest(c, after.as_ref().map(|(n, _)| n.as_str()), limit + 1)
            }
        })
        .await?;
    Ok(page(items, limit))
}

/// One page of ListVersionsByFunction: `$LATEST` first, then 1, 2, …
pub async fn list_versions(
    ctx: &Context,
    name: &str,
    marker: Option<String>,
    max_items: Option<i64>,
) -> Result<(Vec<FunctionVersion>, Option<String>), Error> {
    let limit = page_limit(max_items)?;
    let after = match marker.as_deref().map(decode_marker).transpose()? {
        Some((n, v)) if n == name => v,
        Some(_) => {
            return Err(Error::InvalidParameterValue(format!(
                "Invalid Marker for {name}"
            )))
        }
        None => -1,
    };
    let n = name.to_string();
    let arn = ctx.identity.function_arn(name);
    let items = ctx
        .store
        .call(move |c| {
            fstore::function_row(c, &n)?.ok_or_else(|| Error::function_not_found(&arn))?;
            fstore::list_versions(c, &n, after, limit + 1)
        })
        .await?;
    Ok(page(items, limit))
}

fn page(mut items: Vec<FunctionVersion>, limit: usize) -> (Vec<FunctionVersion>, Option<String>) {
    let next = cut_page(&mut items, limit, |v| {
        encode_marker(&v.name, version_num(&v.version))
    });
    (items, next)
}

/// Cuts `items`, read with `limit + 1` rows, to `limit`; returns the marker of the last kept
/// item when more follow.
pub fn cut_page<T>(
    items: &mut Vec<T>,
    limit: usize,
    marker: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() <= limit {
        return None;
    }
    items.truncate(limit);
    items.last().map(marker)
}

fn version_num(v: &str) -> i64 {
    v.parse().unwrap_or(0)
}

/// Markers are opaque to clients: base64 of `name\nversion-number`.
pub fn encode_marker(name: &str, version: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{name}\n{version}"))
}

/// Reverses [`encode_marker`]; a marker that was not issued by lambdabox is refused.
pub fn decode_marker(m: &str) -> Result<(String, i64), Error> {
    use base64::Engine;
    let bad = || Error::InvalidParameterValue(format!("Invalid Marker: {m}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(m)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (name, num) = text.split_once('\n').ok_or_else(bad)?;
    Ok((name.to_string(), num.parse().map_err(|_| bad())?))
}

fn require_latest(r: &FunctionRef, ctx: &Context) -> Result<(), Error> {
    match r.qualifier.as_deref() {
        None | Some(LATEST) => Ok(()),
        Some(q) => Err(Error::InvalidParameterValue(format!(
            "Only $LATEST can be updated; {} is a published version or alias.",
            ctx.identity.qualified_arn(&r.name, q)
        ))),
    }
}

/// `$LATEST` of the function `r` names, checked against the caller's RevisionId (the store
/// checks it again inside the write transaction).
async fn latest_matching(
    ctx: &Context,
    r: &FunctionRef,
    revision: Option<&str>,
) -> Result<Found, Error> {
    require_latest(r, ctx)?;
    let latest = FunctionRef {
        name: r.name.clone(),
        qualifier: None,
    };
    let current = get(ctx, &latest).await?;
    if revision.is_some_and(|rev| rev != current.version.revision_id) {
        return Err(Error::stale_revision());
    }
    Ok(current)
}

/// UpdateFunctionCode. With `dry_run` the package is validated and nothing changes.
pub async fn update_code(
    ctx: &Context,
    r: &FunctionRef,
    zip: Vec<u8>,
    dry_run: bool,
    revision: Option<String>,
    publish: bool,
) -> Result<FunctionVersion, Error> {
    let code = check_code_off(ctx, zip).await?;
    let current = latest_matching(ctx, r, revision.as_deref()).await?;
    if !current.version.config.layers.is_empty() {
        // Only the size limit can fail: the layers are those already attached.
        let mut config = current.version.config.clone();
        let attached = config.layers.clone();
        super::layers::attach(ctx, &mut config, &attached, code.unzipped_size).await?;
    }
    if dry_run {
        let mut preview = current.version;
        preview.code_sha256 = code.sha256;
        preview.code_size = code.data.len() as u64;
        return Ok(preview);
    }
    if current.version.code_sha256 != code.sha256 {
        check_storage(ctx, code.data.len() as u64).await?;
    }
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    let updated = ctx
        .store
        .call(move |c| fstore::update_code(c, &name, &arn, &code, revision.as_deref(), now_ms()))
        .await?;
    ctx.versions.changed();
    if publish {
        return publish_version(ctx, &updated.name, None, None, None).await;
    }
    Ok(updated)
}

/// UpdateFunctionConfiguration: `change` edits a copy of the current configuration, which is
/// validated as a whole before it is stored.
pub async fn update_config<F>(
    ctx: &Context,
    r: &FunctionRef,
    revision: Option<String>,
    change: F,
) -> Result<FunctionVersion, Error>
where
    F: FnOnce(&mut FunctionConfig) -> Result<(), Error> + Send + 'static,
{
    let current = latest_matching(ctx, r, revision.as_deref()).await?;
    let mut next = current.version.config.clone();
    change(&mut next)?;
    validate_config(ctx, &next)?;
    if next.role != current.version.config.role {
        super::iam::execution::check_function_role(
            ctx,
            &next.role,
            &ctx.identity.function_arn(&r.name),
        )
        .await
        .map_err(Error::InvalidParameterValue)?;
    }
    if next.dead_letter_target != current.version.config.dead_letter_target {
        check_dead_letter(ctx, &next).await?;
    }
    if !next.layers.is_empty() {
        let code_unzipped = super::layers::code_unzipped(ctx, &current.version.code_sha256).await?;
        super::layers::attach(
            ctx,
            &mut next,
            &current.version.config.layers,
            code_unzipped,
        )
        .await?;
    }
    let name = r.name.clone();
    let arn = ctx.identity.function_arn(&name);
    let updated = ctx
        .store
        .call(move |c| {
            fstore::update_config(c, &name, &arn, revision.as_deref(), now_ms(), |cfg| {
                *cfg = next;
                Ok(())
            })
        })
        .await?;
    ctx.versions.changed();
    Ok(updated)
}

/// PublishVersion.
pub async fn publish_version(
    ctx: &Context,
    name: &str,
    description: Option<String>,
    code_sha256: Option<String>,
    revision: Option<String>,
) -> Result<FunctionVersion, Error> {
    if let Some(d) = &description {
        validate::description(d)?;
    }
    let name = name.to_string();
    let arn = ctx.identity.function_arn(&name);
    let published = ctx
        .store
        .call(move |c| {
            fstore::publish(
                c,
                &name,
                &arn,
                description.as_deref(),
                code_sha256.as_deref(),
                revision.as_deref(),
                now_ms(),
            )
        })
        .await?;
    ctx.versions.changed();
    Ok(published)
}

/// DeleteFunction: the whole function, or one published version with a qualifier.
pub async fn delete(ctx: &Context, r: &FunctionRef) -> Result<(), Error> {
    let name = r.name.clone();
    match r.qualifier.as_deref() {
        None => {
            let arn = ctx.identity.function_arn(&name);
            ctx.store
                .call(move |c| fstore::delete_function(c, &name, &arn))
                .await?;
            ctx.versions.changed();
        }
        Some(LATEST) => {
            return Err(Error::InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            ))
        }
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => {
            let q = q.to_string();
            let arn = ctx.identity.qualified_arn(&name, &q);
            ctx.store
                .call(move |c| fstore::delete_version(c, &name, &q, &arn))
                .await?;
            ctx.versions.changed();
        }
        Some(q) => {
            return Err(Error::InvalidParameterValue(format!(
            "Deletion of aliases is not supported with DeleteFunction; use DeleteAlias for '{q}'."
        )))
        }
    }
    Ok(())
}

/// Tag keys and values as AWS constrains them.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), Error> {
    if tags.len() > 50 {
        return Err(Error::InvalidParameterValue(
            "Number of tags exceeds resource tag limit of 50.".into(),
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") {
            return Err(Error::InvalidParameterValue(format!(
                "Tag key '{k}' is invalid: 1-128 characters, and the prefix 'aws:' is reserved."
            )));
        }
        if v.chars().count() > 256 {
            return Err(Error::InvalidParameterValue(format!(
                "Tag value for key '{k}' is longer than 256 characters."
            )));
        }
    }
    Ok(())
}

/// Parses the ARN of a taggable resource (an unqualified function ARN).
pub fn tag_target(ctx: &Context, arn: &str) -> Result<String, Error> {
    let prefix = format!(
        "arn:aws:lambda:{}:{}:function:",
        ctx.identity.region, ctx.identity.account_id
    );
    match arn.strip_prefix(&prefix) {
        Some(name) if validate::function_name(name).is_ok() => Ok(name.to_string()),
        Some(_) => Err(Error::InvalidParameterValue(format!(
            "Tags are only supported on unqualified function ARNs, not {arn}."
        ))),
        None => Err(Error::InvalidParameterValue(format!(
            "{arn} is not a function ARN of this lambdabox ({prefix}NAME)."
        ))),
    }
}

/// TagResource / UntagResource.
pub async fn change_tags<F>(ctx: &Context, arn: &str, change: F) -> Result<(), Error>
where
    F: FnOnce(&mut BTreeMap<String, String>) -> Result<(), Error> + Send + 'static,
{
    let name = tag_target(ctx, arn)?;
    let arn = arn.to_string();
    ctx.store
        .call(move |c| {
            fstore::update_tags(c, &name, &arn, |tags| {
                change(tags)?;
                validate_tags(tags)
            })
        })
        .await?;
    Ok(())
}

/// ListTags.
pub async fn tags(ctx: &Context, arn: &str) -> Result<BTreeMap<String, String>, Error> {
    let name = tag_target(ctx, arn)?;
    let arn = arn.to_string();
    Ok(ctx
        .store
        .call(move |c| {
            Ok(fstore::function_row(c, &name)?
                .ok_or_else(|| Error::function_not_found(&arn))?
                .tags)
        })
        .await?)
}

/// Usage numbers for GetAccountSettings: (total code bytes, function count).
pub async fn usage(ctx: &Context) -> Result<(u64, u64), Error> {
    Ok(ctx
        .store
        .call(|c| Ok((blobs::total_size(c)?, fstore::count(c)?)))
        .await?)
}

/// The stored package of a version, by digest.
pub async fn code_bytes(ctx: &Context, sha256: String) -> Result<Option<Vec<u8>>, Error> {
    Ok(ctx.store.call(move |c| blobs::get(c, &sha256)).await?)
}

/// `$LATEST` of the functions whose name contains `query` (case-insensitive), by name after
/// `after`, at most `limit`: the dashboard's list and search.
pub async fn search(
    ctx: &Context,
    query: &str,
    after: Option<String>,
    limit: usize,
) -> Result<Vec<FunctionVersion>, Error> {
    let q = query.to_string();
    Ok(ctx
        .store
        .call(move |c| fstore::search_latest(c, &q, after.as_deref(), limit))
        .await?)
}
