//! IAM's names, ARNs and error kinds: what `services::iam` validates against and reports,
//! worded as IAM words it (`api::iam` maps the kinds to the query protocol's codes).

/// A failed IAM operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// 404 `NoSuchEntity`
    #[error("{0}")]
    NoSuchEntity(String),
    /// 409 `EntityAlreadyExists`
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// 400 `MalformedPolicyDocument`
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// 409 `DeleteConflict`
    #[error("{0}")]
    DeleteConflict(String),
    /// 409 `LimitExceeded`
    #[error("{0}")]
    LimitExceeded(String),
    /// 400 `InvalidInput`
    #[error("{0}")]
    InvalidInput(String),
    /// 400 `ValidationError`
    #[error("{0}")]
    Validation(String),
    /// 403 `AccessDenied` (STS AssumeRole refused by the trust policy)
    #[error("{0}")]
    AccessDenied(String),
    /// 500 `ServiceFailure`
    #[error("{0}")]
    Service(String),
    /// 503
    #[error("{0}")]
    Unavailable(String),
}

impl From<crate::domain::Error> for IamError {
    fn from(e: crate::domain::Error) -> IamError {
        match e {
            crate::domain::Error::Unavailable(m) => IamError::Unavailable(m),
            other => IamError::Service(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for IamError {
    fn from(e: crate::store::StoreError) -> IamError {
        crate::domain::Error::from(e).into()
    }
}

/// `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: …`
pub fn constraint(value: &str, member: &str, rule: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

/// Role and policy names: `[\w+=,.@-]+`, 1 to `max` characters.
pub fn check_name(value: &str, member: &str, max: usize) -> Result<(), IamError> {
    if value.is_empty() || value.chars().count() > max {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(constraint(
            value,
            member,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// Paths: `/` or `/a/b/`, at most 512 characters.
pub fn check_path(value: &str, member: &str) -> Result<(), IamError> {
    let ok = value.starts_with('/')
        && value.ends_with('/')
        && value.len() <= 512
        && value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if ok {
        Ok(())
    } else {
        Err(constraint(
            value,
            member,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

/// `arn:aws:iam::<account>:role<path><name>`
pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

/// `arn:aws:iam::<account>:policy<path><name>`
pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

/// The role name a role ARN names in `account` (`arn:aws:iam::123:role/path/name` →
/// `name`), or `None` for another account or something that is no role ARN.
pub fn role_name_of(arn: &str, account: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (acct, resource) = rest.split_once(':')?;
    if acct != account {
        return None;
    }
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// An IAM id: a four-letter prefix (`AROA` roles, `ANPA` policies) and 17 characters.
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::thread_rng();
    let tail: String = (0..17)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_arns() {
        assert!(check_name("lambda-role_1+=,.@", "roleName", 64).is_ok());
        assert!(check_name("bad name", "roleName", 64).is_err());
        assert!(check_name(&"a".repeat(65), "roleName", 64).is_err());
        assert!(check_path("/", "path").is_ok());
        assert!(check_path("/service-role/", "path").is_ok());
        assert!(check_path("service-role", "path").is_err());
        assert_eq!(
            role_name_of(
                "arn:aws:iam::000000000000:role/service-role/r",
                "000000000000"
            ),
            Some("r".into())
        );
        assert_eq!(
            role_name_of("arn:aws:iam::123456789012:role/r", "000000000000"),
            None
        );
        assert_eq!(new_id("AROA").len(), 21);
    }
}
