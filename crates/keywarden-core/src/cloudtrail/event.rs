//! One CloudTrail event, reduced to what key lineage and the detections read: the model a
//! detection author works with. Anything optional in CloudTrail is optional here: absent fields
//! are `None`, never an empty string that would look like a value.
//!
//! How events are decoded is elsewhere: `decode.rs` (in place, into recycled events), `wire.rs`
//! (the reference it falls back to) and `pool.rs` (the reuse of events and strings, see
//! [`recycle`]).

use crate::time::Timestamp;

pub use super::pool::recycle;

/// Who made the call (`userIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `IAMUser`, `Root`, `AssumedRole`, `FederatedUser`, `AWSService`...
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
    /// The access key that signed the call: AKIA... (long-term) or ASIA... (temporary).
    pub access_key_id: Option<String>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub mfa_authenticated: Option<bool>,
    /// `sessionContext.sessionIssuer.userName` (the role or user behind a session).
    pub session_issuer: Option<String>,
}

impl Identity {
    /// The IAM user name the identity acts as, for IAMUser and Root callers.
    pub fn acting_user(&self) -> Option<&str> {
        match self.kind.as_deref() {
            Some("Root") => Some(crate::model::ROOT_USER_NAME),
            _ => self.user_name.as_deref(),
        }
    }
}

/// The access key an IAM call created or acted on, from its request or response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRef {
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: String,
    pub event_time: Timestamp,
    pub event_source: String,
    pub event_name: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub recipient_account_id: Option<String>,
    pub identity: Identity,
    /// `requestParameters.userName`: the user an IAM call targets (absent: the caller itself).
    pub target_user: Option<String>,
    /// The key in the request (UpdateAccessKey, DeleteAccessKey): id, status.
    pub request_key: KeyRef,
    /// The key in the response (CreateAccessKey).
    pub created_key: KeyRef,
    /// `responseElements.credentials.accessKeyId`: the temporary key an STS call minted.
    pub minted_key: Option<String>,
    /// `responseElements.ConsoleLogin`: `Success` or `Failure`.
    pub console_login: Option<String>,
    /// `additionalEventData.MFAUsed`: `Yes` or `No`.
    pub mfa_used: Option<String>,
    /// Trail changes (EVT009): the trail named, and the settings an UpdateTrail or
    /// PutEventSelectors call sets.
    pub trail: TrailChange,
}

/// What a CloudTrail configuration call changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailChange {
    pub name: Option<String>,
    pub is_multi_region: Option<bool>,
    pub include_global_service_events: Option<bool>,
    /// PutEventSelectors: false when no selector keeps write management events.
    pub keeps_management_writes: Option<bool>,
}

impl Event {
    /// The call succeeded (no `errorCode`).
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }

    /// `CreateAccessKey`, `ListBuckets`... from IAM (`iam.amazonaws.com`).
    pub fn is(&self, source: &str, name: &str) -> bool {
        self.event_name == name && self.event_source == source
    }

    /// The account the event happened in.
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id
            .as_deref()
            .or(self.identity.account_id.as_deref())
    }
}

pub const IAM: &str = "iam.amazonaws.com";
pub const STS: &str = "sts.amazonaws.com";
pub const SIGNIN: &str = "signin.amazonaws.com";
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// Why one record is not a usable event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    NotJson(String),
    Missing(&'static str),
    BadTime(String),
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventError::NotJson(e) => write!(f, "not a JSON event: {e}"),
            EventError::Missing(field) => write!(f, "event without `{field}`"),
            EventError::BadTime(t) => write!(f, "`eventTime` `{t}` is not an ISO 8601 time"),
        }
    }
}

/// Decodes one event from its JSON text.
pub fn parse_event(json: &str) -> Result<Event, EventError> {
    let mut event = super::pool::spare_event();
    super::decode::decode_into(json, &mut event)?;
    Ok(event)
}
