//! The reference decoder: CloudTrail's wire shape as serde's derive reads it, borrowed, and the
//! copy of a [`Wire`] into an [`Event`] ([`from_wire_into`]). It is lenient: unknown fields are
//! ignored, and a field keywarden reads that has an unexpected type reads as absent. The fast
//! decoder ([`super::decode`]) gives exactly its events and errors, and falls back to it on
//! anything it is not sure of.

use super::event::{Event, EventError, KeyRef, TrailChange};
use super::pool::{put, put_string};
use crate::time::parse_timestamp;
use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

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
pub(super) struct WireSelector<'a> {
    #[serde(default, borrow)]
    pub(super) read_write_type: Text<'a>,
    #[serde(default)]
    pub(super) include_management_events: Flag,
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
pub(super) use scalars_are_absent;

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
pub(super) struct Text<'a>(pub(super) Option<Cow<'a, str>>);

/// A boolean field, also accepting `"true"`/`"false"` strings; other types read as absent.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Flag(pub(super) Option<bool>);

/// A list of objects; a list with other elements, and anything but an array, reads as absent.
#[derive(Debug)]
pub(super) struct List<T>(pub(super) Option<Vec<T>>);

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

/// A string field, absent when empty (what the decoders keep).
pub(super) fn text<'t>(t: &'t Text<'_>) -> Option<&'t str> {
    t.0.as_deref().filter(|s| !s.is_empty())
}

/// An id for an event that lacks `eventID` (documentation examples do): a hash of its text, so
/// exact duplicates still collapse.
pub(super) fn synthetic_event_id(json: &str) -> String {
    // FNV-1a: stable across Rust releases, unlike the std hasher.
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("no-event-id-{hash:016x}")
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

/// The reference decoder: [`Wire`], then [`from_wire_into`].
pub(super) fn decode_into_with_wire(json: &str, e: &mut Event) -> Result<(), EventError> {
    let wire: Wire<'_> =
        serde_json::from_str(json).map_err(|e| EventError::NotJson(e.to_string()))?;
    from_wire_into(wire, json, e)
}
