//! The JSON output: a versioned wire contract for scripts, SIEMs and other tools.
//!
//! The wire types here are deliberately separate from the core's types. The core is free to
//! rename, split or reorder its structs; this file is the only place that decides what a JSON
//! consumer sees, and [`SCHEMA_VERSION`] says which contract a document follows. The contract is
//! documented field by field in `docs/json-output.md`: change the two together.
//!
//! Writing and reading are two sides, on purpose (as ripgrep's `printer/src/jsont.rs`):
//! - The writing side is one set of serialize-only types that borrow from the model
//!   ([`AuditDocument`] down to [`Evidence`]): building a document copies no finding, and the
//!   findings array is written one finding at a time. They are also what the committed JSON
//!   Schema is generated from (`crate::schema`), so the schema is the printed shape itself.
//!   The SARIF and CSV outputs embed the same [`Evidence`], [`ExemptionRecord`] and
//!   [`DataSourceInfo`].
//! - The reading side, [`SavedAudit`], reads a saved document back (`plan --from audit.json`,
//!   and Rust consumers). It cannot be the writing types: those borrow a model a reader does not
//!   have. It holds only what a reader acts on, so a field a later version adds or reshapes
//!   cannot break it; it ignores fields it does not know and maps enum values it does not know to
//!   `Other`, because a minor version may add both. The enums are shared by both sides.

use crate::{rfc3339, AccountSummary, DataSource, FindingsReport, Printer};
use keywarden_core::finding::{
    CredentialKind, EvidenceValue as CoreValue, ExemptionNote, Finding, Severity as CoreSeverity,
    Status as CoreStatus,
};
use keywarden_core::model::KeySlot;
use keywarden_core::rules::RuleMeta;
use keywarden_core::Timestamp;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io::{self, Write};

/// The version of the JSON contract this build writes. Additive changes bump the minor number,
/// anything that can break a reader bumps the major one.
pub const SCHEMA_VERSION: &str = "1.1";

/// The version of an organization run's document (`audit --org`): 1.1 and, added in 1.2, the
/// top-level `accounts` and each finding's `account_name` and `ou_path`. A single account's
/// document has none of them and says 1.1, as before.
pub const ORG_SCHEMA_VERSION: &str = "1.2";

/// The major version this build can read; see [`SavedAudit::from_json`].
pub const SCHEMA_MAJOR: u32 = 1;

// ----- The writing side: borrowed from the model, serialize-only -----

/// One audit, as written by `--format json`.
#[derive(Serialize, JsonSchema)]
pub struct AuditDocument<'a> {
    pub schema_version: &'static str,
    pub tool: ToolInfo<'a>,
    /// The audit's `now`: the instant every age was measured from.
    #[serde(with = "rfc3339_serde")]
    #[schemars(with = "String")]
    pub generated_at: Timestamp,
    /// When the audited data was produced, if known.
    #[serde(with = "rfc3339_serde::option")]
    #[schemars(with = "Option<String>")]
    pub data_as_of: Option<Timestamp>,
    pub data_source: DataSourceInfo<'a>,
    pub preset: &'a str,
    pub summary: Summary<'a>,
    /// An organization run only (1.2): every account, in the order of `findings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<AccountRecord<'static>>>")]
    pub accounts: Option<AccountRecords<'a>>,
    /// Sorted: severity (worst first), rule code, account, user, credential. An organization
    /// run: account by account (in the order of `accounts`), each account's sorted so.
    #[schemars(with = "Vec<FindingRecord<'static>>")]
    pub findings: Findings<'a>,
}

/// One account of an organization run (1.2).
#[derive(Serialize, JsonSchema)]
pub struct AccountRecord<'a> {
    /// The 12-digit account id.
    pub id: &'a str,
    pub name: &'a str,
    /// The organizational units from the root down, by name: `Root/Workloads/Prod`.
    pub ou_path: &'a str,
    /// `ok`, `assume-role-denied`, `throttled`, `access-denied`, `report-failed`, `error` or
    /// `skipped-suspended`.
    pub status: &'a str,
    /// AWS's error code when the account could not be audited.
    pub error_code: Option<&'a str>,
    /// Why the account could not be audited, or was skipped.
    pub reason: Option<&'a str>,
    /// The account's credential report's GeneratedTime.
    #[serde(with = "rfc3339_serde::option")]
    #[schemars(with = "Option<String>")]
    pub report_generated_at: Option<Timestamp>,
    /// `generated_at - report_generated_at` in whole seconds; `null` when unknown.
    pub report_age_seconds: Option<i64>,
    pub users_evaluated: u64,
    /// Failing findings by severity.
    pub fail_by_severity: SeverityCounts,
    pub fail: u64,
    pub unknown: u64,
    pub exempted: u64,
}

