//! The least-privilege policies `keywarden permissions` prints.
//!
//! The audit's must grant exactly the actions the read traits declare (`IAM_READ_ACTIONS` then
//! `TRAIL_READ_ACTIONS`), each once, each a well-formed `service:Action` of a read-only kind,
//! in a document IAM accepts: version 2012-10-17, one Allow statement with an alphanumeric Sid,
//! an `Action` list and `Resource: "*"`, within the managed-policy size limit.
//!
//! Remediation's (`apply`, `contain`, `rotate`) are documents of the same shape, made only of
//! declared actions; every remediation trait's action is in one of them, and none is in the
//! audit's (an audit cannot write).

use keywarden_aws::api::{
    ASSUME_ROLE_ACTIONS, IAM_READ_ACTIONS, IAM_WRITE_ACTIONS, ORG_READ_ACTIONS,
    REMEDIATION_READ_ACTIONS, SECRET_READ_ACTIONS, SECRET_WRITE_ACTIONS, TRAIL_READ_ACTIONS,
    WHO_AM_I_ACTIONS,
};
use keywarden_aws::permissions::{
    apply_actions, apply_policy, audit_actions, audit_policy, contain_actions, contain_policy,
    org_management_actions, plan_actions, plan_policy, policy_document, rotate_actions,
    rotate_policy,
};
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
fn the_declared_actions_are_pinned() {
    // The actions the policies grant, one per trait method, pinned: an action renamed or added
    // shows here. That the live client, the fake and the engine call what is declared holds by
    // construction: they name the constants `declare_calls!` emits (keywarden-app/tests/tidy.rs).
    assert_eq!(
        IAM_READ_ACTIONS,
        [
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:ListUsers",
            "iam:ListUserTags",
            "iam:GetAccountAuthorizationDetails",
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
    assert_eq!(
        REMEDIATION_READ_ACTIONS,
        ["iam:GetUserPolicy", "iam:ListUserPolicies", "iam:GetUser"]
    );
    assert_eq!(
        IAM_WRITE_ACTIONS,
        [
            "iam:UpdateAccessKey",
            "iam:DeleteAccessKey",
            "iam:DeleteLoginProfile",
            "iam:PutUserPolicy",
            "iam:DeleteUserPolicy",
            "iam:CreateAccessKey",
        ]
    );
    assert_eq!(SECRET_WRITE_ACTIONS, ["secretsmanager:CreateSecret"]);
    assert_eq!(SECRET_READ_ACTIONS, ["secretsmanager:DescribeSecret"]);
    assert_eq!(WHO_AM_I_ACTIONS, ["sts:GetCallerIdentity"]);
    assert_eq!(
        ORG_READ_ACTIONS,
        [
            "organizations:ListRoots",
            "organizations:ListOrganizationalUnitsForParent",
            "organizations:ListAccountsForParent",
        ]
    );
    assert_eq!(ASSUME_ROLE_ACTIONS, ["sts:AssumeRole"]);
}

#[test]
fn the_org_audit_needs_the_organization_reads_and_assume_role_only() {
    let actions = org_management_actions();
    assert_eq!(
        actions,
        ORG_READ_ACTIONS
            .iter()
            .chain(ASSUME_ROLE_ACTIONS)
            .copied()
            .collect::<Vec<_>>()
    );
    // Reads only on the management side: the per-account audit is the audit role's.
    for action in &actions {
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            verb.starts_with("List") || *action == "sts:AssumeRole",
            "{action}"
        );
    }
    assert!(actions.iter().all(|a| !audit_actions().contains(a)));
}

/// Every action of every statement of `policy`.
fn all_policy_actions(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .expect("Statement is a list")
        .iter()
        .flat_map(|statement| {
            statement["Action"]
                .as_array()
                .expect("Action is a list")
                .iter()
                .map(|a| a.as_str().expect("every action is a string").to_owned())
        })
        .collect()
}

fn remediation_policies() -> [(&'static str, Vec<&'static str>, Value); 3] {
    [
        ("apply", apply_actions(), apply_policy()),
        ("contain", contain_actions(), contain_policy()),
        ("rotate", rotate_actions(), rotate_policy()),
    ]
}

#[test]
fn the_remediation_policies_grant_exactly_their_actions() {
    assert_eq!(
        apply_actions(),
        [
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
            "iam:ListUserTags",
            "iam:GetLoginProfile",
            "iam:GetUserPolicy",
            "iam:ListUserPolicies",
            "iam:GetUser",
            "iam:UpdateAccessKey",
            "iam:DeleteAccessKey",
            "iam:DeleteLoginProfile",
            "iam:PutUserPolicy",
            "iam:DeleteUserPolicy",
        ]
    );
    assert_eq!(
        contain_actions(),
        [
            "iam:GetAccessKeyLastUsed",
            "iam:ListAccessKeys",
            "iam:GetUserPolicy",
            "iam:UpdateAccessKey",
            "iam:PutUserPolicy",
        ]
    );
    assert_eq!(
        rotate_actions(),
        [
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
            "iam:CreateAccessKey",
            "iam:UpdateAccessKey",
            "iam:DeleteAccessKey",
            "secretsmanager:CreateSecret",
            "secretsmanager:DescribeSecret",
        ]
    );
    for (command, actions, policy) in remediation_policies() {
        assert_eq!(all_policy_actions(&policy), actions, "{command}");
    }
}

#[test]
fn every_remediation_trait_action_is_in_a_remediation_policy_and_none_in_the_audit() {
    let granted: HashSet<&str> = remediation_policies()
        .iter()
        .flat_map(|(_, actions, _)| actions.clone())
        .collect();
    for action in REMEDIATION_READ_ACTIONS
        .iter()
        .chain(IAM_WRITE_ACTIONS)
        .chain(SECRET_WRITE_ACTIONS)
        .chain(SECRET_READ_ACTIONS)
    {
        assert!(
            granted.contains(action),
            "{action} is in no remediation policy"
        );
        assert!(
            !audit_actions().contains(action),
            "{action} is in the audit's policy"
        );
    }
    // Every granted action is declared by some trait (no hand-written extras).
    let declared: HashSet<&str> = IAM_READ_ACTIONS
        .iter()
        .chain(REMEDIATION_READ_ACTIONS)
        .chain(IAM_WRITE_ACTIONS)
        .chain(SECRET_WRITE_ACTIONS)
        .chain(SECRET_READ_ACTIONS)
        .copied()
        .collect();
    for action in &granted {
        assert!(
            declared.contains(action),
            "{action} is declared by no trait"
        );
    }
    // GetCallerIdentity is allowed to everyone: no policy lists it.
    assert!(!granted.contains("sts:GetCallerIdentity"));
    assert!(!audit_actions().contains(&"sts:GetCallerIdentity"));
}

#[test]
fn the_remediation_policies_are_valid_iam_identity_policies() {
    for (command, actions, policy) in remediation_policies() {
        assert_eq!(policy["Version"], "2012-10-17", "{command}");
        let statements = policy["Statement"].as_array().expect("Statement is a list");
        assert!(!statements.is_empty(), "{command}");
        let mut sids = HashSet::new();
        for statement in statements {
            let object = statement.as_object().expect("a statement is an object");
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["Action", "Effect", "Resource", "Sid"], "{command}");
            assert_eq!(statement["Effect"], "Allow", "{command}");
            // `*`: moto authorizes IAM actions against `*` only (see permissions.rs).
            assert_eq!(statement["Resource"], "*", "{command}");
            let sid = statement["Sid"].as_str().expect("Sid is a string");
            assert!(
                !sid.is_empty() && sid.chars().all(|c| c.is_ascii_alphanumeric()),
                "{command}: IAM accepts only [A-Za-z0-9] in a Sid: {sid}"
            );
            assert!(sids.insert(sid.to_owned()), "{command}: Sid {sid} twice");
            // One service per statement.
            let services: HashSet<&str> = statement["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().split(':').next().unwrap())
                .collect();
            assert_eq!(services.len(), 1, "{command}: {services:?}");
        }
        let mut seen = HashSet::new();
        for action in &actions {
            assert!(
                seen.insert(action.to_ascii_lowercase()),
                "{command}: {action} twice"
            );
            let (_, name) = action.split_once(':').expect("service:Action");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric())
                    && name.starts_with(|c: char| c.is_ascii_uppercase()),
                "{command}: {action}"
            );
        }
        let compact = serde_json::to_string(&policy).unwrap();
        assert!(
            compact.len() < 6_144,
            "{command}: {} characters",
            compact.len()
        );
    }
}

