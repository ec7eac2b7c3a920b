//! Each operation's IAM action and resource ARN, per service: a small table beside the
//! services rather than inside them. An operation missing from its service's table is
//! `<prefix>:<Operation>` on resource `*` (AWS's action names equal the operation names
//! for most operations); `None` means the call needs no permission (`GetCallerIdentity`).

use super::super::request::ApiRequest;
use super::super::AppState;
use crate::domain::iam::role_arn;
use crate::services::iam::authorize::Ask;

/// The IAM action prefix of a SigV4 service name.
fn prefix(signing_name: &str) -> &str {
    match signing_name {
        "monitoring" => "cloudwatch",
        "apigateway" => "apigateway",
        other => other,
    }
}

/// What `req` asks for.
pub async fn ask(state: &AppState, req: &ApiRequest) -> Option<Ask> {
    let region = req.principal.region.clone();
    let (action, resource, policy) = match req.service {
        "sts" if req.operation == "GetCallerIdentity" => return None,
        "lambda" => lambda(state, req).await,
        "iam" => (
            format!("iam:{}", req.operation),
            iam_resource(state, req),
            None,
        ),
        "sts" => (
            format!("sts:{}", req.operation),
            req.params.get("RoleArn").unwrap_or("*").to_string(),
            None,
        ),
        "sqs" => (
            format!("sqs:{}", req.operation),
            sqs_resource(state, req),
            None,
        ),
        "s3" => (s3_action(req.operation), s3_resource(req), None),
        other => (
            format!("{}:{}", prefix(other), req.operation),
            "*".to_string(),
            None,
        ),
    };
    Some(Ask {
        action,
        resource,
        resource_policy: policy,
        region,
        extra: Vec::new(),
    })
}

/// Lambda operations whose IAM action has another name.
fn lambda_action(op: &str) -> &str {
    match op {
        "Invoke" | "InvokeWithResponseStream" => "InvokeFunction",
        "GetLayerVersionByArn" => "GetLayerVersion",
        "Unlisted" => "UnlistedOperation",
        other => other,
    }
}

fn function_arn(state: &AppState, name: &str, qualifier: Option<&str>) -> String {
    let id = &state.ctx.identity;
    let base = if name.starts_with("arn:") {
        name.to_string()
    } else if let Some((acct, rest)) = name.split_once(":function:") {
        format!("arn:aws:lambda:{}:{acct}:function:{rest}", id.region)
    } else {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            id.region, id.account_id
        )
    };
    match qualifier {
        Some(q) if !q.is_empty() && base.matches(':').count() == 6 => format!("{base}:{q}"),
        _ => base,
    }
}

