//! The fast decoder: an event's JSON decoded straight into a (recycled) [`Event`] as it is read,
//! the same fields as `wire.rs`'s `Wire` + `from_wire_into` without building a `Wire` first. `Wire`
//! stays the reference: on anything this decoder is not sure of (an error of any kind, including
//! the duplicate fields serde's derive rejects, an escaped key, an event written as an array) it
//! gives up ([`Unsure`]) and the record is decoded again with `Wire`, so events and errors (with
//! their messages) are exactly `Wire`'s. Why it exists: BENCHMARKS.md, the trail's item 9.

use super::event::{Event, EventError};
use super::pool::{blank, clear, put, put_string, SPARE};
use super::wire::{
    decode_into_with_wire, scalars_are_absent, synthetic_event_id, text, Flag, List, Text,
    WireSelector,
};
use crate::time::parse_timestamp;
use serde::de::{self, DeserializeSeed, IgnoredAny, Visitor};
use serde::Deserialize;

/// The in-place decoder gave up: decode the record with `Wire` instead.
#[derive(Debug)]
pub(super) struct Unsure;

/// The `Option<String>` fields of an [`Event`] the decoder writes (a bit each in
/// [`Found::written`]); those a record does not set are cleared at the end.
#[derive(Clone, Copy)]
enum Slot {
    Kind,
    Arn,
    AccountId,
    UserName,
    AccessKeyId,
    SessionIssuer,
    TargetUser,
    RequestKeyId,
    RequestKeyStatus,
    CreatedKeyId,
    CreatedKeyUser,
    CreatedKeyStatus,
    MintedKey,
    ConsoleLogin,
    MfaUsed,
    Region,
    SourceIp,
    UserAgent,
    ErrorCode,
    RecipientAccountId,
}

const SLOTS: [Slot; 20] = [
    Slot::Kind,
    Slot::Arn,
    Slot::AccountId,
    Slot::UserName,
    Slot::AccessKeyId,
    Slot::SessionIssuer,
    Slot::TargetUser,
    Slot::RequestKeyId,
    Slot::RequestKeyStatus,
    Slot::CreatedKeyId,
    Slot::CreatedKeyUser,
    Slot::CreatedKeyStatus,
    Slot::MintedKey,
    Slot::ConsoleLogin,
    Slot::MfaUsed,
    Slot::Region,
    Slot::SourceIp,
    Slot::UserAgent,
    Slot::ErrorCode,
    Slot::RecipientAccountId,
];

fn slot(e: &mut Event, slot: Slot) -> &mut Option<String> {
    match slot {
        Slot::Kind => &mut e.identity.kind,
        Slot::Arn => &mut e.identity.arn,
        Slot::AccountId => &mut e.identity.account_id,
        Slot::UserName => &mut e.identity.user_name,
        Slot::AccessKeyId => &mut e.identity.access_key_id,
        Slot::SessionIssuer => &mut e.identity.session_issuer,
        Slot::TargetUser => &mut e.target_user,
        Slot::RequestKeyId => &mut e.request_key.access_key_id,
        Slot::RequestKeyStatus => &mut e.request_key.status,
        Slot::CreatedKeyId => &mut e.created_key.access_key_id,
        Slot::CreatedKeyUser => &mut e.created_key.user_name,
        Slot::CreatedKeyStatus => &mut e.created_key.status,
        Slot::MintedKey => &mut e.minted_key,
        Slot::ConsoleLogin => &mut e.console_login,
        Slot::MfaUsed => &mut e.mfa_used,
        Slot::Region => &mut e.region,
        Slot::SourceIp => &mut e.source_ip,
        Slot::UserAgent => &mut e.user_agent,
        Slot::ErrorCode => &mut e.error_code,
        Slot::RecipientAccountId => &mut e.recipient_account_id,
    }
}

