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
        Ok(Reply::Value(json!({
            "UserId": req.principal.access_key_id,
            "Account": account,
            "Arn": req.principal.arn(account),
        })))
    })
}
