//! Least-privilege IAM policies, generated from the read traits' own declarations: every action
//! listed here is one a trait method calls, and every trait method's action is listed.

use crate::api::{IAM_READ_ACTIONS, TRAIL_READ_ACTIONS};
use crate::logs::{EVENT_HISTORY_READ_ACTIONS, LOG_BUCKET_READ_ACTIONS};
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

/// The actions `keywarden trail` (and `key`) call for their remote sources: S3 log files and
/// LookupEvents, each once (several trait methods share `s3:ListBucket`). Local files need none.
pub fn trail_actions() -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = Vec::new();
    for action in LOG_BUCKET_READ_ACTIONS
        .iter()
        .chain(EVENT_HISTORY_READ_ACTIONS)
    {
        if !actions.contains(action) {
            actions.push(action);
        }
    }
    actions
}

/// The policy `keywarden permissions --command trail` prints. `Resource: "*"` because the
/// bucket is named at run time and LookupEvents has no resource; narrow the S3 actions to
/// `arn:aws:s3:::BUCKET` (ListBucket) and `arn:aws:s3:::BUCKET/*` (GetObject) to taste.
pub fn trail_policy() -> Value {
    policy_document("KeywardenTrailReadOnly", &trail_actions())
}
