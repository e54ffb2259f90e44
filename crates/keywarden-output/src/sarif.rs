//! The SARIF 2.1.0 output, for code-scanning dashboards (GitHub code scanning, Azure DevOps,
//! DefectDojo and the like).
//!
//! SARIF was made for source files, and keywarden's findings are about credentials, so the
//! mapping makes choices GitHub code scanning accepts (docs/sarif.md says what it shows):
//! - every rule that ran is a `reportingDescriptor`, with its documentation as help and a
//!   `security-severity` so GitHub ranks alerts the way keywarden does;
//! - each finding's subject is a logical location `account/user/credential`, and, because code
//!   scanning rejects a result without a physical location, a synthetic artifact per account and
//!   user (`aws/<account>/<user>`, each segment percent-encoded; `aws/<account>/account` for an
//!   account-wide finding) with one line per credential (`region.startLine`, [`credential_line`]):
//!   the same finding is always at the same place, whatever file or account call it came from;
//! - `partialFingerprints` hashes what identifies the finding (rule, account, user, credential,
//!   and a detection's event id), not the message or a time, so an alert survives a key aging
//!   from 93 to 94 days unused and a re-run the next day;
//! - at most [`MAX_RESULTS`] results per run (GitHub's limit): the most severe are kept, and the
//!   run says how many of which rules were left out (`properties.omitted_results` and a
//!   tool-execution notification), so a truncated upload is never taken for a complete one;
//! - `unknown` findings are notes, and exempted ones carry an external suppression with the
//!   exemption's reason, so dashboards show them as dismissed rather than dropping them;
//! - a result's message is SARIF plain text, where `[text](target)` is a link a viewer renders:
//!   its brackets and backslashes are escaped ([`crate::escape::sarif_text`]), so a hostile user
//!   name cannot plant a link in a dashboard. The other fields are data, written exactly.
//!
//! Hand-written serialize-only serde structs keep this to the fields keywarden fills, without a
//! dependency; the evidence, exemptions and data source are borrowed [`crate::json`] types.

use crate::escape::sarif_text;
use crate::json::{DataSourceInfo, Evidence, ExemptionRecord};
use crate::{rfc3339, FindingsReport, Printer};
use keywarden_core::finding::{CredentialKind, Finding, Severity, Status};
use keywarden_core::model::KeySlot;
use keywarden_core::rules::RuleMeta;
use serde::Serialize;
use std::io::{self, Write};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
pub const INFORMATION_URI: &str = "https://github.com/keywarden/keywarden";
/// The `partialFingerprints` key; bump the suffix if the hashed fields ever change, so old and
/// new fingerprints are never compared as if they meant the same thing.
pub const FINGERPRINT_KEY: &str = "keywarden/v1";
/// The most results GitHub code scanning accepts in one run.
pub const MAX_RESULTS: usize = 25_000;

/// `--format sarif`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SarifPrinter;

impl Printer for SarifPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &SarifLog::from_report(report))?;
        out.write_all(b"\n")
    }
}

#[derive(Serialize)]
pub struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    pub schema: String,
    pub version: String,
    pub runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run<'a> {
    pub tool: Tool,
    /// Only when results were left out: a notification that says so.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invocations: Vec<Invocation>,
    pub results: Results<'a>,
    pub properties: RunProperties<'a>,
}

/// A run's results: built from a single account's findings, or written as they are read back
/// from an organization run's accounts (never all held at once).
pub enum Results<'a> {
    Built(Vec<SarifResult<'a>>),
    Streamed {
        report: &'a FindingsReport<'a>,
        /// The rules array's codes, in order: a result's `ruleIndex` points into it.
        rules: Vec<&'static str>,
        /// Which findings are kept, when there are more than the limit.
        cap: Option<Cap>,
    },
}

/// The rank of a finding when a run holds more than the limit: the most severe first, then
/// failing before unknown before exempted; ties keep the engine's order.
type Class = (Severity, keywarden_core::finding::Status);

fn class(f: &Finding) -> Class {
    (f.severity(), f.status)
}

