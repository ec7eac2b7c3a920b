//! The resource-policy check of public (`AuthType: NONE`) function URLs. On AWS a public URL
//! answers only if the function's policy has a statement allowing principal `*` the action
//! `lambda:InvokeFunctionUrl` with the condition `lambda:FunctionUrlAuthType = NONE` (what
//! `aws lambda add-permission --action lambda:InvokeFunctionUrl --principal '*'
//! --function-url-auth-type NONE` writes). lambdabox treats policies as it does for its other
//! triggers (`policy::allows_events`): a function without a policy at the URL's qualifier is
//! served; once a policy is set, it is honoured and a URL it does not allow answers 403.

use serde_json::Value;

use super::Context;
use crate::domain::Error;
use crate::store::policies;

/// Whether the public URL of `function` at `qualifier` (`$LATEST` or an alias) may be invoked.
pub async fn allows_public_url(
    ctx: &Context,
    function: &str,
    qualifier: &str,
) -> Result<bool, Error> {
    let name = function.to_string();
    let q = if qualifier == crate::domain::arn::LATEST {
        String::new()
    } else {
        qualifier.to_string()
    };
    let p = ctx.store.call(move |c| policies::get(c, &name, &q)).await?;
    let Some(p) = p else { return Ok(true) };
    let statements = p.document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(statements.iter().any(allows))
}

/// One statement allowing everyone `lambda:InvokeFunctionUrl` for `FunctionUrlAuthType NONE`.
fn allows(s: &Value) -> bool {
    if s["Effect"] != "Allow" {
        return false;
    }
    let everyone = match &s["Principal"] {
        Value::String(p) => p == "*",
        Value::Object(o) => o.get("AWS").is_some_and(|a| a == "*"),
        _ => false,
    };
    let action_ok = |a: &Value| {
        matches!(
            a.as_str(),
            Some("lambda:InvokeFunctionUrl" | "lambda:*" | "*")
        )
    };
    let action = match &s["Action"] {
        Value::Array(a) => a.iter().any(action_ok),
        a => action_ok(a),
    };
    if !everyone || !action {
        return false;
    }
    let Some(cond) = s.get("Condition").and_then(Value::as_object) else {
        // No condition: the statement allows every URL auth type, NONE included.
        return true;
    };
    cond.iter().all(|(op, kv)| {
        kv.as_object().is_some_and(|kv| {
            kv.iter().all(|(k, v)| {
                op == "StringEquals"
                    && k.eq_ignore_ascii_case("lambda:FunctionUrlAuthType")
                    && v == "NONE"
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_aws_writes_for_a_public_url_allows_it() {
        let s = json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
            "Resource": "arn", "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}});
        assert!(allows(&s));
        let iam = json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}});
        assert!(!allows(&iam));
        let invoke =
            json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"});
        assert!(!allows(&invoke));
        let events = json!({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunctionUrl"});
        assert!(!allows(&events));
        let other = json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:x"}}});
        assert!(!allows(&other));
    }
}