#[test]
fn rotate_keeps_secrets_manager_in_its_own_statement() {
    let policy = rotate_policy();
    assert_eq!(policy["Statement"][0]["Sid"], "KeywardenRotate");
    assert_eq!(
        policy["Statement"][1],
        json!({
            "Sid": "KeywardenRotateSecretsManager",
            "Effect": "Allow",
            "Action": ["secretsmanager:CreateSecret", "secretsmanager:DescribeSecret"],
            "Resource": "*",
        })
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

// An organization (`keywarden permissions --org`).

use keywarden_aws::permissions::{
    audit_role_template, is_valid_role_name, org_management_policy, remediation_role_iam_actions,
    remediation_role_policy, remediation_role_secret_actions, remediation_role_template,
};

#[test]
fn the_management_policy_reads_the_org_and_assumes_only_the_named_role() {
    let policy = org_management_policy("auditor-x");
    assert_eq!(
        policy,
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "KeywardenOrgRead",
                    "Effect": "Allow",
                    "Action": ORG_READ_ACTIONS,
                    "Resource": "*",
                },
                {
                    "Sid": "KeywardenAssumeAuditRole",
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole"],
                    "Resource": "arn:aws:iam::*:role/auditor-x",
                },
            ],
        })
    );
    // Never IAM itself, never a write of Organizations: the management side only reads the
    // organization and enters the member accounts.
    for action in all_policy_actions(&policy) {
        assert!(
            action.starts_with("organizations:List") || action == "sts:AssumeRole",
            "{action}"
        );
    }
}