/// Which of a streamed run's findings are kept, from a first pass that counted each class: the
/// classes that fit whole are kept, the first `boundary_keeps` findings (in stream order) of the
/// class that does not fit, nothing after it. The same decision as [`select`], in constant
/// memory; a fresh copy decides each pass over the findings.
#[derive(Debug, Clone)]
pub struct Cap {
    /// Classes kept whole.
    whole: Vec<Class>,
    /// The class cut in two, and how many of it are kept.
    boundary: Option<(Class, usize)>,
}

impl Cap {
    /// The cap for `counts` (findings per class) at `limit`, or `None` when all fit.
    fn of(counts: &std::collections::BTreeMap<Class, usize>, limit: usize) -> Option<Cap> {
        let total: usize = counts.values().sum();
        if total <= limit {
            return None;
        }
        let mut cap = Cap {
            whole: Vec::new(),
            boundary: None,
        };
        let mut room = limit;
        for (class, n) in counts {
            if *n <= room {
                cap.whole.push(*class);
                room -= n;
            } else {
                cap.boundary = Some((*class, room));
                break;
            }
        }
        Some(cap)
    }

    /// Whether `f`, the next finding of the stream, is kept.
    fn keeps(&mut self, f: &Finding) -> bool {
        let c = class(f);
        if self.whole.contains(&c) {
            return true;
        }
        match &mut self.boundary {
            Some((b, left)) if *b == c && *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            Results::Built(results) => results.serialize(serializer),
            Results::Streamed { report, rules, cap } => {
                let mut cap = cap.clone();
                crate::json::serialize_streamed(report, serializer, |seq, f| {
                    if let Some(cap) = &mut cap {
                        if !cap.keeps(f) {
                            return Ok(());
                        }
                    }
                    let index = rules
                        .iter()
                        .position(|code| *code == f.rule.code)
                        .unwrap_or_default();
                    seq.serialize_element(&result(f, index))
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub level: String,
    pub message: Message,
}

/// The results a run left out, past [`MAX_RESULTS`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OmittedResults {
    pub count: usize,
    /// How many of each rule's results were left out.
    pub by_rule: std::collections::BTreeMap<String, usize>,
    pub reason: String,
}

/// Where the data came from and how old it is, which SARIF has no place for.
#[derive(Serialize)]
pub struct RunProperties<'a> {
    /// The audit's `now`, RFC 3339.
    pub generated_at: String,
    /// When the audited data was produced, RFC 3339, if known.
    pub data_as_of: Option<String>,
    pub data_source: DataSourceInfo<'a>,
    pub preset: String,
    /// An organization run only: every account's summary (as the JSON output's `accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<crate::json::AccountRecords<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted_results: Option<OmittedResults>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: String,
    pub version: String,
    pub information_uri: String,
    pub rules: Vec<ReportingDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: String,
    pub name: String,
    pub short_description: Message,
    pub full_description: Message,
    pub help: Help,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Configuration {
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProperties {
    /// GitHub's 0.0-10.0 score, as a string: it ranks alerts critical/high/medium/low by it.
    #[serde(rename = "security-severity")]
    pub security_severity: String,
    pub tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult<'a> {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: String,
    pub message: Message,
    pub locations: Vec<Location>,
    pub partial_fingerprints: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression>,
    pub properties: ResultProperties<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
    pub logical_locations: Vec<LogicalLocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub name: String,
    pub fully_qualified_name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub kind: String,
    pub justification: String,
    pub properties: SuppressionProperties,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionProperties {
    /// `config:exemption[N]` or `tag:<key>`.
    pub source: String,
    /// RFC 3339, if the exemption expires.
    pub expires: Option<String>,
}

#[derive(Serialize)]
pub struct ResultProperties<'a> {
    /// `fail`, `unknown` or `exempted`: SARIF's level alone cannot tell them apart.
    pub status: String,
    pub severity: String,
    pub access_key_id: Option<String>,
    pub evidence: Evidence<'a>,
    /// An exemption that matched but did not apply (expired or malformed), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_exemption: Option<ExemptionRecord<'a>>,
    /// An organization run only: the account's name and its OU path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<&'a str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<&'a str>,
}

/// The SARIF level for a severity: what makes a dashboard block a merge or merely annotate.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` score; GitHub maps > 9.0 to critical, 7.0-8.9 to high,
/// 4.0-6.9 to medium and below to low, so each value sits inside keywarden's own band.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

impl<'a> SarifLog<'a> {
    pub fn from_report(report: &'a FindingsReport<'a>) -> Self {
        Self::from_report_with_limit(report, MAX_RESULTS)
    }

    /// As [`SarifLog::from_report`], with at most `limit` results: the most severe (failing
    /// before unknown before exempted, in the engine's order within each), the rest counted in
    /// the run's properties and a notification.
    pub fn from_report_with_limit(report: &'a FindingsReport<'a>, limit: usize) -> Self {
        // Every finding's rule ran, but a result must never point past the rules array, so
        // any rule missing from `rules_run` is added rather than trusted to be there.
        let mut rules: Vec<&'static RuleMeta> = report.rules_run.to_vec();
        for finding in report.findings {
            if !rules.iter().any(|r| r.code == finding.rule.code) {
                rules.push(finding.rule);
            }
        }
        if let Some(org) = report.org {
            // An account that could not be audited has a finding of the organization's own
            // rule, which no account's audit ran.
            for rule in org.extra_rules() {
                if !rules.iter().any(|r| r.code == rule.code) {
                    rules.push(rule);
                }
            }
        }
        // A single account's findings are capped at `limit`, the most severe kept. An
        // organization run's are streamed from its accounts' files, with the same cap decided by
        // passes over them ([`Cap`]): one counts each class, one counts what is left out by rule
        // (for the notification before the results), and the writer keeps the rest.
        let (kept, omitted) = match report.org {
            Some(_) => (Vec::new(), Vec::new()),
            None => select(report.findings, limit),
        };
        let mut total = report.findings.len();
        let mut omitted_by_rule = std::collections::BTreeMap::new();
        let mut cap = None;
        if report.org.is_some() {
            let (counts, streamed_cap, by_rule) = streamed_cap(report, limit);
            total = counts.values().sum();
            cap = streamed_cap;
            omitted_by_rule = by_rule;
        }
        for f in &omitted {
            *omitted_by_rule.entry(f.rule.code.to_owned()).or_insert(0) += 1;
        }
        let results = match report.org {
            Some(_) => Results::Streamed {
                report,
                rules: rules.iter().map(|r| r.code).collect(),
                cap,
            },
            None => Results::Built(
                kept.into_iter()
                    .map(|f| {
                        let index = rules
                            .iter()
                            .position(|r| r.code == f.rule.code)
                            .unwrap_or_default();
                        result(f, index)
                    })
                    .collect(),
            ),
        };
        let omitted_count: usize = omitted_by_rule.values().sum();
        let omitted = (omitted_count > 0).then(|| OmittedResults {
            count: omitted_count,
            by_rule: omitted_by_rule,
            reason: format!(
                "GitHub code scanning accepts at most {limit} results per run: the {limit} most \
                     severe are here, the others are in keywarden's JSON output"
            ),
        });
        let invocations = omitted
            .iter()
            .map(|o| Invocation {
                execution_successful: true,
                tool_execution_notifications: vec![Notification {
                    level: "warning".to_owned(),
                    message: Message {
                        text: format!(
                            "{} of {} results left out (at most {limit} per run); see the run's \
                             properties.omitted_results",
                            o.count, total
                        ),
                    },
                }],
            })
            .collect();
        SarifLog {
            schema: SARIF_SCHEMA.to_owned(),
            version: SARIF_VERSION.to_owned(),
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "keywarden".to_owned(),
                        version: report.tool_version.to_owned(),
                        information_uri: INFORMATION_URI.to_owned(),
                        rules: rules.iter().map(|r| descriptor(r)).collect(),
                    },
                },
                invocations,
                results,
                properties: RunProperties {
                    generated_at: rfc3339(report.now),
                    data_as_of: report.source.as_of.map(rfc3339),
                    data_source: DataSourceInfo::of(&report.source, report.now),
                    preset: report.preset.to_owned(),
                    accounts: report.org.map(|org| crate::json::AccountRecords {
                        accounts: org.accounts(),
                        now: report.now,
                    }),
                    omitted_results: omitted,
                },
            }],
        }
    }
}

/// An organization run's findings per class, its [`Cap`] at `limit` (`None`: all kept), and
/// what the cap leaves out by rule: two passes over the stored run, nothing held but counts. A
/// run that cannot be read back counts what was read; the writer's own pass reports the error.
type StreamedCap = (
    std::collections::BTreeMap<Class, usize>,
    Option<Cap>,
    std::collections::BTreeMap<String, usize>,
);

fn streamed_cap(report: &FindingsReport<'_>, limit: usize) -> StreamedCap {
    let mut counts = std::collections::BTreeMap::new();
    let _ = report.for_each_finding(&mut |f| {
        *counts.entry(class(f)).or_insert(0usize) += 1;
        Ok(())
    });
    let cap = Cap::of(&counts, limit);
    let mut by_rule = std::collections::BTreeMap::new();
    if let Some(cap) = &cap {
        let mut pass = cap.clone();
        let _ = report.for_each_finding(&mut |f| {
            if !pass.keeps(f) {
                *by_rule.entry(f.rule.code.to_owned()).or_insert(0usize) += 1;
            }
            Ok(())
        });
    }
    (counts, cap, by_rule)
}

/// The findings a run of at most `limit` results keeps (in the engine's order), and those it
/// leaves out: ranked by severity, then failing before unknown before exempted.
fn select(findings: &[Finding], limit: usize) -> (Vec<&Finding>, Vec<&Finding>) {
    if findings.len() <= limit {
        return (findings.iter().collect(), Vec::new());
    }
    let mut ranked: Vec<usize> = (0..findings.len()).collect();
    ranked.sort_by_key(|&i| (findings[i].severity(), findings[i].status));
    let mut keep = vec![false; findings.len()];
    for &i in &ranked[..limit] {
        keep[i] = true;
    }
    findings
        .iter()
        .zip(keep)
        .fold((Vec::new(), Vec::new()), |(mut kept, mut left), (f, k)| {
            if k {
                kept.push(f);
            } else {
                left.push(f);
            }
            (kept, left)
        })
}

fn descriptor(rule: &RuleMeta) -> ReportingDescriptor {
    let documentation = rule.documentation_text();
    let full = rule
        .section("What it does")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| rule.summary.to_owned());
    ReportingDescriptor {
        id: rule.code.to_owned(),
        name: rule.name.to_owned(),
        short_description: Message {
            text: rule.summary.to_owned(),
        },
        full_description: Message { text: full },
        help: Help {
            text: documentation.clone(),
            markdown: documentation,
        },
        default_configuration: Configuration {
            level: level(rule.severity).to_owned(),
        },
        properties: RuleProperties {
            security_severity: security_severity(rule.severity).to_owned(),
            tags: vec!["security".to_owned()],
        },
    }
}

