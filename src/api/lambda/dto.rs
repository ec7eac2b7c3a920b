//! Wire shapes of the Lambda function API: request bodies (PascalCase JSON, unknown members
//! ignored as AWS ignores members it does not model) and the FunctionConfiguration response.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::domain::function::{b64_sha256, format_last_modified, FunctionConfig, FunctionVersion};
use crate::domain::{validate, Error, Identity};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeBody {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentBody {
    pub variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SizeBody {
    pub size: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModeBody {
    pub mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterBody {
    pub target_arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcBody {
    pub subnet_ids: Option<Vec<String>>,
    pub security_group_ids: Option<Vec<String>>,
    pub ipv6_allowed_for_dual_stack: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingBody {
    pub log_format: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub log_group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStartBody {
    pub apply_on: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileSystemBody {
    pub arn: String,
    pub local_mount_path: String,
}

/// Members shared by CreateFunction and UpdateFunctionConfiguration.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigBody {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentBody>,
    pub ephemeral_storage: Option<SizeBody>,
    pub tracing_config: Option<ModeBody>,
    pub layers: Option<Vec<String>>,
    pub dead_letter_config: Option<DeadLetterBody>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    pub vpc_config: Option<VpcBody>,
    pub logging_config: Option<LoggingBody>,
    pub snap_start: Option<SnapStartBody>,
    pub file_system_configs: Option<Vec<FileSystemBody>>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionBody {
    pub function_name: Option<String>,
    pub code: Option<CodeBody>,
    pub publish: Option<bool>,
    pub package_type: Option<String>,
    pub architectures: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub config: ConfigBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCodeBody {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    pub image_uri: Option<String>,
    pub publish: Option<bool>,
    pub dry_run: Option<bool>,
    pub revision_id: Option<String>,
    pub architectures: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsBody {
    pub tags: Option<BTreeMap<String, String>>,
}

/// Decodes an inline package (`ZipFile`), refusing the code sources lambdabox lacks.
pub fn zip_bytes(zip: Option<&str>, s3: bool, image: bool) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    if image {
        return Err(Error::InvalidParameterValue(
            "Container images are not supported by lambdabox: deploy a .zip package (--zip-file fileb://function.zip).".into(),
        ));
    }
    if s3 {
        return Err(Error::InvalidParameterValue(
            "Code from S3 buckets is not supported yet: upload the package directly (--zip-file fileb://function.zip).".into(),
        ));
    }
    let b64 = zip.ok_or_else(|| {
        Error::InvalidParameterValue("Please provide a source for function code.".into())
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| Error::InvalidParameterValue("ZipFile is not valid base64.".into()))
}

/// [`zip_bytes`] on a heavy-work thread when the base64 text is large.
pub async fn zip_bytes_off(
    cpu: &crate::services::cpu::Cpu,
    zip: Option<String>,
    s3: bool,
    image: bool,
) -> Result<Vec<u8>, Error> {
    let size = zip.as_ref().map_or(0, String::len);
    cpu.run_sized(size, move || zip_bytes(zip.as_deref(), s3, image))
        .await?
}

/// Applies the members present in `body` to `c` (absent members leave values unchanged).
pub fn apply_config(body: ConfigBody, c: &mut FunctionConfig) -> Result<(), Error> {
    if let Some(v) = body.runtime {
        c.runtime = v;
    }
    if let Some(v) = body.role {
        c.role = v;
    }
    if let Some(v) = body.handler {
        c.handler = v;
    }
    if let Some(v) = body.description {
        c.description = v;
    }
    if let Some(v) = body.timeout {
        c.timeout = validate::timeout(v)?;
    }
    if let Some(v) = body.memory_size {
        c.memory_size = validate::memory_size(v)?;
    }
    if let Some(env) = body.environment {
        c.environment = env.variables.unwrap_or_default();
    }
    if let Some(e) = body.ephemeral_storage {
        c.ephemeral_storage = validate::ephemeral_storage(e.size)?;
    }
    if let Some(t) = body.tracing_config {
        if let Some(m) = t.mode {
            validate::tracing_mode(&m)?;
            c.tracing_mode = m;
        }
    }
    if let Some(l) = body.layers {
        c.layers = l
            .iter()
            .map(|arn| crate::domain::layer::AttachedLayer::requested(arn))
            .collect();
    }
    if let Some(d) = body.dead_letter_config {
        c.dead_letter_target = d.target_arn.filter(|s| !s.is_empty());
    }
    if let Some(k) = body.kms_key_arn {
        c.kms_key_arn = Some(k).filter(|s| !s.is_empty());
    }
    if let Some(v) = body.vpc_config {
        if let Some(s) = v.subnet_ids {
            c.vpc.subnet_ids = s;
        }
        if let Some(s) = v.security_group_ids {
            c.vpc.security_group_ids = s;
        }
        if let Some(b) = v.ipv6_allowed_for_dual_stack {
            c.vpc.ipv6_allowed_for_dual_stack = b;
        }
    }
    if let Some(l) = body.logging_config {
        crate::domain::logging::apply(
            crate::domain::logging::LoggingChange {
                log_format: l.log_format,
                application_log_level: l.application_log_level,
                system_log_level: l.system_log_level,
                log_group: l.log_group,
            },
            &mut c.logging,
        )?;
    }
    if let Some(s) = body.snap_start {
        c.snap_start = s.apply_on.unwrap_or_else(|| "None".into());
    }
    if let Some(fs) = body.file_system_configs {
        if !fs.is_empty() {
            return Err(Error::InvalidParameterValue(
                "FileSystemConfigs (EFS) are not supported by lambdabox.".into(),
            ));
        }
    }
    Ok(())
}

/// The FunctionConfiguration JSON of a version. `qualified` gives the version's ARN with its
/// qualifier (as PublishVersion and ListVersionsByFunction do).
pub fn configuration(id: &Identity, v: &FunctionVersion, qualified: bool) -> Value {
    let c = &v.config;
    let arn = if qualified {
        id.qualified_arn(&v.name, &v.version)
    } else {
        id.function_arn(&v.name)
    };
    let mut m = Map::new();
    m.insert("FunctionName".into(), json!(v.name));
    m.insert("FunctionArn".into(), json!(arn));
    m.insert("Runtime".into(), json!(c.runtime));
    m.insert("Role".into(), json!(c.role));
    m.insert("Handler".into(), json!(c.handler));
    m.insert("CodeSize".into(), json!(v.code_size));
    m.insert("Description".into(), json!(c.description));
    m.insert("Timeout".into(), json!(c.timeout));
    m.insert("MemorySize".into(), json!(c.memory_size));
    m.insert(
        "LastModified".into(),
        json!(format_last_modified(v.last_modified_ms)),
    );
    m.insert("CodeSha256".into(), json!(b64_sha256(&v.code_sha256)));
    m.insert("Version".into(), json!(v.version));
    if !c.vpc.subnet_ids.is_empty() || !c.vpc.security_group_ids.is_empty() {
        m.insert(
            "VpcConfig".into(),
            json!({"SubnetIds": c.vpc.subnet_ids, "SecurityGroupIds": c.vpc.security_group_ids,
                   "VpcId": "lambdabox", "Ipv6AllowedForDualStack": c.vpc.ipv6_allowed_for_dual_stack}),
        );
    }
    if let Some(t) = &c.dead_letter_target {
        m.insert("DeadLetterConfig".into(), json!({"TargetArn": t}));
    }
    if !c.environment.is_empty() {
        m.insert("Environment".into(), json!({"Variables": c.environment}));
    }
    if let Some(k) = &c.kms_key_arn {
        m.insert("KMSKeyArn".into(), json!(k));
    }
    m.insert("TracingConfig".into(), json!({"Mode": c.tracing_mode}));
    m.insert("RevisionId".into(), json!(v.revision_id));
    if !c.layers.is_empty() {
        let layers: Vec<Value> = c
            .layers
            .iter()
            .map(|l| json!({"Arn": l.arn, "CodeSize": l.code_size}))
            .collect();
        m.insert("Layers".into(), json!(layers));
    }
    m.insert("State".into(), json!("Active"));
    m.insert("LastUpdateStatus".into(), json!("Successful"));
    m.insert("PackageType".into(), json!(c.package_type));
    m.insert("Architectures".into(), json!(c.architectures));
    m.insert(
        "EphemeralStorage".into(),
        json!({"Size": c.ephemeral_storage}),
    );
    m.insert(
        "SnapStart".into(),
        json!({"ApplyOn": c.snap_start, "OptimizationStatus": "Off"}),
    );
    m.insert(
        "RuntimeVersionConfig".into(),
        json!({"RuntimeVersionArn": runtime_version_arn(id, &c.runtime)}),
    );
    let mut logging = json!({"LogFormat": c.logging.log_format, "LogGroup": c.log_group(&v.name)});
    if c.logging.log_format == "JSON" {
        logging["ApplicationLogLevel"] =
            json!(c.logging.application_log_level.as_deref().unwrap_or("INFO"));
        logging["SystemLogLevel"] = json!(c.logging.system_log_level.as_deref().unwrap_or("INFO"));
    }
    m.insert("LoggingConfig".into(), logging);
    Value::Object(m)
}

/// `arn:aws:lambda:R::runtime:<64 hex>`, stable per runtime id.
pub fn runtime_version_arn(id: &Identity, runtime: &str) -> String {
    let digest = crate::store::blobs::sha256_hex(format!("lambdabox:{runtime}").as_bytes());
    format!("arn:aws:lambda:{}::runtime:{digest}", id.region)
}
