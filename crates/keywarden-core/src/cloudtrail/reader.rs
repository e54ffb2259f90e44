//! Reads CloudTrail events from one decoded document, whatever its format: a CloudTrail log file
//! (`{"Records":[...]}`, usually on one line), a JSON array, one event per line, a single
//! (pretty-printed) event, or events wrapped by exporters (`detail`, `event`). The format is
//! detected, not declared.
//!
//! Each event is handed to a sink as soon as it is read, so a truncated document still yields
//! everything before the damage. A record that is not a usable event is reported with where it
//! was (line, or record number and byte offset) and why, and reading goes on. So is an event
//! longer than [`Limits::max_event_bytes`]: no real event comes near it, and its text is not
//! decoded. Input of any size is read from a stream in bounded memory by [`super::stream`].

use super::decode::{decode_into, finish, Found};
use super::event::{parse_event, Event, EventError};
use super::pool::spare_event;
use super::wire::decode_into_with_wire;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Where in a document a record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line, for one-event-per-line input.
    Line(u64),
    /// 1-based position in a `Records` or array document.
    Record(u64),
    /// Where a document stopped being valid JSON (1-based line and column).
    Position { line: u64, column: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(n) => write!(f, "record {n}"),
            Location::Position { line, column } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// One usable event and the JSON text it was read from (Sigma rules match on the whole event).
#[derive(Debug)]
pub struct Record<'r> {
    pub event: Event,
    pub raw: &'r str,
}

/// A record that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub origin: String,
    pub location: Location,
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.location, self.reason)
    }
}

/// What one record may cost. The default is documented in the README (`--max-event-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest event read, in bytes of JSON text (one line of a line-per-event file, one
    /// element of a `Records` array); a longer one is a bad record and is skipped unread.
    pub max_event_bytes: usize,
}

/// CloudTrail events are a few KB; the largest request and response fields bring them to tens
/// of KB. A MiB leaves room for any of them, and bounds what one record can hold in memory.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

impl Limits {
    /// Why a record of `len` bytes is not read, if it is too long.
    pub(super) fn refuse(&self, len: u64) -> Option<String> {
        (len > self.max_event_bytes as u64).then(|| {
            format!(
                "event of {len} bytes, longer than the maximum of {} (--max-event-size): skipped",
                self.max_event_bytes
            )
        })
    }
}

/// Reads every event of `document` into `sink`; `origin` names it in bad-record reports.
pub fn read_document(
    document: &[u8],
    origin: &str,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    read_document_limited(document, origin, Limits::default(), sink);
}

/// [`read_document`] with `limits` instead of the default ones.
pub fn read_document_limited(
    document: &[u8],
    origin: &str,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    let bad = |location, reason: String| BadRecord {
        origin: origin.to_owned(),
        location,
        reason,
    };
    let text = match std::str::from_utf8(document) {
        Ok(t) => t,
        Err(_) if is_line_oriented(document) => {
            // Damage in one line must not cost the others: check each line on its own.
            for (index, line) in document.split(|&b| b == b'\n').enumerate() {
                let number = index as u64 + 1;
                match std::str::from_utf8(line) {
                    Ok(text) => read_lines_limited(text, origin, number, limits, sink),
                    Err(_) => sink(Err(bad(Location::Line(number), "invalid UTF-8".into()))),
                }
            }
            return;
        }
        Err(e) => {
            // Keep what precedes the invalid bytes: a damaged tail must not cost the head.
            let valid = &document[..e.valid_up_to()];
            let line = 1 + super::stream::count_newlines(valid);
            read_text(
                std::str::from_utf8(valid).unwrap_or_default(),
                origin,
                limits,
                sink,
            );
            sink(Err(bad(
                Location::Position { line, column: 0 },
                "invalid UTF-8".into(),
            )));
            return;
        }
    };
    read_text(text, origin, limits, sink);
}

/// Whether a document (or its first chunk) holds one event per line.
pub fn is_line_oriented(document: &[u8]) -> bool {
    let text = match std::str::from_utf8(document) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&document[..e.valid_up_to()]).unwrap_or_default(),
    };
    is_line_oriented_text(text)
}

/// [`is_line_oriented`] for text already known to be UTF-8 (no second validation pass).
fn is_line_oriented_text(text: &str) -> bool {
    let trimmed = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    // The usual CloudTrail file is one line of several MB: find that out with a vectorized
    // search (the `split` below looks for the first newline a word at a time). Without a newline
    // followed by more than whitespace there is one non-empty line, and the answer is no.
    match memchr::memchr(b'\n', trimmed.as_bytes()) {
        None => return false,
        Some(at) if trimmed[at + 1..].trim().is_empty() => return false,
        Some(_) => {}
    }
    // Several lines, and among the first few at least one complete object on its own line: a
    // pretty-printed document has none, while a bad first line must not cost the others.
    let first_few: Vec<&str> = trimmed
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(8)
        .collect();
    trimmed.starts_with('{')
        && first_few.len() > 1
        && first_few
            .iter()
            .any(|l| l.starts_with('{') && serde_json::from_str::<IgnoredAny>(l).is_ok())
}