fn result(f: &Finding, rule_index: usize) -> SarifResult<'_> {
    let level = match f.status {
        // SARIF's `kind: open` would describe an undecided check, but it forces `level: none`,
        // which dashboards hide; a note keeps it visible and `status` says what it is.
        Status::Unknown => "note",
        Status::Fail | Status::Exempted => level(f.severity()),
    };
    let suppressions = f
        .exemption
        .iter()
        .map(|note| Suppression {
            kind: "external".to_owned(),
            justification: note.reason.clone(),
            properties: SuppressionProperties {
                source: note.source.clone(),
                expires: note.expires.map(rfc3339),
            },
        })
        .collect();
    let subject = match &f.user {
        Some(user) => format!("{user} {}", f.credential.as_str()),
        None => format!("account {}", f.account.as_deref().unwrap_or("(unknown id)")),
    };
    let mut fingerprints = std::collections::BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_owned(), fingerprint(f));
    SarifResult {
        rule_id: f.rule.code.to_owned(),
        rule_index,
        level: level.to_owned(),
        message: Message {
            // A user name or a log field could hold `[text](https://...)`, which a SARIF viewer
            // renders as a link: the message says those brackets as the literal characters.
            text: sarif_text(&format!("{subject}: {}", f.message)).into_owned(),
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: subject_uri(f),
                },
                region: Region {
                    start_line: credential_line(f.credential),
                },
            },
            logical_locations: vec![LogicalLocation {
                name: f
                    .user
                    .clone()
                    .unwrap_or_else(|| f.credential.as_str().to_owned()),
                fully_qualified_name: qualified_name(f),
                kind: "object".to_owned(),
            }],
        }],
        partial_fingerprints: fingerprints,
        suppressions,
        properties: ResultProperties {
            status: f.status.as_str().to_owned(),
            severity: f.severity().as_str().to_owned(),
            access_key_id: f.access_key_id.clone(),
            evidence: Evidence::of(f),
            ignored_exemption: f.ignored_exemption.as_ref().map(ExemptionRecord::of),
            account_name: f.org_account.as_deref().map(|a| a.name.as_str()),
            ou_path: f.org_account.as_deref().map(|a| a.ou_path.as_str()),
        },
    }
}

