//! Layers: named, versioned archives extracted into `/opt`. A layer version is immutable; a
//! function records, per layer it uses, the ARN and the content digest it was configured
//! with, so a deleted layer version keeps working for the functions that already use it.

use serde::{Deserialize, Serialize};

use super::validate::KNOWN_RUNTIMES;
use super::{Error, Identity};

/// Most layers one function may use.
pub const MAX_LAYERS: usize = 5;

/// One stored layer version.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerVersion {
    pub name: String,
    pub version: i64,
    pub sha256: String,
    pub code_size: u64,
    pub unzipped_size: u64,
    pub description: String,
    pub created_ms: i64,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
}

impl LayerVersion {
    /// Whether a function with `runtime` and `architectures` may use this layer; empty
    /// compatibility lists accept everything, as on AWS.
    pub fn check_compatible(
        &self,
        arn: &str,
        runtime: &str,
        architectures: &[String],
    ) -> Result<(), Error> {
        if !runtime.is_empty()
            && !self.compatible_runtimes.is_empty()
            && !self.compatible_runtimes.iter().any(|r| r == runtime)
        {
            return Err(Error::InvalidParameterValue(format!(
                "Layer version {arn} is not compatible with runtime {runtime}: its compatible runtimes are [{}]. Publish a layer version for {runtime} or change the function's runtime.",
                self.compatible_runtimes.join(", ")
            )));
        }
        if !self.compatible_architectures.is_empty() {
            if let Some(a) = architectures
                .iter()
                .find(|a| !self.compatible_architectures.contains(a))
            {
                return Err(Error::InvalidParameterValue(format!(
                    "Layer version {arn} is not compatible with architecture {a}: its compatible architectures are [{}].",
                    self.compatible_architectures.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// A layer as a function version uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachedLayer {
    /// The layer version ARN, as the client gave it.
    pub arn: String,
    /// Hex sha256 of the layer archive; empty until resolved against the store.
    pub sha256: String,
    pub code_size: u64,
    pub unzipped_size: u64,
}

impl AttachedLayer {
    /// An attachment the client asked for, not yet resolved.
    pub fn requested(arn: &str) -> AttachedLayer {
        AttachedLayer {
            arn: arn.to_string(),
            ..AttachedLayer::default()
        }
    }
}

/// Layer name: 1–140 characters of `[a-zA-Z0-9-_]`.
pub fn name(n: &str) -> Result<(), Error> {
    let ok = !n.is_empty()
        && n.len() <= 140
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            n,
            "layerName",
            "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
        ))
    }
}

/// The `{LayerName}` path label: a bare name or a layer ARN of this lambdabox.
pub fn parse_name(label: &str, me: &Identity) -> Result<String, Error> {
    let prefix = format!("arn:aws:lambda:{}:{}:layer:", me.region, me.account_id);
    if let Some(rest) = label.strip_prefix(&prefix) {
        name(rest)?;
        return Ok(rest.to_string());
    }
    if label.starts_with("arn:") {
        return Err(Error::ResourceNotFound(format!(
            "Layer {label} does not exist: it is not a layer of this lambdabox ({prefix}NAME)."
        )));
    }
    name(label)?;
    Ok(label.to_string())
}

/// A layer version ARN → (layer name, version); ARNs of another region or account do not
/// exist here.
pub fn parse_version_arn(arn: &str, me: &Identity) -> Result<(String, i64), Error> {
    let prefix = format!("arn:aws:lambda:{}:{}:layer:", me.region, me.account_id);
    let missing = || Error::InvalidParameterValue(format!("Layer version {arn} does not exist."));
    let rest = arn.strip_prefix(&prefix).ok_or_else(missing)?;
    let (n, v) = rest.rsplit_once(':').ok_or_else(missing)?;
    name(n).map_err(|_| missing())?;
    let v: i64 = v.parse().map_err(|_| missing())?;
    Ok((n.to_string(), v))
}

/// CompatibleRuntimes: at most 15 known runtime ids.
pub fn compatible_runtimes(list: &[String]) -> Result<(), Error> {
    if list.len() > 15 {
        return Err(Error::constraint(
            &format!("{list:?}"),
            "compatibleRuntimes",
            "Member must have length less than or equal to 15",
        ));
    }
    if let Some(bad) = list.iter().find(|r| !KNOWN_RUNTIMES.contains(&r.as_str())) {
        return Err(Error::constraint(
            bad,
            "compatibleRuntimes",
            &format!(
                "Member must satisfy enum value set: [{}]",
                KNOWN_RUNTIMES.join(", ")
            ),
        ));
    }
    Ok(())
}

/// CompatibleArchitectures: at most 2 of x86_64 and arm64.
pub fn compatible_architectures(list: &[String]) -> Result<(), Error> {
    if list.len() > 2 {
        return Err(Error::constraint(
            &format!("{list:?}"),
            "compatibleArchitectures",
            "Member must have length less than or equal to 2",
        ));
    }
    if let Some(bad) = list
        .iter()
        .find(|a| !matches!(a.as_str(), "x86_64" | "arm64"))
    {
        return Err(Error::constraint(
            bad,
            "compatibleArchitectures",
            "Member must satisfy enum value set: [x86_64, arm64]",
        ));
    }
    Ok(())
}

/// LicenseInfo: at most 512 characters.
pub fn license_info(l: &str) -> Result<(), Error> {
    if l.chars().count() > 512 {
        return Err(Error::constraint(
            l,
            "licenseInfo",
            "Member must have length less than or equal to 512",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Identity {
        Identity {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }

    #[test]
    fn parses_layer_version_arns() {
        let (n, v) =
            parse_version_arn("arn:aws:lambda:us-east-1:000000000000:layer:deps:3", &me()).unwrap();
        assert_eq!((n.as_str(), v), ("deps", 3));
        for bad in [
            "arn:aws:lambda:eu-west-1:000000000000:layer:deps:3",
            "arn:aws:lambda:us-east-1:111111111111:layer:deps:3",
            "arn:aws:lambda:us-east-1:000000000000:layer:deps",
            "arn:aws:lambda:us-east-1:000000000000:layer:de.ps:3",
        ] {
            assert!(
                matches!(
                    parse_version_arn(bad, &me()),
                    Err(Error::InvalidParameterValue(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse_name("arn:aws:lambda:us-east-1:000000000000:layer:deps", &me()).unwrap(),
            "deps"
        );
        assert!(parse_name("bad name", &me()).is_err());
    }

    #[test]
    fn compatibility_lists() {
        let l = LayerVersion {
            name: "deps".into(),
            version: 1,
            sha256: String::new(),
            code_size: 0,
            unzipped_size: 0,
            description: String::new(),
            created_ms: 0,
            compatible_runtimes: vec!["python3.11".into()],
            compatible_architectures: vec!["x86_64".into()],
            license_info: None,
        };
        let x86 = vec!["x86_64".to_string()];
        assert!(l.check_compatible("a", "python3.11", &x86).is_ok());
        assert!(l.check_compatible("a", "nodejs20.x", &x86).is_err());
        assert!(l
            .check_compatible("a", "python3.11", &["arm64".to_string()])
            .is_err());
        assert!(compatible_runtimes(&["python3.12".into()]).is_ok());
        assert!(compatible_runtimes(&["cobol".into()]).is_err());
        assert!(compatible_architectures(&["mips".into()]).is_err());
    }
}
