//! The AWS managed policies a Lambda user names, served as built-ins: the same names, paths,
//! ARNs (`arn:aws:iam::aws:policy/…`) and documents as AWS's (their default versions as of
//! this writing). They can be attached and read, never changed or deleted.

/// One AWS managed policy.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub path: &'static str,
    pub description: &'static str,
    pub version: &'static str,
    pub document: &'static str,
}

impl Builtin {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// A stable id in IAM's shape (`ANPA` + 17 characters), derived from the name.
    pub fn policy_id(&self) -> String {
        use sha2::Digest;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let d = sha2::Sha256::digest(self.name.as_bytes());
        let tail: String = d
            .iter()
            .take(17)
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        format!("ANPA{tail}")
    }
}

/// `2015-04-09T15:03:43Z`, the creation date shown for every built-in.
pub const CREATED_MS: i64 = 1_428_591_823_000;

const LOGS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#;

/// Every built-in.
pub static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "AWSLambdaBasicExecutionRole",
        path: "/service-role/",
        description: "Provides write permissions to CloudWatch Logs.",
        version: "v1",
        document: LOGS,
    },
    Builtin {
        name: "AWSLambdaSQSQueueExecutionRole",
        path: "/service-role/",
        description: "Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.",
        version: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AWSLambdaRole",
        path: "/service-role/",
        description: "Default policy for AWS Lambda service role.",
        version: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    },
    Builtin {
        name: "AWSLambdaExecute",
        path: "/",
        description: "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"arn:aws:logs:*:*:*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"}]}"#,
    },
    Builtin {
        name: "AmazonS3ReadOnlyAccess",
        path: "/",
        description: "Provides read only access to all buckets via the AWS Management Console.",
        version: "v3",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AmazonS3FullAccess",
        path: "/",
        description: "Provides full access to all buckets via the AWS Management Console.",
        version: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AmazonSQSFullAccess",
        path: "/",
        description: "Provides full access to Amazon SQS via the AWS Management Console.",
        version: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:*"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AmazonSQSReadOnlyAccess",
        path: "/",
        description: "Provides read only access to Amazon SQS via the AWS Management Console.",
        version: "v3",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "CloudWatchLogsFullAccess",
        path: "/",
        description: "Provides full access to CloudWatch Logs",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AmazonEventBridgeFullAccess",
        path: "/",
        description: "Provides full access to Amazon EventBridge.",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["events:*","schemas:*","scheduler:*","pipes:*"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AWSLambda_ReadOnlyAccess",
        path: "/",
        description: "Grants read-only access to AWS Lambda service.",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:Get*","lambda:List*","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AWSLambda_FullAccess",
        path: "/",
        description: "Grants full access to AWS Lambda service.",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","sqs:ListQueues","events:ListRules","events:DescribeRule","iam:GetRole","iam:ListRoles","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "AdministratorAccess",
        path: "/",
        description: "Provides full access to AWS services and resources.",
        version: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
];

/// The built-in with `arn`.
pub fn by_arn(arn: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.arn() == arn)
}

/// The basic execution permissions (what a function whose `--role` names no role here
/// gets).
pub fn basic_execution() -> &'static Builtin {
    &BUILTINS[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Document, Kind};

    #[test]
    fn every_builtin_parses_and_has_a_unique_arn() {
        let mut arns = Vec::new();
        for b in BUILTINS {
            Document::parse(b.document, Kind::Identity)
                .unwrap_or_else(|e| panic!("{}: {e}", b.name));
            arns.push(b.arn());
        }
        arns.sort();
        arns.dedup();
        assert_eq!(arns.len(), BUILTINS.len());
        assert_eq!(
            basic_execution().arn(),
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        );
        assert!(by_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_some());
    }
}
