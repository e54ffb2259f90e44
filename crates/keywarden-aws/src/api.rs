//! The AWS boundary's vocabulary: plain data types and the traits every source implements
//! (the live SDK client, the in-memory fake). Nothing here names an SDK type, so the application
//! layer and its tests never see the SDK.
//!
//! Reads and writes are separate traits: an audit holds read traits only ([`IamRead`],
//! [`TrailRead`]), so it cannot write by construction; remediation adds [`RemediationRead`],
//! [`IamWrite`], [`SecretWrite`] and [`WhoAmI`].
//!
//! Each trait method is declared together with the API action it needs (`declare_calls!`), so
//! `keywarden permissions` prints a policy generated from what the code calls.

use keywarden_core::model::{PasswordPolicy, Tag, Trail};
use keywarden_core::Timestamp;
use std::fmt;
use std::future::Future;
use zeroize::Zeroizing;

/// Why an AWS call failed, in the terms a finding's `unknown` reason needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The API action, e.g. `iam:ListAccessKeys`.
    pub action: &'static str,
    /// AWS's error code (`AccessDenied`, `Throttling`, `NoSuchEntity`...) or a transport class
    /// (`DispatchFailure`, `Timeout`) when no response came back.
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn is_not_found(&self) -> bool {
        self.code == "NoSuchEntity"
    }

    /// What already exists: Secrets Manager's `ResourceExistsException` (CreateSecret on a name
    /// in use) and IAM's `EntityAlreadyExists`.
    pub fn is_already_exists(&self) -> bool {
        self.code == "ResourceExistsException" || self.code == "EntityAlreadyExists"
    }

    /// The text a finding's `unknown` reason carries.
    pub fn reason(&self) -> String {
        format!("{} failed: {} ({})", self.action, self.code, self.message)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;

/// GenerateCredentialReport's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportGeneration {
    Started,
    InProgress,
    Complete,
}

/// GetCredentialReport's content and when AWS generated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReportBlob {
    pub content: Vec<u8>,
    pub generated_at: Timestamp,
}

/// A ListUsers entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    /// The console password's last use; `None` when never used or there is no password.
    pub password_last_used: Option<Timestamp>,
}

/// A user and its tags, as GetAccountAuthorizationDetails lists them: the tags of every user
/// of an account in a few paged calls instead of one ListUserTags per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedUser {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    pub tags: Vec<Tag>,
}

/// A ListAccessKeys entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyMeta {
    pub id: String,
    pub active: bool,
    pub created: Timestamp,
}

/// GetAccessKeyLastUsed: no date when the key was never used (service and region are `N/A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUsed {
    pub date: Option<Timestamp>,
    pub service: Option<String>,
    pub region: Option<String>,
    /// The key's owner (`UserName`): how `contain AKIA...` finds whose key it is. AWS always
    /// names it for an IAM user's key; `None` when the answer did not.
    pub user: Option<String>,
}

/// A secret value: an access key's secret. Its `Debug` and `Display` print `***`, never the
/// value, and it has no `Serialize`, so a secret cannot reach a log, a journal, an error message
/// or a JSON output by accident (`{:?}` of a struct holding one is safe). Read it only where it
/// is handed over, with [`SecretString::expose`].
///
/// The value is overwritten with zeros when it is dropped (`zeroize`: the whole allocation,
/// spare capacity included), so a secret does not linger in freed memory that a later
/// allocation, a core dump or a swapped page could show. Build it from an owned `String` (moved,
/// not copied); a `&str` argument is copied, and the copy's source is the caller's to clear.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(Zeroizing::new(value.into()))
    }

    /// A text made of `parts` (some of them secret, e.g. a credentials file), built in one
    /// allocation of the exact size: a growing `String` would leave partial copies in the
    /// buffers it outgrows, which are freed without being zeroed.
    pub fn concat(parts: &[&str]) -> Self {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            text.push_str(part);
        }
        SecretString::new(text)
    }

    /// The value itself: only for handing it where the user asked (a 0600 file, Secrets
    /// Manager, stdout with `--show-secret`).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// CreateAccessKey's answer. The secret is only ever returned here: AWS cannot show it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessKey {
    pub id: String,
    pub created: Timestamp,
    pub secret: SecretString,
}

/// DescribeSecret's answer: where the secret is and what it says it holds (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    pub arn: String,
    pub description: String,
}

