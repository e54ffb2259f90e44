//! The streaming reader (`cloudtrail::stream`): inputs larger than a chunk give the events and
//! bad records the in-memory reader gives, in bounded memory, whatever their shape.
//!
//! Memory is checked by the reader's buffer: after a read it holds at most a chunk (plus the
//! event limit), however many bytes went through.

use keywarden_core::cloudtrail::reader::{read_document, BadRecord, Limits, Location};
use keywarden_core::cloudtrail::stream::{read_stream, CHUNK};
use std::io::{self, Read};

fn event(id: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2024-08-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","userName":"alice"}}}}"#
    )
}

#[derive(Debug, Default, PartialEq)]
struct Got {
    ids: Vec<String>,
    bad: Vec<BadRecord>,
}

fn stream(input: impl Read, limits: Limits) -> (Got, usize) {
    let mut input = input;
    let mut got = Got::default();
    let mut buffer = Vec::new();
    read_stream(
        &mut input,
        "in.json",
        limits,
        &mut buffer,
        &mut |item| match item {
            Ok(record) => got.ids.push(record.event.event_id),
            Err(bad) => got.bad.push(bad),
        },
    )
    .expect("no read error");
    (got, buffer.capacity())
}

fn in_memory(document: &[u8]) -> Got {
    let mut got = Got::default();
    read_document(document, "in.json", &mut |item| match item {
        Ok(record) => got.ids.push(record.event.event_id),
        Err(bad) => got.bad.push(bad),
    });
    got
}

/// The most a read may have buffered.
fn ceiling(limits: Limits) -> usize {
    2 * CHUNK.max(limits.max_event_bytes + (1 << 20))
}

#[test]
fn records_then_more_whitespace_than_a_chunk_is_read_in_one_chunk_of_memory() {
    let spaces = 3 * CHUNK as u64;
    let input = io::Cursor::new(format!("{{\"Records\":[{},", event("a")))
        .chain(io::repeat(b' ').take(spaces))
        .chain(io::Cursor::new(format!("{}]}}", event("b"))));
    let (got, capacity) = stream(input, Limits::default());
    assert_eq!(got.ids, ["a", "b"]);
    assert!(got.bad.is_empty(), "{:?}", got.bad);
    assert!(
        capacity <= ceiling(Limits::default()),
        "buffered {capacity} bytes"
    );
}

#[test]
fn a_large_pretty_printed_document_gives_what_the_in_memory_reader_gives() {
    // Events, bad records (no eventTime, not an object) and an over-long event, padded so that
    // elements straddle chunk boundaries.
    let mut text = String::from("\u{feff}{\n  \"Records\" : [\n");
    for i in 0..400 {
        if i > 0 {
            text.push_str(" ,\n");
        }
        text.push_str(&" ".repeat(50_000 + i));
        match i % 97 {
            5 => text.push_str(r#"{"eventID":"no-time","eventName":"X","eventSource":"y"}"#),
            6 => text.push_str("12345"),
            7 => text.push_str(&format!(
                r#"{{"eventID":"big","pad":"{}"}}"#,
                "p".repeat(70_000)
            )),
            _ => text.push_str(&event(&format!("e{i}"))),
        }
    }
    text.push_str("\n  ],\n  \"extra\": {\"a\": [1, 2]}\n}\n");
    assert!(text.len() > CHUNK);
    let limits = Limits {
        max_event_bytes: 64 << 10,
    };
    let (streamed, capacity) = stream(text.as_bytes(), limits);
    let mut expected = Got::default();
    read_document_limited_for_test(text.as_bytes(), limits, &mut expected);
    assert_eq!(streamed, expected);
    assert_eq!(streamed.bad.len(), 15, "{:?}", streamed.bad);
    assert!(capacity <= ceiling(limits), "buffered {capacity} bytes");
}

fn read_document_limited_for_test(document: &[u8], limits: Limits, got: &mut Got) {
    keywarden_core::cloudtrail::reader::read_document_limited(
        document,
        "in.json",
        limits,
        &mut |item| match item {
            Ok(record) => got.ids.push(record.event.event_id),
            Err(bad) => got.bad.push(bad),
        },
    );
}

#[test]
fn a_line_file_with_a_line_longer_than_the_limit_reports_it_and_reads_the_others() {
    let limits = Limits {
        max_event_bytes: 1 << 16,
    };
    let input = io::Cursor::new(format!("{}\n{{\"eventID\":\"", event("1")))
        .chain(io::repeat(b'x').take(3 * CHUNK as u64))
        .chain(io::Cursor::new(format!(
            "\"}}\n{}\n{}",
            event("3"),
            event("4")
        )));
    let (got, capacity) = stream(input, limits);
    assert_eq!(got.ids, ["1", "3", "4"]);
    assert_eq!(got.bad.len(), 1, "{:?}", got.bad);
    assert_eq!(got.bad[0].location, Location::Line(2));
    assert!(
        got.bad[0]
            .reason
            .starts_with(&format!("event of {} bytes", 3 * CHUNK + 14)),
        "{}",
        got.bad[0]
    );
    assert!(capacity <= ceiling(limits), "buffered {capacity} bytes");
}

#[test]
fn a_document_smaller_than_a_chunk_reads_as_in_memory() {
    let text = format!("{{\"Records\":[{},{}]}}", event("a"), event("b"));
    let (got, _) = stream(text.as_bytes(), Limits::default());
    assert_eq!(got, in_memory(text.as_bytes()));
}

#[test]
fn nul_bytes_are_refused_at_once() {
    let (got, capacity) = stream(io::repeat(0).take(64 * CHUNK as u64), Limits::default());
    assert!(got.ids.is_empty());
    assert_eq!(got.bad.len(), 1);
    assert!(got.bad[0].reason.starts_with("NUL bytes"), "{}", got.bad[0]);
    assert!(capacity <= ceiling(Limits::default()));
}
