//! Validation of function parameters with the constraints and wording AWS uses, so that a
//! client sees the same exception type and message it would see from AWS.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use super::Error;

/// Every runtime id the Lambda API knows (current and deprecated). Whether this host can run
/// one is a separate question answered by the runtime catalog.
pub const KNOWN_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// Environment variable names the platform sets and a function may not override.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|_| unreachable!("static regex")))
}

/// A new function's name: 1–64 of `[a-zA-Z0-9-_]`.
pub fn function_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 64 {
        return Err(Error::constraint(
            name,
            "functionName",
            "Member must have length less than or equal to 64",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::constraint(
            name,
            "functionName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+",
        ));
    }
    Ok(())
}

/// MemorySize in MB: 128–10240.
pub fn memory_size(mb: i64) -> Result<u32, Error> {
    range(mb, 128, 10240, "memorySize")
}

/// Timeout in seconds: 1–900.
pub fn timeout(s: i64) -> Result<u32, Error> {
    range(s, 1, 900, "timeout")
}

/// EphemeralStorage.Size in MB: 512–10240.
pub fn ephemeral_storage(mb: i64) -> Result<u32, Error> {
    range(mb, 512, 10240, "ephemeralStorage.size")
}

/// `v` within `min..=max` as a `u32`, else AWS's constraint message naming `field`.
pub fn range(v: i64, min: i64, max: i64, field: &str) -> Result<u32, Error> {
    if v < min {
        return Err(Error::constraint(
            &v.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if v > max {
        return Err(Error::constraint(
            &v.to_string(),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    u32::try_from(v)
        .map_err(|_| Error::constraint(&v.to_string(), field, "Member must be a number"))
}

/// A list operation's `MaxItems` (1–50, as the Lambda API allows): the page size.
pub fn page_size(max_items: Option<i64>) -> Result<usize, Error> {
    const MAX: usize = 50;
    match max_items {
        None => Ok(MAX),
        Some(n) if (1..=50).contains(&n) => Ok(usize::try_from(n).unwrap_or(MAX)),
        Some(n) => Err(Error::constraint(
            &n.to_string(),
            "maxItems",
            "Member must have value between 1 and 50",
        )),
    }
}

/// Handler: at most 128 characters, no whitespace.
pub fn handler(h: &str) -> Result<(), Error> {
    if h.len() > 128 {
        return Err(Error::constraint(
            h,
            "handler",
            "Member must have length less than or equal to 128",
        ));
    }
    if h.is_empty() || h.chars().any(char::is_whitespace) {
        return Err(Error::constraint(
            h,
            "handler",
            "Member must satisfy regular expression pattern: [^\\s]+",
        ));
    }
    Ok(())
}

/// Description: at most 256 characters.
pub fn description(d: &str) -> Result<(), Error> {
    if d.chars().count() > 256 {
        return Err(Error::constraint(
            d,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(())
}

/// Role: an IAM role ARN.
pub fn role(r: &str) -> Result<(), Error> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$",
    );
    if !re.is_match(r) {
        return Err(Error::constraint(
            r,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ));
    }
    Ok(())
}

/// Runtime: a Lambda runtime id that this host can run. `available` lists the host's.
pub fn runtime(r: &str, available: &[String]) -> Result<(), Error> {
    known_runtime(r)?;
    if !available.iter().any(|a| a == r) {
        return Err(Error::InvalidParameterValue(format!(
            "The runtime parameter of {r} is not supported on this lambdabox host. Runtimes available here: {}. Install the interpreter or set runtimes.\"{r}\" in the config.",
            if available.is_empty() { "none".to_string() } else { available.join(", ") }
        )));
    }
    Ok(())
}

/// Runtime: one of the ids of AWS's `Runtime` enum (whether this host runs it is the
/// catalog's question).
pub fn known_runtime(r: &str) -> Result<(), Error> {
    if !KNOWN_RUNTIMES.contains(&r) {
        return Err(Error::constraint(
            r,
            "runtime",
            &format!(
                "Member must satisfy enum value set: [{}]",
                KNOWN_RUNTIMES.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Architectures: exactly one, and the host's own (lambdabox runs code natively).
pub fn architectures(list: &[String]) -> Result<(), Error> {
    if list.len() != 1 {
        return Err(Error::constraint(
            &format!("{list:?}"),
            "architectures",
            "Member must have length less than or equal to 1",
        ));
    }
    let a = list[0].as_str();
    if a != "x86_64" && a != "arm64" {
        return Err(Error::constraint(
            a,
            "architectures",
            "Member must satisfy enum value set: [x86_64, arm64]",
        ));
    }
    let host = super::function::host_architecture();
    if a != host {
        return Err(Error::InvalidParameterValue(format!(
            "Architecture {a} cannot run on this lambdabox host, which is {host}. Use --architectures {host}."
        )));
    }
    Ok(())
}

/// Environment variables: key pattern, reserved keys, 4 KB total.
pub fn environment(vars: &BTreeMap<String, String>) -> Result<(), Error> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"^[a-zA-Z]([a-zA-Z0-9_])+$");
    if vars.keys().any(|k| !re.is_match(k)) {
        return Err(Error::Validation(
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".into(),
        ));
    }
    let reserved: Vec<&str> = vars
        .keys()
        .filter(|k| RESERVED_ENV.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if !reserved.is_empty() {
        return Err(Error::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(",")
        )));
    }
    let measured = serde_json::to_string(vars).unwrap_or_default();
    if measured.len() > 4096 {
        return Err(Error::InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ".to_string()
                + &measured.chars().take(200).collect::<String>()
                + "...",
        ));
    }
    Ok(())
}

/// Layers: at most 5 layer version ARNs.
pub fn layers(list: &[String]) -> Result<(), Error> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$",
    );
    if list.len() > 5 {
        return Err(Error::InvalidParameterValue(
            "Cannot reference more than 5 layers.".into(),
        ));
    }
    if let Some(bad) = list.iter().find(|l| !re.is_match(l)) {
        return Err(Error::constraint(
            bad,
            "layers",
            "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+",
        ));
    }
    Ok(())
}

/// TracingConfig.Mode: Active or PassThrough.
pub fn tracing_mode(m: &str) -> Result<(), Error> {
    one_of(m, &["Active", "PassThrough"], "tracingConfig.mode")
}

/// LoggingConfig.LogFormat: JSON or Text.
pub fn log_format(f: &str) -> Result<(), Error> {
    one_of(f, &["JSON", "Text"], "loggingConfig.logFormat")
}

/// PackageType: only Zip runs here.
pub fn package_type(p: &str) -> Result<(), Error> {
    one_of(p, &["Zip", "Image"], "packageType")?;
    if p == "Image" {
        return Err(Error::InvalidParameterValue(
            "PackageType Image is not supported by lambdabox: deploy a .zip package instead."
                .into(),
        ));
    }
    Ok(())
}

fn one_of(v: &str, set: &[&str], field: &str) -> Result<(), Error> {
    if set.contains(&v) {
        Ok(())
    } else {
        Err(Error::constraint(
            v,
            field,
            &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ranges_use_aws_wording() {
        assert_eq!(memory_size(512).unwrap(), 512);
        let e = memory_size(20000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"
        );
        assert!(memory_size(127).is_err());
        assert!(timeout(0).is_err() && timeout(901).is_err() && timeout(900).is_ok());
        assert!(ephemeral_storage(511).is_err() && ephemeral_storage(10240).is_ok());
    }

    #[test]
    fn names_handlers_roles() {
        assert!(function_name("my-fn_1").is_ok());
        assert!(function_name("my.fn").is_err());
        assert!(function_name(&"x".repeat(65)).is_err());
        assert!(handler("app.handler").is_ok());
        assert!(handler("app handler").is_err());
        assert!(role("arn:aws:iam::123456789012:role/lambda-exec").is_ok());
        assert!(role("arn:aws:iam::12:role/x").is_err());
        assert!(description(&"d".repeat(257)).is_err());
    }

    #[test]
    fn environment_rules() {
        let mut m = BTreeMap::new();
        m.insert("DB_HOST".to_string(), "x".to_string());
        assert!(environment(&m).is_ok());
        m.insert("AWS_REGION".into(), "x".into());
        assert!(matches!(
            environment(&m),
            Err(Error::InvalidParameterValue(_))
        ));
        let mut m = BTreeMap::new();
        m.insert("1BAD".to_string(), "x".to_string());
        assert!(matches!(environment(&m), Err(Error::Validation(_))));
        let mut m = BTreeMap::new();
        m.insert("BIG".to_string(), "x".repeat(5000));
        assert!(matches!(
            environment(&m),
            Err(Error::InvalidParameterValue(_))
        ));
    }

    #[test]
    fn runtime_must_be_known_and_available() {
        let avail = vec!["python3.11".to_string()];
        assert!(runtime("python3.11", &avail).is_ok());
        assert!(matches!(
            runtime("python2", &avail),
            Err(Error::Validation(_))
        ));
        let e = runtime("python3.12", &avail).unwrap_err();
        assert!(e.to_string().contains("python3.11"));
    }
}
