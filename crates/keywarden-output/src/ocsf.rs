//! OCSF 1.8.0 output (`--format ocsf`: one finding per line; `--format ocsf-json`: one JSON
//! array), for a SIEM or a data lake (Amazon Security Lake, Splunk, ...). docs/ocsf.md is the
//! mapping; `scripts/ensure-ocsf.sh` and `tests/ocsf/validate.py` check every document against
//! the schema compiled from OCSF 1.8.0's own repository.
//!
//! Each finding becomes the class that says what it is:
//! - a finding about one user's credential (an access key, a console password, MFA, root's
//!   included) is an **IAM Analysis Finding** (class 2008): `user`, `resources` (the user and the
//!   key) and `identity_activity_metrics` with the key's creation and last use and the
//!   password's last use, read from the finding's evidence;
//! - a finding about the account's posture (password policy, trails) is a **Compliance
//!   Finding** (2003) whose `compliance` object names the rule's standards and controls
//!   (`RuleMeta::standards`). Class 2008 has no `compliance` attribute in 1.8.0, so a credential
//!   finding carries its controls as `finding_info.tags` named `compliance:<standard>`;
//! - a CloudTrail detection (EVT rules, Sigma rules) is a **Detection Finding** (2004) with the
//!   caller (`actor`), the source address and the event's id (`evidences`, and
//!   `finding_info.related_events`).
//!
//! `finding_info.uid` is stable across runs: it hashes what identifies the finding (rule,
//! account, user, credential, and a detection's event id), never a time or a message.
//! keywarden's own status and the finding's evidence, which OCSF has no attributes for, are in
//! `unmapped`. Values are written exactly: JSON is the medium's own escaping.

use crate::json::{Evidence, ExemptionRecord};
use crate::{FindingsReport, Printer};
use keywarden_core::finding::{
    CredentialKind, EventContext, EvidenceValue, Finding, Severity, Status,
};
use keywarden_core::rules::{RuleMeta, Scope};
use keywarden_core::Timestamp;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, Write};

/// The OCSF schema version every document declares.
pub const OCSF_VERSION: &str = "1.8.0";

/// The classes keywarden emits.
pub const IAM_ANALYSIS_FINDING: u32 = 2008;
pub const COMPLIANCE_FINDING: u32 = 2003;
pub const DETECTION_FINDING: u32 = 2004;

/// How the documents are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcsfFraming {
    /// One document per line (JSON Lines), as log shippers and Security Lake ingest them.
    Lines,
    /// One JSON array holding every document, one document a line.
    Array,
}

/// `--format ocsf` and `--format ocsf-json`.
#[derive(Debug, Clone, Copy)]
pub struct OcsfPrinter(pub OcsfFraming);

impl Printer for OcsfPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        // A rule's texts are read from its documentation once, not once per finding.
        let mut texts: HashMap<&'static str, RuleTexts> = HashMap::new();
        let (open, separator, close): (&[u8], &[u8], &[u8]) = match self.0 {
            OcsfFraming::Lines => (b"", b"", b""),
            // One document a line inside the array: written as it goes, never held whole.
            OcsfFraming::Array => (b"[\n", b",", b"]\n"),
        };
        out.write_all(open)?;
        // Through for_each_finding: an organization run's findings are read back per account.
        let mut written = 0usize;
        report.for_each_finding(&mut |f| {
            let rule_texts = texts
                .entry(f.rule.code)
                .or_insert_with(|| RuleTexts::of(f.rule));
            if written > 0 {
                out.write_all(separator)?;
                if self.0 == OcsfFraming::Array {
                    out.write_all(b"\n")?;
                }
            }
            serde_json::to_writer(&mut *out, &document_with(report, f, rule_texts))?;
            if self.0 == OcsfFraming::Lines {
                out.write_all(b"\n")?;
            }
            written += 1;
            Ok(())
        })?;
        if self.0 == OcsfFraming::Array && written > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(close)
    }
}

/// What a document takes from its rule's documentation.
struct RuleTexts {
    /// What it does, on one line.
    desc: Option<String>,
    /// The first paragraph of How to fix.
    fix: String,
}

impl RuleTexts {
    fn of(rule: &RuleMeta) -> Self {
        let hint = rule.fix_hint();
        RuleTexts {
            desc: rule.section("What it does").map(|what| one_line(&what)),
            fix: if hint.is_empty() {
                format!("See `keywarden rule {}`.", rule.code)
            } else {
                hint
            },
        }
    }
}

