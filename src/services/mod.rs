//! Services: the operations of lambdabox (validate, then store), shared by the API and the
//! dashboard. They speak domain types and errors only: no HTTP, no SQL strings.

pub mod functions;

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::domain::Identity;
use crate::store::Store;

/// What every service needs.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub identity: Identity,
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
}
