//! AWS IAM (signing name `iam`, query protocol): roles, their inline and attached policies,
//! customer managed policies with versions, and the AWS managed policies as built-ins. Only
//! wire shapes here; the operations are `services::iam`.

mod policies;
mod roles;
pub(crate) mod wire;

use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Service};

pub static SERVICE: Service = Service {
    name: "AWS IAM",
    signing_name: "iam",
    protocols: &[Protocol::Query],
    target_prefix: None,
    path_prefixes: &[],
    xml_namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
    operations: &[
        Operation::new("CreateRole", roles::create_role),
        Operation::new("GetRole", roles::get_role),
        Operation::new("ListRoles", roles::list_roles),
        Operation::new("DeleteRole", roles::delete_role),
        Operation::new("UpdateRole", roles::update_role),
        Operation::new("UpdateAssumeRolePolicy", roles::update_assume_role_policy),
        Operation::new("PutRolePolicy", roles::put_role_policy),
        Operation::new("GetRolePolicy", roles::get_role_policy),
        Operation::new("DeleteRolePolicy", roles::delete_role_policy),
        Operation::new("ListRolePolicies", roles::list_role_policies),
        Operation::new("AttachRolePolicy", roles::attach_role_policy),
        Operation::new("DetachRolePolicy", roles::detach_role_policy),
        Operation::new(
            "ListAttachedRolePolicies",
            roles::list_attached_role_policies,
        ),
        Operation::new("CreatePolicy", policies::create_policy),
        Operation::new("GetPolicy", policies::get_policy),
        Operation::new("DeletePolicy", policies::delete_policy),
        Operation::new("ListPolicies", policies::list_policies),
        Operation::new("CreatePolicyVersion", policies::create_policy_version),
        Operation::new("GetPolicyVersion", policies::get_policy_version),
        Operation::new("ListPolicyVersions", policies::list_policy_versions),
        Operation::new("DeletePolicyVersion", policies::delete_policy_version),
        Operation::new(
            "SetDefaultPolicyVersion",
            policies::set_default_policy_version,
        ),
    ],
    fallback: None,
    public: &[],
};