/// `account/user/credential`; `-` stands for a part the finding does not have (no account id in
/// the source, or an account-wide finding with no user).
pub fn qualified_name(f: &Finding) -> String {
    format!(
        "{}/{}/{}",
        f.account.as_deref().unwrap_or("-"),
        f.user.as_deref().unwrap_or("-"),
        f.credential.as_str()
    )
}

/// A stable identity for a finding across runs: FNV-1a (64-bit) over the rule code, account,
/// user and credential, and for a CloudTrail detection the event's id (two events are two
/// findings), each NUL-terminated so `ab`+`c` and `a`+`bc` differ. Hand-rolled because the
/// standard library's hasher may change between Rust releases, and a changed fingerprint would
/// close and reopen every alert. An audit finding hashes the same four parts it always has.
pub fn fingerprint(f: &Finding) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let parts = [
        f.rule.code,
        f.account.as_deref().unwrap_or(""),
        f.user.as_deref().unwrap_or(""),
        f.credential.as_str(),
    ];
    let event = f.event.as_ref().map(|e| e.event_id.as_str());
    let mut hash = OFFSET;
    for part in parts.into_iter().chain(event) {
        for &byte in part.as_bytes().iter().chain(&[0]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
    }
    format!("{hash:016x}")
}

/// The synthetic artifact a finding is shown in: `aws/<account>/<user>`, or
/// `aws/<account>/account` for an account-wide finding (`unknown-account` when the source has no
/// account id). Each segment is percent-encoded (all but RFC 3986's unreserved characters), so
/// a user name holding `/`, `..` or `%` stays one segment and the URI is always valid.
pub fn subject_uri(f: &Finding) -> String {
    let account = f.account.as_deref().unwrap_or("unknown-account");
    let subject = f.user.as_deref().unwrap_or("account");
    format!("aws/{}/{}", segment(account), segment(subject))
}

