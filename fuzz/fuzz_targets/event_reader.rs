//! Arbitrary bytes into the CloudTrail event reader and the analyzer: neither may panic, loop
//! forever or blow up memory, whatever the input. Run with `FUZZ_TARGET=event_reader
//! scripts/fuzz.sh`.
#![no_main]

use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::reader::{
    is_line_oriented, read_document, read_lines_from, BadRecord, Record,
};
use libfuzzer_sys::fuzz_target;

/// What the reader hands each record or bad record to.
type Sink<'s> = dyn FnMut(Result<Record<'_>, BadRecord>) + 's;

/// Every usable event into a fresh analyzer (default selection, every detection), every bad
/// record rendered and counted, as `keywarden trail` does; then the end-of-input detections,
/// with each finding rendered the way printers read it.
fn analyze(read: impl FnOnce(&mut Sink<'_>)) {
    let mut analyzer = TrailAnalyzer::new(&Default::default());
    read(&mut |record| match record {
        Ok(record) => {
            let _ = record.raw.len();
            analyzer.observe(&record.event);
        }
        Err(bad) => {
            let _ = bad.to_string();
            analyzer.record_bad();
        }
    });
    let outcome = analyzer.finish();
    for finding in &outcome.findings {
        let _ = finding.message.len();
        for (_, value) in &finding.evidence {
            let _ = value.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The whole document, format detected (Records, array, JSON lines, one event, wrapped).
    analyze(|sink| read_document(data, "fuzz.json", sink));

    // The chunked line reader the CLI uses for large line-oriented inputs, on the same bytes.
    if is_line_oriented(data) {
        if let Ok(text) = std::str::from_utf8(data) {
            analyze(|sink| read_lines_from(text, "fuzz.jsonl", 1, sink));
        }
    }
});