fn read_text(
    text: &str,
    origin: &str,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return;
    }
    if is_line_oriented_text(trimmed) {
        read_lines_limited(text, origin, 1, limits, sink);
    } else {
        read_values(text, origin, limits, sink);
    }
}

/// One event per line, for a chunk of a larger input whose first line is `first_line`: large
/// line-oriented inputs are read chunk by chunk, so memory does not grow with the input.
pub fn read_lines_from(
    text: &str,
    origin: &str,
    first_line: u64,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    read_lines_limited(text, origin, first_line, Limits::default(), sink);
}

/// [`read_lines_from`] with `limits` instead of the default ones.
pub fn read_lines_limited(
    text: &str,
    origin: &str,
    first_line: u64,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    for (index, line) in split_lines(text).enumerate() {
        let line_text = line.trim();
        if line_text.is_empty() {
            continue;
        }
        let location = Location::Line(first_line + index as u64);
        if let Some(reason) = limits.refuse(line_text.len() as u64) {
            sink(Err(BadRecord {
                origin: origin.to_owned(),
                location,
                reason,
            }));
            continue;
        }
        if line_text.starts_with('{') && line_text[1..].trim_start().starts_with("\"Records\"") {
            read_values(line_text, origin, limits, sink);
            continue;
        }
        let mut event = spare_event();
        let decoded = decode_into(line_text, &mut event);
        emit(decoded, event, line_text, origin, location, sink);
    }
}

/// `text.split('\n')`, the newlines found with memchr's vectorized search (std's is a word at a
/// time: 5 % of reading a line file, BENCHMARKS.md, issue 15).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            // `\n` is one byte and never inside a UTF-8 sequence: both ends are boundaries.
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// A whole document: a `Records` object, an array, or a stream of events, streamed element by
/// element so that damage late in the document keeps the events before it.
fn read_values(
    text: &str,
    origin: &str,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    let done = match read_records_file(text, origin, limits, sink) {
        Ok(()) => return,
        Err(done) => done,
    };
    // Anything else, or a document the fast path stopped in: read it all the general way,
    // without handing the sink again the records it already had.
    let mut skipped = 0;
    read_values_general(text, origin, limits, &mut |item| {
        if skipped < done {
            skipped += 1;
        } else {
            sink(item);
        }
    });
}

/// JSON's whitespace, as serde_json skips it.
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The fast path for what CloudTrail writes, `{"Records":[event,...]}`: each event is decoded
/// in place, in one pass, where the general path first finds its extent (a [`RawValue`]) and
/// then decodes that text again. Events and bad records are exactly the general path's.
///
/// Returns `Err(n)` when the document is not that shape, or stops being valid where it is (a
/// syntax error, an element that is not an event object, more members after `Records`,
/// anything after the closing brace): `n` records went to the sink, and the caller reads the
/// document again the general way, skipping them, so that errors and their positions are the
/// general path's.
fn read_records_file(
    text: &str,
    origin: &str,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) -> Result<(), u64> {
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    for expected in [&b"{"[..], b"\"Records\"", b":", b"["] {
        if !bytes[at..].starts_with(expected) {
            return Err(0);
        }
        at = skip_whitespace(bytes, at + expected.len());
    }
    let mut counter = 0u64;
    if bytes.get(at) == Some(&b']') {
        at += 1;
    } else {
        loop {
            let mut stream =
                serde_json::Deserializer::from_str(&text[at..]).into_iter::<Found<'_>>();
            let found = match stream.next() {
                Some(Ok(found)) => found,
                _ => return Err(counter),
            };
            // The event `found` describes, decoded in place in the reuse pool.
            let mut event = spare_event();
            let raw = &text[at..at + stream.byte_offset()];
            counter += 1;
            let decoded = finish_event(found, raw, limits, &mut event);
            emit(decoded, event, raw, origin, Location::Record(counter), sink);
            at = skip_whitespace(bytes, at + raw.len());
            match bytes.get(at) {
                Some(b',') => at = skip_whitespace(bytes, at + 1),
                Some(b']') => {
                    at += 1;
                    break;
                }
                _ => return Err(counter),
            }
        }
    }
    at = skip_whitespace(bytes, at);
    if bytes.get(at) != Some(&b'}') || skip_whitespace(bytes, at + 1) != bytes.len() {
        return Err(counter);
    }
    Ok(())
}

