//! Aliases on the Versions & aliases tab, through `services::aliases`: list, create or
//! update (with an optional weighted second version), delete.

use std::collections::BTreeMap;

use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::App;
use crate::domain::Error;
use crate::services::aliases as svc;
use crate::store::aliases::AliasChange;

/// An alias as shown.
#[derive(Serialize)]
pub struct AliasRow {
    pub name: String,
    pub version: String,
    pub description: String,
    pub routing: String,
}

/// The aliases of a function (at most 1,000).
pub async fn list(app: &App, name: &str) -> Result<Vec<AliasRow>, Error> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = svc::list(&app.ctx, name, None, marker, Some(50)).await?;
        out.extend(items.into_iter().map(|a| {
            AliasRow {
                routing: a
                    .routing
                    .iter()
                    .map(|(v, w)| format!("{:.0}% → version {v}", w * 100.0))
                    .collect::<Vec<_>>()
                    .join(", "),
                name: a.name,
                version: a.function_version,
                description: a.description,
            }
        }));
        match next {
            Some(m) if out.len() < 1000 => marker = Some(m),
            _ => return Ok(out),
        }
    }
}

/// Creates the alias, or updates it if it exists.
pub async fn save(
    app: &App,
    function: &str,
    f: &Form,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let alias = f.get("alias").to_string();
    let version = f.get("alias_version").to_string();
    let description = f.get("alias_description").to_string();
    let mut routing = BTreeMap::new();
    let extra = f.get("extra_version");
    if !extra.is_empty() {
        match f.get("extra_weight").parse::<f64>() {
            Ok(w) if (0.0..=1.0).contains(&w) => {
                routing.insert(extra.to_string(), w);
            }
            _ => {
                errors.add(
                    "alias",
                    "The second version's share is a number from 0 to 1, e.g. 0.1 for 10%.",
                );
                return Ok(());
            }
        }
    }
    match svc::get(&app.ctx, function, &alias).await {
        Ok(_) => {
            let change = AliasChange {
                function_version: Some(version),
                description: Some(description),
                routing: Some(routing),
            };
            svc::update(&app.ctx, function, &alias, change, None).await?;
        }
        Err(Error::ResourceNotFound(m)) if m.starts_with("Alias not found") => {
            svc::create(
                &app.ctx,
                function,
                alias,
                version,
                Some(description),
                routing,
            )
            .await?;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// A refused alias change in the words of the page (versions by number, no ARNs).
pub fn plain_error(e: &Error, function: &str) -> String {
    let text = e.to_string();
    let plain = super::plain::without_arns(&text);
    match e {
        Error::ResourceNotFound(_) if text.contains("Function not found") => {
            match plain.rsplit_once("version ") {
                Some((_, rest)) => {
                    let v = rest.split_whitespace().next().unwrap_or(rest);
                    format!("Version {v} of {function} does not exist. Choose a published version (the list above), or publish one first.")
                }
                None => plain,
            }
        }
        Error::ResourceConflict(_) => {
            format!("{plain} Reload the page to see the current aliases.")
        }
        _ => plain,
    }
}

/// Deletes an alias.
pub async fn delete(app: &App, function: &str, alias: &str) -> Result<(), Error> {
    svc::delete(&app.ctx, function, alias).await
}
