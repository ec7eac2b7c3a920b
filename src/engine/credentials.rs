//! An environment's execution-role credentials: issued before launch (the sandbox puts
//! them and `AWS_ENDPOINT_URL` in the environment), held by the [`Live`](super::live::Live)
//! environment and revoked when it is dropped. The Runtime API server of the environment
//! forwards the AWS API calls made with them to the daemon's API (`runtime::api::aws`).

use crate::domain::function::FunctionVersion;
use crate::runtime::AwsApi;
use crate::sandbox::EnvSpec;
use crate::services::iam::{execution, sessions::SessionGuard};
use crate::services::Context;

/// Issues the environment's session and adds its variables to `spec`; `(None, None)` when
/// `iam.sandbox_api` is off or the API is not listening yet.
pub async fn attach(
    ctx: &Context,
    fv: &FunctionVersion,
    env_id: &str,
    spec: &mut EnvSpec,
) -> (Option<SessionGuard>, Option<AwsApi>) {
    let cfg = &ctx.config.iam;
    if !cfg.sandbox_api {
        return (None, None);
    }
    let Some(target) = ctx.iam.api_addr() else {
        return (None, None);
    };
    let arn = ctx.identity.function_arn(&fv.name);
    let c = execution::for_environment(ctx, &fv.name, &fv.config.role, &arn, env_id).await;
    let vars = [
        ("AWS_ACCESS_KEY_ID", c.session.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", c.session.secret.clone()),
        ("AWS_SESSION_TOKEN", c.session.token.clone()),
    ];
    for (k, v) in vars {
        spec.env.retain(|(n, _)| n != k);
        spec.env.push((k.to_string(), v));
    }
    spec.aws_endpoint = true;
    let api = AwsApi {
        target,
        access_key_id: c.session.access_key_id.clone(),
        rate_per_sec: cfg.sandbox_api_rate,
        max_body: usize::try_from(cfg.sandbox_api_max_body_mb.saturating_mul(1024 * 1024))
            .unwrap_or(usize::MAX),
    };
    (Some(c.guard), Some(api))
}