/// Failing findings per severity.
#[derive(Serialize, JsonSchema)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

/// The accounts array of an organization run.
pub struct AccountRecords<'a> {
    pub accounts: &'a [AccountSummary],
    pub now: Timestamp,
}

impl<'a> AccountRecord<'a> {
    pub fn of(account: &'a AccountSummary, now: Timestamp) -> Self {
        let [critical, high, medium, low] = account.fail_by_severity;
        AccountRecord {
            id: &account.id,
            name: &account.name,
            ou_path: &account.ou_path,
            status: &account.status,
            error_code: account.error_code.as_deref(),
            reason: account.reason.as_deref(),
            report_generated_at: account.report_generated_at,
            report_age_seconds: account
                .report_generated_at
                .map(|t| now.signed_duration_since(t).num_seconds()),
            users_evaluated: account.users_evaluated,
            fail_by_severity: SeverityCounts {
                critical,
                high,
                medium,
                low,
            },
            fail: account.fail,
            unknown: account.unknown,
            exempted: account.exempted,
        }
    }
}

impl Serialize for AccountRecords<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.accounts.iter().map(|a| AccountRecord::of(a, self.now)))
    }
}

#[derive(Serialize, JsonSchema)]
pub struct ToolInfo<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

#[derive(Serialize, JsonSchema)]
pub struct DataSourceInfo<'a> {
    /// `credential-report-file`, `demo`, `live`.
    pub kind: &'a str,
    pub location: &'a str,
    /// How `data_as_of` was learned, or why it is unknown.
    pub as_of_basis: &'a str,
    /// `generated_at - data_as_of` in whole seconds; negative when the data is dated after the
    /// audit's `now`; `null` when `data_as_of` is unknown.
    pub age_seconds: Option<i64>,
}

#[derive(Serialize, JsonSchema)]
pub struct Summary<'a> {
    /// Rows evaluated, the root row included.
    pub users_evaluated: u64,
    pub root_row_seen: bool,
    /// Codes of the rules that ran, in catalogue order.
    #[schemars(with = "Vec<String>")]
    pub rules_run: RuleCodes<'a>,
    pub fail: u64,
    pub unknown: u64,
    pub exempted: u64,
}

/// The findings array, each finding written as a [`FindingRecord`] as it goes: the report's
/// slice, or an organization's accounts read back one at a time.
pub struct Findings<'a>(pub &'a FindingsReport<'a>);

/// The codes of rules, as an array of strings.
pub struct RuleCodes<'a>(pub &'a [&'static RuleMeta]);

#[derive(Serialize, JsonSchema)]
pub struct FindingRecord<'a> {
    /// The rule code, e.g. `KEY001`.
    pub rule: &'a str,
    /// The rule name, e.g. `unused-access-key`.
    pub name: &'a str,
    pub severity: Severity,
    pub status: Status,
    pub account: Option<&'a str>,
    /// An organization run only (1.2): the account's name in Organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<&'a str>,
    /// An organization run only (1.2): the account's organizational units from the root down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<&'a str>,
    /// `<root_account>` for the root user; `null` for account-wide findings.
    pub user: Option<&'a str>,
    pub credential: Credential,
    pub access_key_id: Option<&'a str>,
    pub message: &'a str,
    pub evidence: Evidence<'a>,
    pub exemption: Option<ExemptionRecord<'a>>,
    pub ignored_exemption: Option<ExemptionRecord<'a>>,
    /// CloudTrail detections only (1.1): the event behind the finding. Absent from audit
    /// findings.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventRecord<'a>>,
}

/// The CloudTrail event a detection fired on (schema 1.1).
#[derive(Serialize, JsonSchema)]
pub struct EventRecord<'a> {
    pub event_id: &'a str,
    #[serde(with = "rfc3339_serde")]
    #[schemars(with = "String")]
    pub event_time: Timestamp,
    pub event_name: &'a str,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Who made the call: the caller's ARN, else user name or access key.
    pub actor: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