/// Who the client acts as: GetCallerIdentity's account and ARN, and the access key id the
/// client signs its requests with (remediation refuses to act on that key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    /// `AKIA...` for an IAM user's long-term key, `ASIA...` for temporary credentials.
    pub access_key_id: String,
}

/// GetAccountSummary's root facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSummary {
    pub root_access_keys_present: u32,
    pub root_mfa_enabled: bool,
}

/// A DescribeTrails entry (status and selectors come from separate calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailInfo {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub is_multi_region: bool,
}

/// Declares a trait whose every method names the API action it calls, a constant per method
/// holding that action (`[IAM_LIST_USERS = "iam:ListUsers"] fn list_users...` declares
/// `pub const IAM_LIST_USERS: &str = "iam:ListUsers"`), and a constant listing the actions in
/// declaration order (the permission policies are generated from it). The live client, the fake
/// and the remediation engine name an action only through its constant: the action's text is
/// written once, here (`tests/tidy.rs` checks it).
macro_rules! declare_calls {
    (
        $(#[$trait_doc:meta])*
        pub trait $trait:ident {
            $(
                $(#[$doc:meta])*
                [$constant:ident = $action:literal] fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
            )*
        }
        actions: $actions:ident
    ) => {
        $(#[$trait_doc])*
        pub trait $trait: Send + Sync {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nNeeds `", $action, "` ([`", stringify!($constant), "`]).")]
                fn $method(&self $(, $arg: $ty)*) -> impl Future<Output = AwsResult<$ret>> + Send;
            )*
        }

        $(
            #[doc = concat!("`", $action, "`: the action [`", stringify!($trait), "::", stringify!($method), "`] calls.")]
            pub const $constant: &str = $action;
        )*

        #[doc = concat!("The API actions [`", stringify!($trait), "`]'s methods call, in declaration order.")]
        pub const $actions: &[&str] = &[$($constant),*];
    };
}

// Other modules of the boundary (`logs`) declare their traits the same way.
pub(crate) use declare_calls;

declare_calls! {
    /// Read-only IAM calls. An audit holds only read traits, so it cannot write by construction.
    pub trait IamRead {
        [IAM_GENERATE_CREDENTIAL_REPORT = "iam:GenerateCredentialReport"] fn generate_credential_report(&self) -> ReportGeneration;
        /// `ReportNotPresent`, `ReportExpired` and `ReportInProgress` come back as errors with
        /// those codes.
        [IAM_GET_CREDENTIAL_REPORT = "iam:GetCredentialReport"] fn get_credential_report(&self) -> CredentialReportBlob;
        /// Every user, all pages.
        [IAM_LIST_USERS = "iam:ListUsers"] fn list_users(&self) -> Vec<IamUser>;
        [IAM_LIST_USER_TAGS = "iam:ListUserTags"] fn list_user_tags(&self, user: &str) -> Vec<Tag>;
        /// Every user with its tags, all pages (GetAccountAuthorizationDetails filtered on
        /// users): the live audit's one read of every user's tags.
        [IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS = "iam:GetAccountAuthorizationDetails"] fn list_users_with_tags(&self) -> Vec<TaggedUser>;
        /// Every key of the user, all pages.
        [IAM_LIST_ACCESS_KEYS = "iam:ListAccessKeys"] fn list_access_keys(&self, user: &str) -> Vec<AccessKeyMeta>;
        [IAM_GET_ACCESS_KEY_LAST_USED = "iam:GetAccessKeyLastUsed"] fn get_access_key_last_used(&self, key_id: &str) -> KeyLastUsed;
        /// `None` when the user has no console password (AWS answers NoSuchEntity).
        [IAM_GET_LOGIN_PROFILE = "iam:GetLoginProfile"] fn get_login_profile(&self, user: &str) -> Option<Timestamp>;
        /// The number of MFA devices the user has.
        [IAM_LIST_MFA_DEVICES = "iam:ListMFADevices"] fn list_mfa_devices(&self, user: &str) -> usize;
        [IAM_GET_ACCOUNT_SUMMARY = "iam:GetAccountSummary"] fn get_account_summary(&self) -> AccountSummary;
        /// `None` when no custom policy is set (AWS answers NoSuchEntity).
        [IAM_GET_ACCOUNT_PASSWORD_POLICY = "iam:GetAccountPasswordPolicy"] fn get_account_password_policy(&self) -> Option<PasswordPolicy>;
    }
    actions: IAM_READ_ACTIONS
}

declare_calls! {
    /// Read-only CloudTrail calls for TRAIL001.
    pub trait TrailRead {
        /// Trails visible from the client's region, shadow trails of other regions included.
        [CLOUDTRAIL_DESCRIBE_TRAILS = "cloudtrail:DescribeTrails"] fn describe_trails(&self) -> Vec<TrailInfo>;
        [CLOUDTRAIL_GET_TRAIL_STATUS = "cloudtrail:GetTrailStatus"] fn get_trail_status(&self, trail_arn: &str) -> bool;
        /// Whether the selectors include write management events.
        [CLOUDTRAIL_GET_EVENT_SELECTORS = "cloudtrail:GetEventSelectors"] fn get_event_selectors(&self, trail_arn: &str) -> bool;
    }
    actions: TRAIL_READ_ACTIONS
}

declare_calls! {
    /// The IAM reads remediation needs beyond [`IamRead`] (a user's inline policies, whether a
    /// user exists). A trait of their own so they appear in remediation's policies, not the
    /// audit's.
    pub trait RemediationRead {
        /// The inline policy's document, URL-decoded (AWS sends it URL-encoded); `None` when the
        /// user has no such policy (AWS answers NoSuchEntity).
        [IAM_GET_USER_POLICY = "iam:GetUserPolicy"] fn get_user_policy(&self, user: &str, policy_name: &str) -> Option<String>;
        /// The names of the user's inline policies, all pages.
        [IAM_LIST_USER_POLICIES = "iam:ListUserPolicies"] fn list_user_policies(&self, user: &str) -> Vec<String>;
        /// `None` when there is no such user (AWS answers NoSuchEntity).
        [IAM_GET_USER = "iam:GetUser"] fn get_user(&self, user: &str) -> Option<IamUser>;
    }
    actions: REMEDIATION_READ_ACTIONS
}

declare_calls! {
    /// IAM writes: what `apply`, `undo`, `rotate` and `contain` change. Never held by an audit.
    pub trait IamWrite {
        /// Activates (`true`) or deactivates (`false`) the key.
        [IAM_UPDATE_ACCESS_KEY = "iam:UpdateAccessKey"] fn set_access_key_status(&self, user: &str, key_id: &str, active: bool) -> ();
        /// Irreversible: a deleted key cannot be restored.
        [IAM_DELETE_ACCESS_KEY = "iam:DeleteAccessKey"] fn delete_access_key(&self, user: &str, key_id: &str) -> ();
        /// Removes the console password. Irreversible: the password cannot be restored.
        [IAM_DELETE_LOGIN_PROFILE = "iam:DeleteLoginProfile"] fn delete_login_profile(&self, user: &str) -> ();
        /// Creates or replaces the user's inline policy `policy_name` (the JSON document, not
        /// URL-encoded).
        [IAM_PUT_USER_POLICY = "iam:PutUserPolicy"] fn put_user_policy(&self, user: &str, policy_name: &str, document: &str) -> ();
        [IAM_DELETE_USER_POLICY = "iam:DeleteUserPolicy"] fn delete_user_policy(&self, user: &str, policy_name: &str) -> ();
        /// A new active key; AWS refuses a third key with `LimitExceeded`.
        [IAM_CREATE_ACCESS_KEY = "iam:CreateAccessKey"] fn create_access_key(&self, user: &str) -> NewAccessKey;
    }
    actions: IAM_WRITE_ACTIONS
}

declare_calls! {
    /// Secrets Manager writes: where `rotate --secrets-manager` hands a new key's secret.
    pub trait SecretWrite {
        /// Stores `secret` under `name` and returns the secret's ARN. A name already in use fails
        /// with AWS's `ResourceExistsException` ([`AwsError::is_already_exists`]); nothing is
        /// overwritten.
        [SECRETSMANAGER_CREATE_SECRET = "secretsmanager:CreateSecret"] fn create_secret(&self, name: &str, secret: &SecretString, description: &str) -> String;
    }
    actions: SECRET_WRITE_ACTIONS
}

declare_calls! {
    /// Secrets Manager reads: whether a secret the hand-over created is there, never its value.
    pub trait SecretRead {
        /// The secret's ARN and description (DescribeSecret never returns the value); `None`
        /// when there is no such secret (AWS answers ResourceNotFoundException).
        [SECRETSMANAGER_DESCRIBE_SECRET = "secretsmanager:DescribeSecret"] fn describe_secret(&self, name: &str) -> Option<SecretInfo>;
    }
    actions: SECRET_READ_ACTIONS
}

declare_calls! {
    /// Who the client acts as.
    pub trait WhoAmI {
        /// The account, the ARN and the access key id the client signs with. AWS allows
        /// GetCallerIdentity to every principal.
        [STS_GET_CALLER_IDENTITY = "sts:GetCallerIdentity"] fn caller_identity(&self) -> CallerIdentity;
    }
    actions: WHO_AM_I_ACTIONS
}

/// An account of the organization, as ListAccountsForParent lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    /// The 12-digit account id.
    pub id: String,
    pub name: String,
    /// The account's state as AWS says it: `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ... (the
    /// `State` field when AWS sends it, else the older `Status`).
    pub state: String,
}

impl OrgAccount {
    /// Whether the account can be entered and audited: `ACTIVE` only. A suspended or closing
    /// account is listed as skipped, never audited.
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// An organizational unit (or the organization's root): its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    /// `r-...` for a root, `ou-...` for an organizational unit.
    pub id: String,
    pub name: String,
}

declare_calls! {
    /// Organizations reads: the accounts and organizational units of the organization, walked
    /// from its root (`audit --org`). Management-account or delegated-administrator credentials.
    pub trait OrgRead {
        /// The organization's roots (one in practice), all pages.
        [ORGANIZATIONS_LIST_ROOTS = "organizations:ListRoots"] fn list_roots(&self) -> Vec<OrgUnit>;
        /// The organizational units directly under a root or an OU, all pages.
        [ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT = "organizations:ListOrganizationalUnitsForParent"] fn list_organizational_units_for_parent(&self, parent_id: &str) -> Vec<OrgUnit>;
        /// The accounts directly under a root or an OU, all pages.
        [ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT = "organizations:ListAccountsForParent"] fn list_accounts_for_parent(&self, parent_id: &str) -> Vec<OrgAccount>;
    }
    actions: ORG_READ_ACTIONS
}

/// Temporary credentials of an assumed role (AssumeRole's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expiration: Timestamp,
}

