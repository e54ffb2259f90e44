//! Least-privilege IAM policies, generated from the read traits' own declarations: every action
//! listed here is one a trait method calls, and every trait method's action is listed.

use crate::api::{IAM_READ_ACTIONS, TRAIL_READ_ACTIONS};
use serde_json::{json, Value};

/// The actions `keywarden audit` calls. `sts:GetCallerIdentity` is also called, but AWS allows
/// it to every principal and no policy can deny it, so it is not listed.
pub fn audit_actions() -> Vec<&'static str> {
    IAM_READ_ACTIONS
        .iter()
        .chain(TRAIL_READ_ACTIONS)
        .copied()
        .collect()
}

/// An identity policy granting exactly `actions` on every resource (these read actions do not
/// support resource-level scoping beyond `*` for the account-wide ones).
pub fn policy_document(sid: &str, actions: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    })
}

/// The policy `keywarden permissions` prints for `audit`.
pub fn audit_policy() -> Value {
    policy_document("KeywardenAuditReadOnly", &audit_actions())
}
