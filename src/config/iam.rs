//! The `[iam]` section: strict roles and the AWS APIs served to functions inside their sandbox.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// IAM and the AWS APIs functions reach from inside their sandbox (issue 19).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IamConfig {
    /// Refuse CreateFunction and UpdateFunctionConfiguration when `--role` names no role
    /// here that trusts `lambda.amazonaws.com` (AWS's InvalidParameterValueException). Off:
    /// such functions run with the basic execution permissions only, and say so.
    pub strict_roles: bool,
    /// Give execution environments `AWS_ENDPOINT_URL` and their role's temporary
    /// credentials, and serve the AWS APIs to them next to their Runtime API.
    pub sandbox_api: bool,
    /// Requests per second one environment may make to the in-sandbox endpoint (bursts up
    /// to twice as many); more get 429 `Throttling`.
    pub sandbox_api_rate: u32,
    /// Largest request body one in-sandbox API call may send, in MB.
    pub sandbox_api_max_body_mb: u64,
    /// An absolute directory holding the Python AWS SDK (`boto3`, `botocore` and their
    /// dependencies, e.g. a virtualenv's `site-packages`), mounted read-only into python
    /// environments at `/var/lang/sdk` and put on `PYTHONPATH` after `/var/runtime`, as
    /// AWS's python runtimes ship boto3. A function's own copy in its package or a layer
    /// still comes first. Unset: functions import only what the host's python has.
    pub python_sdk_dir: Option<PathBuf>,
}

impl Default for IamConfig {
    fn default() -> Self {
        IamConfig {
            strict_roles: false,
            sandbox_api: true,
            sandbox_api_rate: 50,
            sandbox_api_max_body_mb: 16,
            python_sdk_dir: None,
        }
    }
}