/// `text` as one URI path segment: unreserved characters kept, every other byte `%XX`; `.` and
/// `..` (which a URI resolver would collapse) written as `%2E`s, and an empty name as `-`.
fn segment(text: &str) -> String {
    if text.is_empty() {
        return "-".to_owned();
    }
    if text == "." || text == ".." {
        return "%2E".repeat(text.len());
    }
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The line of a subject's artifact a credential is shown at: one per credential kind, so two
/// findings about the same user's two keys are at two places, and each always at the same one.
pub fn credential_line(credential: CredentialKind) -> u64 {
    match credential {
        CredentialKind::Account => 1,
        CredentialKind::Password => 2,
        CredentialKind::Mfa => 3,
        CredentialKind::AccessKey(KeySlot::One) => 4,
        CredentialKind::AccessKey(KeySlot::Two) => 5,
        CredentialKind::AccessKeyId => 6,
        CredentialKind::SessionKey => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded_and_never_dot_segments() {
        assert_eq!(segment("alice"), "alice");
        assert_eq!(segment("a.b-c_d~e"), "a.b-c_d~e");
        assert_eq!(segment("<root_account>"), "%3Croot_account%3E");
        assert_eq!(segment("../x"), "..%2Fx");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment(""), "-");
        assert_eq!(segment("a b%c/é"), "a%20b%25c%2F%C3%A9");
    }

    #[test]
    fn each_credential_kind_has_its_own_line() {
        let kinds = [
            CredentialKind::Account,
            CredentialKind::Password,
            CredentialKind::Mfa,
            CredentialKind::AccessKey(KeySlot::One),
            CredentialKind::AccessKey(KeySlot::Two),
            CredentialKind::AccessKeyId,
            CredentialKind::SessionKey,
        ];
        let lines: std::collections::BTreeSet<u64> =
            kinds.iter().map(|k| credential_line(*k)).collect();
        assert_eq!(lines.len(), kinds.len());
        assert!(lines.iter().all(|&l| l >= 1));
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }
}
