//! Least-privilege IAM policies, generated from the traits' own declarations: every action
//! listed here is one a trait method calls (a subset of a trait is picked by name and checked
//! against the trait's list), and every trait method's action is listed in some policy.
//!
//! `sts:GetCallerIdentity` ([`crate::api::WhoAmI`]) is never listed: AWS allows it to every
//! principal and no policy can deny it.

use crate::api::{
    ASSUME_ROLE_ACTIONS, IAM_CREATE_ACCESS_KEY, IAM_DELETE_ACCESS_KEY, IAM_DELETE_LOGIN_PROFILE,
    IAM_DELETE_USER_POLICY, IAM_GET_ACCESS_KEY_LAST_USED, IAM_GET_LOGIN_PROFILE,
    IAM_GET_USER_POLICY, IAM_LIST_ACCESS_KEYS, IAM_LIST_USER_TAGS, IAM_PUT_USER_POLICY,
    IAM_READ_ACTIONS, IAM_UPDATE_ACCESS_KEY, IAM_WRITE_ACTIONS, ORG_READ_ACTIONS,
    REMEDIATION_READ_ACTIONS, SECRET_READ_ACTIONS, SECRET_WRITE_ACTIONS, STS_ASSUME_ROLE,
    TRAIL_READ_ACTIONS,
};
use crate::api::{SECURITYHUB_READ_ACTIONS, SECURITYHUB_WRITE_ACTIONS};
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
        "Statement": [statement(sid, actions, "*")],
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

/// `action` as `declared` lists it. Panics when the trait does not declare it: a policy can only
/// name actions the code calls (the permission tests run every policy, so a rename shows there).
fn declared(declared: &'static [&'static str], action: &str) -> &'static str {
    declared
        .iter()
        .copied()
        .find(|a| *a == action)
        .unwrap_or_else(|| panic!("{action} is not declared by the trait it is picked from"))
}

/// `actions` once each, in order.
fn unique(actions: impl IntoIterator<Item = &'static str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for action in actions {
        if !out.contains(&action) {
            out.push(action);
        }
    }
    out
}

fn statement(sid: &str, actions: &[&str], resource: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resource,
    })
}

/// The actions `keywarden plan --from FILE --resolve-key-ids` calls: the key ids of the users a
/// report file's findings name, nothing else. A live `plan` audits first: it needs
/// [`audit_actions`].
pub fn plan_actions() -> Vec<&'static str> {
    vec![declared(IAM_READ_ACTIONS, IAM_LIST_ACCESS_KEYS)]
}

/// The policy `keywarden permissions --command plan` prints.
pub fn plan_policy() -> Value {
    policy_document("KeywardenPlanKeyIds", &plan_actions())
}

// Resources: every IAM action below takes a user as its resource (`arn:aws:iam::ACCOUNT:user/*`
// would be enough, GetAccessKeyLastUsed included, whose resource is the key's owner), but the
// policies say `*`: moto, the local server the integration tests authorize against, matches IAM
// statements against `*` only, so a user-scoped statement could not be tested; a reviewer may
// narrow `Resource` to `arn:aws:iam::ACCOUNT:user/*` (or a path) without losing anything.

/// The actions `keywarden apply` (and `undo`, which needs the same policy: it reactivates keys
/// with UpdateAccessKey and removes keywarden's policies with DeleteUserPolicy) calls.
pub fn apply_actions() -> Vec<&'static str> {
    let read = |action| declared(IAM_READ_ACTIONS, action);
    let write = |action| declared(IAM_WRITE_ACTIONS, action);
    unique(
        [
            // Preconditions are re-read before every action and the state read back after it:
            // the user's keys and their status (ListAccessKeys), a key's last use
            // (GetAccessKeyLastUsed: used since the plan means skip), exemption tags
            // (ListUserTags), the console password (GetLoginProfile).
            read(IAM_LIST_ACCESS_KEYS),
            read(IAM_GET_ACCESS_KEY_LAST_USED),
            read(IAM_LIST_USER_TAGS),
            read(IAM_GET_LOGIN_PROFILE),
        ]
        .into_iter()
        // The user still exists (GetUser), and the inline policies keywarden puts or removes,
        // read back and checked before undo removes them (GetUserPolicy, ListUserPolicies).
        .chain(REMEDIATION_READ_ACTIONS.iter().copied())
        .chain([
            // Deactivate a key; undo reactivates it.
            write(IAM_UPDATE_ACCESS_KEY),
            // Two-phase deletion of a key inactive long enough.
            write(IAM_DELETE_ACCESS_KEY),
            // Remove a console password (an unsafe action).
            write(IAM_DELETE_LOGIN_PROFILE),
            // Session revocation and quarantine policies; undo deletes them.
            write(IAM_PUT_USER_POLICY),
            write(IAM_DELETE_USER_POLICY),
        ]),
    )
}

/// The policy `keywarden permissions --command apply` prints; `undo` needs the same.
pub fn apply_policy() -> Value {
    policy_document("KeywardenApply", &apply_actions())
}

