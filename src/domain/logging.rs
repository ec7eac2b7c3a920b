//! Logging controls (`LoggingConfig`): the log format, the application and system log levels
//! and the log group, with AWS's rules for combining a request with the stored settings.
//!
//! Rules (as AWS applies them): levels exist only with `LogFormat: JSON`; a request that
//! names a level while the resulting format is `Text` is refused with AWS's message; a JSON
//! function without levels gets `INFO` for both; switching back to `Text` drops the levels.
//! `LogGroup` is 1–512 of `[.\-_/#A-Za-z0-9]`; absent means `/aws/lambda/<function>`.

use super::function::LoggingConfig;
use super::Error;

/// `LoggingConfig.ApplicationLogLevel` values, most verbose first.
pub const APPLICATION_LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/// `LoggingConfig.SystemLogLevel` values, most verbose first.
pub const SYSTEM_LEVELS: &[&str] = &["DEBUG", "INFO", "WARN"];

/// The members of a `LoggingConfig` request body (absent members leave values unchanged).
#[derive(Debug, Default, Clone)]
pub struct LoggingChange {
    pub log_format: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub log_group: Option<String>,
}

fn enum_check(v: &str, set: &[&str], field: &str) -> Result<(), Error> {
    if set.contains(&v) {
        return Ok(());
    }
    Err(Error::constraint(
        v,
        field,
        &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
    ))
}

/// Checks a custom log group name as AWS does.
pub fn log_group(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 512 {
        return Err(Error::constraint(
            name,
            "loggingConfig.logGroup",
            "Member must have length less than or equal to 512",
        ));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-_/#".contains(&b));
    if !ok {
        return Err(Error::constraint(
            name,
            "loggingConfig.logGroup",
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// Applies `change` to `current` under AWS's rules; refuses without changing anything.
pub fn apply(change: LoggingChange, current: &mut LoggingConfig) -> Result<(), Error> {
    if let Some(f) = &change.log_format {
        enum_check(f, &["JSON", "Text"], "loggingConfig.logFormat")?;
    }
    if let Some(l) = &change.application_log_level {
        enum_check(l, APPLICATION_LEVELS, "loggingConfig.applicationLogLevel")?;
    }
    if let Some(l) = &change.system_log_level {
        enum_check(l, SYSTEM_LEVELS, "loggingConfig.systemLogLevel")?;
    }
    if let Some(g) = &change.log_group {
        log_group(g)?;
    }
    let format = change
        .log_format
        .clone()
        .unwrap_or_else(|| current.log_format.clone());
    let names_level = change.application_log_level.is_some() || change.system_log_level.is_some();
    if format != "JSON" && names_level {
        return Err(Error::InvalidParameterValue(format!(
            "LogLevel is not supported when LogFormat is set to \"{format}\". Remove LogLevel from your request or change the LogFormat to \"Json\" and try again."
        )));
    }
    let mut next = current.clone();
    next.log_format = format;
    if let Some(g) = change.log_group {
        next.log_group = Some(g);
    }
    if next.log_format == "JSON" {
        next.application_log_level = change
            .application_log_level
            .or(next.application_log_level)
            .or_else(|| Some("INFO".into()));
        next.system_log_level = change
            .system_log_level
            .or(next.system_log_level)
            .or_else(|| Some("INFO".into()));
    } else {
        next.application_log_level = None;
        next.system_log_level = None;
    }
    *current = next;
    Ok(())
}

/// True when a record at `level` passes a filter set to `min` (both from `order`, most
/// verbose first). Unknown levels pass.
pub fn passes(order: &[&str], level: &str, min: &str) -> bool {
    let pos = |l: &str| order.iter().position(|x| x.eq_ignore_ascii_case(l));
    match (pos(level), pos(min)) {
        (Some(a), Some(b)) => a >= b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> LoggingConfig {
        LoggingConfig {
            log_format: "Text".into(),
            ..LoggingConfig::default()
        }
    }

    #[test]
    fn json_gets_default_levels_and_text_drops_them() {
        let mut c = text();
        apply(
            LoggingChange {
                log_format: Some("JSON".into()),
                application_log_level: Some("DEBUG".into()),
                ..LoggingChange::default()
            },
            &mut c,
        )
        .unwrap();
        assert_eq!(c.application_log_level.as_deref(), Some("DEBUG"));
        assert_eq!(c.system_log_level.as_deref(), Some("INFO"));
        apply(
            LoggingChange {
                log_format: Some("Text".into()),
                ..LoggingChange::default()
            },
            &mut c,
        )
        .unwrap();
        assert_eq!(c, text());
    }

    #[test]
    fn levels_with_text_are_refused_unchanged() {
        let mut c = text();
        let e = apply(
            LoggingChange {
                system_log_level: Some("WARN".into()),
                log_group: Some("/custom/x".into()),
                ..LoggingChange::default()
            },
            &mut c,
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameterValue(m) if m.contains("LogLevel is not supported"))
        );
        assert_eq!(c, text());
    }

    #[test]
    fn bad_values_use_aws_wording() {
        let mut c = text();
        let bad = |change: LoggingChange| {
            let mut c = text();
            match apply(change, &mut c) {
                Err(Error::Validation(m)) => m,
                other => panic!("{other:?}"),
            }
        };
        assert!(bad(LoggingChange {
            log_format: Some("json".into()),
            ..LoggingChange::default()
        })
        .contains("loggingConfig.logFormat"));
        assert!(bad(LoggingChange {
            log_group: Some("bad group".into()),
            ..LoggingChange::default()
        })
        .contains("regular expression pattern"));
        assert!(apply(
            LoggingChange {
                log_group: Some("/aws/lambda/custom#1".into()),
                ..LoggingChange::default()
            },
            &mut c
        )
        .is_ok());
    }

    #[test]
    fn level_order() {
        assert!(passes(APPLICATION_LEVELS, "ERROR", "WARN"));
        assert!(!passes(APPLICATION_LEVELS, "INFO", "WARN"));
        assert!(!passes(SYSTEM_LEVELS, "DEBUG", "INFO"));
        assert!(passes(SYSTEM_LEVELS, "INFO", "INFO"));
    }
}
