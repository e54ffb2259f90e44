//! The least-privilege policy `keywarden permissions audit` prints.
//!
//! It must grant exactly the actions the read traits declare (`IAM_READ_ACTIONS` then
//! `TRAIL_READ_ACTIONS`), each once, each a well-formed `service:Action` of a read-only kind,
//! in a document IAM accepts: version 2012-10-17, one Allow statement with an alphanumeric Sid,
//! an `Action` list and `Resource: "*"`, within the managed-policy size limit.

use keywarden_aws::api::{IAM_READ_ACTIONS, TRAIL_READ_ACTIONS};
use keywarden_aws::permissions::{audit_actions, audit_policy, policy_document};
use serde_json::{json, Value};
use std::collections::HashSet;

fn policy_actions(policy: &Value) -> Vec<String> {
    policy["Statement"][0]["Action"]
        .as_array()
        .expect("Action is a list")
        .iter()
        .map(|a| a.as_str().expect("every action is a string").to_owned())
        .collect()
}

#[test]
fn the_policy_lists_exactly_the_declared_actions_in_order() {
    let expected: Vec<&str> = IAM_READ_ACTIONS
        .iter()
        .chain(TRAIL_READ_ACTIONS)
        .copied()
        .collect();
    assert_eq!(audit_actions(), expected);
    assert_eq!(policy_actions(&audit_policy()), expected);
}

#[test]
fn the_declared_actions_are_the_ones_the_live_client_calls() {
    // One per trait method: a method added without its action, or an action renamed, shows here.
    assert_eq!(
        IAM_READ_ACTIONS,
        [
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:ListUsers",
            "iam:ListUserTags",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
            "iam:GetLoginProfile",
            "iam:ListMFADevices",
            "iam:GetAccountSummary",
            "iam:GetAccountPasswordPolicy",
        ]
    );
    assert_eq!(
        TRAIL_READ_ACTIONS,
        [
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
        ]
    );
}

#[test]
fn no_action_is_listed_twice() {
    let actions = policy_actions(&audit_policy());
    let mut seen = HashSet::new();
    for action in &actions {
        // IAM action names are case-insensitive, so a case variant is a duplicate too.
        assert!(
            seen.insert(action.to_ascii_lowercase()),
            "{action} is listed twice"
        );
    }
}

#[test]
fn every_action_is_a_well_formed_read_action() {
    for action in policy_actions(&audit_policy()) {
        let (service, name) = action
            .split_once(':')
            .unwrap_or_else(|| panic!("{action}: not service:Action"));
        assert!(
            ["iam", "cloudtrail"].contains(&service),
            "{action}: unexpected service"
        );
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric()),
            "{action}: wildcards or odd characters"
        );
        assert!(
            name.starts_with(|c: char| c.is_ascii_uppercase()),
            "{action}: an action name is PascalCase"
        );
        // GenerateCredentialReport is classified as a Read action by IAM.
        assert!(
            ["Get", "List", "Describe", "GenerateCredentialReport"]
                .iter()
                .any(|p| name.starts_with(p)),
            "{action}: not a read action"
        );
    }
}

#[test]
fn the_policy_is_a_valid_iam_identity_policy() {
    let policy = audit_policy();
    let document = policy.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = document.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["Statement", "Version"]);
    assert_eq!(policy["Version"], "2012-10-17");

    let statements = policy["Statement"].as_array().expect("Statement is a list");
    assert_eq!(statements.len(), 1);
    let statement = statements[0].as_object().expect("a statement is an object");
    let mut keys: Vec<&str> = statement.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["Action", "Effect", "Resource", "Sid"]);
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Resource"], "*");
    let sid = statement["Sid"].as_str().expect("Sid is a string");
    assert!(
        !sid.is_empty() && sid.chars().all(|c| c.is_ascii_alphanumeric()),
        "IAM accepts only [A-Za-z0-9] in a Sid: {sid}"
    );
    assert!(!policy_actions(&policy).is_empty());

    // Managed policies are limited to 6,144 characters, whitespace excluded.
    let compact = serde_json::to_string(&policy).unwrap();
    assert!(compact.len() < 6_144, "{} characters", compact.len());
}

#[test]
fn policy_document_grants_the_given_actions() {
    assert_eq!(
        policy_document("Only", &["iam:ListUsers"]),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "Only",
                "Effect": "Allow",
                "Action": ["iam:ListUsers"],
                "Resource": "*",
            }],
        })
    );
}
