//! One CloudTrail event, reduced to what key lineage and the detections read.
//!
//! Parsing borrows from the input and keeps only the fields keywarden uses, so a large log is
//! read at memory-bandwidth speed. Anything optional in CloudTrail is optional here: absent
//! fields are `None`, never an empty string that would look like a value.

use crate::time::{parse_timestamp, Timestamp};
use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

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

// The wire shape, borrowed. Unknown fields are ignored; wrong types in fields keywarden does not
// need cannot fail a record because those fields are not declared.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Wire<'a> {
    #[serde(rename = "eventID", default, borrow)]
    event_id: Text<'a>,
    #[serde(default, borrow)]
    event_time: Text<'a>,
    /// Logstash / Elastic exports move `eventTime` to `@timestamp`.
    #[serde(rename = "@timestamp", default, borrow)]
    at_timestamp: Text<'a>,
    #[serde(default, borrow)]
    event_source: Text<'a>,
    #[serde(default, borrow)]
    event_name: Text<'a>,
    #[serde(default, borrow)]
    aws_region: Text<'a>,
    #[serde(rename = "sourceIPAddress", default, borrow)]
    source_ip_address: Text<'a>,
    #[serde(default, borrow)]
    user_agent: Text<'a>,
    #[serde(default, borrow)]
    error_code: Text<'a>,
    #[serde(default, borrow)]
    recipient_account_id: Text<'a>,
    #[serde(default, borrow)]
    user_identity: Obj<WireIdentity<'a>>,
    #[serde(default, borrow)]
    request_parameters: Obj<WireRequest<'a>>,
    #[serde(default, borrow)]
    response_elements: Obj<WireResponse<'a>>,
    #[serde(default, borrow)]
    additional_event_data: Obj<WireAdditional<'a>>,
    /// Exports wrap the CloudTrail event: EventBridge in `detail`, some tools in `event`.
    #[serde(default, borrow)]
    detail: Option<&'a serde_json::value::RawValue>,
    #[serde(default, borrow)]
    event: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireIdentity<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    arn: Text<'a>,
    #[serde(default, borrow)]
    account_id: Text<'a>,
    #[serde(default, borrow)]
    user_name: Text<'a>,
    #[serde(default, borrow)]
    access_key_id: Text<'a>,
    #[serde(default, borrow)]
    session_context: Obj<WireSessionContext<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSessionContext<'a> {
    #[serde(default, borrow)]
    attributes: Obj<WireAttributes<'a>>,
    #[serde(default, borrow)]
    session_issuer: Obj<WireIssuer<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAttributes<'a> {
    #[serde(default, borrow)]
    mfa_authenticated: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireIssuer<'a> {
    #[serde(default, borrow)]
    user_name: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    #[serde(default, borrow)]
    user_name: Text<'a>,
    #[serde(default, borrow)]
    access_key_id: Text<'a>,
    #[serde(default, borrow)]
    status: Text<'a>,
    #[serde(default, borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    trail_name: Text<'a>,
    #[serde(default)]
    is_multi_region_trail: Flag,
    #[serde(default)]
    include_global_service_events: Flag,
    #[serde(default, borrow)]
    event_selectors: List<WireSelector<'a>>,
    advanced_event_selectors: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSelector<'a> {
    #[serde(default, borrow)]
    read_write_type: Text<'a>,
    #[serde(default)]
    include_management_events: Flag,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse<'a> {
    #[serde(default, borrow)]
    access_key: Obj<WireAccessKey<'a>>,
    #[serde(default, borrow)]
    credentials: Obj<WireCredentials<'a>>,
    #[serde(rename = "ConsoleLogin", default, borrow)]
    console_login: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAccessKey<'a> {
    #[serde(default, borrow)]
    access_key_id: Text<'a>,
    #[serde(default, borrow)]
    user_name: Text<'a>,
    #[serde(default, borrow)]
    status: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCredentials<'a> {
    #[serde(default, borrow)]
    access_key_id: Text<'a>,
}

#[derive(Deserialize)]
struct WireAdditional<'a> {
    #[serde(rename = "MFAUsed", default, borrow)]
    mfa_used: Text<'a>,
}

/// The visitor methods that read every scalar JSON type as "absent" (`$absent`).
macro_rules! scalars_are_absent {
    ($absent:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($absent)
        }
    };
}

/// The visitor methods that skip a whole array or object and read it as `$absent`.
macro_rules! containers_are_absent {
    ($absent:expr) => {
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($absent)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($absent)
        }
    };
}

/// A string field that reads as absent when the event holds another JSON type there: services
/// reuse parameter names with other shapes, and that must not cost keywarden the whole event.
#[derive(Debug, Default)]
struct Text<'a>(Option<Cow<'a, str>>);