/// What decoding found besides the strings it wrote into the event: what `from_wire_into`
/// decides from once the whole record is read.
#[derive(Default)]
pub(super) struct Found<'de> {
    /// The [`Slot`]s written, a bit each.
    written: u32,
    event_time: Text<'de>,
    at_timestamp: Text<'de>,
    /// `eventName` was a string (an empty one included).
    name_is_text: bool,
    has_event_id: bool,
    has_event_name: bool,
    has_event_source: bool,
    mfa_authenticated: Option<bool>,
    trail_name_field: Text<'de>,
    trail_trail_name: Text<'de>,
    is_multi_region: Option<bool>,
    include_global_service_events: Option<bool>,
    keeps_management_writes: Option<bool>,
    advanced_event_selectors: bool,
    detail: Option<&'de serde_json::value::RawValue>,
    event: Option<&'de serde_json::value::RawValue>,
}

/// The objects the decoder knows, each with its own fields (`Wire` and its nested structs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Identity,
    SessionContext,
    Attributes,
    Issuer,
    Request,
    Response,
    AccessKey,
    Credentials,
    Additional,
}

/// A field of one of the [`Level`]s (at most 64 in all: a bit each for duplicates).
#[derive(Clone, Copy)]
enum Field {
    EventId,
    EventTime,
    AtTimestamp,
    EventSource,
    EventName,
    AwsRegion,
    SourceIp,
    UserAgent,
    ErrorCode,
    RecipientAccountId,
    UserIdentity,
    RequestParameters,
    ResponseElements,
    AdditionalEventData,
    Detail,
    Event,
    IdType,
    IdArn,
    IdAccountId,
    IdUserName,
    IdAccessKeyId,
    IdSessionContext,
    CtxAttributes,
    CtxSessionIssuer,
    MfaAuthenticated,
    IssuerUserName,
    ReqUserName,
    ReqAccessKeyId,
    ReqStatus,
    ReqName,
    ReqTrailName,
    ReqIsMultiRegionTrail,
    ReqIncludeGlobalServiceEvents,
    ReqEventSelectors,
    ReqAdvancedEventSelectors,
    RespAccessKey,
    RespCredentials,
    RespConsoleLogin,
    KeyAccessKeyId,
    KeyUserName,
    KeyStatus,
    CredAccessKeyId,
    MfaUsed,
}

/// The field `key` names at `level`, as serde's derive matches names (exactly).
fn field_of(level: Level, key: &str) -> Option<Field> {
    use Field::*;
    // By level first: most keys of an event are ones keywarden does not read.
    Some(match level {
        Level::Top => match key {
            "eventID" => EventId,
            "eventTime" => EventTime,
            "@timestamp" => AtTimestamp,
            "eventSource" => EventSource,
            "eventName" => EventName,
            "awsRegion" => AwsRegion,
            "sourceIPAddress" => SourceIp,
            "userAgent" => UserAgent,
            "errorCode" => ErrorCode,
            "recipientAccountId" => RecipientAccountId,
            "userIdentity" => UserIdentity,
            "requestParameters" => RequestParameters,
            "responseElements" => ResponseElements,
            "additionalEventData" => AdditionalEventData,
            "detail" => Detail,
            "event" => Event,
            _ => return None,
        },
        Level::Identity => match key {
            "type" => IdType,
            "arn" => IdArn,
            "accountId" => IdAccountId,
            "userName" => IdUserName,
            "accessKeyId" => IdAccessKeyId,
            "sessionContext" => IdSessionContext,
            _ => return None,
        },
        Level::SessionContext => match key {
            "attributes" => CtxAttributes,
            "sessionIssuer" => CtxSessionIssuer,
            _ => return None,
        },
        Level::Attributes => match key {
            "mfaAuthenticated" => MfaAuthenticated,
            _ => return None,
        },
        Level::Issuer => match key {
            "userName" => IssuerUserName,
            _ => return None,
        },
        Level::Request => match key {
            "userName" => ReqUserName,
            "accessKeyId" => ReqAccessKeyId,
            "status" => ReqStatus,
            "name" => ReqName,
            "trailName" => ReqTrailName,
            "isMultiRegionTrail" => ReqIsMultiRegionTrail,
            "includeGlobalServiceEvents" => ReqIncludeGlobalServiceEvents,
            "eventSelectors" => ReqEventSelectors,
            "advancedEventSelectors" => ReqAdvancedEventSelectors,
            _ => return None,
        },
        Level::Response => match key {
            "accessKey" => RespAccessKey,
            "credentials" => RespCredentials,
            "ConsoleLogin" => RespConsoleLogin,
            _ => return None,
        },
        Level::AccessKey => match key {
            "accessKeyId" => KeyAccessKeyId,
            "userName" => KeyUserName,
            "status" => KeyStatus,
            _ => return None,
        },
        Level::Credentials => match key {
            "accessKeyId" => CredAccessKeyId,
            _ => return None,
        },
        Level::Additional => match key {
            "MFAUsed" => MfaUsed,
            _ => return None,
        },
    })
}