/// The class a finding is written as.
pub fn class_of(f: &Finding) -> u32 {
    if f.event.is_some() || f.rule.scope == Scope::Event {
        DETECTION_FINDING
    } else if f.user.is_some() && f.credential != CredentialKind::Account {
        IAM_ANALYSIS_FINDING
    } else {
        COMPLIANCE_FINDING
    }
}

fn class_name(class_uid: u32) -> &'static str {
    match class_uid {
        IAM_ANALYSIS_FINDING => "IAM Analysis Finding",
        COMPLIANCE_FINDING => "Compliance Finding",
        _ => "Detection Finding",
    }
}

/// OCSF's `severity_id`: 2 Low, 3 Medium, 4 High, 5 Critical.
pub fn severity_id(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 5,
        Severity::High => 4,
        Severity::Medium => 3,
        Severity::Low => 2,
    }
}

fn severity_caption(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// OCSF timestamps are milliseconds since the epoch.
fn millis(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

/// A stable id for a finding across runs: rule, account, user and credential, and for a
/// detection the event's id (two events are two findings), hashed as SARIF's fingerprint is.
pub fn finding_uid(f: &Finding) -> String {
    format!("keywarden:{}:{}", f.rule.code, crate::sarif::fingerprint(f))
}

/// The finding's OCSF document.
pub fn document(report: &FindingsReport<'_>, f: &Finding) -> Value {
    document_with(report, f, &RuleTexts::of(f.rule))
}

fn document_with(report: &FindingsReport<'_>, f: &Finding, texts: &RuleTexts) -> Value {
    let class_uid = class_of(f);
    let activity_id = 1; // Create: each run reports the findings it sees.
    let severity = f.severity();
    let (status_id, status) = match f.status {
        Status::Fail => (1, "New"),
        Status::Exempted => (3, "Suppressed"),
        // keywarden could not decide: the finding's state is unknown, and `status_detail` says why.
        Status::Unknown => (0, "Unknown"),
    };
    let mut doc = Map::new();
    doc.insert("activity_id".into(), json!(activity_id));
    doc.insert("activity_name".into(), json!("Create"));
    doc.insert("category_uid".into(), json!(2));
    doc.insert("category_name".into(), json!("Findings"));
    doc.insert("class_uid".into(), json!(class_uid));
    doc.insert("class_name".into(), json!(class_name(class_uid)));
    doc.insert(
        "type_uid".into(),
        json!(u64::from(class_uid) * 100 + activity_id),
    );
    doc.insert(
        "type_name".into(),
        json!(format!("{}: Create", class_name(class_uid))),
    );
    doc.insert("severity_id".into(), json!(severity_id(severity)));
    doc.insert("severity".into(), json!(severity_caption(severity)));
    doc.insert("status_id".into(), json!(status_id));
    doc.insert("status".into(), json!(status));
    if let Some(reason) = unknown_reason(f) {
        doc.insert("status_detail".into(), json!(reason));
    }
    doc.insert("time".into(), json!(millis(report.now)));
    doc.insert("message".into(), json!(f.message));
    doc.insert("metadata".into(), metadata(report));
    doc.insert("cloud".into(), cloud(f));
    doc.insert("finding_info".into(), finding_info(f, class_uid, texts));
    doc.insert("remediation".into(), json!({ "desc": texts.fix }));
    match class_uid {
        IAM_ANALYSIS_FINDING => {
            doc.insert("user".into(), user(f));
            doc.insert("resources".into(), resources(f));
            doc.insert(
                "identity_activity_metrics".into(),
                identity_activity_metrics(f),
            );
        }
        COMPLIANCE_FINDING => {
            doc.insert("compliance".into(), compliance(f));
            doc.insert("resources".into(), resources(f));
        }
        _ => {
            // The caller, its address and the event are the evidence; a top-level `actor` or
            // `is_alert` would need the `host` or `security_control` profile, which describe
            // hosts and inline controls, not an API call read from a log.
            if let Some(event) = &f.event {
                doc.insert("evidences".into(), json!([evidence(f, event)]));
            }
            doc.insert("resources".into(), resources(f));
        }
    }
    doc.insert("unmapped".into(), unmapped(f));
    Value::Object(doc)
}

fn unknown_reason(f: &Finding) -> Option<String> {
    if f.status != Status::Unknown {
        return None;
    }
    // The evidence's reason when the rule gives one (an AWS error code), else the message,
    // which says what could not be decided and why.
    Some(match evidence_value(f, "unknown_reason") {
        Some(value) => format!("unknown: {value}"),
        None => format!("unknown: {}", f.message),
    })
}

fn metadata(report: &FindingsReport<'_>) -> Value {
    json!({
        "version": OCSF_VERSION,
        "product": {
            "name": "keywarden",
            "vendor_name": "keywarden",
            "version": report.tool_version,
            "url_string": crate::sarif::INFORMATION_URI,
        },
        "profiles": ["cloud"],
        "log_name": report.source.kind,
        "log_provider": "keywarden",
        "labels": [format!("preset:{}", report.preset)],
    })
}

fn cloud(f: &Finding) -> Value {
    let mut cloud = json!({ "provider": "AWS" });
    if let Some(account) = &f.account {
        cloud["account"] = json!({ "uid": account, "type_id": 10, "type": "AWS Account" });
    }
    if let Some(region) = f.event.as_ref().and_then(|e| e.region.as_ref()) {
        cloud["region"] = json!(region);
    }
    cloud
}

fn finding_info(f: &Finding, class_uid: u32, texts: &RuleTexts) -> Value {
    let rule = f.rule;
    let mut info = json!({
        "uid": finding_uid(f),
        "title": rule.summary,
        "analytic": {
            "uid": rule.code,
            "name": rule.name,
            "type_id": 1,
            "type": "Rule",
        },
        "types": [rule.code],
        "product": { "name": "keywarden", "vendor_name": "keywarden" },
    });
    if let Some(desc) = &texts.desc {
        info["desc"] = json!(desc);
    }
    if class_uid == IAM_ANALYSIS_FINDING && !rule.standards.is_empty() {
        info["tags"] = Value::Array(
            standards_by_name(rule)
                .into_iter()
                .map(|(standard, controls)| {
                    json!({ "name": format!("compliance:{standard}"), "values": controls })
                })
                .collect(),
        );
    }
    if let Some(event) = &f.event {
        let at = millis(event.event_time);
        info["first_seen_time"] = json!(at);
        info["last_seen_time"] = json!(at);
        info["related_events"] = json!([related_event(event)]);
        info["data_sources"] = json!(["AWS CloudTrail"]);
    }
    info
}

fn related_event(event: &EventContext) -> Value {
    json!({
        "uid": event.event_id,
        "title": event.event_name,
        "first_seen_time": millis(event.event_time),
        "last_seen_time": millis(event.event_time),
    })
}

/// The rule's standards, grouped by standard in declaration order.
fn standards_by_name(rule: &RuleMeta) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut grouped: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for control in rule.standards {
        let name = control.standard.name();
        match grouped.iter_mut().find(|(n, _)| *n == name) {
            Some((_, controls)) => controls.push(control.control),
            None => grouped.push((name, vec![control.control])),
        }
    }
    grouped
}

fn compliance(f: &Finding) -> Value {
    let rule = f.rule;
    let (status_id, status) = match f.status {
        Status::Fail | Status::Exempted => (3, "Fail"),
        Status::Unknown => (0, "Unknown"),
    };
    let check = |uid: &str, name: String, standard: &str| {
        json!({
            "uid": uid,
            "name": name,
            "desc": rule.summary,
            "severity_id": severity_id(rule.severity),
            "severity": severity_caption(rule.severity),
            "status_id": status_id,
            "status": status,
            "standards": [standard],
        })
    };
    // One check per control the rule's standards name (OCSF 1.5's replacement for the
    // deprecated `compliance_standards`); a rule of no standard is its own check.
    let checks: Vec<Value> = if rule.standards.is_empty() {
        vec![check(rule.code, rule.name.to_owned(), CATALOGUE)]
    } else {
        rule.standards
            .iter()
            .map(|c| {
                let standard = c.standard.name();
                check(c.control, format!("{standard} {}", c.control), standard)
            })
            .collect()
    };
    let standards: Vec<&str> = standards_by_name(rule).iter().map(|(n, _)| *n).collect();
    let mut compliance = json!({
        "status_id": status_id,
        "status": status,
        "standards": if standards.is_empty() { vec![CATALOGUE] } else { standards },
        "checks": checks,
        "control": rule.code,
        "desc": f.message,
    });
    if !rule.standards.is_empty() {
        compliance["requirements"] = Value::Array(
            rule.standards
                .iter()
                .map(|c| json!(format!("{} {}", c.standard.name(), c.control)))
                .collect(),
        );
    }
    if let Some(reason) = unknown_reason(f) {
        compliance["status_details"] = json!([reason]);
    }
    compliance
}

/// The standard named for a rule that cites none.
const CATALOGUE: &str = "keywarden rule catalogue";

fn user(f: &Finding) -> Value {
    let name = f.user.as_deref().unwrap_or("-");
    let is_root = name == "<root_account>";
    let mut user = json!({
        "name": name,
        "type_id": if is_root { 2 } else { 1 },
        "type": if is_root { "Admin" } else { "User" },
    });
    if let Some(account) = &f.account {
        // No `uid`: the user's ARN holds its path, which the credential report's row has and
        // the finding does not, and a made-up ARN would be wrong for a user with a path.
        user["account"] = json!({ "uid": account, "type_id": 10, "type": "AWS Account" });
    }
    if let Some(EvidenceValue::Bool(mfa)) = evidence_value(f, "mfa_active") {
        user["has_mfa"] = json!(mfa);
    }
    user
}

fn resources(f: &Finding) -> Value {
    let mut resources = Vec::new();
    if let Some(key) = &f.access_key_id {
        resources.push(json!({ "type": "AwsIamAccessKey", "uid": key, "name": key }));
    }
    match &f.user {
        Some(user) => resources.push(json!({ "type": "AwsIamUser", "name": user })),
        None => {
            if let Some(account) = &f.account {
                resources.push(json!({ "type": "AwsAccount", "uid": account }));
            }
        }
    }
    if resources.is_empty() {
        resources.push(json!({ "type": "AwsAccount", "name": "unknown" }));
    }
    Value::Array(resources)
}

fn evidence_value<'a>(f: &'a Finding, key: &str) -> Option<&'a EvidenceValue> {
    f.evidence.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn evidence_time(f: &Finding, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|key| match evidence_value(f, key) {
        Some(EvidenceValue::Time(t)) => Some(millis(*t)),
        _ => None,
    })
}

