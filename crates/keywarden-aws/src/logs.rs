//! Where CloudTrail logs are read from, besides local files: the S3 bucket a trail delivers to,
//! and CloudTrail's event history (LookupEvents): the read traits and their plain data types. The
//! live client implements them in `live/s3.rs` and `live/cloudtrail.rs`.
//!
//! Like [`crate::api`], each trait method is declared with the IAM action it needs, so
//! `keywarden permissions --command trail` prints a policy generated from what the code calls.

use crate::api::{declare_calls, AwsResult};
use keywarden_core::Timestamp;
use std::fmt;
use std::future::Future;
use std::str::FromStr;

/// A ListObjectsV2 entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
}

/// LookupEvents' lookup attributes (AWS allows one per call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupKey {
    AccessKeyId,
    EventId,
    EventName,
    EventSource,
    ReadOnly,
    ResourceName,
    ResourceType,
    Username,
}

impl LookupKey {
    pub const ALL: [LookupKey; 8] = [
        LookupKey::AccessKeyId,
        LookupKey::EventId,
        LookupKey::EventName,
        LookupKey::EventSource,
        LookupKey::ReadOnly,
        LookupKey::ResourceName,
        LookupKey::ResourceType,
        LookupKey::Username,
    ];

    /// The name AWS uses (`AttributeKey`).
    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::AccessKeyId => "AccessKeyId",
            LookupKey::EventId => "EventId",
            LookupKey::EventName => "EventName",
            LookupKey::EventSource => "EventSource",
            LookupKey::ReadOnly => "ReadOnly",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::ResourceType => "ResourceType",
            LookupKey::Username => "Username",
        }
    }
}

impl fmt::Display for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LookupKey {
    type Err = String;

    /// Case-insensitive: `accesskeyid` and `AccessKeyId` are the same key.
    fn from_str(text: &str) -> Result<Self, String> {
        LookupKey::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = LookupKey::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "`{text}` is not a LookupEvents attribute (one of {})",
                    names.join(", ")
                )
            })
    }
}

/// One lookup attribute: `AccessKeyId=AKIA...`, `EventName=CreateAccessKey`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupAttribute {
    pub key: LookupKey,
    pub value: String,
}

impl fmt::Display for LookupAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl FromStr for LookupAttribute {
    type Err = String;

    /// `Key=Value`; the value is taken as written (AWS compares it exactly).
    fn from_str(text: &str) -> Result<Self, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not Key=Value (e.g. AccessKeyId=AKIA...)"))?;
        if value.is_empty() {
            return Err(format!("`{text}`: the value is empty"));
        }
        Ok(LookupAttribute {
            key: key.parse()?,
            value: value.to_owned(),
        })
    }
}

/// What one LookupEvents call asks for (the page token aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupQuery {
    /// At most one: AWS refuses more than one attribute per call.
    pub attribute: Option<LookupAttribute>,
    /// `StartTime`; AWS's default is 90 days ago, as far back as event history goes.
    pub start: Option<Timestamp>,
    /// `EndTime`; AWS's default is now.
    pub end: Option<Timestamp>,
    /// Events per page, at most 50.
    pub max_results: u32,
}

/// The most events LookupEvents returns in one page.
pub const LOOKUP_MAX_RESULTS: u32 = 50;

/// One LookupEvents page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupPage {
    /// Each event's `CloudTrailEvent`: the event's CloudTrail JSON record, as a string.
    pub events: Vec<String>,
    /// Events of the page that came without a `CloudTrailEvent` (they cannot be analysed).
    pub without_record: usize,
    pub next_token: Option<String>,
}

declare_calls! {
    /// Read-only S3 calls for the log files a trail delivers to its bucket.
    pub trait LogBucketRead {
        /// Every object whose key starts with `prefix`, all pages, in key order.
        [S3_LIST_OBJECTS = "s3:ListBucket"] fn list_objects(&self, bucket: &str, prefix: &str) -> Vec<S3Object>;
        /// The "folders" directly under `prefix`: the common prefixes of a listing with the
        /// delimiter `/`, all pages, each ending with `/`.
        [S3_LIST_FOLDERS = "s3:ListBucket"] fn list_folders(&self, bucket: &str, prefix: &str) -> Vec<String>;
        /// The object's bytes, as stored (a `.json.gz` log file stays gzipped).
        [S3_GET_OBJECT = "s3:GetObject"] fn get_object(&self, bucket: &str, key: &str) -> Vec<u8>;
    }
    actions: LOG_BUCKET_READ_ACTIONS
}

declare_calls! {
    /// CloudTrail's event history: the last 90 days of management events, one region per call.
    pub trait EventHistoryRead {
        /// One page of events in `region`, newest first; `next_token` continues a previous page.
        [CLOUDTRAIL_LOOKUP_EVENTS = "cloudtrail:LookupEvents"] fn lookup_events(&self, region: &str, query: &LookupQuery, next_token: Option<&str>) -> LookupPage;
    }
    actions: EVENT_HISTORY_READ_ACTIONS
}

/// Whether a CloudTrail record matches a lookup attribute, as LookupEvents decides it. For the
/// in-memory fake; AWS derives `Username` and the resources itself, this reads them from the
/// record (`userIdentity.userName`, else the session issuer's; `resources[].ARN` / `.type`).
pub fn record_matches(record: &serde_json::Value, attribute: &LookupAttribute) -> bool {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let field = |pointer: &str| record.pointer(pointer).and_then(text);
    let want = Some(attribute.value.clone());
    let resources = || {
        record
            .get("resources")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default()
    };
    match attribute.key {
        LookupKey::AccessKeyId => field("/userIdentity/accessKeyId") == want,
        LookupKey::EventId => field("/eventID") == want,
        LookupKey::EventName => field("/eventName") == want,
        LookupKey::EventSource => field("/eventSource") == want,
        LookupKey::ReadOnly => field("/readOnly") == want,
        LookupKey::Username => {
            field("/userIdentity/userName")
                .or_else(|| field("/userIdentity/sessionContext/sessionIssuer/userName"))
                == want
        }
        LookupKey::ResourceName => resources()
            .iter()
            .any(|r| r.get("ARN").and_then(text) == want),
        LookupKey::ResourceType => resources()
            .iter()
            .any(|r| r.get("type").and_then(text) == want),
    }
}