/// The event being decoded and what was found so far.
struct State<'s, 'de> {
    event: &'s mut Event,
    found: Found<'de>,
}

impl<'de> State<'_, 'de> {
    /// A string field into its slot, absent when empty or not a string (what `put(text(..))`
    /// does in `from_wire_into`).
    fn text<A: de::MapAccess<'de>>(&mut self, at: Slot, map: &mut A) -> Result<(), A::Error> {
        let value: Text<'de> = map.next_value()?;
        put(slot(self.event, at), text(&value));
        self.found.written |= 1 << at as u32;
        Ok(())
    }

    /// A required string field into `String` slot; whether it was a non-empty string.
    fn required<A: de::MapAccess<'de>>(
        target: &mut String,
        map: &mut A,
    ) -> Result<(bool, bool), A::Error> {
        let value: Text<'de> = map.next_value()?;
        let is_text = value.0.is_some();
        Ok(match text(&value) {
            Some(v) => {
                put_string(target, v);
                (is_text, true)
            }
            None => (is_text, false),
        })
    }

    fn read<A: de::MapAccess<'de>>(&mut self, field: Field, map: &mut A) -> Result<(), A::Error> {
        use Field::*;
        let found = &mut self.found;
        match field {
            EventId => found.has_event_id = Self::required(&mut self.event.event_id, map)?.1,
            EventTime => found.event_time = map.next_value()?,
            AtTimestamp => found.at_timestamp = map.next_value()?,
            EventSource => {
                found.has_event_source = Self::required(&mut self.event.event_source, map)?.1
            }
            EventName => {
                (found.name_is_text, found.has_event_name) =
                    Self::required(&mut self.event.event_name, map)?
            }
            AwsRegion => self.text(Slot::Region, map)?,
            SourceIp => self.text(Slot::SourceIp, map)?,
            UserAgent => self.text(Slot::UserAgent, map)?,
            ErrorCode => self.text(Slot::ErrorCode, map)?,
            RecipientAccountId => self.text(Slot::RecipientAccountId, map)?,
            UserIdentity => self.object(Level::Identity, map)?,
            RequestParameters => self.object(Level::Request, map)?,
            ResponseElements => self.object(Level::Response, map)?,
            AdditionalEventData => self.object(Level::Additional, map)?,
            Detail => found.detail = map.next_value()?,
            Event => found.event = map.next_value()?,
            IdType => self.text(Slot::Kind, map)?,
            IdArn => self.text(Slot::Arn, map)?,
            IdAccountId => self.text(Slot::AccountId, map)?,
            IdUserName => self.text(Slot::UserName, map)?,
            IdAccessKeyId => self.text(Slot::AccessKeyId, map)?,
            IdSessionContext => self.object(Level::SessionContext, map)?,
            CtxAttributes => self.object(Level::Attributes, map)?,
            CtxSessionIssuer => self.object(Level::Issuer, map)?,
            MfaAuthenticated => {
                let value: Text<'de> = map.next_value()?;
                found.mfa_authenticated =
                    value.0.as_deref().map(|m| m.eq_ignore_ascii_case("true"));
            }
            IssuerUserName => self.text(Slot::SessionIssuer, map)?,
            ReqUserName => self.text(Slot::TargetUser, map)?,
            ReqAccessKeyId => self.text(Slot::RequestKeyId, map)?,
            ReqStatus => self.text(Slot::RequestKeyStatus, map)?,
            ReqName => found.trail_name_field = map.next_value()?,
            ReqTrailName => found.trail_trail_name = map.next_value()?,
            ReqIsMultiRegionTrail => found.is_multi_region = map.next_value::<Flag>()?.0,
            ReqIncludeGlobalServiceEvents => {
                found.include_global_service_events = map.next_value::<Flag>()?.0
            }
            ReqEventSelectors => {
                let selectors: List<WireSelector<'de>> = map.next_value()?;
                found.keeps_management_writes = selectors.0.as_ref().map(|selectors| {
                    selectors.iter().any(|s| {
                        s.include_management_events.0.unwrap_or(true)
                            && s.read_write_type.0.as_deref() != Some("ReadOnly")
                    })
                });
            }
            ReqAdvancedEventSelectors => {
                found.advanced_event_selectors = map.next_value::<Option<IgnoredAny>>()?.is_some()
            }
            RespAccessKey => self.object(Level::AccessKey, map)?,
            RespCredentials => self.object(Level::Credentials, map)?,
            RespConsoleLogin => self.text(Slot::ConsoleLogin, map)?,
            KeyAccessKeyId => self.text(Slot::CreatedKeyId, map)?,
            KeyUserName => self.text(Slot::CreatedKeyUser, map)?,
            KeyStatus => self.text(Slot::CreatedKeyStatus, map)?,
            CredAccessKeyId => self.text(Slot::MintedKey, map)?,
            MfaUsed => self.text(Slot::MfaUsed, map)?,
        }
        Ok(())
    }

    /// A nested object, read as `Obj` reads it: any other JSON type is absent.
    fn object<A: de::MapAccess<'de>>(&mut self, level: Level, map: &mut A) -> Result<(), A::Error> {
        map.next_value_seed(Object { state: self, level })
    }

    /// The fields of an object at `level`; a repeated known field is an error, as in serde's
    /// derive (the caller then decodes the record with `Wire`, which reports it).
    fn fields<A: de::MapAccess<'de>>(&mut self, level: Level, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u64;
        // Keys are borrowed from the input; an escaped key cannot be, which is an error here
        // and makes the caller decode the record with `Wire`.
        while let Some(key) = map.next_key::<&'de str>()? {
            match field_of(level, key) {
                Some(field) => {
                    let bit = 1u64 << field as u32;
                    if seen & bit != 0 {
                        return Err(de::Error::custom("duplicate field"));
                    }
                    seen |= bit;
                    self.read(field, &mut map)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A nested object at `level` (`Obj`'s visitor, reading the fields in place).
struct Object<'t, 's, 'de> {
    state: &'t mut State<'s, 'de>,
    level: Level,
}

impl<'de> DeserializeSeed<'de> for Object<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Object<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.state.fields(self.level, map)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    scalars_are_absent!(());
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// The top-level event object, decoded into `state`.
struct Top<'t, 's, 'de>(&'t mut State<'s, 'de>);

impl<'de> Visitor<'de> for Top<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CloudTrail event object")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.fields(Level::Top, map)
    }
}

