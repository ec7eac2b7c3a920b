//! CreateEventBus, DescribeEventBus, DeleteEventBus, ListEventBuses.

use super::{error::check_name, EbError, DEFAULT_BUS};
use crate::domain::function::now_ms;
use crate::services::Context;
use crate::store::rules::{self as rstore, BusDelete, BusRow};

/// Creates a custom bus.
pub async fn create(ctx: &Context, name: &str, description: &str) -> Result<BusRow, EbError> {
    check_name(name, "name", 256, "/")?;
    if name == DEFAULT_BUS {
        return Err(EbError::AlreadyExists(format!(
            "Event bus {name} already exists."
        )));
    }
    if name.starts_with("aws.") {
        return Err(EbError::Validation(
            "Event bus names starting with aws. are for partner event sources, which lambdabox does not have.".into(),
        ));
    }
    if description.len() > 512 {
        return Err(super::error::constraint(
            description,
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    let (n, d) = (name.to_string(), description.to_string());
    let created = ctx
        .store
        .call(move |c| rstore::create_bus(c, &n, &d, now_ms()))
        .await?;
    if !created {
        return Err(EbError::AlreadyExists(format!(
            "Event bus {name} already exists."
        )));
    }
    get(ctx, name).await
}

/// One bus.
pub async fn get(ctx: &Context, name: &str) -> Result<BusRow, EbError> {
    let n = name.to_string();
    ctx.store
        .call(move |c| rstore::get_bus(c, &n))
        .await?
        .ok_or_else(|| not_found(name))
}

/// Deletes a custom bus; AWS requires its rules to be deleted first.
pub async fn delete(ctx: &Context, name: &str) -> Result<(), EbError> {
    if name == DEFAULT_BUS {
        return Err(EbError::Validation(
            "Cannot delete event bus default.".into(),
        ));
    }
    let n = name.to_string();
    match ctx.store.call(move |c| rstore::delete_bus(c, &n)).await? {
        // Deleting a bus that does not exist succeeds, as on AWS.
        BusDelete::Deleted | BusDelete::Missing => Ok(()),
        BusDelete::HasRules(k) => Err(EbError::Validation(format!(
            "Event bus {name} still has {k} rule(s); delete them first."
        ))),
    }
}

/// Buses whose name starts with `prefix`.
pub async fn list(ctx: &Context, prefix: &str) -> Result<Vec<BusRow>, EbError> {
    let p = prefix.to_string();
    Ok(ctx.store.call(move |c| rstore::list_buses(c, &p)).await?)
}

/// `Event bus X does not exist.`
pub fn not_found(name: &str) -> EbError {
    EbError::NotFound(format!("Event bus {name} does not exist."))
}