/// The actions `keywarden contain AKIA...` calls. ListUserTags is left out on purpose: an
/// exemption tag does not stop the containment of a leaked key. Lifting a containment early is
/// `undo`'s job, with the apply policy (DeleteUserPolicy, UpdateAccessKey).
pub fn contain_actions() -> Vec<&'static str> {
    let read = |action| declared(IAM_READ_ACTIONS, action);
    let remediation = |action| declared(REMEDIATION_READ_ACTIONS, action);
    let write = |action| declared(IAM_WRITE_ACTIONS, action);
    vec![
        // The key's owner: GetAccessKeyLastUsed answers UserName for a key id alone.
        read(IAM_GET_ACCESS_KEY_LAST_USED),
        // The key's status before and after deactivating it (running twice does no harm).
        read(IAM_LIST_ACCESS_KEYS),
        // The revocation and quarantine policies already there, and read back once put.
        remediation(IAM_GET_USER_POLICY),
        // Deactivate the key.
        write(IAM_UPDATE_ACCESS_KEY),
        // Revoke the sessions issued before now, and quarantine the user.
        write(IAM_PUT_USER_POLICY),
    ]
}

/// The policy `keywarden permissions --command contain` prints.
pub fn contain_policy() -> Value {
    policy_document("KeywardenContain", &contain_actions())
}

/// The actions `keywarden rotate USER` calls. The Secrets Manager ones are needed only with
/// `--secrets-manager`. Deactivating and deleting the old key later is planned, then applied
/// with the apply policy; but rotate itself removes a key whose secret nobody received (a
/// failed hand-over, the key of an interrupted rotation), so it needs UpdateAccessKey and
/// DeleteAccessKey too: without them such a key stays Active with nobody holding its secret.
pub fn rotate_actions() -> Vec<&'static str> {
    rotate_iam_actions()
        .into_iter()
        .chain(rotate_secret_actions())
        .collect()
}

/// Secrets Manager, `--secrets-manager` only: the hand-over, and its read-back (DescribeSecret
/// reads the secret's description, never its value).
fn rotate_secret_actions() -> Vec<&'static str> {
    SECRET_WRITE_ACTIONS
        .iter()
        .chain(SECRET_READ_ACTIONS)
        .copied()
        .collect()
}

fn rotate_iam_actions() -> Vec<&'static str> {
    vec![
        // The user's keys: AWS allows two, so a rotation needs a free slot, and the old key.
        declared(IAM_READ_ACTIONS, IAM_LIST_ACCESS_KEYS),
        // The old key's last use, recorded in the rotation's plan.
        declared(IAM_READ_ACTIONS, IAM_GET_ACCESS_KEY_LAST_USED),
        // The new key.
        declared(IAM_WRITE_ACTIONS, IAM_CREATE_ACCESS_KEY),
        // Removing a key whose secret nobody has: deactivated first, then deleted (each read back
        // with ListAccessKeys).
        declared(IAM_WRITE_ACTIONS, IAM_UPDATE_ACCESS_KEY),
        declared(IAM_WRITE_ACTIONS, IAM_DELETE_ACCESS_KEY),
    ]
}

/// The policy `keywarden permissions --command rotate` prints: an IAM statement, and a Secrets
/// Manager one (`secretsmanager:CreateSecret` and `DescribeSecret`, `--secrets-manager` only: drop the statement when
/// secrets go to a file or stdout). Its resource may be narrowed to
/// `arn:aws:secretsmanager:REGION:ACCOUNT:secret:PREFIX*`.
pub fn rotate_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            statement("KeywardenRotate", &rotate_iam_actions(), "*"),
            statement("KeywardenRotateSecretsManager", &rotate_secret_actions(), "*"),
        ],
    })
}

// An organization (`keywarden permissions --org`): the management side reads the organization
// and assumes a role in each member account; the member accounts get that role from a
// CloudFormation StackSet whose template is generated here, its policy the audit's own.

/// The role `audit --org` assumes in each member account unless `--role-name` says otherwise.
pub const DEFAULT_AUDIT_ROLE_NAME: &str = "keywarden-audit";
/// The role the remediation template creates unless told otherwise.
pub const DEFAULT_REMEDIATION_ROLE_NAME: &str = "keywarden-remediation";

/// Whether `name` is a role name IAM accepts: 1 to 64 of `A-Za-z0-9+=,.@_-`. A template or a
/// policy resource is built only from a name that passes.
pub fn is_valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The actions the management-side principal of `audit --org` calls: the Organizations reads
/// (accounts, organizational units, parents) and `sts:AssumeRole` into each member account.
pub fn org_management_actions() -> Vec<&'static str> {
    ORG_READ_ACTIONS
        .iter()
        .chain(ASSUME_ROLE_ACTIONS)
        .copied()
        .collect()
}

/// The policy `keywarden permissions --org` prints for the management-side principal: the
/// Organizations reads on `*` (ListAccounts has no resource to narrow to), and AssumeRole on the
/// role `role_name` in any account, nothing else. `role_name` must pass
/// [`is_valid_role_name`].
pub fn org_management_policy(role_name: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            statement("KeywardenOrgRead", ORG_READ_ACTIONS, "*"),
            statement(
                "KeywardenAssumeAuditRole",
                &[declared(ASSUME_ROLE_ACTIONS, STS_ASSUME_ROLE)],
                &format!("arn:aws:iam::*:role/{role_name}"),
            ),
        ],
    })
}

