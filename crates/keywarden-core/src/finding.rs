//! Findings: what a rule concluded about one credential, and why.
//!
//! Only non-passing outcomes are findings. A finding is `fail` (the rule's condition holds),
//! `unknown` (the source could not answer, with the reason) or `exempted` (it would fail or be
//! unknown, but an unexpired exemption covers it). Printers turn these into the output formats;
//! the JSON wire shape lives with the printers, not here.

use crate::model::{KeySlot, UserCredentials};
use crate::rules::RuleMeta;
use crate::time::{format_timestamp, Timestamp};

/// How bad a failing finding is. Ordered from the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Fail,
    Unknown,
    Exempted,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Fail, Status::Unknown, Status::Exempted];

    /// The status [`Status::as_str`] names, for readers of stored findings.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Exempted => "exempted",
        }
    }
}

/// Which credential of a user a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CredentialKind {
    AccessKey(KeySlot),
    /// A long-term access key named by id, slot unknown (CloudTrail does not say).
    AccessKeyId,
    /// A temporary (ASIA...) key minted by STS.
    SessionKey,
    Password,
    Mfa,
    Account,
}

impl CredentialKind {
    /// Every kind, in the order of [`CredentialKind::as_str`]'s arms.
    pub const ALL: [CredentialKind; 7] = [
        CredentialKind::AccessKey(KeySlot::One),
        CredentialKind::AccessKey(KeySlot::Two),
        CredentialKind::AccessKeyId,
        CredentialKind::SessionKey,
        CredentialKind::Password,
        CredentialKind::Mfa,
        CredentialKind::Account,
    ];

    /// The kind [`CredentialKind::as_str`] names, for readers of stored findings.
    pub fn parse(text: &str) -> Option<CredentialKind> {
        CredentialKind::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::AccessKey(KeySlot::One) => "access_key_1",
            CredentialKind::AccessKey(KeySlot::Two) => "access_key_2",
            CredentialKind::AccessKeyId => "access_key",
            CredentialKind::SessionKey => "session_key",
            CredentialKind::Password => "password",
            CredentialKind::Mfa => "mfa",
            CredentialKind::Account => "account",
        }
    }
}

/// One value a decision used.
#[derive(Debug, Clone, PartialEq)]
pub enum EvidenceValue {
    Text(String),
    Time(Timestamp),
    Integer(i64),
    Bool(bool),
    Null,
}

impl std::fmt::Display for EvidenceValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceValue::Text(s) => f.write_str(s),
            EvidenceValue::Time(t) => f.write_str(&format_timestamp(*t)),
            EvidenceValue::Integer(i) => write!(f, "{i}"),
            EvidenceValue::Bool(b) => write!(f, "{b}"),
            EvidenceValue::Null => f.write_str("null"),
        }
    }
}

impl From<&str> for EvidenceValue {
    fn from(s: &str) -> Self {
        EvidenceValue::Text(s.to_owned())
    }
}
impl From<String> for EvidenceValue {
    fn from(s: String) -> Self {
        EvidenceValue::Text(s)
    }
}
impl From<Timestamp> for EvidenceValue {
    fn from(t: Timestamp) -> Self {
        EvidenceValue::Time(t)
    }
}
impl From<i64> for EvidenceValue {
    fn from(i: i64) -> Self {
        EvidenceValue::Integer(i)
    }
}
impl From<u32> for EvidenceValue {
    fn from(i: u32) -> Self {
        EvidenceValue::Integer(i64::from(i))
    }
}
impl From<bool> for EvidenceValue {
    fn from(b: bool) -> Self {
        EvidenceValue::Bool(b)
    }
}
/// A report date as evidence: the instant when there is one, else the report's own marker.
impl From<&crate::model::Cell<Timestamp>> for EvidenceValue {
    fn from(cell: &crate::model::Cell<Timestamp>) -> Self {
        match cell {
            crate::model::Cell::Value(t) => EvidenceValue::Time(*t),
            other => EvidenceValue::Text(other.describe()),
        }
    }
}

impl<T: Into<EvidenceValue>> From<Option<T>> for EvidenceValue {
    fn from(o: Option<T>) -> Self {
        o.map_or(EvidenceValue::Null, Into::into)
    }
}

/// Why an exemption applied, or why it no longer does.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemptionNote {
    pub reason: String,
    /// Where the exemption came from: `config:exemptions[2]`, `tag:keywarden:exempt`.
    pub source: String,
    pub expires: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub status: Status,
    pub account: Option<String>,
    /// `<root_account>` for the root user; `None` for account-wide findings.
    pub user: Option<String>,
    pub credential: CredentialKind,
    pub access_key_id: Option<String>,
    pub message: String,
    /// The values and dates the decision used, in the order the rule read them.
    pub evidence: Vec<(&'static str, EvidenceValue)>,
    /// Set when status is `exempted`.
    pub exemption: Option<ExemptionNote>,
    /// Set when an exemption matched but did not apply (expired, or a malformed tag), so the
    /// finding stands; the note's reason says why it was ignored.
    pub ignored_exemption: Option<ExemptionNote>,
    /// For CloudTrail detections: the event that triggered the finding.
    pub event: Option<Box<EventContext>>,
    /// For an organization run (`audit --org`): the account's name and OU path, shared by the
    /// account's findings; `None` for a single account.
    pub org_account: Option<std::sync::Arc<OrgAccountLabel>>,
}

/// Where an account sits in its organization: what every output prints next to a finding of
/// an organization run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccountLabel {
    /// The account's name in Organizations.
    pub name: String,
    /// The organizational units from the root down, by name: `Root/Workloads/Prod`.
    pub ou_path: String,
}

/// The CloudTrail event behind a detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    pub event_id: String,
    pub event_time: Timestamp,
    pub event_name: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who made the call: the caller's ARN, else its user name or access key.
    pub actor: Option<String>,
}

impl Finding {
    /// A finding about a user's credential.
    pub fn for_user(
        rule: &'static RuleMeta,
        status: Status,
        user: &UserCredentials,
        credential: CredentialKind,
        message: impl Into<String>,
    ) -> Self {
        let access_key_id = match credential {
            CredentialKind::AccessKey(slot) => user.access_key(slot).id.clone(),
            _ => None,
        };
        Finding {
            rule,
            status,
            account: user.account_id().map(str::to_owned),
            user: Some(user.name.clone()),
            credential,
            access_key_id,
            message: message.into(),
            evidence: Vec::new(),
            exemption: None,
            ignored_exemption: None,
            event: None,
            org_account: None,
        }
    }

    /// A finding about the account as a whole.
    pub fn for_account(
        rule: &'static RuleMeta,
        status: Status,
        account: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            status,
            account: account.map(str::to_owned),
            user: None,
            credential: CredentialKind::Account,
            access_key_id: None,
            message: message.into(),
            evidence: Vec::new(),
            exemption: None,
            ignored_exemption: None,
            event: None,
            org_account: None,
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<EvidenceValue>) -> Self {
        self.evidence.push((key, value.into()));
        self
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
}
