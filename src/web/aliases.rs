//! Aliases on the Versions & aliases tab. Until the aliases service exists (issue 5), the
//! list is empty and saving explains that aliases are not available yet.

use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::App;
use crate::domain::Error;

/// An alias as shown.
#[derive(Serialize)]
pub struct AliasRow {
    pub name: String,
    pub version: String,
    pub description: String,
    pub routing: String,
}

/// The aliases of a function.
pub async fn list(_app: &App, _name: &str) -> Result<Vec<AliasRow>, Error> {
    Ok(Vec::new())
}

/// Creates or updates an alias from the form.
pub async fn save(
    _app: &App,
    _name: &str,
    _f: &Form,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    errors.add(
        "alias",
        "Aliases are not available in this lambdabox build yet.",
    );
    Ok(())
}

/// Deletes an alias.
pub async fn delete(_app: &App, _name: &str, _alias: &str) -> Result<(), Error> {
    Err(Error::NotImplemented(
        "Aliases are not available in this lambdabox build yet.".into(),
    ))
}
