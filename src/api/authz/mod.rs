//! Authorization of API calls, between the verified signature and the handler
//! (`api::front`): a call made with an admin key runs as before; a call made with a scoped
//! key (`lambdabox keys create --policy`) is decided by the key's policy; a call made with
//! role session credentials is decided by IAM policy evaluation (`services::iam::authorize`) on
//! the operation's IAM action and resource ARN ([`actions`]), with the resource's own policy
//! (a function's, a layer version's) combined as AWS documents. A refusal is `AccessDeniedException` (query
//! and rest-xml services: `AccessDenied`) with AWS's message, status 403.

pub mod actions;

use super::error::ApiError;
use super::protocol::Protocol;
use super::request::ApiRequest;
use super::AppState;
use crate::domain::iam::IamError;
use crate::services::iam::{authorize, now_ms};

/// Decides `req`; `Err` is the error to answer instead of running the handler. Besides the
/// operation itself, a CreateFunction or UpdateFunctionConfiguration must be allowed
/// `lambda:GetLayerVersion` on each layer it names ([`actions::layer_uses`]).
pub async fn check(state: &AppState, req: &ApiRequest) -> Result<(), ApiError> {
    let scoped = req.principal.session.is_none() && req.principal.role != "admin";
    if req.principal.session.is_none() && !scoped {
        return Ok(());
    }
    let Some(ask) = actions::ask(state, req).await else {
        return Ok(());
    };
    decide(state, req, scoped, &ask).await?;
    for layer in actions::layer_uses(state, req).await {
        decide(state, req, scoped, &layer).await?;
    }
    Ok(())
}

/// One ask of `req`'s caller: a scoped key's policy, or its role session's policies.
async fn decide(
    state: &AppState,
    req: &ApiRequest,
    scoped: bool,
    ask: &authorize::Ask,
) -> Result<(), ApiError> {
    let denied = |m: String| access_denied(req.protocol, m);
    if scoped {
        return match authorize::check_key(
            &state.ctx,
            &req.principal.access_key_id,
            &req.principal.role,
            ask,
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(IamError::AccessDenied(m)) => Err(denied(m)),
            Err(other) => Err(crate::api::iam::wire::to_api(&other)),
        };
    }
    let Some(session) = state
        .ctx
        .iam
        .sessions
        .lookup(&req.principal.access_key_id, now_ms())
    else {
        return Err(denied(
            "The security token included in the request is expired".into(),
        ));
    };
    match authorize::check(&state.ctx, &session, ask).await {
        Ok(()) => Ok(()),
        Err(IamError::AccessDenied(m)) => {
            tracing::info!(principal = %session.arn(&state.ctx.identity.account_id), action = %ask.action, resource = %ask.resource, "access denied");
            Err(denied(m))
        }
        Err(other) => Err(crate::api::iam::wire::to_api(&other)),
    }
}

/// The access-denied error in `protocol`'s naming.
pub fn access_denied(protocol: Protocol, message: String) -> ApiError {
    let code = match protocol {
        Protocol::Query | Protocol::RestXml => "AccessDenied",
        _ => "AccessDeniedException",
    };
    super::error::ErrorKind::new(code, 403).with(message)
}
