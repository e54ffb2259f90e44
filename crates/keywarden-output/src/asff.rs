//! The AWS Security Finding Format (ASFF, schema 2018-10-08): the documents Security Hub's
//! BatchImportFindings takes, for `--format asff` (a JSON array) and `--to securityhub`.
//!
//! Choices, each for what Security Hub does with a document:
//! - the product is the account's own default product,
//!   `arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`: any account can import
//!   into it without registering an integration, and it takes only the caller's account;
//! - `Id` is `keywarden/<account>/<rule>/<hash>`, the hash over what identifies the finding
//!   (account, rule, user, credential, key id, and a detection's event id), never over the time
//!   or the message: a re-run sends the same `Id`, which Security Hub updates instead of adding a
//!   duplicate, and a finding no run produces any more can be found and resolved
//!   ([`FINDING_ID_VERSION`] changes if the hashed fields ever do);
//! - `GeneratorId` is `keywarden/<rule>`: GetFindings with the prefix `keywarden/` finds every
//!   finding keywarden imported ([`GENERATOR_PREFIX`]);
//! - `Compliance.Status` is `FAILED` for a failing finding, `WARNING` for an `unknown` one (the
//!   check could not be made), `PASSED` on the record that resolves a finding no longer
//!   produced ([`resolved`]); an exempted finding is sent `FAILED` with workflow `SUPPRESSED`
//!   and the exemption in `ProductFields`;
//! - `Types`: posture rules are "Software and Configuration Checks/AWS Security Best
//!   Practices" (and the CIS benchmark's type when the rule's standards cite it); detections
//!   are the ATT&CK tactic their standards cite (`TTPs/...`), else "Unusual Behaviors/User";
//! - `Resources`: the access key (`AwsIamAccessKey`, with `Details.AwsIamAccessKey`) when its id
//!   is known, else the user (`AwsIamUser`, its ARN), else the account (`AwsAccount`);
//! - text fields are cut to Security Hub's limits on character boundaries (counted in UTF-16
//!   units, which is never more than Unicode characters), with `…` to show the cut; the rest of
//!   the text is exact, as JSON keeps it: a console that shows it escapes it.

use crate::{rfc3339, FindingsReport, Printer};
use keywarden_core::finding::{CredentialKind, Finding, Severity, Status};
use keywarden_core::model::ROOT_USER_NAME;
use keywarden_core::rules::{RuleMeta, Scope};
use keywarden_core::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Every `GeneratorId` keywarden writes starts with this.
pub const GENERATOR_PREFIX: &str = "keywarden/";
/// Part of what `Id`'s hash covers: changed if the identifying fields ever change.
pub const FINDING_ID_VERSION: &str = "asff-id-v1";
/// Where the default region comes from when none is given: IAM's.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Security Hub's limits (the ASFF syntax reference), in UTF-16 units.
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 1024;
pub const RECOMMENDATION_MAX: usize = 512;
pub const PRODUCT_FIELDS_MAX: usize = 50;
pub const PRODUCT_FIELD_KEY_MAX: usize = 128;
pub const PRODUCT_FIELD_VALUE_MAX: usize = 2048;
pub const ID_MAX: usize = 512;