/// Decodes one event object from `d` into `event`; the rest is up to [`finish`].
fn decode<'de, D: serde::Deserializer<'de>>(
    d: D,
    event: &mut Event,
) -> Result<Found<'de>, D::Error> {
    let mut state = State {
        event,
        found: Found::default(),
    };
    d.deserialize_map(Top(&mut state))?;
    Ok(state.found)
}

/// Decoding from a stream (the reader's `{"Records":[...]}` fast path, which needs the
/// stream's offsets, so a `Deserialize` type): into the last event of this thread's reuse
/// pool, where it stays, not moved, until the caller takes it with `pool::spare_event` and
/// completes it with [`finish`]. On an error the event stays in the pool (every field is set
/// again by the next decode).
impl<'de> Deserialize<'de> for Found<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SPARE.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.is_empty() {
                spare.push(blank());
            }
            match spare.last_mut() {
                Some(event) => decode(d, event),
                None => Err(de::Error::custom("no event to decode into")),
            }
        })
    }
}

/// Completes `event` from what [`decode`] found in the record `json`: what `from_wire_into`
/// does after the parse, with the same checks in the same order.
pub(super) fn finish(
    found: Found<'_>,
    json: &str,
    e: &mut Event,
) -> Result<Result<(), EventError>, Unsure> {
    if found.event_time.0.is_none() && found.at_timestamp.0.is_none() && !found.name_is_text {
        if let Some(inner) = found.detail.or(found.event) {
            return decode_str(inner.get(), e);
        }
    }
    let Some(time_text) = found
        .event_time
        .0
        .as_deref()
        .or(found.at_timestamp.0.as_deref())
    else {
        return Ok(Err(EventError::Missing("eventTime")));
    };
    match parse_timestamp(time_text) {
        Some(t) => e.event_time = t,
        None => return Ok(Err(EventError::BadTime(time_text.to_string()))),
    }
    if !found.has_event_id {
        e.event_id = synthetic_event_id(json);
    }
    if !found.has_event_name {
        return Ok(Err(EventError::Missing("eventName")));
    }
    if !found.has_event_source {
        return Ok(Err(EventError::Missing("eventSource")));
    }
    for at in SLOTS {
        if found.written & (1 << at as u32) == 0 {
            clear(slot(e, at));
        }
    }
    e.identity.mfa_authenticated = found.mfa_authenticated;
    e.request_key.user_name = None;
    put(
        &mut e.trail.name,
        text(&found.trail_name_field).or_else(|| text(&found.trail_trail_name)),
    );
    e.trail.is_multi_region = found.is_multi_region;
    e.trail.include_global_service_events = found.include_global_service_events;
    // Advanced selectors are too varied to judge here; do not claim a removal.
    e.trail.keeps_management_writes = if found.advanced_event_selectors {
        None
    } else {
        found.keeps_management_writes
    };
    Ok(Ok(()))
}