#[test]
fn role_names_are_checked_before_they_reach_a_policy() {
    assert!(is_valid_role_name("keywarden-audit"));
    assert!(is_valid_role_name("a+b=c,d.e@f_g-h"));
    assert!(is_valid_role_name(&"r".repeat(64)));
    for bad in ["", "a/b", "a*", "role name", "a\"b", &"r".repeat(65), "é"] {
        assert!(!is_valid_role_name(bad), "{bad:?}");
    }
}

/// The one role a template creates: its logical id and properties.
fn template_role(template: &Value) -> (&String, &Value) {
    let resources = template["Resources"].as_object().expect("Resources");
    assert_eq!(resources.len(), 1, "{template:#}");
    let (id, role) = resources.iter().next().unwrap();
    assert_eq!(role["Type"], "AWS::IAM::Role");
    (id, &role["Properties"])
}

/// The trust policy every organization role has: the `AuditingPrincipalArn` parameter only,
/// with the `ExternalId` parameter.
fn assert_org_trust(template: &Value) {
    let (_, properties) = template_role(template);
    assert_eq!(
        properties["AssumeRolePolicyDocument"],
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "KeywardenAuditingPrincipal",
                "Effect": "Allow",
                "Principal": {"AWS": {"Ref": "AuditingPrincipalArn"}},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            }],
        })
    );
    let parameters = template["Parameters"].as_object().unwrap();
    assert_eq!(
        parameters.keys().collect::<Vec<_>>(),
        ["AuditingPrincipalArn", "ExternalId"]
    );
    assert_eq!(parameters["ExternalId"]["NoEcho"], true);
    assert_eq!(parameters["ExternalId"]["MinLength"], 2);
}

#[test]
fn the_audit_role_template_carries_the_audit_policy_and_the_external_id_trust() {
    let template = audit_role_template("keywarden-audit");
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    let (id, properties) = template_role(&template);
    assert_eq!(id, "KeywardenAuditRole");
    assert_eq!(properties["RoleName"], "keywarden-audit");
    assert_eq!(
        properties["Policies"],
        json!([{"PolicyName": "keywarden-audit", "PolicyDocument": audit_policy()}])
    );
    assert_org_trust(&template);
    assert_eq!(
        template["Outputs"]["RoleArn"]["Value"],
        json!({"Fn::GetAtt": ["KeywardenAuditRole", "Arn"]})
    );
    // The audit role cannot write: none of the write traits' actions.
    let granted = all_policy_actions(&properties["Policies"][0]["PolicyDocument"]);
    for write in IAM_WRITE_ACTIONS.iter().chain(SECRET_WRITE_ACTIONS) {
        assert!(!granted.iter().any(|a| a == write), "{write}");
    }
}

#[test]
fn the_remediation_role_template_grants_apply_contain_and_rotate() {
    let template = remediation_role_template("fixer");
    let (id, properties) = template_role(&template);
    assert_eq!(id, "KeywardenRemediationRole");
    assert_eq!(properties["RoleName"], "fixer");
    assert_eq!(
        properties["Policies"],
        json!([{"PolicyName": "keywarden-remediation", "PolicyDocument": remediation_role_policy()}])
    );
    assert_org_trust(&template);
    let granted: HashSet<String> = all_policy_actions(&properties["Policies"][0]["PolicyDocument"])
        .into_iter()
        .collect();
    // Exactly what the three commands' own policies grant, together.
    let wanted: HashSet<String> = remediation_policies()
        .into_iter()
        .flat_map(|(_, actions, _)| actions)
        .map(str::to_owned)
        .collect();
    assert_eq!(granted, wanted);
    for write in IAM_WRITE_ACTIONS.iter().chain(SECRET_WRITE_ACTIONS) {
        assert!(granted.contains(*write), "{write}");
    }
    // Each action once; Secrets Manager in its own statement.
    let iam = remediation_role_iam_actions();
    assert_eq!(
        iam.iter().collect::<HashSet<_>>().len(),
        iam.len(),
        "{iam:?}"
    );
    assert!(iam.iter().all(|a| a.starts_with("iam:")), "{iam:?}");
    assert_eq!(
        remediation_role_secret_actions(),
        [
            "secretsmanager:CreateSecret",
            "secretsmanager:DescribeSecret"
        ]
    );
}

#[test]
fn the_plan_policy_reads_key_ids_only() {
    // `plan --from FILE --resolve-key-ids`: ListAccessKeys, a read the audit already holds,
    // and nothing else.
    assert_eq!(plan_actions(), ["iam:ListAccessKeys"]);
    assert_eq!(policy_actions(&plan_policy()), plan_actions());
    assert!(plan_actions().iter().all(|a| audit_actions().contains(a)));
    assert!(plan_actions()
        .iter()
        .all(|a| !IAM_WRITE_ACTIONS.contains(a) && IAM_READ_ACTIONS.contains(a)));
    assert_eq!(plan_policy()["Statement"][0]["Resource"], "*");
}
