//! Function names, partial ARNs, full ARNs and qualifiers, parsed the way the Lambda API
//! accepts them, and the ARN strings lambdabox emits.

use std::sync::OnceLock;

use regex::Regex;

use super::{Error, Identity};

/// `$LATEST`, the unpublished version of every function.
pub const LATEST: &str = "$LATEST";

/// A function named by a caller: its bare name and an optional version or alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

fn function_name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // The FunctionName pattern of the service model, anchored.
        Regex::new(
            r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?(([a-z]{2}(-gov)?-[a-z]+-\d{1}):)?((\d{12}):)?(function:)?([a-zA-Z0-9\-_\.]+)(:(\$LATEST|[a-zA-Z0-9\-_]+))?$",
        )
        .unwrap_or_else(|_| unreachable!("static regex"))
    })
}

impl FunctionRef {
    /// Parses a `FunctionName` as sent by a client (already percent-decoded): a name,
    /// `name:qualifier`, `account:function:name[:q]` or a full ARN. `field` names the member
    /// in validation messages. ARNs of another account or region are not found here.
    pub fn parse(raw: &str, me: &Identity, field: &str) -> Result<FunctionRef, Error> {
        let constraint = "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
        if raw.is_empty() || raw.len() > 170 {
            return Err(Error::constraint(
                raw,
                field,
                "Member must have length less than or equal to 140",
            ));
        }
        let caps = function_name_re()
            .captures(raw)
            .ok_or_else(|| Error::constraint(raw, field, constraint))?;
        let name = caps.get(9).map(|m| m.as_str()).unwrap_or_default();
        let qualifier = caps.get(11).map(|m| m.as_str().to_string());
        let has_arn_prefix = caps.get(1).is_some();
        let region = caps.get(4).map(|m| m.as_str());
        let account = caps.get(7).map(|m| m.as_str());
        let function_kw = caps.get(8).is_some();
        // A bare "name:qual" parses as name + qualifier; "acct:name" without "function:" is
        // not a form AWS accepts.
        if (account.is_some() || region.is_some() || has_arn_prefix) && !function_kw {
            return Err(Error::constraint(raw, field, constraint));
        }
        if has_arn_prefix && (region.is_none() || account.is_none()) {
            return Err(Error::constraint(raw, field, constraint));
        }
        if name.len() > 64 || name.contains('.') {
            return Err(Error::constraint(raw, field, constraint));
        }
        if region.is_some_and(|r| r != me.region) || account.is_some_and(|a| a != me.account_id) {
            return Err(Error::function_not_found(raw));
        }
        if let Some(q) = &qualifier {
            validate_qualifier(q)?;
        }
        Ok(FunctionRef {
            name: name.to_string(),
            qualifier,
        })
    }

    /// Combines the qualifier in the name with a `?Qualifier=` parameter; both must agree.
    pub fn with_qualifier(mut self, query: Option<&str>) -> Result<FunctionRef, Error> {
        match (self.qualifier.as_deref(), query) {
            (_, None) => {}
            (None, Some(q)) => {
                validate_qualifier(q)?;
                self.qualifier = Some(q.to_string());
            }
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => {
                return Err(Error::InvalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier.".into(),
                ))
            }
        }
        Ok(self)
    }
}

/// Checks a version or alias qualifier against the model's pattern.
pub fn validate_qualifier(q: &str) -> Result<(), Error> {
    let ok = !q.is_empty()
        && q.len() <= 128
        && q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'$' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            q,
            "qualifier",
            "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
        ))
    }
}

impl Identity {
    /// `arn:aws:lambda:R:A:function:NAME`
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account_id
        )
    }

    /// `arn:aws:lambda:R:A:function:NAME:QUALIFIER`
    pub fn qualified_arn(&self, name: &str, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.function_arn(name))
    }

    /// `arn:aws:lambda:R:A:layer:NAME`
    pub fn layer_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:layer:{name}",
            self.region, self.account_id
        )
    }

    /// `arn:aws:lambda:R:A:layer:NAME:VERSION`
    pub fn layer_version_arn(&self, name: &str, version: i64) -> String {
        format!("{}:{version}", self.layer_arn(name))
    }
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

    fn p(s: &str) -> Result<FunctionRef, Error> {
        FunctionRef::parse(s, &me(), "functionName")
    }

    #[test]
    fn accepts_every_documented_form() {
        let plain = FunctionRef {
            name: "my-fn".into(),
            qualifier: None,
        };
        assert_eq!(p("my-fn").unwrap(), plain);
        assert_eq!(p("000000000000:function:my-fn").unwrap(), plain);
        assert_eq!(
            p("arn:aws:lambda:us-east-1:000000000000:function:my-fn").unwrap(),
            plain
        );
        let q = p("arn:aws:lambda:us-east-1:000000000000:function:my-fn:prod").unwrap();
        assert_eq!(q.qualifier.as_deref(), Some("prod"));
        assert_eq!(
            p("my-fn:$LATEST").unwrap().qualifier.as_deref(),
            Some("$LATEST")
        );
        assert_eq!(p("my-fn:7").unwrap().qualifier.as_deref(), Some("7"));
    }

    #[test]
    fn rejects_malformed_and_foreign() {
        assert!(matches!(p("bad name"), Err(Error::Validation(_))));
        assert!(matches!(p(""), Err(Error::Validation(_))));
        assert!(matches!(p(&"a".repeat(65)), Err(Error::Validation(_))));
        assert!(matches!(
            p("arn:aws:lambda:eu-west-1:000000000000:function:x"),
            Err(Error::ResourceNotFound(_))
        ));
        assert!(matches!(
            p("arn:aws:lambda:us-east-1:111111111111:function:x"),
            Err(Error::ResourceNotFound(_))
        ));
    }

    #[test]
    fn qualifier_must_agree() {
        let r = p("f:1").unwrap();
        assert!(r.clone().with_qualifier(Some("1")).is_ok());
        assert!(matches!(
            r.with_qualifier(Some("2")),
            Err(Error::InvalidParameterValue(_))
        ));
        assert_eq!(
            p("f")
                .unwrap()
                .with_qualifier(Some("prod"))
                .unwrap()
                .qualifier
                .as_deref(),
            Some("prod")
        );
    }
}