/// Decodes the event `json` (one JSON value, nothing after it but whitespace) into `e`.
fn decode_str(json: &str, e: &mut Event) -> Result<Result<(), EventError>, Unsure> {
    let mut d = serde_json::Deserializer::from_str(json);
    let found = decode(&mut d, e).map_err(|_| Unsure)?;
    d.end().map_err(|_| Unsure)?;
    finish(found, json, e)
}

/// Decodes `json` into `e` as `Wire` + `from_wire_into` would, in place when it can.
pub(super) fn decode_into(json: &str, e: &mut Event) -> Result<(), EventError> {
    match decode_str(json, e) {
        Ok(result) => result,
        Err(Unsure) => decode_into_with_wire(json, e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::pool::spare_event;
    use super::*;

    /// An event with every field set, to decode into: a recycled event must not keep anything.
    fn dirty() -> Event {
        let json = r#"{"eventID":"old","eventTime":"2020-01-01T00:00:00Z","eventSource":"iam.amazonaws.com",
            "eventName":"Old","awsRegion":"r","sourceIPAddress":"1.2.3.4","userAgent":"ua","errorCode":"E",
            "recipientAccountId":"1","userIdentity":{"type":"IAMUser","arn":"a","accountId":"1","userName":"u",
            "accessKeyId":"AKIAOLD","sessionContext":{"attributes":{"mfaAuthenticated":"true"},
            "sessionIssuer":{"userName":"i"}}},"requestParameters":{"userName":"t","accessKeyId":"AKIAX",
            "status":"Active","name":"n","trailName":"tn","isMultiRegionTrail":true,
            "includeGlobalServiceEvents":false,"eventSelectors":[{"readWriteType":"All"}]},
            "responseElements":{"accessKey":{"accessKeyId":"AKIAY","userName":"v","status":"Active"},
            "credentials":{"accessKeyId":"ASIAZ"},"ConsoleLogin":"Success"},
            "additionalEventData":{"MFAUsed":"No"}}"#;
        let mut e = blank();
        decode_into_with_wire(json, &mut e).expect("a full event");
        e
    }

    fn by_wire(json: &str, mut e: Event) -> Result<Event, EventError> {
        decode_into_with_wire(json, &mut e).map(|()| e)
    }

    fn in_place(json: &str, mut e: Event) -> Result<Event, EventError> {
        decode_into(json, &mut e).map(|()| e)
    }

    fn same(json: &str) {
        let expected = by_wire(json, blank());
        assert_eq!(in_place(json, blank()), expected, "{json}");
        assert_eq!(
            in_place(json, dirty()),
            expected,
            "{json} (into a used event)"
        );
        // The Records fast path: decoded from a stream, then finished.
        let mut stream = serde_json::Deserializer::from_str(json).into_iter::<Found<'_>>();
        if let Some(Ok(found)) = stream.next() {
            let mut event = spare_event();
            let raw = &json[..stream.byte_offset()];
            let result = match finish(found, raw, &mut event) {
                Ok(result) => result,
                Err(Unsure) => decode_into_with_wire(raw, &mut event),
            };
            assert_eq!(
                result.map(|()| event),
                by_wire(raw, blank()),
                "{json} (stream)"
            );
        }
    }

    const BASE: &str = r#""eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey""#;

    #[test]
    fn decoding_in_place_gives_what_wire_gives() {
        let cases = [
            "{}".to_owned(),
            "[]".to_owned(),
            "null".to_owned(),
            "\"x\"".to_owned(),
            "1".to_owned(),
            "{".to_owned(),
            format!("{{{BASE}}}"),
            format!("{{{BASE}}} x"),
            format!("{{{BASE}}}  \n"),
            format!("[\"2024-05-01T10:00:00Z\", \"x\", {BASE:?}]"),
            r#"{"eventTime":5,"@timestamp":"2024-05-01T10:00:00Z","eventSource":"s","eventName":"n"}"#.to_owned(),
            r#"{"eventTime":"","eventSource":"s","eventName":"n"}"#.to_owned(),
            r#"{"eventTime":"yesterday","eventSource":"s","eventName":"n"}"#.to_owned(),
            r#"{"eventTime":1e999,"eventSource":"s","eventName":"n"}"#.to_owned(),
            format!(r#"{{{BASE},"other":1e999}}"#),
            format!(r#"{{{BASE},"other":[1,{{"a":[{{}}]}}],"other":2}}"#),
            r#"{"eventTime":"2024-05-01T10:00:00Z","eventSource":"","eventName":"n"}"#.to_owned(),
            r#"{"eventTime":"2024-05-01T10:00:00Z","eventSource":"s","eventName":""}"#.to_owned(),
            r#"{"eventTime":"2024-05-01T10:00:00Z","eventSource":"s"}"#.to_owned(),
            r#"{"eventTime":"2024-05-01T10:00:00Z","eventName":"n"}"#.to_owned(),
            format!(r#"{{{BASE},"eventID":""}}"#),
            format!(r#"{{{BASE},"eventID":7}}"#),
            format!(r#"{{{BASE},"eventID":"a","eventID":"b"}}"#),
            format!(r#"{{{BASE},"eventName":"again"}}"#),
            format!(r#"{{{BASE},"userIdentity":{{"arn":"a","arn":"b"}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":[{{"readWriteType":"All","readWriteType":"x"}}]}}}}"#),
            format!(r#"{{{BASE},"event\u0049D":"escaped key"}}"#),
            format!(r#"{{{BASE},"userAgent":"a \"quoted\" \u00e9 agent","awsRegion":"\u0065u"}}"#),
            format!(r#"{{{BASE},"userIdentity":"IAMUser"}}"#),
            format!(r#"{{{BASE},"userIdentity":["IAMUser"]}}"#),
            format!(r#"{{{BASE},"userIdentity":null,"requestParameters":null,"responseElements":7}}"#),
            format!(r#"{{{BASE},"userIdentity":{{"type":"AssumedRole","arn":"","accessKeyId":5,"sessionContext":{{"attributes":{{"mfaAuthenticated":"TRUE"}},"sessionIssuer":{{"userName":"role"}}}}}}}}"#),
            format!(r#"{{{BASE},"userIdentity":{{"sessionContext":{{"attributes":{{"mfaAuthenticated":""}}}}}}}}"#),
            format!(r#"{{{BASE},"userIdentity":{{"sessionContext":{{"attributes":{{"mfaAuthenticated":false}}}}}}}}"#),
            format!(r#"{{{BASE},"userIdentity":{{"sessionContext":"x"}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"name":"","trailName":"t","isMultiRegionTrail":"True","includeGlobalServiceEvents":1}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"name":"n","isMultiRegionTrail":{{}},"includeGlobalServiceEvents":"maybe"}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":[]}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":[{{"readWriteType":"ReadOnly"}},{{"includeManagementEvents":false}}]}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":[{{"readWriteType":"All"}},3]}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":{{"a":1}},"advancedEventSelectors":null}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"eventSelectors":[{{}}],"advancedEventSelectors":[]}}}}"#),
            format!(r#"{{{BASE},"requestParameters":{{"advancedEventSelectors":1,"advancedEventSelectors":2}}}}"#),
            format!(r#"{{{BASE},"responseElements":{{"accessKey":{{"accessKeyId":"AKIA1","status":"Active"}},"credentials":{{"accessKeyId":"ASIA1"}},"ConsoleLogin":"Failure"}}}}"#),
            format!(r#"{{{BASE},"responseElements":{{"accessKey":[],"credentials":null}},"additionalEventData":{{"MFAUsed":"Yes"}}}}"#),
            format!(r#"{{"detail":{{{BASE},"eventID":"inner"}},"eventID":"outer"}}"#),
            format!(r#"{{"event":{{{BASE}}},"detail":null}}"#),
            format!(r#"{{"detail":"text","event":{{{BASE}}}}}"#),
            format!(r#"{{"detail":{{{BASE}}},"eventName":5}}"#),
            format!(r#"{{"detail":{{{BASE}}},"eventName":""}}"#),
            r#"{"detail":{"eventName":"a","eventName":"b"}}"#.to_owned(),
            format!(r#"{{"detail":{{"detail":{{{BASE}}}}}}}"#),
            r#"{"detail":[1,2]}"#.to_owned(),
            format!(r#"{{"detail":{{{BASE}}},"detail":{{{BASE}}}}}"#),
        ];
        for case in &cases {
            same(case);
        }
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "a test reads the repository's event files"
    )]
    fn decoding_in_place_gives_what_wire_gives_on_the_shared_events() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![
            root.join("tests/cloudtrail/data"),
            root.join("../../../shared/data/cloudtrail"),
        ];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "json" || e == "jsonl")
                {
                    files.push(path);
                }
            }
        }
        let mut events = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let mut values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
                .into_iter()
                .flatten()
                .collect();
            let mut records = Vec::new();
            while let Some(value) = values.pop() {
                match value {
                    serde_json::Value::Array(items) => values.extend(items),
                    serde_json::Value::Object(mut o) if o.contains_key("Records") => {
                        values.push(o.remove("Records").unwrap_or_default())
                    }
                    other => records.push(other),
                }
            }
            for record in records {
                let json = record.to_string();
                same(&json);
                same(&format!(r#"{{"detail":{json}}}"#));
                same(&serde_json::to_string_pretty(&record).unwrap_or_default());
                events += 1;
            }
        }
        assert!(events > 20, "{events} events");
    }

    #[test]
    fn decoding_in_place_gives_what_wire_gives_on_damaged_events() {
        // Deterministic mutations (a byte removed, inserted or a span repeated) of a full event:
        // most are not JSON any more, the others are events of odd shapes.
        let base = r#"{"eventID":"id","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"UpdateAccessKey","awsRegion":"r","userIdentity":{"type":"IAMUser","arn":"a","userName":"u","accessKeyId":"AKIA1","sessionContext":{"attributes":{"mfaAuthenticated":"true"},"sessionIssuer":{"userName":"i"}}},"requestParameters":{"userName":"t","accessKeyId":"AKIA2","status":"Inactive","name":"n","isMultiRegionTrail":true,"eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]},"responseElements":{"accessKey":{"accessKeyId":"AKIA3","userName":"v","status":"Active"},"credentials":{"accessKeyId":"ASIA4"},"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"errorCode":"E","detail":{"eventTime":"2024-05-01T10:00:00Z"}}"#;
        let pieces: [&str; 12] = [
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "1",
            "null",
            "\\u0041",
            " ",
            "\"eventName\"",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut usable = 0;
        for _ in 0..20_000 {
            let mut text = base.to_owned();
            for _ in 0..1 + next(3) {
                let mut at = next(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match next(3) {
                    0 => {
                        let mut end = (at + 1 + next(8)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    1 => text.insert_str(at, pieces[next(pieces.len())]),
                    _ => {
                        let mut end = (at + next(40)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        let span = text[at..end].to_owned();
                        text.insert_str(end, &span);
                    }
                }
            }
            same(&text);
            usable += usize::from(by_wire(&text, blank()).is_ok());
        }
        assert!(usable > 1000, "{usable} usable events");
    }
}
