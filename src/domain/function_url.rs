//! Function URLs: their auth type, invoke mode and CORS settings, validated with AWS's
//! constraints and wording (botocore `lambda` model: `FunctionUrlAuthType`, `InvokeMode`,
//! `Cors`, `FunctionUrlQualifier`), and the 32-character url id.

use serde::{Deserialize, Serialize};

use super::Error;

/// Who may call a URL: anyone (`NONE`) or SigV4-signed callers (`AWS_IAM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthType {
    #[serde(rename = "NONE")]
    None,
    #[serde(rename = "AWS_IAM")]
    AwsIam,
}

impl AuthType {
    pub fn parse(s: &str) -> Result<AuthType, Error> {
        match s {
            "NONE" => Ok(AuthType::None),
            "AWS_IAM" => Ok(AuthType::AwsIam),
            other => Err(Error::constraint(
                other,
                "authType",
                "Member must satisfy enum value set: [NONE, AWS_IAM]",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::None => "NONE",
            AuthType::AwsIam => "AWS_IAM",
        }
    }
}

/// How the response reaches the caller: whole (`BUFFERED`) or as it is written
/// (`RESPONSE_STREAM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvokeMode {
    #[serde(rename = "BUFFERED")]
    Buffered,
    #[serde(rename = "RESPONSE_STREAM")]
    ResponseStream,
}

impl InvokeMode {
    pub fn parse(s: &str) -> Result<InvokeMode, Error> {
        match s {
            "BUFFERED" => Ok(InvokeMode::Buffered),
            "RESPONSE_STREAM" => Ok(InvokeMode::ResponseStream),
            other => Err(Error::constraint(
                other,
                "invokeMode",
                "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InvokeMode::Buffered => "BUFFERED",
            InvokeMode::ResponseStream => "RESPONSE_STREAM",
        }
    }
}

/// The `Cors` member, as the API sends and stores it (absent lists stay absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Cors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// Largest `MaxAge` (seconds).
pub const MAX_CORS_AGE: i64 = 86_400;
/// Most entries of one CORS list.
const MAX_LIST: usize = 100;

fn check_list(
    list: &Option<Vec<String>>,
    field: &str,
    max_len: usize,
    min_len: usize,
) -> Result<(), Error> {
    let Some(list) = list else { return Ok(()) };
    if list.len() > MAX_LIST {
        return Err(Error::constraint(
            &format!("{list:?}"),
            field,
            &format!("Member must have length less than or equal to {MAX_LIST}"),
        ));
    }
    for v in list {
        if v.len() > max_len {
            return Err(Error::constraint(
                v,
                field,
                &format!("Member must have length less than or equal to {max_len}"),
            ));
        }
        if v.len() < min_len {
            return Err(Error::constraint(
                v,
                field,
                &format!("Member must have length greater than or equal to {min_len}"),
            ));
        }
    }
    Ok(())
}

impl Cors {
    /// AWS's constraints on each member.
    pub fn validate(&self) -> Result<(), Error> {
        check_list(&self.allow_headers, "cors.allowHeaders", 1024, 0)?;
        check_list(&self.allow_methods, "cors.allowMethods", 6, 0)?;
        check_list(&self.allow_origins, "cors.allowOrigins", 253, 1)?;
        check_list(&self.expose_headers, "cors.exposeHeaders", 1024, 0)?;
        if let Some(methods) = &self.allow_methods {
            for m in methods {
                let known = [
                    "*", "GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS",
                ];
                if !known.contains(&m.to_ascii_uppercase().as_str()) {
                    return Err(Error::InvalidParameterValue(format!(
                        "AllowMethods value '{m}' is not an HTTP method: use * or GET, PUT, HEAD, POST, PATCH, DELETE, OPTIONS."
                    )));
                }
            }
        }
        if let Some(age) = self.max_age {
            if !(0..=MAX_CORS_AGE).contains(&age) {
                let c = if age < 0 {
                    "Member must have value greater than or equal to 0".to_string()
                } else {
                    format!("Member must have value less than or equal to {MAX_CORS_AGE}")
                };
                return Err(Error::constraint(&age.to_string(), "cors.maxAge", &c));
            }
        }
        Ok(())
    }
}

/// The settings of one function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlConfig {
    pub auth_type: AuthType,
    pub cors: Option<Cors>,
    pub invoke_mode: InvokeMode,
}

/// Checks a URL's `Qualifier`: an alias name (pattern `((?!^\d+$)^[0-9a-zA-Z-_]+$)`); a
/// version number or `$LATEST` is refused as AWS refuses it (an unqualified URL is on
/// `$LATEST`).
pub fn validate_qualifier(q: &str) -> Result<(), Error> {
    let ok = !q.is_empty()
        && q.len() <= 128
        && q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !q.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            q,
            "qualifier",
            "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
        ))
    }
}

/// A new url id: 32 lower-case hex characters (AWS's ids are 32 of `[a-z0-9]`).
pub fn new_url_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// True when `s` has the shape of a url id (what the serving path accepts before any lookup).
pub fn is_url_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `2025-01-15T10:20:30.123000Z`, the timestamp format of `CreationTime`/`LastModifiedTime`.
pub fn format_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_and_qualifiers() {
        assert_eq!(AuthType::parse("NONE").unwrap(), AuthType::None);
        assert!(matches!(AuthType::parse("none"), Err(Error::Validation(_))));
        assert!(InvokeMode::parse("STREAM").is_err());
        assert!(validate_qualifier("prod").is_ok());
        assert!(validate_qualifier("1").is_err());
        assert!(validate_qualifier("$LATEST").is_err());
        assert!(is_url_id(&new_url_id()));
        assert_eq!(
            format_time(1_736_936_430_123),
            "2025-01-15T10:20:30.123000Z"
        );
    }

    #[test]
    fn cors_limits() {
        let mut c = Cors {
            max_age: Some(86_401),
            ..Cors::default()
        };
        assert!(c.validate().is_err());
        c.max_age = Some(10);
        c.allow_methods = Some(vec!["FETCH".into()]);
        assert!(matches!(c.validate(), Err(Error::InvalidParameterValue(_))));
        c.allow_methods = Some(vec!["get".into(), "*".into()]);
        assert!(c.validate().is_ok());
    }
}