/// Completes the event the fast decoder found in `raw` (see [`finish`]), or says why it is not
/// one: too long, or not a usable event.
pub(super) fn finish_event(
    found: Found<'_>,
    raw: &str,
    limits: Limits,
    event: &mut Event,
) -> Result<(), Refused> {
    if let Some(reason) = limits.refuse(raw.len() as u64) {
        return Err(Refused::Limit(reason));
    }
    match finish(found, raw, event) {
        Ok(result) => result.map_err(Refused::Event),
        // The decoder gave up on a wrapped event: decode the record as the general path would.
        Err(_) => decode_into_with_wire(raw, event).map_err(Refused::Event),
    }
}

/// Why a record gives no event.
#[derive(Debug)]
pub(super) enum Refused {
    Event(EventError),
    /// Longer than [`Limits::max_event_bytes`], with the reason.
    Limit(String),
}

impl From<EventError> for Refused {
    fn from(e: EventError) -> Self {
        Refused::Event(e)
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Event(e) => e.fmt(f),
            Refused::Limit(reason) => f.write_str(reason),
        }
    }
}

/// Hands one decoded event (or why the record is not one) to the sink. Events are decoded in
/// place, in a recycled one when there is one (see `event::decode_into`): an `Event` is some
/// 600 bytes, and every move of it is a copy.
pub(super) fn emit<'r, E: fmt::Display>(
    decoded: Result<(), E>,
    event: Event,
    raw: &'r str,
    origin: &str,
    location: Location,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    match decoded {
        Ok(()) => sink(Ok(Record { event, raw })),
        Err(e) => sink(Err(BadRecord {
            origin: origin.to_owned(),
            location,
            reason: e.to_string(),
        })),
    }
}

/// [`read_values`] for any document.
fn read_values_general(
    text: &str,
    origin: &str,
    limits: Limits,
    sink: &mut dyn FnMut(Result<Record<'_>, BadRecord>),
) {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut counter = 0u64;
    loop {
        let seed = TopLevel {
            origin,
            limits,
            sink: &mut *sink,
            counter: &mut counter,
        };
        match seed.deserialize(&mut deserializer) {
            Ok(()) => {}
            Err(e) => {
                sink(Err(BadRecord {
                    origin: origin.to_owned(),
                    location: Location::Position {
                        line: e.line() as u64,
                        column: e.column() as u64,
                    },
                    reason: format!("malformed JSON, the rest of the document is skipped: {e}"),
                }));
                return;
            }
        }
        if deserializer.end().is_ok() {
            return;
        }
    }
}

/// Dispatches one top-level value: an array of events, a `Records` object, or one event.
struct TopLevel<'s, 'o> {
    origin: &'o str,
    limits: Limits,
    sink: &'s mut dyn FnMut(Result<Record<'_>, BadRecord>),
    counter: &'s mut u64,
}

impl TopLevel<'_, '_> {
    fn emit(&mut self, raw: &str) {
        *self.counter += 1;
        let location = Location::Record(*self.counter);
        let parsed = match self.limits.refuse(raw.len() as u64) {
            Some(reason) => Err(Refused::Limit(reason)),
            None => parse_event(raw).map_err(Refused::Event),
        };
        (self.sink)(
            parsed
                .map(|event| Record { event, raw })
                .map_err(|e| BadRecord {
                    origin: self.origin.to_owned(),
                    location,
                    reason: e.to_string(),
                }),
        );
    }
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail document: {\"Records\": [...]}, an array of events, or an event")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            self.emit(raw.get());
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        // An event object is re-read whole by the event parser, so collect its fields' raw
        // text only when it turns out not to be a Records wrapper.
        let Some(first_key) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(());
        };
        if first_key == "Records" {
            map.next_value_seed(RecordsSeed(&mut self))?;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        // Not a Records wrapper: rebuild the object's text from its entries for the event
        // parser. Events are small, so this copy is cheap next to the parse.
        let mut object = String::from("{");
        let mut key = Some(first_key);
        while let Some(k) = key {
            let value = map.next_value::<&RawValue>()?;
            if object.len() > 1 {
                object.push(',');
            }
            object.push_str(&serde_json::to_string(&k).unwrap_or_default());
            object.push(':');
            object.push_str(value.get());
            key = map.next_key::<std::borrow::Cow<'de, str>>()?;
        }
        object.push('}');
        self.emit(&object);
        Ok(())
    }
}

struct RecordsSeed<'t, 's, 'o>(&'t mut TopLevel<'s, 'o>);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            self.0.emit(raw.get());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split_lines;
    use proptest::prelude::*;

    fn both(text: &str) -> (Vec<&str>, Vec<&str>) {
        (split_lines(text).collect(), text.split('\n').collect())
    }

    #[test]
    fn lines_are_split_as_str_split_splits_them() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\n\nb\n",
            "é\nü\r\n€",
        ] {
            let (ours, std) = both(text);
            assert_eq!(ours, std, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn lines_are_split_as_str_split_splits_them_whatever_the_text(
            text in "[a\n\r é€{}\"]{0,300}"
        ) {
            let (ours, std) = both(&text);
            prop_assert_eq!(ours, std);
        }
    }
}
