//! The evaluation table: each row is a policy from AWS's IAM documentation (the "example
//! policies" pages and the policy-evaluation and condition-operator references) with
//! requests and the decision AWS documents for them.

use serde_json::json;

use super::*;

const ACCOUNT: &str = "123456789012";
const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/my-role/my-fn";
const ROLE: &str = "arn:aws:iam::123456789012:role/my-role";

fn doc(v: serde_json::Value, kind: Kind) -> Document {
    Document::from_value(&v, kind).unwrap_or_else(|e| panic!("{e}: {v}"))
}

fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
    let mut c = RequestContext::default();
    for (k, v) in pairs {
        c.set(k, *v);
    }
    c
}

fn req<'a>(action: &'a str, resource: &'a str, context: &'a RequestContext) -> Request<'a> {
    Request {
        action,
        resource,
        principal_arn: SESSION,
        account: ACCOUNT,
        role_arn: Some(ROLE),
        service: None,
        context,
    }
}

struct Row {
    what: &'static str,
    identity: Vec<serde_json::Value>,
    resource: Option<serde_json::Value>,
    action: &'static str,
    arn: &'static str,
    context: Vec<(&'static str, &'static str)>,
    want: Decision,
}

fn rows() -> Vec<Row> {
    use Decision::*;
    let seed = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"}
        ]
    });
    let invoke_one = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                       "Resource": "arn:aws:lambda:us-east-1:123456789012:function:allowed"}]
    });
    let f = |n: &str| -> &'static str {
        Box::leak(format!("arn:aws:lambda:us-east-1:123456789012:function:{n}").into_boxed_str())
    };
    vec![
        Row {
            what: "seed policy allows its logs action",
            identity: vec![seed.clone()],
            resource: None,
            action: "logs:PutLogEvents",
            arn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "seed policy allows GetObject under the bucket",
            identity: vec![seed.clone()],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::my-bucket/a/b.txt",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "seed policy does not allow PutObject",
            identity: vec![seed.clone()],
            resource: None,
            action: "s3:PutObject",
            arn: "arn:aws:s3:::my-bucket/a",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "seed policy does not allow another bucket",
            identity: vec![seed.clone()],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::other-bucket/a",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "action names are case-insensitive",
            identity: vec![invoke_one.clone()],
            resource: None,
            action: "Lambda:invokefunction",
            arn: f("allowed"),
            context: vec![],
            want: Allow,
        },
        Row {
            what: "a function not named is denied",
            identity: vec![invoke_one.clone()],
            resource: None,
            action: "lambda:InvokeFunction",
            arn: f("denied"),
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "an unqualified ARN does not cover a version",
            identity: vec![invoke_one.clone()],
            resource: None,
            action: "lambda:InvokeFunction",
            arn: f("allowed:1"),
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "resource ARNs are case-sensitive",
            identity: vec![invoke_one.clone()],
            resource: None,
            action: "lambda:InvokeFunction",
            arn: f("Allowed"),
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "wildcard action and ? in resource",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:Get*","Resource":"arn:aws:lambda:*:*:function:fn-?"}}),
            ],
            resource: None,
            action: "lambda:GetFunctionConfiguration",
            arn: f("fn-1"),
            context: vec![],
            want: Allow,
        },
        Row {
            what: "? matches exactly one character",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:Get*","Resource":"arn:aws:lambda:*:*:function:fn-?"}}),
            ],
            resource: None,
            action: "lambda:GetFunction",
            arn: f("fn-12"),
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "explicit deny wins over allow (AWS: deny overrides)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
                json!({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}}),
            ],
            resource: None,
            action: "lambda:DeleteFunction",
            arn: f("x"),
            context: vec![],
            want: ExplicitDeny(DenySource::Identity),
        },
        Row {
            what: "NotAction allows everything but IAM (AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}),
            ],
            resource: None,
            action: "sqs:SendMessage",
            arn: "arn:aws:sqs:us-east-1:123456789012:q",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "NotAction excludes its actions",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}),
            ],
            resource: None,
            action: "iam:CreateRole",
            arn: "arn:aws:iam::123456789012:role/x",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "Deny with NotAction denies every other action",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
                json!({"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["lambda:Get*","lambda:List*"],"Resource":"*"}}),
            ],
            resource: None,
            action: "lambda:UpdateFunctionCode",
            arn: f("x"),
            context: vec![],
            want: ExplicitDeny(DenySource::Identity),
        },
        Row {
            what: "NotResource: allow all but one bucket",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::secret/k",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "NotResource: other buckets allowed",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::public/k",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "policy variable aws:username in a resource (AWS example: home folders)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/home/${aws:username}/*"}}),
            ],
            resource: None,
            action: "s3:PutObject",
            arn: "arn:aws:s3:::bucket/home/alice/f",
            context: vec![("aws:username", "alice")],
            want: Allow,
        },
        Row {
            what: "policy variable: another user's folder",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/home/${aws:username}/*"}}),
            ],
            resource: None,
            action: "s3:PutObject",
            arn: "arn:aws:s3:::bucket/home/bob/f",
            context: vec![("aws:username", "alice")],
            want: ImplicitDeny,
        },
        Row {
            what: "policy variable absent: the resource matches nothing",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/home/${aws:username}/*"}}),
            ],
            resource: None,
            action: "s3:PutObject",
            arn: "arn:aws:s3:::bucket/home//f",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "policy variable default value",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/${aws:username, 'shared'}/*"}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::bucket/shared/f",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "${*} is a literal star",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/${*}"}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::bucket/abc",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "variables are literal text in 2008-10-17 documents",
            identity: vec![
                json!({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/${aws:username}"}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::bucket/${aws:username}",
            context: vec![("aws:username", "alice")],
            want: Allow,
        },
        Row {
            what: "aws:RequestedRegion restricts regions (AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:RequestedRegion", "us-east-1")],
            want: ImplicitDeny,
        },
        Row {
            what: "aws:RequestedRegion in the list",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:RequestedRegion", "eu-west-1")],
            want: Allow,
        },
        Row {
            what: "condition keys are case-insensitive",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"AWS:requestedregion":"eu-west-1"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:RequestedRegion", "eu-west-1")],
            want: Allow,
        },
        Row {
            what: "deny outside a date window (DateGreaterThan/DateLessThan, AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:CurrentTime", "2026-12-03T10:00:00Z")],
            want: ImplicitDeny,
        },
        Row {
            what: "inside the date window",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:CurrentTime", "2020-05-01T10:00:00Z")],
            want: Allow,
        },
        Row {
            what: "IpAddress: source in range",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:SourceIp", "203.0.113.7")],
            want: Allow,
        },
        Row {
            what: "NotIpAddress deny (AWS example: deny outside ranges)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
                json!({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24"]}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:SourceIp", "10.1.2.3")],
            want: ExplicitDeny(DenySource::Identity),
        },
        Row {
            what: "Bool aws:SecureTransport deny (AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
                json!({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}),
            ],
            resource: None,
            action: "s3:GetObject",
            arn: "arn:aws:s3:::b/k",
            context: vec![("aws:SecureTransport", "false")],
            want: ExplicitDeny(DenySource::Identity),
        },
        Row {
            what: "NumericLessThanEquals s3:max-keys (AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}),
            ],
            resource: None,
            action: "s3:ListBucket",
            arn: "arn:aws:s3:::b",
            context: vec![("s3:max-keys", "11")],
            want: ImplicitDeny,
        },
        Row {
            what: "Numeric within bound",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}}),
            ],
            resource: None,
            action: "s3:ListBucket",
            arn: "arn:aws:s3:::b",
            context: vec![("s3:max-keys", "10")],
            want: Allow,
        },
        Row {
            what: "StringLike with wildcard on aws:PrincipalArn",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:sts::*:assumed-role/my-*"}}}}),
            ],
            resource: None,
            action: "sqs:SendMessage",
            arn: "*",
            context: vec![("aws:PrincipalArn", SESSION)],
            want: Allow,
        },
        Row {
            what: "ArnLike aws:SourceArn",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:123456789012:function:*"}}}}),
            ],
            resource: None,
            action: "sqs:SendMessage",
            arn: "arn:aws:sqs:us-east-1:123456789012:q",
            context: vec![(
                "aws:SourceArn",
                "arn:aws:lambda:us-east-1:123456789012:function:f",
            )],
            want: Allow,
        },
        Row {
            what: "ArnLike: another account",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:123456789012:function:*"}}}}),
            ],
            resource: None,
            action: "sqs:SendMessage",
            arn: "arn:aws:sqs:us-east-1:123456789012:q",
            context: vec![(
                "aws:SourceArn",
                "arn:aws:lambda:us-east-1:999999999999:function:f",
            )],
            want: ImplicitDeny,
        },
        Row {
            what: "a missing key makes a positive condition false",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceArn":"arn:x"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "...IfExists makes it true",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceArn":"arn:x"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "a missing key makes a negated condition true",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceArn":"arn:x"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![],
            want: Allow,
        },
        Row {
            what: "Null: true when the key is absent (AWS example)",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![("aws:TokenIssueTime", "2026-01-01T00:00:00Z")],
            want: ImplicitDeny,
        },
        Row {
            what: "function resource policy allows a principal with no identity policy",
            identity: vec![],
            resource: Some(
                json!({"Version":"2012-10-17","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"AWS":ROLE},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:target"}]}),
            ),
            action: "lambda:InvokeFunction",
            arn: f("target"),
            context: vec![],
            want: Allow,
        },
        Row {
            what: "resource policy for the account root covers its principals",
            identity: vec![],
            resource: Some(
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:*","Resource":"*"}]}),
            ),
            action: "lambda:InvokeFunction",
            arn: f("target"),
            context: vec![],
            want: Allow,
        },
        Row {
            what: "resource policy for a service principal does not cover a role",
            identity: vec![],
            resource: Some(
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"*"}]}),
            ),
            action: "lambda:InvokeFunction",
            arn: f("target"),
            context: vec![],
            want: ImplicitDeny,
        },
        Row {
            what: "a deny in the resource policy wins over the identity's allow",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*"}}),
            ],
            resource: Some(
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}),
            ),
            action: "lambda:InvokeFunction",
            arn: f("target"),
            context: vec![],
            want: ExplicitDeny(DenySource::Resource),
        },
        Row {
            what: "ForAnyValue:StringEquals over a multivalued key",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}}}),
            ],
            resource: None,
            action: "lambda:TagResource",
            arn: "*",
            context: vec![("aws:TagKeys", "team")],
            want: Allow,
        },
        Row {
            what: "ForAllValues:StringEquals refuses an extra value",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}}),
            ],
            resource: None,
            action: "lambda:TagResource",
            arn: "*",
            context: vec![("aws:TagKeys", "owner")],
            want: ImplicitDeny,
        },
        Row {
            what: "two keys of one operator must both hold",
            identity: vec![
                json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalAccount":"123456789012"}}}}),
            ],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![
                ("aws:RequestedRegion", "us-east-1"),
                ("aws:PrincipalAccount", "999999999999"),
            ],
            want: ImplicitDeny,
        },
        Row {
            what: "nothing at all: implicit deny",
            identity: vec![],
            resource: None,
            action: "lambda:ListFunctions",
            arn: "*",
            context: vec![],
            want: ImplicitDeny,
        },
    ]
}

#[test]
fn the_documented_table() {
    for row in rows() {
        let identity: Vec<Document> = row
            .identity
            .iter()
            .map(|d| doc(d.clone(), Kind::Identity))
            .collect();
        let refs: Vec<&Document> = identity.iter().collect();
        let resource = row
            .resource
            .as_ref()
            .map(|d| doc(d.clone(), Kind::Resource));
        let c = ctx(&row.context);
        let got = evaluate(
            &refs,
            resource.as_ref(),
            None,
            &req(row.action, row.arn, &c),
        );
        assert_eq!(got, row.want, "{}", row.what);
    }
}

#[test]
fn multivalued_context_keys() {
    let d = doc(
        json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}}),
        Kind::Identity,
    );
    let mut c = RequestContext::default();
    c.set_all("aws:TagKeys", vec!["env".into(), "team".into()]);
    assert_eq!(
        evaluate(&[&d], None, None, &req("lambda:TagResource", "*", &c)),
        Decision::Allow
    );
    c.set_all("aws:TagKeys", vec!["env".into(), "owner".into()]);
    assert_eq!(
        evaluate(&[&d], None, None, &req("lambda:TagResource", "*", &c)),
        Decision::ImplicitDeny
    );
    // Absent key: ForAllValues holds (AWS's documented pitfall).
    let empty = RequestContext::default();
    assert_eq!(
        evaluate(&[&d], None, None, &req("lambda:TagResource", "*", &empty)),
        Decision::Allow
    );
}

#[test]
fn session_policies_narrow_identity_policies() {
    let all = doc(
        json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
        Kind::Identity,
    );
    let session = doc(
        json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:Get*","Resource":"*"}}),
        Kind::Identity,
    );
    let c = RequestContext::default();
    assert_eq!(
        evaluate(
            &[&all],
            None,
            Some(&session),
            &req("lambda:GetFunction", "*", &c)
        ),
        Decision::Allow
    );
    assert_eq!(
        evaluate(
            &[&all],
            None,
            Some(&session),
            &req("lambda:DeleteFunction", "*", &c)
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn trust_policies() {
    let trust = doc(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}),
        Kind::Trust,
    );
    let c = RequestContext::default();
    let mut r = req("sts:AssumeRole", ROLE, &c);
    r.service = Some("lambda.amazonaws.com");
    assert_eq!(evaluate(&[], Some(&trust), None, &r), Decision::Allow);
    r.service = None;
    assert_eq!(
        evaluate(&[], Some(&trust), None, &r),
        Decision::ImplicitDeny
    );
}

#[test]
fn malformed_documents_get_iams_messages() {
    let cases = [
        (json!("x"), Kind::Identity, "Syntax errors in policy."),
        (
            json!({"Version":"2012-10-17"}),
            Kind::Identity,
            "Syntax errors in policy.",
        ),
        (
            json!({"Version":"2011-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}),
            Kind::Identity,
            "The policy failed legacy parsing",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Permit","Action":"*","Resource":"*"}}),
            Kind::Identity,
            "Invalid effect: Permit",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"Invoke","Resource":"*"}}),
            Kind::Identity,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}),
            Kind::Identity,
            "Resource bucket must be in ARN format or \"*\".",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}),
            Kind::Identity,
            "Policy statement must contain resources.",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}),
            Kind::Identity,
            "Policy document should not specify a principal.",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}),
            Kind::Trust,
            "Has prohibited field Resource",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}),
            Kind::Trust,
            "Missing required field Principal",
        ),
        (
            json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:x":"y"}}}}),
            Kind::Identity,
            "Invalid Condition type : StringEqualz",
        ),
    ];
    for (v, kind, want) in cases {
        let e = Document::from_value(&v, kind).unwrap_err();
        assert_eq!(e.0, want, "{v}");
    }
    assert_eq!(
        Document::parse("{", Kind::Identity).unwrap_err().0,
        "This policy contains invalid Json"
    );
}

#[test]
fn globs() {
    assert!(glob("*", "", false));
    assert!(glob("a*b*c", "aXXbYYc", false));
    assert!(!glob("a*b*c", "aXXbYY", false));
    assert!(glob("lambda:*", "LAMBDA:Invoke", true));
    assert!(!glob("lambda:*", "LAMBDA:Invoke", false));
    assert!(glob("*:function:f", "arn:aws:lambda:r:1:function:f", false));
}
