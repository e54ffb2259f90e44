//! The least-privilege policy `keywarden permissions --command trail` prints: exactly the
//! actions the log readers declare (`LOG_BUCKET_READ_ACTIONS`, `EVENT_HISTORY_READ_ACTIONS`),
//! each once, in a document IAM accepts.

use keywarden_aws::logs::{EVENT_HISTORY_READ_ACTIONS, LOG_BUCKET_READ_ACTIONS};
use keywarden_aws::permissions::{audit_actions, trail_actions, trail_policy};
use serde_json::json;

#[test]
fn the_declared_actions_are_pinned() {
    // The actions the policies grant, one per trait method, pinned: an action renamed or added
    // shows here. That the live client, the fake and the engine call what is declared holds by
    // construction: they name the constants `declare_calls!` emits (keywarden-app/tests/tidy.rs).
    assert_eq!(
        LOG_BUCKET_READ_ACTIONS,
        ["s3:ListBucket", "s3:ListBucket", "s3:GetObject"]
    );
    assert_eq!(EVENT_HISTORY_READ_ACTIONS, ["cloudtrail:LookupEvents"]);
}

#[test]
fn the_trail_policy_grants_each_declared_action_once() {
    assert_eq!(
        trail_actions(),
        ["s3:ListBucket", "s3:GetObject", "cloudtrail:LookupEvents"]
    );
    assert_eq!(
        trail_policy(),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "KeywardenTrailReadOnly",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetObject", "cloudtrail:LookupEvents"],
                "Resource": "*",
            }],
        })
    );
}

#[test]
fn the_audit_policy_does_not_grow_with_trail() {
    for action in trail_actions() {
        assert!(!audit_actions().contains(&action), "{action}");
    }
}