declare_calls! {
    /// Entering another account: sts:AssumeRole on a role there (`audit --org`, and any command
    /// that works across accounts through [`crate::live::AccountClients`]).
    pub trait AssumeRole {
        /// The role's temporary credentials; AWS answers `AccessDenied` when the role does not
        /// exist, does not trust the caller, or the ExternalId does not match.
        [STS_ASSUME_ROLE = "sts:AssumeRole"] fn assume_role(&self, role_arn: &str, external_id: Option<&str>, session_name: &str) -> RoleCredentials;
    }
    actions: ASSUME_ROLE_ACTIONS
}

/// A client acting in another account of the organization: what an org run enters each
/// account with. [`crate::live::AccountClients`] does it with sts:AssumeRole (the caller's own
/// account with its own credentials); the fake organization hands out fake accounts. Plan and
/// apply across accounts get their per-account clients the same way.
pub trait EnterAccount: Send + Sync {
    /// The client of one account (the live client, or a fake account in tests).
    type Client: Send + Sync + 'static;
    /// A client acting in `account_id`. The error is the AssumeRole that failed (its AWS code:
    /// `AccessDenied`, `Throttling`, ...).
    fn enter(
        &self,
        account_id: &str,
    ) -> impl Future<Output = AwsResult<std::sync::Arc<Self::Client>>> + Send;
}

