//! GetCallerIdentity: the account, the key and the ARN of the caller.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;

pub fn get_caller_identity<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let account = &state.ctx.identity.account_id;
        // A role session's user id is `<role id>:<session name>`, as in AWS.
        let user_id = match &req.principal.session {
            Some(name) => state
                .ctx
                .iam
                .sessions
                .lookup(&req.principal.access_key_id, crate::services::iam::now_ms())
                .map_or_else(
                    || req.principal.access_key_id.clone(),
                    |s| format!("{}:{name}", s.role_id),
                ),
            None => req.principal.access_key_id.clone(),
        };
        Ok(Reply::Value(json!({
            "UserId": user_id,
            "Account": account,
            "Arn": req.principal.arn(account),
        })))
    })
}
