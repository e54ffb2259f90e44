//! The credential model every rule reads: one [`UserCredentials`] per IAM user (the root user
//! included) and one [`AccountFacts`] per account.
//!
//! The model keeps the credential report's distinctions instead of flattening them: a value can be
//! present, `N/A`, `no_information`, `not_supported`, or missing because the source had no such
//! column. Rules must decide what each of those means; none of them is a silent pass.
//! Sources (a report file, the live AWS account, a fake) build this model; rules never see them.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One value of a credential report column, with the report's own "no value" markers kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<T> {
    Value(T),
    /// `N/A`: no such credential, never used, or used before tracking began.
    NotApplicable,
    /// `no_information`: a password never used, or not since October 2014.
    NoInformation,
    /// `not_supported`: the root user's password columns.
    NotSupported,
    /// The source had no such column, so nothing is known.
    Missing,
}

impl<T> Cell<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Cell::Missing)
    }

    /// The cell as it would read in the report, for evidence.
    pub fn describe(&self) -> String
    where
        T: std::fmt::Display,
    {
        match self {
            Cell::Value(v) => v.to_string(),
            Cell::NotApplicable => "N/A".into(),
            Cell::NoInformation => "no_information".into(),
            Cell::NotSupported => "not_supported".into(),
            Cell::Missing => "(column missing)".into(),
        }
    }
}

/// What a source could or could not tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known<T> {
    Known(T),
    /// The source could not answer; the string says why (an AWS error code, a missing input).
    Unknown(String),
}

/// Which of a user's two access-key slots in the credential report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySlot {
    One,
    Two,
}

impl KeySlot {
    pub const BOTH: [KeySlot; 2] = [KeySlot::One, KeySlot::Two];

    pub fn number(self) -> u8 {
        match self {
            KeySlot::One => 1,
            KeySlot::Two => 2,
        }
    }

    /// The credential-report column for `field` in this slot, e.g. `access_key_2_last_rotated`.
    pub fn column(self, field: KeyField) -> &'static str {
        COLUMNS[KEY_BASE[self as usize] + field as usize]
    }
}

/// The per-key columns of the credential report, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    Active,
    LastRotated,
    LastUsedDate,
    LastUsedRegion,
    LastUsedService,
}

/// The 22 columns of a credential report, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// First column of each key slot in [`COLUMNS`]; the five key columns follow in [`KeyField`]
/// order.
pub(crate) const KEY_BASE: [usize; 2] = [8, 13];

/// One access-key slot of a user, as the report (and, live, ListAccessKeys) describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub slot: KeySlot,
    pub active: Cell<bool>,
    /// Creation (or last change) of the key; `N/A` when the slot holds no key.
    pub last_rotated: Cell<Timestamp>,
    pub last_used: Cell<Timestamp>,
    pub last_used_region: Cell<String>,
    pub last_used_service: Cell<String>,
    /// The real key id, when a live source matched it; a report file never has it.
    pub id: Option<String>,
}

impl AccessKey {
    /// An empty slot, as the report writes it for a user without this key.
    pub fn absent(slot: KeySlot) -> Self {
        AccessKey {
            slot,
            active: Cell::Value(false),
            last_rotated: Cell::NotApplicable,
            last_used: Cell::NotApplicable,
            last_used_region: Cell::NotApplicable,
            last_used_service: Cell::NotApplicable,
            id: None,
        }
    }

    /// Whether the slot holds a key: the report gives a creation date for every existing key,
    /// active or not, and `N/A` for an empty slot.
    pub fn exists(&self) -> Cell<bool> {
        match (&self.active, &self.last_rotated) {
            (Cell::Value(true), _) | (_, Cell::Value(_)) => Cell::Value(true),
            (_, Cell::Missing) => Cell::Missing,
            (Cell::Missing, _) => Cell::Missing,
            _ => Cell::Value(false),
        }
    }
}

/// A resource tag (IAM user tags feed exemptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Everything known about one IAM user's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub name: String,
    pub arn: String,
    pub is_root: bool,
    pub created: Cell<Timestamp>,
    pub password_enabled: Cell<bool>,
    pub password_last_used: Cell<Timestamp>,
    pub password_last_changed: Cell<Timestamp>,
    pub mfa_active: Cell<bool>,
    pub access_keys: [AccessKey; 2],
    /// The user's IAM tags; a credential report does not carry them.
    pub tags: Known<Vec<Tag>>,
}

/// The user name the credential report gives the root user.
pub const ROOT_USER_NAME: &str = "<root_account>";

impl UserCredentials {
    /// The account id in the user's ARN (`arn:aws:iam::123456789012:user/x`), if it has one.
    pub fn account_id(&self) -> Option<&str> {
        account_id_of_arn(&self.arn)
    }

    pub fn access_key(&self, slot: KeySlot) -> &AccessKey {
        &self.access_keys[slot as usize]
    }
}