/// The key's creation and last use and the password's last use, as the evidence has them.
/// A value the evidence does not have as an instant (never used, `no_information`) is left out:
/// OCSF has no "unknown" for a time, and `unmapped.evidence` keeps the exact value.
fn identity_activity_metrics(f: &Finding) -> Value {
    let mut metrics = Map::new();
    let key_last_used = evidence_time(f, &["last_used", "older_key_last_used", "last_use"]);
    let key_created = evidence_time(f, &["created", "key_created", "older_key_created"]);
    let password_last_used = evidence_time(f, &["password_last_used"]);
    if let Some(t) = password_last_used {
        metrics.insert("password_last_used_time".into(), json!(t));
    }
    let last_seen = [key_last_used, password_last_used]
        .into_iter()
        .flatten()
        .max();
    if let Some(t) = last_seen {
        metrics.insert("last_seen_time".into(), json!(t));
    }
    if let Some(t) = key_created {
        metrics.insert("first_seen_time".into(), json!(t));
    }
    if let Some(key) = &f.access_key_id {
        let mut credential = json!({ "uid": key, "type": "AWS Access Key" });
        if let Some(t) = key_last_used {
            credential["last_used_time"] = json!(t);
        }
        metrics.insert("programmatic_credentials".into(), json!([credential]));
    }
    Value::Object(metrics)
}