pub struct ExemptionRecord<'a> {
    pub reason: &'a str,
    /// `config:exemption[N]` or `tag:<key>`.
    pub source: &'a str,
    #[serde(with = "rfc3339_serde::option")]
    #[schemars(with = "Option<String>")]
    pub expires: Option<Timestamp>,
}

/// The values a rule's decision used, as a JSON object whose keys keep the rule's order.
///
/// A plain map would sort the keys; the order is the order the rule read its inputs, which is
/// how a person follows the reasoning, so it is kept on the wire (and by [`SavedEvidence`] when
/// read back). Instants are written as RFC 3339 strings.
#[derive(Clone, Copy)]
pub struct Evidence<'a>(pub &'a [(&'static str, CoreValue)]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    /// A value added by a later minor version.
    #[serde(other)]
    #[schemars(skip)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    Unknown,
    Exempted,
    /// A value added by a later minor version.
    #[serde(other)]
    #[schemars(skip)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    // snake_case alone would write `access_key1`.
    #[serde(rename = "access_key_1")]
    AccessKey1,
    #[serde(rename = "access_key_2")]
    AccessKey2,
    /// A long-term key named by `access_key_id` whose slot is unknown (CloudTrail), 1.1.
    AccessKey,
    /// A temporary (ASIA...) key minted by STS, 1.1.
    SessionKey,
    Password,
    Mfa,
    Account,
    /// A value added by a later minor version.
    #[serde(other)]
    #[schemars(skip)]
    Other,
}

impl<'a> AuditDocument<'a> {
    pub fn of(report: &'a FindingsReport<'a>) -> Self {
        let count = |status| report.count(status) as u64;
        AuditDocument {
            schema_version: if report.org.is_some() {
                ORG_SCHEMA_VERSION
            } else {
                SCHEMA_VERSION
            },
            tool: ToolInfo {
                name: "keywarden",
                version: report.tool_version,
            },
            generated_at: report.now,
            data_as_of: report.source.as_of,
            data_source: DataSourceInfo::of(&report.source, report.now),
            preset: report.preset,
            summary: Summary {
                users_evaluated: report.users_evaluated(),
                root_row_seen: report.root_row_seen(),
                rules_run: RuleCodes(report.rules_run),
                fail: count(CoreStatus::Fail),
                unknown: count(CoreStatus::Unknown),
                exempted: count(CoreStatus::Exempted),
            },
            accounts: report.org.map(|org| AccountRecords {
                accounts: org.accounts(),
                now: report.now,
            }),
            findings: Findings(report),
        }
    }
}

impl<'a> DataSourceInfo<'a> {
    /// Where the data came from, and its age at `now`.
    pub fn of(source: &'a DataSource, now: Timestamp) -> Self {
        DataSourceInfo {
            kind: source.kind,
            location: &source.location,
            as_of_basis: &source.as_of_basis,
            age_seconds: source.age_seconds(now),
        }
    }
}

impl<'a> FindingRecord<'a> {
    pub fn of(f: &'a Finding) -> Self {
        FindingRecord {
            rule: f.rule.code,
            name: f.rule.name,
            severity: f.severity().into(),
            status: f.status.into(),
            account: f.account.as_deref(),
            account_name: f.org_account.as_deref().map(|a| a.name.as_str()),
            ou_path: f.org_account.as_deref().map(|a| a.ou_path.as_str()),
            user: f.user.as_deref(),
            credential: f.credential.into(),
            access_key_id: f.access_key_id.as_deref(),
            message: &f.message,
            evidence: Evidence(&f.evidence),
            exemption: f.exemption.as_ref().map(ExemptionRecord::of),
            ignored_exemption: f.ignored_exemption.as_ref().map(ExemptionRecord::of),
            event: f.event.as_deref().map(|e| EventRecord {
                event_id: &e.event_id,
                event_time: e.event_time,
                event_name: &e.event_name,
                source_ip: e.source_ip.as_deref(),
                user_agent: e.user_agent.as_deref(),
                actor: e.actor.as_deref(),
            }),
        }
    }
}

impl<'a> ExemptionRecord<'a> {
    pub fn of(note: &'a ExemptionNote) -> Self {
        ExemptionRecord {
            reason: &note.reason,
            source: &note.source,
            expires: note.expires,
        }
    }
}

impl<'a> Evidence<'a> {
    /// A finding's evidence; also what the CSV and SARIF outputs embed.
    pub fn of(finding: &'a Finding) -> Self {
        Evidence(&finding.evidence)
    }
}

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.org.is_none() {
            return serializer.collect_seq(self.0.findings.iter().map(FindingRecord::of));
        }
        serialize_streamed(self.0, serializer, |seq, f| {
            seq.serialize_element(&FindingRecord::of(f))
        })
    }
}