/// One ASFF finding, with the fields keywarden fills (names as AWS spells them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_observed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_observed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    pub compliance: Compliance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
    pub record_state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AsffSeverity {
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Recommendation {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Compliance {
    /// `FAILED`, `WARNING` (unknown), `PASSED` (resolved).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Workflow {
    /// `SUPPRESSED` (exempted) or `RESOLVED` (no longer produced).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Resource {
    /// `AwsIamAccessKey`, `AwsIamUser` or `AwsAccount`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub id: String,
    pub partition: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ResourceDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDetails {
    #[serde(
        rename = "AwsIamAccessKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_key: Option<AccessKeyDetails>,
    #[serde(
        rename = "AwsIamUser",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<UserDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccessKeyDetails {
    pub access_key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// `IAMUser` or `Root` when the key is a user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserDetails {
    pub user_name: String,
}

/// Where the documents go: the region of the product ARN and resources, and the account that
/// imports them (`None`: each finding's own account, for `--format asff` without AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsffTarget {
    pub region: String,
    pub account: Option<String>,
    /// The importing account is a Security Hub administrator taking other accounts' findings
    /// (`--securityhub-admin`): a finding of another account is written for `account` (the
    /// default product takes only the caller's own account as `AwsAccountId`), the member
    /// account in its `Id`, its resources and `ProductFields` `keywarden/Account`.
    pub administrator: bool,
}

impl Default for AsffTarget {
    fn default() -> Self {
        AsffTarget {
            region: DEFAULT_REGION.to_owned(),
            account: None,
            administrator: false,
        }
    }
}

impl AsffTarget {
    /// The documents of each account go into that account (`account: None`), in `region`.
    pub fn each_account(region: &str) -> Self {
        AsffTarget {
            region: region.to_owned(),
            account: None,
            administrator: false,
        }
    }
}

/// A finding that cannot become a document, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconvertible {
    /// The finding's position in the report.
    pub index: usize,
    pub rule: &'static str,
    pub reason: String,
}

/// The documents of a report, one per finding (in the report's order), and the findings that
/// could not be converted.
#[derive(Debug, Clone, Default)]
pub struct AsffBatch {
    pub findings: Vec<AsffFinding>,
    pub unconvertible: Vec<Unconvertible>,
}

/// One ASFF document as BatchImportFindings takes it: the printer builds it, the push sends it.
pub type AsffJson = serde_json::Value;

impl AsffBatch {
    /// The batch's documents as JSON, each `Id` once (two findings can share an Id when a
    /// report repeats a row).
    pub fn unique_json(&self) -> Vec<AsffJson> {
        let mut seen = std::collections::HashSet::new();
        self.findings
            .iter()
            .filter(|doc| seen.insert(doc.id.clone()))
            .map(AsffFinding::to_json)
            .collect()
    }
}

/// `--format asff`: the JSON array BatchImportFindings takes as `Findings`.
#[derive(Debug, Clone, Default)]
pub struct AsffPrinter {
    pub target: AsffTarget,
}

impl Printer for AsffPrinter {
    /// Two passes over the findings (an organization's read back account by account each
    /// time): the first finds any that cannot be written (nothing is printed then), the second
    /// writes each document as it is made, never holding them all.
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut index = 0;
        let mut unconvertible: Vec<Unconvertible> = Vec::new();
        report.for_each_finding(&mut |finding| {
            if let Err(reason) = document(finding, report.now, report.tool_version, &self.target) {
                unconvertible.push(Unconvertible {
                    index,
                    rule: finding.rule.code,
                    reason,
                });
            }
            index += 1;
            Ok(())
        })?;
        if let Some(first) = unconvertible.first() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} finding(s) cannot be written as ASFF; the first, finding {} ({}): {}",
                    unconvertible.len(),
                    first.index + 1,
                    first.rule,
                    first.reason
                ),
            ));
        }
        serde_json::to_writer_pretty(
            &mut *out,
            &StreamedDocuments {
                report,
                target: &self.target,
            },
        )?;
        out.write_all(b"\n")
    }
}

/// The documents of a report, made one at a time as the array is written.
struct StreamedDocuments<'r, 'a> {
    report: &'r FindingsReport<'a>,
    target: &'r AsffTarget,
}

impl Serialize for StreamedDocuments<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        let report = self.report;
        crate::json::serialize_streamed(report, serializer, |seq, f| {
            let doc = document(f, report.now, report.tool_version, self.target)
                .map_err(S::Error::custom)?;
            seq.serialize_element(&doc)
        })
    }
}

/// Every finding of `findings` as a document for `target`. A finding of another account than
/// the target's (unless the target is an administrator), or with no account and no target
/// account, is unconvertible: the default product takes the caller's account only.
pub fn documents_of(
    findings: &[Finding],
    now: Timestamp,
    tool_version: &str,
    target: &AsffTarget,
) -> AsffBatch {
    let mut batch = AsffBatch::default();
    for (index, finding) in findings.iter().enumerate() {
        match document(finding, now, tool_version, target) {
            Ok(doc) => batch.findings.push(doc),
            Err(reason) => batch.unconvertible.push(Unconvertible {
                index,
                rule: finding.rule.code,
                reason,
            }),
        }
    }
    batch
}