/// The account field of an ARN (`arn:partition:service:region:account:resource`).
pub fn account_id_of_arn(arn: &str) -> Option<&str> {
    // A byte scan for the colons around the account: `splitn(6, ':')` cost ~1,500 instructions
    // per ARN, and this runs for every report row and every finding.
    let rest = arn.strip_prefix("arn:")?;
    let mut colons = rest
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b':')
        .map(|(i, _)| i);
    // `partition:service:region:` end at the third colon of `rest`; the account runs to the
    // next one, or to the end.
    let start = colons.nth(2)? + 1;
    let end = colons.next().unwrap_or(rest.len());
    let account = &rest[start..end];
    (!account.is_empty()).then_some(account)
}

/// The account's password policy as GetAccountPasswordPolicy returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_password_length: u32,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// `None` when the policy does not prevent reuse.
    pub password_reuse_prevention: Option<u32>,
    /// `None` when passwords never expire.
    pub max_password_age: Option<u32>,
}

impl PasswordPolicy {
    /// What AWS enforces when an account has no custom policy: 8 characters, three of the four
    /// character classes (not individually required), no reuse prevention, no expiry.
    pub fn aws_default() -> Self {
        PasswordPolicy {
            minimum_password_length: 8,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            require_numbers: false,
            require_symbols: false,
            password_reuse_prevention: None,
            max_password_age: None,
        }
    }
}

/// One CloudTrail trail and whether it logs what TRAIL001 needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_logging: bool,
    /// Whether its event selectors include write management events (IAM key changes are writes).
    pub logs_management_write_events: bool,
}

/// Facts about the account as a whole, for the account-scoped and root-scoped rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    pub account_id: Option<String>,
    /// The root user's row; unknown when the source has none (moto's report, a filtered export).
    pub root: Known<UserCredentials>,
    /// `Known(None)` means no custom policy is set, so AWS's defaults apply.
    pub password_policy: Known<Option<PasswordPolicy>>,
    pub trails: Known<Vec<Trail>>,
    /// GetAccountSummary's root facts, fresher than the report's root row; `None` when the
    /// source did not ask (a report file), `Unknown` when asking failed.
    pub root_summary: Option<Known<RootSummary>>,
}

/// What GetAccountSummary says about the root user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootSummary {
    pub access_keys_present: u32,
    pub mfa_enabled: bool,
}

impl AccountFacts {
    /// The summary, when the source asked for it and got an answer.
    pub fn known_root_summary(&self) -> Option<RootSummary> {
        match &self.root_summary {
            Some(Known::Known(summary)) => Some(*summary),
            _ => None,
        }
    }

    /// Why nothing at all is known about root: no row and no summary.
    pub fn root_unknown_reason(&self) -> Option<String> {
        let Known::Unknown(row_reason) = &self.root else {
            return None;
        };
        match &self.root_summary {
            Some(Known::Known(_)) => None,
            Some(Known::Unknown(summary_reason)) => {
                Some(format!("{row_reason}, and {summary_reason}"))
            }
            None => Some(row_reason.clone()),
        }
    }
}

#[cfg(test)]
mod account_id_of_arn_tests {
    use super::account_id_of_arn;
    use proptest::prelude::*;

    /// The definition: the fifth `:`-separated field of an ARN, when it is not empty.
    fn reference(arn: &str) -> Option<&str> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let account = parts.nth(3)?;
        (!account.is_empty()).then_some(account)
    }

    #[test]
    fn examples() {
        for (arn, account) in [
            ("arn:aws:iam::123456789012:user/alice", Some("123456789012")),
            ("arn:aws:iam::123456789012:root", Some("123456789012")),
            ("arn:aws-cn:iam::1:user/a:b:c", Some("1")),
            ("arn:aws:s3:::bucket", None),
            ("arn:aws:iam::123456789012", Some("123456789012")),
            ("arn:aws:iam:", None),
            ("arn", None),
            ("arnx:aws:iam::1:user/a", None),
            ("", None),
        ] {
            assert_eq!(account_id_of_arn(arn), account, "{arn}");
            assert_eq!(reference(arn), account, "{arn}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_splitn(arn in "(arn)?[:a-z0-9é]{0,20}") {
            prop_assert_eq!(account_id_of_arn(&arn), reference(&arn));
        }
    }
}

#[cfg(test)]
mod column_tests {
    use super::{KeyField, KeySlot};

    #[test]
    fn a_key_slots_columns_are_the_reports_own() {
        let suffixes = [
            "active",
            "last_rotated",
            "last_used_date",
            "last_used_region",
            "last_used_service",
        ];
        let fields = [
            KeyField::Active,
            KeyField::LastRotated,
            KeyField::LastUsedDate,
            KeyField::LastUsedRegion,
            KeyField::LastUsedService,
        ];
        for slot in KeySlot::BOTH {
            for (field, suffix) in fields.into_iter().zip(suffixes) {
                assert_eq!(
                    slot.column(field),
                    format!("access_key_{}_{suffix}", slot.number())
                );
            }
        }
    }
}