/// A sequence of every finding of `report` (an organization's, read back account by account),
/// each written by `element`, without holding them all.
pub(crate) fn serialize_streamed<S: Serializer>(
    report: &FindingsReport<'_>,
    serializer: S,
    mut element: impl FnMut(&mut S::SerializeSeq, &Finding) -> Result<(), S::Error>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    let mut seq = serializer.serialize_seq(None)?;
    let mut failed: Option<S::Error> = None;
    let read = report.for_each_finding(&mut |f| {
        element(&mut seq, f).map_err(|e| {
            failed = Some(e);
            io::Error::other("the finding could not be written")
        })
    });
    if let Some(error) = failed {
        return Err(error);
    }
    read.map_err(|e| S::Error::custom(format!("cannot read an account's findings back: {e}")))?;
    seq.end()
}

impl Serialize for RuleCodes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|r| r.code))
    }
}

impl Serialize for Evidence<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, &WireValue(value))?;
        }
        map.end()
    }
}

/// One evidence value as written: null, a boolean, an integer or a string (instants as
/// RFC 3339).
struct WireValue<'a>(&'a CoreValue);

impl Serialize for WireValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            CoreValue::Text(s) => serializer.serialize_str(s),
            CoreValue::Time(t) => serializer.serialize_str(&rfc3339(*t)),
            CoreValue::Integer(i) => serializer.serialize_i64(*i),
            CoreValue::Bool(b) => serializer.serialize_bool(*b),
            CoreValue::Null => serializer.serialize_unit(),
        }
    }
}

impl JsonSchema for Evidence<'_> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Evidence".into()
    }

    /// An object whose values are null, a boolean, an integer or a string (instants as RFC 3339).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "The values the rule's decision used, in the order the rule read them.",
            "additionalProperties": {"type": ["null", "boolean", "integer", "string"]}
        })
    }
}

impl From<CoreSeverity> for Severity {
    fn from(s: CoreSeverity) -> Self {
        match s {
            CoreSeverity::Critical => Severity::Critical,
            CoreSeverity::High => Severity::High,
            CoreSeverity::Medium => Severity::Medium,
            CoreSeverity::Low => Severity::Low,
        }
    }
}

impl From<CoreStatus> for Status {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Fail => Status::Fail,
            CoreStatus::Unknown => Status::Unknown,
            CoreStatus::Exempted => Status::Exempted,
        }
    }
}

impl From<CredentialKind> for Credential {
    fn from(c: CredentialKind) -> Self {
        match c {
            CredentialKind::AccessKey(KeySlot::One) => Credential::AccessKey1,
            CredentialKind::AccessKey(KeySlot::Two) => Credential::AccessKey2,
            CredentialKind::AccessKeyId => Credential::AccessKey,
            CredentialKind::SessionKey => Credential::SessionKey,
            CredentialKind::Password => Credential::Password,
            CredentialKind::Mfa => Credential::Mfa,
            CredentialKind::Account => Credential::Account,
        }
    }
}

// ----- The reading side: a saved document, read back -----

/// A findings document read back (`plan --from audit.json`): the parts a reader acts on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SavedAudit {
    pub schema_version: String,
    #[serde(with = "rfc3339_serde::option")]
    pub data_as_of: Option<Timestamp>,
    pub findings: Vec<SavedFinding>,
}

/// One finding of a [`SavedAudit`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SavedFinding {
    pub rule: String,
    pub severity: Severity,
    pub status: Status,
    pub account: Option<String>,
    pub user: Option<String>,
    pub credential: Credential,
    pub access_key_id: Option<String>,
    pub message: String,
    pub evidence: SavedEvidence,
}

/// A finding's evidence read back, in the document's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SavedEvidence(pub Vec<(String, EvidenceValue)>);