async fn lambda(state: &AppState, req: &ApiRequest) -> (String, String, Option<serde_json::Value>) {
    let action = format!("lambda:{}", lambda_action(req.operation));
    let id = &state.ctx.identity;
    let qualifier = req.query_param("Qualifier");
    let resource = if let Some(name) = req.label("FunctionName") {
        function_arn(state, name, qualifier.as_deref())
    } else if req.operation == "CreateFunction" {
        let name = req
            .json::<serde_json::Value>()
            .ok()
            .and_then(|v| {
                v.get("FunctionName")
                    .and_then(|n| n.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        function_arn(state, &name, None)
    } else if let Some(layer) = req.label("LayerName") {
        let base = if layer.starts_with("arn:") {
            layer.to_string()
        } else {
            format!(
                "arn:aws:lambda:{}:{}:layer:{layer}",
                id.region, id.account_id
            )
        };
        match req.label("VersionNumber") {
            Some(v) => format!("{base}:{v}"),
            None => base,
        }
    } else if let Some(uuid) = req.label("UUID") {
        format!(
            "arn:aws:lambda:{}:{}:event-source-mapping:{uuid}",
            id.region, id.account_id
        )
    } else if let Some(arn) = req.label("Resource") {
        arn.to_string()
    } else if req.operation == "GetLayerVersionByArn" {
        req.query_param("Arn").unwrap_or_else(|| "*".into())
    } else {
        "*".to_string()
    };
    // The function's resource policy joins the decision (same account: either allows).
    let policy = match req.label("FunctionName") {
        Some(name) if resource.contains(":function:") => {
            let short = resource
                .split(":function:")
                .nth(1)
                .unwrap_or(name)
                .to_string();
            let (fname, q) = match short.split_once(':') {
                Some((f, q)) => (f.to_string(), q.to_string()),
                None => (short, String::new()),
            };
            state
                .ctx
                .store
                .call(move |c| crate::store::policies::get(c, &fname, &q))
                .await
                .ok()
                .flatten()
                .map(|p| p.document)
        }
        // A layer version's policy (AddLayerVersionPermission) joins the same way.
        _ if resource.contains(":layer:") && resource.matches(':').count() == 7 => {
            crate::services::layer_policy::document_of(&state.ctx, &resource).await
        }
        _ => None,
    };
    (action, resource, policy)
}

/// The layers a CreateFunction or UpdateFunctionConfiguration names: using a layer needs
/// `lambda:GetLayerVersion` on each version, decided with the version's own policy. ARNs that
/// are not layer versions of this host are left to the handler (it refuses them).
pub async fn layer_uses(state: &AppState, req: &ApiRequest) -> Vec<Ask> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(rename = "Layers")]
        layers: Option<Vec<String>>,
    }
    if req.service != "lambda"
        || !matches!(
            req.operation,
            "CreateFunction" | "UpdateFunctionConfiguration"
        )
    {
        return Vec::new();
    }
    let Ok(Body {
        layers: Some(layers),
    }) = req.json::<Body>()
    else {
        return Vec::new();
    };
    let mut asks = Vec::new();
    for arn in layers {
        if crate::domain::layer::parse_version_arn(&arn, &state.ctx.identity).is_err() {
            continue;
        }
        let policy = crate::services::layer_policy::document_of(&state.ctx, &arn).await;
        asks.push(Ask {
            action: "lambda:GetLayerVersion".into(),
            resource: arn,
            resource_policy: policy,
            region: req.principal.region.clone(),
            extra: Vec::new(),
        });
    }
    asks
}

fn iam_resource(state: &AppState, req: &ApiRequest) -> String {
    let account = &state.ctx.identity.account_id;
    if let Some(role) = req.params.get("RoleName") {
        return role_arn(account, req.params.get("Path").unwrap_or("/"), role);
    }
    if let Some(arn) = req.params.get("PolicyArn") {
        return arn.to_string();
    }
    if let Some(name) = req.params.get("PolicyName") {
        return crate::domain::iam::policy_arn(
            account,
            req.params.get("Path").unwrap_or("/"),
            name,
        );
    }
    "*".to_string()
}

fn sqs_resource(state: &AppState, req: &ApiRequest) -> String {
    let id = &state.ctx.identity;
    let from_json = || {
        serde_json::from_slice::<serde_json::Value>(&req.body)
            .ok()
            .and_then(|v| {
                v.get("QueueUrl")
                    .or_else(|| v.get("QueueName"))
                    .and_then(|u| u.as_str())
                    .map(str::to_string)
            })
    };
    let url = req
        .params
        .get("QueueUrl")
        .or_else(|| req.params.get("QueueName"))
        .map(str::to_string)
        .or_else(from_json);
    match url {
        Some(u) => {
            let name = u
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            format!("arn:aws:sqs:{}:{}:{name}", id.region, id.account_id)
        }
        None => "*".to_string(),
    }
}

/// S3 operations whose IAM action has another name (AWS's "actions, resources and condition
/// keys for Amazon S3").
fn s3_action(op: &str) -> String {
    let action = match op {
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "ListBuckets" => "ListAllMyBuckets",
        "HeadObject" => "GetObject",
        "DeleteObjects" => "DeleteObject",
        "CopyObject" => "PutObject",
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => "PutObject",
        "AbortMultipartUpload" => "AbortMultipartUpload",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        other => other,
    };
    format!("s3:{action}")
}

/// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key` from the path labels.
fn s3_resource(req: &ApiRequest) -> String {
    match (req.label("Bucket"), req.label("Key")) {
        (Some(b), Some(k)) => format!("arn:aws:s3:::{b}/{k}"),
        (Some(b), None) => format!("arn:aws:s3:::{b}"),
        _ => "*".to_string(),
    }
}
