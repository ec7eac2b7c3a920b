//! AssumeRole: temporary credentials for a role whose trust policy names the caller.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::iam::wire::{integer, required, to_api};
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::iam::execution::{self, iso8601, AssumeRole};

pub fn assume_role<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let p = &req.params;
        let run = async {
            if p.get("SerialNumber").is_some()
                || p.get("TokenCode").is_some()
                || p.get("ExternalId").is_some()
                || !p.items("PolicyArns").is_empty()
                || !p.items("Tags").is_empty()
                || p.get("SourceIdentity").is_some()
            {
                return Err(crate::domain::iam::IamError::Validation(
                    "lambdabox's AssumeRole takes RoleArn, RoleSessionName, DurationSeconds and Policy only (no MFA, ExternalId, PolicyArns, Tags or SourceIdentity).".into(),
                ));
            }
            let input = AssumeRole {
                role_arn: required(p, "RoleArn", "roleArn")?.to_string(),
                session_name: required(p, "RoleSessionName", "roleSessionName")?.to_string(),
                duration_seconds: integer(p, "DurationSeconds", "durationSeconds")?,
                policy: p.get("Policy").map(str::to_string),
            };
            let account = &state.ctx.identity.account_id;
            let caller = req.principal.arn(account);
            let s =
                execution::assume_role(&state.ctx, &caller, req.principal.session.is_some(), input)
                    .await?;
            Ok(json!({
                "Credentials": {
                    "AccessKeyId": s.access_key_id,
                    "SecretAccessKey": s.secret,
                    "SessionToken": s.token,
                    "Expiration": iso8601(s.expires_ms),
                },
                "AssumedRoleUser": {
                    "AssumedRoleId": format!("{}:{}", s.role_id, s.session_name),
                    "Arn": s.arn(account),
                },
            }))
        };
        run.await.map(Reply::Value).map_err(|e| to_api(&e))
    })
}