/// One evidence value read back. Instants are RFC 3339 strings, so they arrive as `Text`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum EvidenceValue {
    Null,
    Bool(bool),
    Integer(i64),
    Text(String),
    /// Any other JSON value, which a later minor version may add.
    Other(serde_json::Value),
}

impl SavedAudit {
    /// Reads a document, refusing one whose major version this build does not understand
    /// (a newer minor version of the same major reads fine).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: String,
        }
        let VersionOnly { schema_version } = serde_json::from_str(text)?;
        let major = schema_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major != Some(SCHEMA_MAJOR) {
            return Err(de::Error::custom(format!(
                "schema_version `{schema_version}` is not supported: this build reads {SCHEMA_MAJOR}.x"
            )));
        }
        serde_json::from_str(text)
    }
}

impl SavedEvidence {
    pub fn get(&self, key: &str) -> Option<&EvidenceValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

impl<'de> Deserialize<'de> for SavedEvidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedMap;

        impl<'de> Visitor<'de> for OrderedMap {
            type Value = SavedEvidence;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an evidence object")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<SavedEvidence, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(SavedEvidence(entries))
            }
        }

        deserializer.deserialize_map(OrderedMap)
    }
}

/// `--format json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonPrinter;

impl Printer for JsonPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut blocks = Blocks {
            buf: Vec::with_capacity(BLOCK),
            out,
        };
        let mut serializer = serde_json::Serializer::with_formatter(&mut blocks, Pretty::default());
        AuditDocument::of(report).serialize(&mut serializer)?;
        blocks.write_all(b"\n")?;
        blocks.flush_block()
    }
}

const BLOCK: usize = 64 * 1024;

/// Gathers serde_json's many small writes (a quote, a comma, a key) into blocks: through a
/// `&mut dyn Write` each would be a call of its own.
struct Blocks<'w> {
    buf: Vec<u8>,
    out: &'w mut dyn Write,
}

impl Blocks<'_> {
    fn flush_block(&mut self) -> io::Result<()> {
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        result
    }
}

impl Write for Blocks<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if data.len() > BLOCK - self.buf.len() {
            self.flush_block()?;
            if data.len() > BLOCK {
                return self.out.write_all(data);
            }
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_block()?;
        self.out.flush()
    }
}

/// serde_json's `PrettyFormatter` with its default two-space indent, byte for byte, in fewer
/// writes: the separator and the indent of a line go out as one slice, and so do a key's
/// opening quote with them and its closing quote with the `: ` after it.
struct Pretty {
    depth: usize,
    has_value: bool,
    /// Between `begin_object_key` and `end_object_key`: the key's quotes are written with the
    /// separator before it and the `: ` after it.
    in_key: bool,
    /// `,`, a newline, then spaces: every line start is a slice of it.
    line: [u8; 2 + 2 * Pretty::MAX_DEPTH + 1],
}

impl Default for Pretty {
    fn default() -> Self {
        let mut line = [b' '; 2 + 2 * Pretty::MAX_DEPTH + 1];
        line[0] = b',';
        line[1] = b'\n';
        Pretty {
            depth: 0,
            has_value: false,
            in_key: false,
            line,
        }
    }
}

impl Pretty {
    /// Deeper lines are written piece by piece.
    const MAX_DEPTH: usize = 32;

    /// `,` (unless first), newline, indent, then the key's opening quote when `quote`.
    fn line<W: ?Sized + Write>(&mut self, w: &mut W, first: bool, quote: bool) -> io::Result<()> {
        let start = usize::from(first);
        if self.depth > Self::MAX_DEPTH {
            w.write_all(&self.line[start..2])?;
            for _ in 0..self.depth {
                w.write_all(b"  ")?;
            }
            return if quote { w.write_all(b"\"") } else { Ok(()) };
        }
        let end = 2 + 2 * self.depth;
        if !quote {
            return w.write_all(&self.line[start..end]);
        }
        self.line[end] = b'"';
        let result = w.write_all(&self.line[start..=end]);
        self.line[end] = b' ';
        result
    }
}

