//! Helpers shared by the integration tests: one way to write a finding down, so the rule cases,
//! the real reports and the demo all state their expectations in the same words.

// Each test crate uses a different subset of these.
#![allow(dead_code)]

use keywarden_core::time::parse_timestamp;
use keywarden_core::{Finding, Timestamp};

/// `CODE status user credential`, `-` for an account-wide finding's user, then ` by SOURCE`
/// when an exemption applied and ` ignoring SOURCE` when one matched but was expired or malformed.
pub fn render(finding: &Finding) -> String {
    let mut text = format!(
        "{} {} {} {}",
        finding.rule.code,
        finding.status.as_str(),
        finding.user.as_deref().unwrap_or("-"),
        finding.credential.as_str()
    );
    if let Some(note) = &finding.exemption {
        text.push_str(&format!(" by {}", note.source));
    }
    if let Some(note) = &finding.ignored_exemption {
        text.push_str(&format!(" ignoring {}", note.source));
    }
    text
}

/// Every finding rendered, sorted, for comparison as a multiset.
pub fn rendered(findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = findings.iter().map(render).collect();
    out.sort();
    out
}

/// The expected list, sorted, with whitespace normalised.
pub fn sorted(expected: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = expected
        .iter()
        .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    out.sort();
    out
}

pub fn instant(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap_or_else(|| panic!("not an RFC 3339 instant: {text}"))
}