/// A finding Security Hub did not take: BatchImportFindings' `FailedFindings`,
/// BatchUpdateFindings' `UnprocessedFindings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    /// The finding's `Id`.
    pub id: String,
    /// Security Hub's error code (`InvalidInput`, `AccessDeniedException`...).
    pub code: String,
    pub message: String,
}

/// BatchImportFindings' answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub succeeded: u64,
    pub failed: Vec<FailedFinding>,
}

/// The findings of one product and account whose generator id starts with a prefix, active
/// ones only: what keywarden imported and has not resolved yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsQuery {
    pub product_arn: String,
    pub account: String,
    pub generator_prefix: String,
    /// Only the findings whose `Id` starts with this (an administrator's findings of one member
    /// account: `keywarden/<member>/`).
    pub id_prefix: Option<String>,
}

/// A finding's identity in Security Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRef {
    pub id: String,
    pub product_arn: String,
}

declare_calls! {
    /// Security Hub writes: `--to securityhub` imports findings and resolves the ones a run no
    /// longer produces. Documents are ASFF JSON (keywarden-output's `asff`); the live client
    /// refuses a field it does not map rather than drop it.
    pub trait SecurityHubWrite {
        /// At most 100 findings and 6 MB a call (the caller batches); findings Security Hub
        /// refused are in the answer's `failed`, not an error.
        [SECURITYHUB_BATCH_IMPORT_FINDINGS = "securityhub:BatchImportFindings"] fn batch_import_findings(&self, findings: &[serde_json::Value]) -> ImportOutcome;
        /// Sets the workflow status `RESOLVED` (which BatchImportFindings cannot change on a
        /// finding that exists), with `note`; the findings not processed come back.
        [SECURITYHUB_BATCH_UPDATE_FINDINGS = "securityhub:BatchUpdateFindings"] fn resolve_findings(&self, findings: &[FindingRef], note: &str) -> Vec<FailedFinding>;
    }
    actions: SECURITYHUB_WRITE_ACTIONS
}

