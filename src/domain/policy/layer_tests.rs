//! The evaluation table of layer version policies (AddLayerVersionPermission's documents):
//! within the owner's account either the caller's identity policy or the layer's policy
//! allows; from another account both must (AWS's cross-account evaluation, the layers
//! guide's "granting layer access to other accounts"). Statements grant only
//! `lambda:GetLayerVersion` on their own version.

use serde_json::{json, Value};

use super::*;

const OWNER: &str = "123456789012";
const OTHER: &str = "210987654321";
const V1: &str = "arn:aws:lambda:us-east-1:123456789012:layer:deps:1";
const V2: &str = "arn:aws:lambda:us-east-1:123456789012:layer:deps:2";

fn grant(principal: Value, condition: Option<Value>) -> Value {
    let mut s = json!({"Sid": "s", "Effect": "Allow", "Principal": principal,
                       "Action": "lambda:GetLayerVersion", "Resource": V1});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Id": "default", "Statement": [s]})
}

struct Row {
    what: &'static str,
    identity: Option<Value>,
    layer: Option<Value>,
    caller: &'static str,
    action: &'static str,
    arn: &'static str,
    org: Option<&'static str>,
    want: Decision,
}

fn rows() -> Vec<Row> {
    use Decision::*;
    let allow = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                       "Action": "lambda:GetLayerVersion", "Resource": "*"}});
    let deny = json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny",
                      "Action": "lambda:*", "Resource": "*"}});
    let everyone = grant(json!("*"), None);
    let other = grant(json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}), None);
    let org = grant(
        json!("*"),
        Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
    );
    let row = |what, identity: Option<&Value>, layer: Option<&Value>, caller, want| Row {
        what,
        identity: identity.cloned(),
        layer: layer.cloned(),
        caller,
        action: "lambda:GetLayerVersion",
        arn: V1,
        org: None,
        want,
    };
    vec![
        row(
            "same account: a grant to everyone is enough",
            None,
            Some(&everyone),
            OWNER,
            Allow,
        ),
        row(
            "same account: the identity policy is enough",
            Some(&allow),
            None,
            OWNER,
            Allow,
        ),
        row(
            "same account: neither allows",
            None,
            None,
            OWNER,
            ImplicitDeny,
        ),
        Row {
            what: "a layer statement grants GetLayerVersion only",
            action: "lambda:DeleteLayerVersion",
            ..row("", None, Some(&everyone), OWNER, ImplicitDeny)
        },
        Row {
            what: "a statement is about its own version only",
            arn: V2,
            ..row("", None, Some(&everyone), OWNER, ImplicitDeny)
        },
        row(
            "another account: identity alone is not enough",
            Some(&allow),
            None,
            OTHER,
            ImplicitDeny,
        ),
        row(
            "another account: the grant alone is not enough",
            None,
            Some(&other),
            OTHER,
            ImplicitDeny,
        ),
        row(
            "another account: identity and a grant to its account",
            Some(&allow),
            Some(&other),
            OTHER,
            Allow,
        ),
        row(
            "another account: identity and a grant to everyone",
            Some(&allow),
            Some(&everyone),
            OTHER,
            Allow,
        ),
        row(
            "a third account is not the granted one",
            Some(&allow),
            Some(&other),
            "999999999999",
            ImplicitDeny,
        ),
        Row {
            what: "an organization grant: a caller of that organization",
            org: Some("o-abcdefghij"),
            ..row("", Some(&allow), Some(&org), OTHER, Allow)
        },
        Row {
            what: "an organization grant: a caller of another organization",
            org: Some("o-zzzzzzzzzz"),
            ..row("", Some(&allow), Some(&org), OTHER, ImplicitDeny)
        },
        row(
            "an organization grant: a caller of no organization",
            Some(&allow),
            Some(&org),
            OTHER,
            ImplicitDeny,
        ),
        row(
            "an explicit deny wins over any grant",
            Some(&deny),
            Some(&everyone),
            OTHER,
            ExplicitDeny(DenySource::Identity),
        ),
    ]
}

#[test]
fn layer_version_policies() {
    for r in rows() {
        let identity: Vec<Document> = r
            .identity
            .iter()
            .map(|d| Document::from_value(d, Kind::Identity).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let refs: Vec<&Document> = identity.iter().collect();
        let layer = r
            .layer
            .as_ref()
            .map(|d| Document::from_value(d, Kind::Resource).unwrap_or_else(|e| panic!("{e}")));
        let mut c = RequestContext::default();
        c.set("aws:PrincipalAccount", r.caller);
        if let Some(o) = r.org {
            c.set("aws:PrincipalOrgID", o);
        }
        let principal = format!("arn:aws:sts::{}:assumed-role/builder/s", r.caller);
        let role = format!("arn:aws:iam::{}:role/builder", r.caller);
        let req = Request {
            action: r.action,
            resource: r.arn,
            principal_arn: &principal,
            account: r.caller,
            role_arn: Some(&role),
            service: None,
            context: &c,
        };
        let got = evaluate_owned(&refs, layer.as_ref(), None, &req, OWNER);
        assert_eq!(got, r.want, "{}", r.what);
    }
}
