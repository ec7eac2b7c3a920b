//! The account's concurrency pool and AWS's rules for carving it up: reserved concurrency per
//! function, provisioned concurrency per version or alias, and the share that must stay
//! unreserved. Pure rules over numbers read inside the write transaction; no I/O.
//!
//! Model: every function has a *dedicated* share, its reserved concurrency when it has one,
//! otherwise the sum of its provisioned concurrency. The unreserved pool is the account limit
//! minus every dedicated share; functions without a reservation share it.

use std::collections::BTreeMap;

use super::Error;

/// The host's account pool, as the engine resolved it from the config and the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPool {
    /// Concurrent executions of the whole account.
    pub limit: u32,
    /// What reservations and provisioned concurrency must leave unreserved.
    pub min_unreserved: u32,
    /// MB of `MemorySize` that live environments may hold together.
    pub memory_budget_mb: u64,
}

/// One function's commitments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub reserved: Option<u32>,
    /// Sum of the provisioned concurrency of its versions and aliases.
    pub provisioned: u32,
}

impl Share {
    /// The part of the account pool only this function may use.
    pub fn dedicated(&self) -> u32 {
        self.reserved.unwrap_or(self.provisioned)
    }
}

/// Every function's commitments, by name.
pub type Shares = BTreeMap<String, Share>;

/// The unreserved pool left by `shares`.
pub fn unreserved(pool: &AccountPool, shares: &Shares) -> u32 {
    let dedicated: u64 = shares.values().map(|s| u64::from(s.dedicated())).sum();
    u32::try_from(u64::from(pool.limit).saturating_sub(dedicated)).unwrap_or(0)
}

fn dedicated_of_others(shares: &Shares, name: &str) -> u64 {
    shares
        .iter()
        .filter(|(n, _)| n.as_str() != name)
        .map(|(_, s)| u64::from(s.dedicated()))
        .sum()
}

/// PutFunctionConcurrency: may `name` reserve `n`?
pub fn check_reserved(
    pool: &AccountPool,
    shares: &Shares,
    name: &str,
    n: u32,
) -> Result<(), Error> {
    let current = shares.get(name).copied().unwrap_or_default();
    if n < current.provisioned {
        return Err(Error::InvalidParameterValue(format!(
            "ReservedConcurrentExecutions ({n}) cannot be lower than the function's provisioned concurrency ({}); lower the provisioned concurrency first.",
            current.provisioned
        )));
    }
    let left = u64::from(pool.limit)
        .saturating_sub(dedicated_of_others(shares, name))
        .saturating_sub(u64::from(n));
    if left < u64::from(pool.min_unreserved) {
        return Err(Error::InvalidParameterValue(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{}].",
            pool.min_unreserved
        )));
    }
    Ok(())
}

/// PutProvisionedConcurrencyConfig: may `name` have `n` provisioned on one qualifier, given
/// `other_qualifiers` already provisioned on its other versions and aliases?
pub fn check_provisioned(
    pool: &AccountPool,
    shares: &Shares,
    name: &str,
    other_qualifiers: u32,
    n: u32,
) -> Result<(), Error> {
    let current = shares.get(name).copied().unwrap_or_default();
    let total = u64::from(other_qualifiers) + u64::from(n);
    match current.reserved {
        Some(r) if total > u64::from(r) => Err(Error::InvalidParameterValue(format!(
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function ({r})."
        ))),
        Some(_) => Ok(()),
        None => {
            let left = u64::from(pool.limit)
                .saturating_sub(dedicated_of_others(shares, name))
                .saturating_sub(total);
            if left < u64::from(pool.min_unreserved) {
                return Err(Error::InvalidParameterValue(format!(
                    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{}].",
                    pool.min_unreserved
                )));
            }
            Ok(())
        }
    }
}

/// Provisioned environments are kept alive: together they must fit in the host's memory
/// budget. `others_mb` is what every other provisioned configuration holds.
pub fn check_provisioned_memory(
    pool: &AccountPool,
    others_mb: u64,
    n: u32,
    memory_mb: u64,
) -> Result<(), Error> {
    let wanted = u64::from(n) * memory_mb;
    if others_mb + wanted > pool.memory_budget_mb {
        return Err(Error::InvalidParameterValue(format!(
            "Provisioned concurrency of {n} needs {wanted} MB of memory, but this host's budget for execution environments is {} MB and other provisioned environments hold {others_mb} MB (config key engine.memory_budget_mb).",
            pool.memory_budget_mb
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pool() -> AccountPool {
        AccountPool {
            limit: 1000,
            min_unreserved: 100,
            memory_budget_mb: 4096,
        }
    }

    fn shares(items: &[(&str, Option<u32>, u32)]) -> Shares {
        items
            .iter()
            .map(|(n, r, p)| {
                (
                    n.to_string(),
                    Share {
                        reserved: *r,
                        provisioned: *p,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn reservations_must_leave_the_minimum_unreserved() {
        let s = shares(&[("a", Some(400), 0), ("b", None, 100)]);
        assert_eq!(unreserved(&pool(), &s), 500);
        assert!(check_reserved(&pool(), &s, "c", 400).is_ok());
        let e = check_reserved(&pool(), &s, "c", 401).unwrap_err();
        assert!(e.to_string().contains("minimum value of [100]"), "{e}");
        // Changing a's own reservation does not count its old value.
        assert!(check_reserved(&pool(), &s, "a", 800).is_ok());
        assert!(check_reserved(&pool(), &s, "a", 801).is_err());
        // Zero is always allowed (it frees capacity).
        assert!(check_reserved(&pool(), &s, "a", 0).is_ok());
    }

    #[test]
    fn reserved_cannot_drop_below_provisioned() {
        let s = shares(&[("a", Some(10), 5)]);
        assert!(check_reserved(&pool(), &s, "a", 5).is_ok());
        assert!(check_reserved(&pool(), &s, "a", 4).is_err());
    }

    #[test]
    fn provisioned_fits_in_reserved_or_in_the_unreserved_pool() {
        let s = shares(&[("a", Some(10), 4), ("b", None, 0), ("c", Some(500), 0)]);
        assert!(check_provisioned(&pool(), &s, "a", 4, 6).is_ok());
        let e = check_provisioned(&pool(), &s, "a", 4, 7).unwrap_err();
        assert!(e.to_string().contains("reservedConcurrentExecution"), "{e}");
        // b: 1000 - 10 - 500 = 490 left, 100 of which must stay unreserved.
        assert!(check_provisioned(&pool(), &s, "b", 0, 390).is_ok());
        let e = check_provisioned(&pool(), &s, "b", 0, 391).unwrap_err();
        assert!(e.to_string().contains("minimum value of [100]"), "{e}");
    }

    #[test]
    fn provisioned_memory_fits_the_budget() {
        assert!(check_provisioned_memory(&pool(), 2048, 16, 128).is_ok());
        assert!(check_provisioned_memory(&pool(), 2048, 17, 128).is_err());
    }
}