declare_calls! {
    /// Security Hub reads: the findings keywarden imported earlier.
    pub trait SecurityHubRead {
        /// Every active finding the query matches, all pages, as ASFF JSON (the fields
        /// keywarden writes).
        [SECURITYHUB_GET_FINDINGS = "securityhub:GetFindings"] fn get_findings(&self, query: &FindingsQuery) -> Vec<serde_json::Value>;
    }
    actions: SECURITYHUB_READ_ACTIONS
}

/// Decodes a URL-encoded (percent-encoded) IAM policy document, as GetUserPolicy returns it.
/// A document already starting with `{` is returned as is: AWS always encodes the braces, so it
/// was never encoded (some local servers answer that way), and decoding it would corrupt a
/// literal `%` inside it.
pub fn decode_policy_document(document: &str) -> Result<String, String> {
    if document.trim_start().starts_with('{') {
        return Ok(document.to_owned());
    }
    percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|e| format!("the policy document is not UTF-8 once decoded: {e}"))
}

/// Builds the keywarden core's trail model from the boundary's answers.
pub fn trail_from(info: &TrailInfo, is_logging: bool, logs_management_write_events: bool) -> Trail {
    Trail {
        name: info.name.clone(),
        home_region: info.home_region.clone(),
        is_multi_region: info.is_multi_region,
        is_logging,
        logs_management_write_events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = SecretString::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:#?}"), "***");
        let key = NewAccessKey {
            id: "AKIANEW".into(),
            created: Timestamp::default(),
            secret: secret.clone(),
        };
        let debug = format!("{key:?} {key:#?}");
        assert!(!debug.contains("wJalr"), "{debug}");
        assert!(debug.contains("AKIANEW"));
        assert_eq!(secret.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn policy_documents_are_url_decoded() {
        // As AWS (and moto, with urllib's quote) sends it.
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Deny%22%2C%20%22Action%22%3A%20%22%2A%22%2C%20%22Resource%22%3A%20%22arn:aws:iam::123456789012:user/a%2Bb%22%7D%5D%7D";
        assert_eq!(
            decode_policy_document(encoded).unwrap(),
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "arn:aws:iam::123456789012:user/a+b"}]}"#
        );
        // Multi-byte UTF-8, percent-encoded byte by byte.
        assert_eq!(
            decode_policy_document("%7B%22Sid%22%3A%22caf%C3%A9%22%7D").unwrap(),
            r#"{"Sid":"café"}"#
        );
        // Not encoded at all: kept as is, a literal `%` included.
        let plain = r#"{"Condition":{"StringLike":{"s3:prefix":"100%25"}}}"#;
        assert_eq!(decode_policy_document(plain).unwrap(), plain);
        // Bytes that are not UTF-8 once decoded are an error, not a mangled document.
        assert!(decode_policy_document("%7B%FF%7D").is_err());
    }

    #[test]
    fn already_exists_covers_both_services() {
        let error = |code: &str| AwsError {
            action: "secretsmanager:CreateSecret",
            code: code.into(),
            message: String::new(),
        };
        assert!(error("ResourceExistsException").is_already_exists());
        assert!(error("EntityAlreadyExists").is_already_exists());
        assert!(!error("AccessDenied").is_already_exists());
    }
}
