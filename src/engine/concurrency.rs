//! The engine's side of the concurrency operations: the API and the dashboard call these,
//! which run the service (validation and storage against this host's pool) and then apply
//! the result to admission (`capacity`) and to the provisioned environments.

use std::sync::Arc;

use super::capacity::Snapshot;
use super::provisioned::{Report, Status};
use super::{Engine, Inner};
use crate::domain::arn::FunctionRef;
use crate::domain::concurrency::{self as rules, AccountPool, Share};
use crate::domain::Error;
use crate::services::concurrency as svc;
use crate::store::concurrency::ProvisionedRow;

/// A provisioned concurrency configuration with its live state.
#[derive(Debug, Clone)]
pub struct ProvisionedView {
    pub row: ProvisionedRow,
    pub report: Report,
}

impl ProvisionedView {
    pub fn status(&self) -> Status {
        self.report.status
    }
}

/// Reads every function's share from the store and applies it to admission.
pub(super) async fn apply_shares(inner: &Arc<Inner>) -> Result<(), Error> {
    let shares = svc::shares(&inner.ctx).await?;
    let mut known = match inner.share_names.lock() {
        Ok(k) => k,
        Err(p) => p.into_inner(),
    };
    for name in known.iter() {
        if !shares.contains_key(name) {
            inner.capacity.set_share(name, Share::default());
        }
    }
    for (name, share) in &shares {
        inner.capacity.set_share(name, *share);
    }
    *known = shares.into_keys().collect();
    Ok(())
}

impl Engine {
    /// The account pool this host enforces.
    pub fn pool(&self) -> AccountPool {
        self.inner.capacity.limits().pool()
    }

    /// Admission counts right now.
    pub fn capacity(&self) -> Snapshot {
        self.inner.capacity.snapshot()
    }

    /// Whether an invocation of `function` would be admitted now without waiting.
    pub fn would_admit(&self, function: &str) -> bool {
        self.inner.capacity.would_admit(function)
    }

    /// Invocations of `function` running now.
    pub fn running(&self, function: &str) -> u32 {
        self.inner.capacity.in_flight(function)
    }

    /// `UnreservedConcurrentExecutions`: the account limit minus every dedicated share.
    pub async fn unreserved_concurrency(&self) -> Result<u32, Error> {
        let shares = svc::shares(&self.inner.ctx).await?;
        Ok(rules::unreserved(&self.pool(), &shares))
    }

    /// PutFunctionConcurrency.
    pub async fn put_reserved_concurrency(&self, r: &FunctionRef, n: i64) -> Result<u32, Error> {
        let n = svc::put_reserved(&self.inner.ctx, r, n, self.pool()).await?;
        apply_shares(&self.inner).await?;
        Ok(n)
    }

    /// DeleteFunctionConcurrency.
    pub async fn delete_reserved_concurrency(&self, r: &FunctionRef) -> Result<(), Error> {
        svc::delete_reserved(&self.inner.ctx, r).await?;
        apply_shares(&self.inner).await
    }

    /// GetFunctionConcurrency.
    pub async fn reserved_concurrency(&self, r: &FunctionRef) -> Result<Option<u32>, Error> {
        svc::get_reserved(&self.inner.ctx, r).await
    }

    fn view(&self, row: ProvisionedRow) -> ProvisionedView {
        let report = self
            .inner
            .provisioned
            .report(&row.function, &row.qualifier, row.requested);
        ProvisionedView { row, report }
    }

    /// PutProvisionedConcurrencyConfig: stored, then provisioned in the background.
    pub async fn put_provisioned(&self, r: &FunctionRef, n: i64) -> Result<ProvisionedView, Error> {
        let row = svc::put_provisioned(&self.inner.ctx, r, n, self.pool()).await?;
        apply_shares(&self.inner).await?;
        self.inner.provisioned.changed();
        let mut view = self.view(row);
        if view.report.status == Status::Ready && view.report.allocated < view.row.requested {
            view.report.status = Status::InProgress;
        }
        Ok(view)
    }

    /// GetProvisionedConcurrencyConfig.
    pub async fn get_provisioned(&self, r: &FunctionRef) -> Result<ProvisionedView, Error> {
        let row = svc::get_provisioned(&self.inner.ctx, r).await?;
        Ok(self.view(row))
    }

    /// DeleteProvisionedConcurrencyConfig: the environments are stopped in the background.
    pub async fn delete_provisioned(&self, r: &FunctionRef) -> Result<(), Error> {
        svc::delete_provisioned(&self.inner.ctx, r).await?;
        apply_shares(&self.inner).await?;
        self.inner.provisioned.changed();
        Ok(())
    }

    /// ListProvisionedConcurrencyConfigs.
    pub async fn list_provisioned(
        &self,
        r: &FunctionRef,
        marker: Option<String>,
        max_items: Option<i64>,
    ) -> Result<(Vec<ProvisionedView>, Option<String>), Error> {
        let (rows, next) = svc::list_provisioned(&self.inner.ctx, r, marker, max_items).await?;
        Ok((rows.into_iter().map(|row| self.view(row)).collect(), next))
    }
}
