//! The AWS boundary's vocabulary: plain data types and the read traits every source implements
//! (the live SDK client, the in-memory fake). Nothing here names an SDK type, so the application
//! layer and its tests never see the SDK.
//!
//! Each trait method is declared together with the IAM action it needs (`declare_reads!`), so
//! `keywarden permissions` prints a policy generated from what the code calls.

use keywarden_core::model::{PasswordPolicy, Tag, Trail};
use keywarden_core::Timestamp;
use std::fmt;
use std::future::Future;

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

macro_rules! declare_reads {
    (
        $(#[$trait_doc:meta])*
        pub trait $trait:ident {
            $(
                $(#[$doc:meta])*
                [$action:literal] fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
            )*
        }
        actions: $actions:ident
    ) => {
        $(#[$trait_doc])*
        pub trait $trait: Send + Sync {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nNeeds `", $action, "`.")]
                fn $method(&self $(, $arg: $ty)*) -> impl Future<Output = AwsResult<$ret>> + Send;
            )*
        }

        /// The IAM actions this trait's methods call, in declaration order.
        pub const $actions: &[&str] = &[$($action),*];
    };
}

// Other modules of the boundary (`logs`) declare their read traits the same way.
pub(crate) use declare_reads;

declare_reads! {
    /// Read-only IAM calls. An audit holds only read traits, so it cannot write by construction.
    pub trait IamRead {
        ["iam:GenerateCredentialReport"] fn generate_credential_report(&self) -> ReportGeneration;
        /// `ReportNotPresent`, `ReportExpired` and `ReportInProgress` come back as errors with
        /// those codes.
        ["iam:GetCredentialReport"] fn get_credential_report(&self) -> CredentialReportBlob;
        /// Every user, all pages.
        ["iam:ListUsers"] fn list_users(&self) -> Vec<IamUser>;
        ["iam:ListUserTags"] fn list_user_tags(&self, user: &str) -> Vec<Tag>;
        /// Every key of the user, all pages.
        ["iam:ListAccessKeys"] fn list_access_keys(&self, user: &str) -> Vec<AccessKeyMeta>;
        ["iam:GetAccessKeyLastUsed"] fn get_access_key_last_used(&self, key_id: &str) -> KeyLastUsed;
        /// `None` when the user has no console password (AWS answers NoSuchEntity).
        ["iam:GetLoginProfile"] fn get_login_profile(&self, user: &str) -> Option<Timestamp>;
        /// The number of MFA devices the user has.
        ["iam:ListMFADevices"] fn list_mfa_devices(&self, user: &str) -> usize;
        ["iam:GetAccountSummary"] fn get_account_summary(&self) -> AccountSummary;
        /// `None` when no custom policy is set (AWS answers NoSuchEntity).
        ["iam:GetAccountPasswordPolicy"] fn get_account_password_policy(&self) -> Option<PasswordPolicy>;
    }
    actions: IAM_READ_ACTIONS
}

declare_reads! {
    /// Read-only CloudTrail calls for TRAIL001.
    pub trait TrailRead {
        /// Trails visible from the client's region, shadow trails of other regions included.
        ["cloudtrail:DescribeTrails"] fn describe_trails(&self) -> Vec<TrailInfo>;
        ["cloudtrail:GetTrailStatus"] fn get_trail_status(&self, trail_arn: &str) -> bool;
        /// Whether the selectors include write management events.
        ["cloudtrail:GetEventSelectors"] fn get_event_selectors(&self, trail_arn: &str) -> bool;
    }
    actions: TRAIL_READ_ACTIONS
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