/// [`documents_of`] a single account's report.
pub fn documents(report: &FindingsReport<'_>, target: &AsffTarget) -> AsffBatch {
    documents_of(report.findings, report.now, report.tool_version, target)
}

impl AsffFinding {
    /// The document as the JSON value BatchImportFindings' boundary takes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The AWS partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The account's default product, the one BatchImportFindings accepts from any account.
pub fn product_arn(region: &str, account: &str) -> String {
    format!(
        "arn:{}:securityhub:{region}:{account}:product/{account}/default",
        partition(region)
    )
}

/// `keywarden/<rule>`, the rule's code kept to safe characters.
pub fn generator_id(rule: &RuleMeta) -> String {
    format!("{GENERATOR_PREFIX}{}", safe_segment(rule.code, 128))
}

/// Whether `account` is an AWS account id (12 ASCII digits).
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// What the `Id` of every finding about `account` starts with: `keywarden/<account>/`.
pub fn id_prefix(account: &str) -> String {
    format!("keywarden/{}/", safe_segment(account, 64))
}

/// The finding's stable `Id`: `keywarden/<account>/<rule>/<hash>`.
pub fn finding_id(finding: &Finding, account: &str) -> String {
    let key_id = finding.access_key_id.as_deref().unwrap_or("");
    let event_id = finding.event.as_ref().map_or("", |e| e.event_id.as_str());
    let hash = fnv128(&[
        FINDING_ID_VERSION,
        account,
        finding.rule.code,
        finding.user.as_deref().unwrap_or(""),
        finding.credential.as_str(),
        key_id,
        event_id,
    ]);
    let id = format!(
        "keywarden/{}/{}/{hash:032x}",
        safe_segment(account, 64),
        safe_segment(finding.rule.code, 128)
    );
    truncate_units(&id, ID_MAX, "")
}

/// One finding as a document for `target`.
pub fn document(
    finding: &Finding,
    now: Timestamp,
    tool_version: &str,
    target: &AsffTarget,
) -> Result<AsffFinding, String> {
    // `account` imports the finding (its `AwsAccountId` and product); `subject` is the account
    // the finding is about: another one only for an administrator.
    let (account, subject) = match (&target.account, &finding.account) {
        (Some(target_account), Some(own)) if own != target_account && !target.administrator => {
            return Err(format!(
                "it is about account `{own}`, and the default product of account \
                 {target_account} takes that account's findings only"
            ))
        }
        (Some(target_account), Some(own)) => (target_account.clone(), own.clone()),
        (Some(target_account), None) => (target_account.clone(), target_account.clone()),
        (None, Some(own)) => (own.clone(), own.clone()),
        (None, None) => return Err("it names no account".to_owned()),
    };
    for a in [&account, &subject] {
        if !is_account_id(a) {
            return Err(format!("`{a}` is not a 12-digit account id"));
        }
    }
    let now_text = rfc3339(now);
    let observed = finding
        .event
        .as_ref()
        .map_or_else(|| now_text.clone(), |e| rfc3339(e.event_time));
    let rule = finding.rule;
    let (compliance, workflow) = match finding.status {
        Status::Fail => ("FAILED", None),
        Status::Unknown => ("WARNING", None),
        Status::Exempted => ("FAILED", Some("SUPPRESSED")),
    };
    let fix = rule.fix_hint();
    Ok(AsffFinding {
        schema_version: SCHEMA_VERSION.to_owned(),
        id: finding_id(finding, &subject),
        product_arn: product_arn(&target.region, &account),
        generator_id: generator_id(rule),
        aws_account_id: account.clone(),
        types: types(rule),
        first_observed_at: Some(observed.clone()),
        last_observed_at: Some(observed),
        created_at: now_text.clone(),
        updated_at: now_text,
        severity: AsffSeverity {
            label: severity_label(rule.severity).to_owned(),
        },
        title: truncate_units(&title(finding), TITLE_MAX, "…"),
        description: truncate_units(&description(finding), DESCRIPTION_MAX, "…"),
        remediation: (!fix.is_empty()).then(|| Remediation {
            recommendation: Recommendation {
                text: truncate_units(&fix, RECOMMENDATION_MAX, "…"),
            },
        }),
        product_fields: product_fields(
            finding,
            tool_version,
            (subject != account).then_some(subject.as_str()),
        ),
        resources: vec![resource(finding, &subject, &target.region)],
        compliance: Compliance {
            status: compliance.to_owned(),
        },
        workflow: workflow.map(|status| Workflow {
            status: status.to_owned(),
        }),
        record_state: "ACTIVE".to_owned(),
    })
}

/// The record that resolves a finding keywarden imported earlier and no run produces any more:
/// the same document (as GetFindings returned it), archived, compliance `PASSED`, workflow
/// `RESOLVED`, updated at `now`.
pub fn resolved(mut existing: serde_json::Value, now: Timestamp) -> serde_json::Value {
    if let Some(fields) = existing.as_object_mut() {
        fields.insert("RecordState".into(), "ARCHIVED".into());
        fields.insert(
            "Compliance".into(),
            serde_json::json!({ "Status": "PASSED" }),
        );
        fields.insert(
            "Workflow".into(),
            serde_json::json!({ "Status": "RESOLVED" }),
        );
        fields.insert("UpdatedAt".into(), rfc3339(now).into());
    }
    existing
}

pub fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

const BEST_PRACTICES: &str = "Software and Configuration Checks/AWS Security Best Practices";
const CIS: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
const UNUSUAL_USER: &str = "Unusual Behaviors/User";

/// ATT&CK techniques a detection's standards may cite, and the ASFF tactic each belongs to.
const TECHNIQUE_TACTICS: [(&str, &str); 6] = [
    ("T1098", "TTPs/Persistence"),
    ("T1136", "TTPs/Persistence"),
    ("T1550", "TTPs/Defense Evasion"),
    ("T1562", "TTPs/Defense Evasion"),
    ("T1078", "TTPs/Initial Access"),
    ("T1528", "TTPs/Credential Access"),
];

/// The finding types of a rule, from its scope and the standards it cites.
pub fn types(rule: &RuleMeta) -> Vec<String> {
    let standards = rule.section("Standards").unwrap_or_default();
    let mut types: Vec<String> = Vec::new();
    if rule.scope == Scope::Event {
        for (technique, tactic) in TECHNIQUE_TACTICS {
            if standards.contains(technique) && !types.iter().any(|t| t == tactic) {
                types.push(tactic.to_owned());
            }
        }
        if types.is_empty() {
            types.push(UNUSUAL_USER.to_owned());
        }
    } else {
        types.push(BEST_PRACTICES.to_owned());
        if standards.contains("CIS") {
            types.push(CIS.to_owned());
        }
    }
    types
}

fn subject(finding: &Finding) -> String {
    match (&finding.user, finding.credential) {
        (None, _) => "account".to_owned(),
        (Some(user), CredentialKind::Account) => user.clone(),
        (Some(user), credential) => format!("{user} ({})", credential.as_str()),
    }
}

fn title(finding: &Finding) -> String {
    format!(
        "{} {}: {}",
        finding.rule.code,
        finding.rule.name,
        subject(finding)
    )
}

fn description(finding: &Finding) -> String {
    let mut text = finding.message.clone();
    match finding.status {
        Status::Fail => {}
        Status::Unknown => text.insert_str(0, "Could not be decided: "),
        Status::Exempted => {
            if let Some(exemption) = &finding.exemption {
                text.push_str(&format!(" Exempted: {}", exemption.reason));
            }
        }
    }
    if text.trim().is_empty() {
        text = finding.rule.summary.to_owned();
    }
    text
}

/// `member`: the account the finding is about, when an administrator imports it.
fn product_fields(
    finding: &Finding,
    tool_version: &str,
    member: Option<&str>,
) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut put = |key: String, value: String| {
        if fields.len() < PRODUCT_FIELDS_MAX {
            fields.insert(
                truncate_units(&key, PRODUCT_FIELD_KEY_MAX, ""),
                truncate_units(&value, PRODUCT_FIELD_VALUE_MAX, "…"),
            );
        }
    };
    put("ProviderName".into(), "keywarden".into());
    put("ProviderVersion".into(), tool_version.into());
    if let Some(member) = member {
        put("keywarden/Account".into(), member.into());
    }
    put("keywarden/Rule".into(), finding.rule.code.into());
    put("keywarden/Status".into(), finding.status.as_str().into());
    put(
        "keywarden/Credential".into(),
        finding.credential.as_str().into(),
    );
    if let Some(user) = &finding.user {
        put("keywarden/User".into(), user.clone());
    }
    if let Some(event) = &finding.event {
        put("keywarden/EventId".into(), event.event_id.clone());
        put("keywarden/EventName".into(), event.event_name.clone());
        if let Some(ip) = &event.source_ip {
            put("keywarden/SourceIp".into(), ip.clone());
        }
        if let Some(actor) = &event.actor {
            put("keywarden/Actor".into(), actor.clone());
        }
    }
    if let Some(exemption) = &finding.exemption {
        put("keywarden/Exemption".into(), exemption.reason.clone());
        put("keywarden/ExemptionSource".into(), exemption.source.clone());
    }
    for (name, value) in &finding.evidence {
        put(format!("keywarden/Evidence/{name}"), value.to_string());
    }
    fields
}

