//! Arbitrary bytes into the credential-report parser and the whole audit: neither may panic,
//! loop forever or blow up memory, whatever the input. Run with `scripts/fuzz.sh`.
#![no_main]

use keywarden_core::report::ReportReader;
use keywarden_core::{audit_report, AccountExtras, AuditConfig, Timestamp};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn now() -> Timestamp {
    static NOW: OnceLock<Timestamp> = OnceLock::new();
    *NOW.get_or_init(|| {
        keywarden_core::time::parse_timestamp("2026-11-20T12:00:00Z").expect("fixed now")
    })
}

fuzz_target!(|data: &[u8]| {
    // The parser alone: every row, good or bad, to the end of the input. Errors are rendered,
    // as the CLI does, so their Display (which slices and truncates input text) is covered too.
    match ReportReader::new(data, "fuzz.csv") {
        Ok(mut reader) => {
            let _ = reader.missing_columns();
            while let Some(row) = reader.next_user() {
                match row {
                    Ok(user) => {
                        let _ = user.account_id();
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // The full audit with the default configuration and a fixed now, as `keywarden audit
    // --report` runs it.
    let config = AuditConfig::default();
    if let Ok(reader) = ReportReader::new(data, "fuzz.csv") {
        match audit_report(
            reader,
            &config,
            now(),
            AccountExtras::unknown_from_report_file(),
        ) {
            Ok(outcome) => {
                for finding in &outcome.findings {
                    let _ = finding.message.len();
                    for (_, value) in &finding.evidence {
                        let _ = value.to_string();
                    }
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