/// A boolean field, also accepting `"true"`/`"false"` strings; other types read as absent.
#[derive(Debug, Default, Clone, Copy)]
struct Flag(Option<bool>);

/// A list of objects; a list with other elements, and anything but an array, reads as absent.
#[derive(Debug)]
struct List<T>(Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // A list holding anything but objects is not the list keywarden knows: read it
                // as absent rather than judge from the part that looked right.
                let mut items = Vec::new();
                let mut foreign = false;
                while let Some(item) = seq.next_element::<Obj<T>>()? {
                    match item.0 {
                        Some(item) => items.push(item),
                        None => foreign = true,
                    }
                }
                Ok(List((!foreign).then_some(items)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(List(None))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            scalars_are_absent!(List(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A nested object; any other JSON type (a string, an array, null) reads as absent.
#[derive(Debug)]
struct Obj<T>(Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            scalars_are_absent!(Text(None));
            containers_are_absent!(Text(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Flag(Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Flag(match v {
                    "true" | "True" | "TRUE" => Some(true),
                    "false" | "False" | "FALSE" => Some(false),
                    _ => None,
                }))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Flag(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Flag(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Flag(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Flag(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Flag(None))
            }
            containers_are_absent!(Flag(None));
        }
        d.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Obj(None))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            scalars_are_absent!(Obj(None));
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Decodes one event from its JSON text.
pub fn parse_event(json: &str) -> Result<Event, EventError> {
    let wire: Wire<'_> =
        serde_json::from_str(json).map_err(|e| EventError::NotJson(e.to_string()))?;
    from_wire(wire, json)
}

/// An id for an event that lacks `eventID` (documentation examples do): a hash of its text, so
/// exact duplicates still collapse.
fn synthetic_event_id(json: &str) -> String {
    // FNV-1a: stable across Rust releases, unlike the std hasher.
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("no-event-id-{hash:016x}")
}

pub(super) fn from_wire(w: Wire<'_>, json: &str) -> Result<Event, EventError> {
    let mut event = spare_event();
    from_wire_into(w, json, &mut event)?;
    Ok(event)
}

/// An event to decode into with [`from_wire_into`]: a recycled one if there is one.
pub(super) fn spare_event() -> Event {
    SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_else(blank)
}

/// An event with nothing in it, to be filled by [`from_wire_into`] (which sets every field).
fn blank() -> Event {
    Event {
        event_id: String::new(),
        event_time: Timestamp::UNIX_EPOCH,
        event_source: String::new(),
        event_name: String::new(),
        region: None,
        source_ip: None,
        user_agent: None,
        error_code: None,
        recipient_account_id: None,
        identity: Identity::default(),
        target_user: None,
        request_key: KeyRef::default(),
        created_key: KeyRef::default(),
        minted_key: None,
        console_login: None,
        mfa_used: None,
        trail: TrailChange::default(),
    }
}

// Events handed back with [`recycle`]: their strings' allocations are reused by the next events
// decoded on the same thread. A reader parses some fifteen strings per event; the system
// allocator's malloc and free were a fifth of `keywarden trail`'s time without this.
thread_local! {
    static SPARE: std::cell::RefCell<Vec<Event>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// At most this many events wait for reuse per thread.
const SPARE_MAX: usize = 4096;

/// Hands events that are no longer needed to this thread's reuse pool (up to a few thousand; the
/// rest are dropped), so that the events decoded next on this thread reuse their allocations.
/// Decoding gives the same events either way.
pub fn recycle(events: &mut Vec<Event>) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        let room = SPARE_MAX.saturating_sub(spare.len()).min(events.len());
        spare.extend(events.drain(..room));
    });
    events.clear();
}

/// A string field, absent when empty (what [`owned`] keeps).
fn text<'t>(t: &'t Text<'_>) -> Option<&'t str> {
    t.0.as_deref().filter(|s| !s.is_empty())
}

/// `*slot = value.map(str::to_owned)`, reusing the slot's allocation.
fn put(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (None, Some(v)) => *slot = Some(v.to_owned()),
        (_, None) => *slot = None,
    }
}

fn put_string(slot: &mut String, value: &str) {
    slot.clear();
    slot.push_str(value);
}

/// Decodes `w` (read from `json`) into `e`, setting every field; on error `e` is left half
/// filled and must not be used.
pub(super) fn from_wire_into(w: Wire<'_>, json: &str, e: &mut Event) -> Result<(), EventError> {
    if w.event_time.0.is_none() && w.at_timestamp.0.is_none() && w.event_name.0.is_none() {
        if let Some(inner) = w.detail.or(w.event) {
            let inner = inner.get();
            let wire: Wire<'_> =
                serde_json::from_str(inner).map_err(|e| EventError::NotJson(e.to_string()))?;
            return from_wire_into(wire, inner, e);
        }
    }
    let time_text = w
        .event_time
        .0
        .as_deref()
        .or(w.at_timestamp.0.as_deref())
        .ok_or(EventError::Missing("eventTime"))?;
    e.event_time =
        parse_timestamp(time_text).ok_or_else(|| EventError::BadTime(time_text.to_string()))?;
    match text(&w.event_id) {
        Some(id) => put_string(&mut e.event_id, id),
        None => e.event_id = synthetic_event_id(json),
    }
    let event_name = text(&w.event_name).ok_or(EventError::Missing("eventName"))?;
    let event_source = text(&w.event_source).ok_or(EventError::Missing("eventSource"))?;
    put_string(&mut e.event_name, event_name);
    put_string(&mut e.event_source, event_source);
    let identity = &mut e.identity;
    match &w.user_identity.0 {
        Some(i) => {
            let (mfa, issuer) = match &i.session_context.0 {
                Some(ctx) => (
                    ctx.attributes
                        .0
                        .as_ref()
                        .and_then(|a| a.mfa_authenticated.0.as_deref())
                        .map(|m| m.eq_ignore_ascii_case("true")),
                    ctx.session_issuer
                        .0
                        .as_ref()
                        .and_then(|s| text(&s.user_name)),
                ),
                None => (None, None),
            };
            put(&mut identity.kind, text(&i.kind));
            put(&mut identity.arn, text(&i.arn));
            put(&mut identity.account_id, text(&i.account_id));
            put(&mut identity.user_name, text(&i.user_name));
            put(&mut identity.access_key_id, text(&i.access_key_id));
            identity.mfa_authenticated = mfa;
            put(&mut identity.session_issuer, issuer);
        }
        None => {
            for slot in [
                &mut identity.kind,
                &mut identity.arn,
                &mut identity.account_id,
                &mut identity.user_name,
                &mut identity.access_key_id,
                &mut identity.session_issuer,
            ] {
                *slot = None;
            }
            identity.mfa_authenticated = None;
        }
    }
    match &w.request_parameters.0 {
        Some(r) => {
            let keeps_management_writes = r.event_selectors.0.as_ref().map(|selectors| {
                selectors.iter().any(|s| {
                    s.include_management_events.0.unwrap_or(true)
                        && s.read_write_type.0.as_deref() != Some("ReadOnly")
                })
            });
            let keeps_management_writes = if r.advanced_event_selectors.is_some() {
                // Advanced selectors are too varied to judge here; do not claim a removal.
                None
            } else {
                keeps_management_writes
            };
            put(&mut e.target_user, text(&r.user_name));
            put(&mut e.request_key.access_key_id, text(&r.access_key_id));
            e.request_key.user_name = None;
            put(&mut e.request_key.status, text(&r.status));
            put(
                &mut e.trail.name,
                text(&r.name).or_else(|| text(&r.trail_name)),
            );
            e.trail.is_multi_region = r.is_multi_region_trail.0;
            e.trail.include_global_service_events = r.include_global_service_events.0;
            e.trail.keeps_management_writes = keeps_management_writes;
        }
        None => {
            e.target_user = None;
            e.request_key = KeyRef::default();
            e.trail = TrailChange::default();
        }
    }
    match &w.response_elements.0 {
        Some(r) => {
            match &r.access_key.0 {
                Some(k) => {
                    put(&mut e.created_key.access_key_id, text(&k.access_key_id));
                    put(&mut e.created_key.user_name, text(&k.user_name));
                    put(&mut e.created_key.status, text(&k.status));
                }
                None => e.created_key = KeyRef::default(),
            }
            put(
                &mut e.minted_key,
                r.credentials
                    .0
                    .as_ref()
                    .and_then(|c| text(&c.access_key_id)),
            );
            put(&mut e.console_login, text(&r.console_login));
        }
        None => {
            e.created_key = KeyRef::default();
            e.minted_key = None;
            e.console_login = None;
        }
    }
    put(&mut e.region, text(&w.aws_region));
    put(&mut e.source_ip, text(&w.source_ip_address));
    put(&mut e.user_agent, text(&w.user_agent));
    put(&mut e.error_code, text(&w.error_code));
    put(&mut e.recipient_account_id, text(&w.recipient_account_id));
    put(
        &mut e.mfa_used,
        w.additional_event_data
            .0
            .as_ref()
            .and_then(|a| text(&a.mfa_used)),
    );
    Ok(())
}