fn resource(finding: &Finding, account: &str, region: &str) -> Resource {
    let partition = partition(region);
    let user = finding.user.as_deref();
    let is_root = user == Some(ROOT_USER_NAME);
    if let Some(key_id) = finding.access_key_id.as_deref().filter(|k| !k.is_empty()) {
        return Resource {
            kind: "AwsIamAccessKey".into(),
            id: truncate_units(key_id, ID_MAX, ""),
            partition: partition.into(),
            region: region.into(),
            details: Some(ResourceDetails {
                access_key: Some(AccessKeyDetails {
                    access_key_id: key_id.to_owned(),
                    account_id: Some(account.to_owned()),
                    principal_name: user.map(str::to_owned),
                    principal_type: user.map(|_| if is_root { "Root" } else { "IAMUser" }.into()),
                }),
                user: None,
            }),
        };
    }
    match user {
        Some(name) if !is_root => Resource {
            kind: "AwsIamUser".into(),
            id: truncate_units(
                &format!("arn:{partition}:iam::{account}:user/{name}"),
                ID_MAX,
                "",
            ),
            partition: partition.into(),
            region: region.into(),
            details: Some(ResourceDetails {
                access_key: None,
                user: Some(UserDetails {
                    user_name: name.to_owned(),
                }),
            }),
        },
        _ => Resource {
            kind: "AwsAccount".into(),
            id: format!("AWS::::Account:{account}"),
            partition: partition.into(),
            region: region.into(),
            details: None,
        },
    }
}

/// `text` cut to at most `max` UTF-16 units on a character boundary, `marker` (counted) ending a
/// cut text.
pub fn truncate_units(text: &str, max: usize, marker: &str) -> String {
    let units = |s: &str| s.chars().map(char::len_utf16).sum::<usize>();
    if units(text) <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(units(marker));
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = at + c.len_utf8();
    }
    format!("{}{marker}", &text[..end])
}

/// `text` with anything but ASCII letters, digits, `.`, `_` and `-` as `_`, at most `max` bytes:
/// an `Id` and `GeneratorId` segment no name can break.
fn safe_segment(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(max);
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// FNV-1a, 128 bits, over the parts each followed by a NUL (so `a`+`bc` differs from `ab`+`c`).
fn fnv128(parts: &[&str]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0]) {
            hash = (hash ^ u128::from(byte)).wrapping_mul(PRIME);
        }
    }
    hash
}