fn actor(event: &EventContext) -> Option<Value> {
    let actor = event.actor.as_ref()?;
    let user = if actor.starts_with("arn:") {
        json!({ "uid": actor, "name": actor.rsplit('/').next().unwrap_or(actor) })
    } else {
        json!({ "name": actor })
    };
    Some(json!({ "user": user }))
}

fn evidence(f: &Finding, event: &EventContext) -> Value {
    let mut evidence = json!({
        "uid": event.event_id,
        "name": event.event_name,
        "api": { "operation": event.event_name },
        "data": Evidence::of(f),
    });
    if let Some(actor) = actor(event) {
        evidence["actor"] = actor;
    }
    if let Some(ip) = &event.source_ip {
        let mut endpoint = json!({ "name": ip });
        // `sourceIPAddress` is a service name (`ec2.amazonaws.com`) or `AWS Internal` when AWS
        // made the call: only an address is an `ip`.
        if ip.parse::<std::net::IpAddr>().is_ok() {
            endpoint["ip"] = json!(ip);
        }
        evidence["src_endpoint"] = endpoint;
    }
    if let Some(agent) = &event.user_agent {
        evidence["http_request"] = json!({ "user_agent": agent });
    }
    evidence
}

fn unmapped(f: &Finding) -> Value {
    let mut unmapped = json!({
        "keywarden_status": f.status.as_str(),
        "credential": f.credential.as_str(),
        "evidence": Evidence::of(f),
    });
    if let Some(note) = &f.exemption {
        unmapped["exemption"] = json!(ExemptionRecord::of(note));
    }
    if let Some(note) = &f.ignored_exemption {
        unmapped["ignored_exemption"] = json!(ExemptionRecord::of(note));
    }
    unmapped
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