/// The remediation role's actions: `apply` (and `undo`), `contain` and `rotate`, each once, in
/// that order; Secrets Manager's (`rotate --secrets-manager`) are in their own statement of
/// [`remediation_role_policy`], listed by [`remediation_role_secret_actions`].
pub fn remediation_role_iam_actions() -> Vec<&'static str> {
    unique(
        apply_actions()
            .into_iter()
            .chain(contain_actions())
            .chain(rotate_iam_actions()),
    )
}

/// `rotate --secrets-manager`'s Secrets Manager actions.
pub fn remediation_role_secret_actions() -> Vec<&'static str> {
    rotate_secret_actions()
}

/// The remediation role's policy: what `apply`, `undo`, `contain` and `rotate` need in a member
/// account, the Secrets Manager hand-over in its own statement (drop it when secrets are not
/// handed to Secrets Manager).
pub fn remediation_role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            statement("KeywardenRemediation", &remediation_role_iam_actions(), "*"),
            statement(
                "KeywardenRotateSecretsManager",
                &remediation_role_secret_actions(),
                "*",
            ),
        ],
    })
}

/// The CloudFormation template (for a StackSet over the member accounts) that creates the
/// read-only audit role `role_name`: its policy is [`audit_policy`], and only the principal
/// given as the `AuditingPrincipalArn` parameter may assume it, with the `ExternalId`
/// parameter.
pub fn audit_role_template(role_name: &str) -> Value {
    role_template(
        role_name,
        "KeywardenAuditRole",
        "keywarden's read-only audit role (keywarden audit --org), for a StackSet over the member accounts. Generated by keywarden permissions --org.",
        "keywarden-audit",
        audit_policy(),
    )
}

/// The CloudFormation template that creates the remediation role `role_name` (the policy of
/// [`remediation_role_policy`]), deployable separately from the audit role, with the same trust
/// pattern.
pub fn remediation_role_template(role_name: &str) -> Value {
    role_template(
        role_name,
        "KeywardenRemediationRole",
        "keywarden's remediation role (apply, undo, contain, rotate across an organization), for a StackSet over the member accounts. Deploy it only where keywarden may change IAM. Generated by keywarden permissions --org.",
        "keywarden-remediation",
        remediation_role_policy(),
    )
}

/// The trust policy of an organization role: `sts:AssumeRole` by the `AuditingPrincipalArn`
/// parameter alone, only with the `ExternalId` parameter.
fn org_role_trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeywardenAuditingPrincipal",
            "Effect": "Allow",
            "Principal": { "AWS": { "Ref": "AuditingPrincipalArn" } },
            "Action": STS_ASSUME_ROLE,
            "Condition": { "StringEquals": { "sts:ExternalId": { "Ref": "ExternalId" } } },
        }],
    })
}

fn role_template(
    role_name: &str,
    logical_id: &str,
    description: &str,
    policy_name: &str,
    policy: Value,
) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {
            "AuditingPrincipalArn": {
                "Type": "String",
                "Description": "The ARN of the management-side principal (a role or user of the account that runs keywarden) allowed to assume this role.",
                "AllowedPattern": "^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$",
            },
            "ExternalId": {
                "Type": "String",
                "Description": "The ExternalId keywarden passes (--external-id); AssumeRole without it is refused.",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": "^[A-Za-z0-9+=,.@:/_-]+$",
                "NoEcho": true,
            },
        },
        "Resources": {
            logical_id: {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "Description": "Created by keywarden's StackSet template (keywarden permissions --org).",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": org_role_trust_policy(),
                    "Policies": [{ "PolicyName": policy_name, "PolicyDocument": policy }],
                },
            },
        },
        "Outputs": {
            "RoleArn": {
                "Description": "The role's ARN.",
                "Value": { "Fn::GetAtt": [logical_id, "Arn"] },
            },
        },
    })
}

/// The actions `--to securityhub` adds to the command's own (audit's or trail's): the import,
/// the read of what keywarden imported earlier, and the resolution of what a run no longer
/// produces (BatchUpdateFindings sets the workflow status, which an import cannot change).
pub fn securityhub_actions() -> Vec<&'static str> {
    SECURITYHUB_WRITE_ACTIONS
        .iter()
        .chain(SECURITYHUB_READ_ACTIONS)
        .copied()
        .collect()
}

/// The policy `keywarden permissions --command securityhub` prints, to attach beside the
/// command's own. `Resource: "*"`: BatchImportFindings and BatchUpdateFindings may be narrowed
/// to the product (`arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`), but
/// GetFindings takes the hub (`arn:aws:securityhub:REGION:ACCOUNT:hub/default`) and moto, where
/// the policy is tested, matches `*` only.
pub fn securityhub_policy() -> Value {
    policy_document("KeywardenSecurityHub", &securityhub_actions())
}