impl serde_json::ser::Formatter for Pretty {
    #[inline]
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    #[inline]
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true, false)?;
        }
        w.write_all(b"]")
    }

    #[inline]
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first, false)
    }

    #[inline]
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    #[inline]
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    #[inline]
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true, false)?;
        }
        w.write_all(b"}")
    }

    #[inline]
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.in_key = true;
        self.line(w, first, true)
    }

    #[inline]
    fn end_object_key<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    #[inline]
    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.in_key {
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }

    #[inline]
    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.in_key { b"\": " } else { b"\"" })
    }

    #[inline]
    fn begin_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        // The `: ` went out with the key's closing quote.
        Ok(())
    }

    #[inline]
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Instants on the wire: RFC 3339 in UTC with `Z`; any RFC 3339 offset is accepted on read.
mod rfc3339_serde {
    use super::Timestamp;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::rfc3339(*t))
    }

    fn parse(text: &str) -> Result<Timestamp, String> {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| format!("`{text}` is not an RFC 3339 instant: {e}"))
    }

    pub mod option {
        use super::Timestamp;
        use serde::{de, Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => super::parse(&text).map(Some).map_err(de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataSource;
    use keywarden_core::finding::EventContext;
    use keywarden_core::rules::ALL_RULES;
    use keywarden_core::time::parse_timestamp;
    use keywarden_core::AuditOutcome;

    fn at(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    /// Findings with every optional part set and unset, every evidence value kind, text that
    /// needs escaping, and an instant with sub-second digits.
    fn varied_findings() -> Vec<Finding> {
        let rule = ALL_RULES[0].meta();
        let note = |reason: &str, expires| ExemptionNote {
            reason: reason.into(),
            source: "config:exemption[0]".into(),
            expires,
        };
        let mut plain = Finding::for_account(rule, CoreStatus::Fail, None, "no \"account\"\n");
        plain.credential = CredentialKind::Account;
        let mut full =
            Finding::for_account(rule, CoreStatus::Exempted, Some("123456789012"), "é ✓")
                .with("text", "a\tb")
                .with("time", at("2024-01-01T00:00:00Z"))
                .with("fraction", at("2024-01-01T00:00:00.25Z"))
                .with("integer", -3i64)
                .with("bool", true)
                .with("null", None::<String>);
        full.user = Some("<root_account>".into());
        full.credential = CredentialKind::AccessKey(KeySlot::Two);
        full.access_key_id = Some("AKIAEXAMPLE".into());
        full.exemption = Some(note("applies", Some(at("2027-01-01T23:59:59Z"))));
        full.ignored_exemption = Some(note("expired: old", None));
        let mut event = Finding::for_account(rule, CoreStatus::Unknown, Some("1"), "event");
        event.credential = CredentialKind::SessionKey;
        event.event = Some(Box::new(EventContext {
            event_id: "e-1".into(),
            event_time: at("2024-05-01T10:00:00Z"),
            event_name: "CreateAccessKey".into(),
            region: Some("us-east-1".into()),
            source_ip: None,
            user_agent: Some("aws-cli/2".into()),
            actor: Some("arn:aws:iam::1:user/x".into()),
        }));
        vec![plain, full, event]
    }

    fn report_of(outcome: &AuditOutcome) -> FindingsReport<'_> {
        FindingsReport::audit(
            outcome,
            DataSource {
                kind: "credential-report-file",
                location: "r.csv".into(),
                as_of: Some(at("2024-05-31T21:00:00Z")),
                as_of_basis: "--report-time".into(),
            },
            "default",
            "0.1.0",
        )
    }

    #[test]
    fn the_formatter_writes_what_serde_json_pretty_writes() {
        let mut deep = serde_json::json!({"leaf": [1, {}, []]});
        for i in 0..40 {
            deep = if i % 2 == 0 {
                serde_json::json!({ "k\"ey": deep, "": null })
            } else {
                serde_json::json!([deep, "x", {"a": []}])
            };
        }
        let values = [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!("top"),
            serde_json::json!({"a": {"b": [true, false, null, 1.5, -2, "é\n\u{1}"], "c": {}}, "d": [[], [{}]]}),
            deep,
        ];
        for value in values {
            let mut ours = Vec::new();
            let mut blocks = Blocks {
                buf: Vec::with_capacity(BLOCK),
                out: &mut ours,
            };
            let mut serializer =
                serde_json::Serializer::with_formatter(&mut blocks, Pretty::default());
            value.serialize(&mut serializer).unwrap();
            blocks.flush_block().unwrap();
            let theirs = serde_json::to_vec_pretty(&value).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    #[test]
    fn the_printer_writes_the_document_and_it_reads_back() {
        for findings in [Vec::new(), varied_findings()] {
            let outcome = AuditOutcome {
                findings,
                users_evaluated: 3,
                root_row_seen: true,
                account_ids: vec!["123456789012".into()],
                rules_run: ALL_RULES.iter().map(|r| r.meta()).collect(),
                now: at("2024-06-01T00:00:00Z"),
            };
            let report = report_of(&outcome);
            let mut printed = Vec::new();
            JsonPrinter.print_findings(&report, &mut printed).unwrap();
            let mut plain = serde_json::to_vec_pretty(&AuditDocument::of(&report)).unwrap();
            plain.push(b'\n');
            assert_eq!(
                String::from_utf8(printed.clone()).unwrap(),
                String::from_utf8(plain).unwrap()
            );
            let back = SavedAudit::from_json(std::str::from_utf8(&printed).unwrap()).unwrap();
            assert_eq!(back.schema_version, SCHEMA_VERSION);
            assert_eq!(back.data_as_of, report.source.as_of);
            assert_eq!(back.findings.len(), report.findings.len());
            for (read, f) in back.findings.iter().zip(report.findings) {
                assert_eq!(read.rule, f.rule.code);
                assert_eq!(read.severity, Severity::from(f.severity()));
                assert_eq!(read.status, Status::from(f.status));
                assert_eq!(read.credential, Credential::from(f.credential));
                assert_eq!(read.account, f.account);
                assert_eq!(read.user, f.user);
                assert_eq!(read.access_key_id, f.access_key_id);
                assert_eq!(read.message, f.message);
                assert_eq!(
                    read.evidence.keys().collect::<Vec<_>>(),
                    f.evidence.iter().map(|(k, _)| *k).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn evidence_keeps_its_order_both_ways() {
        let values = [
            ("zeta", CoreValue::Integer(3)),
            ("alpha", CoreValue::Null),
            ("mid", CoreValue::Bool(true)),
            ("when", CoreValue::Time(at("2024-01-01T00:00:00Z"))),
        ];
        let text = serde_json::to_string(&Evidence(&values)).unwrap();
        assert_eq!(
            text,
            r#"{"zeta":3,"alpha":null,"mid":true,"when":"2024-01-01T00:00:00Z"}"#
        );
        let back: SavedEvidence = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            SavedEvidence(vec![
                ("zeta".into(), EvidenceValue::Integer(3)),
                ("alpha".into(), EvidenceValue::Null),
                ("mid".into(), EvidenceValue::Bool(true)),
                (
                    "when".into(),
                    EvidenceValue::Text("2024-01-01T00:00:00Z".into())
                ),
            ])
        );
    }

    #[test]
    fn newer_enum_values_and_value_types_still_read() {
        let status: Status = serde_json::from_str(r#""suppressed""#).unwrap();
        assert_eq!(status, Status::Other);
        let credential: Credential = serde_json::from_str(r#""certificate_1""#).unwrap();
        assert_eq!(credential, Credential::Other);
        let value: EvidenceValue = serde_json::from_str("[1, 2]").unwrap();
        assert_eq!(value, EvidenceValue::Other(serde_json::json!([1, 2])));
        let value: EvidenceValue = serde_json::from_str("2.5").unwrap();
        assert_eq!(value, EvidenceValue::Other(serde_json::json!(2.5)));
    }

    #[test]
    fn credential_names_match_the_core() {
        for kind in [
            CredentialKind::AccessKey(KeySlot::One),
            CredentialKind::AccessKey(KeySlot::Two),
            CredentialKind::Password,
            CredentialKind::Mfa,
            CredentialKind::Account,
        ] {
            let wire = serde_json::to_value(Credential::from(kind)).unwrap();
            assert_eq!(wire, serde_json::json!(kind.as_str()));
        }
        for severity in CoreSeverity::ALL {
            let wire = serde_json::to_value(Severity::from(severity)).unwrap();
            assert_eq!(wire, serde_json::json!(severity.as_str()));
        }
        for status in [CoreStatus::Fail, CoreStatus::Unknown, CoreStatus::Exempted] {
            let wire = serde_json::to_value(Status::from(status)).unwrap();
            assert_eq!(wire, serde_json::json!(status.as_str()));
        }
    }
}
