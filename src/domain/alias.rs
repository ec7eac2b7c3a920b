//! Aliases: a name that points at a published version (or `$LATEST`), optionally routing a
//! share of invocations to one additional version. Validation follows the service model and
//! AWS's rules for weighted aliases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::arn::LATEST;
use super::Error;

/// One alias of a function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    pub function: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// Additional version → share of invocations it receives (0.0–1.0); at most one entry.
    pub routing: BTreeMap<String, f64>,
    pub revision_id: String,
}

impl Alias {
    /// Picks the version one invocation runs: the additional version with its weight's
    /// probability, the primary otherwise. `roll` is uniform in [0, 1).
    pub fn pick(&self, roll: f64) -> &str {
        match self.routing.iter().next() {
            Some((v, w)) if roll < *w => v,
            _ => &self.function_version,
        }
    }
}

/// Alias name: 1–128 characters of `[a-zA-Z0-9-_]`, not all digits.
pub fn name(n: &str) -> Result<(), Error> {
    let pattern_ok = n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if n.is_empty() || n.len() > 128 {
        return Err(Error::constraint(
            n,
            "name",
            "Member must have length less than or equal to 128",
        ));
    }
    if !pattern_ok || n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::constraint(
            n,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ));
    }
    Ok(())
}

/// FunctionVersion of an alias: `$LATEST` or a version number.
pub fn function_version(v: &str) -> Result<(), Error> {
    let ok =
        v == LATEST || (!v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            v,
            "functionVersion",
            "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
        ))
    }
}

/// RoutingConfig against the primary version: one additional published version, distinct
/// from the primary, with a weight in [0, 1]; not on an alias of `$LATEST`.
pub fn routing(primary: &str, weights: &BTreeMap<String, f64>) -> Result<(), Error> {
    for (v, w) in weights {
        if v.is_empty() || v.len() > 1024 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::constraint(
                v,
                "routingConfig.additionalVersionWeights",
                "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]",
            ));
        }
        if !(0.0..=1.0).contains(w) || w.is_nan() {
            return Err(Error::constraint(
                &w.to_string(),
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
            ));
        }
        if v == primary {
            return Err(Error::InvalidParameterValue(format!(
                "Invalid function version {v}. Function version {v} is already included in routing configuration."
            )));
        }
    }
    if weights.len() > 1 {
        return Err(Error::InvalidParameterValue(
            "Number of items in AdditionalVersionWeights cannot be greater than 1.".into(),
        ));
    }
    if !weights.is_empty() && primary == LATEST {
        return Err(Error::InvalidParameterValue(
            "$LATEST is not supported for an alias pointing to more than 1 version".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(primary: &str, extra: Option<(&str, f64)>) -> Alias {
        Alias {
            function: "f".into(),
            name: "prod".into(),
            function_version: primary.into(),
            description: String::new(),
            routing: extra.map(|(v, w)| (v.to_string(), w)).into_iter().collect(),
            revision_id: "r".into(),
        }
    }

    #[test]
    fn names_and_versions_follow_the_model() {
        assert!(name("prod").is_ok());
        assert!(name("blue-green_2").is_ok());
        assert!(matches!(name("12"), Err(Error::Validation(_))));
        assert!(matches!(name(""), Err(Error::Validation(_))));
        assert!(matches!(name("a.b"), Err(Error::Validation(_))));
        assert!(function_version("$LATEST").is_ok());
        assert!(function_version("3").is_ok());
        assert!(matches!(function_version("x"), Err(Error::Validation(_))));
    }

    #[test]
    fn routing_rules() {
        let w = |v: &str, x: f64| BTreeMap::from([(v.to_string(), x)]);
        assert!(routing("1", &w("2", 0.3)).is_ok());
        assert!(routing("1", &BTreeMap::new()).is_ok());
        assert!(matches!(
            routing("1", &w("1", 0.3)),
            Err(Error::InvalidParameterValue(_))
        ));
        assert!(matches!(
            routing("1", &w("2", 1.5)),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            routing("$LATEST", &w("2", 0.5)),
            Err(Error::InvalidParameterValue(_))
        ));
        let two = BTreeMap::from([("2".to_string(), 0.1), ("3".to_string(), 0.1)]);
        assert!(matches!(
            routing("1", &two),
            Err(Error::InvalidParameterValue(_))
        ));
    }

    #[test]
    fn pick_splits_by_weight() {
        let a = alias("1", Some(("2", 0.25)));
        assert_eq!(a.pick(0.1), "2");
        assert_eq!(a.pick(0.25), "1");
        assert_eq!(a.pick(0.9), "1");
        assert_eq!(alias("1", None).pick(0.0), "1");
    }
}
