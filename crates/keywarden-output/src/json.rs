//! The JSON output: a versioned wire contract for scripts, SIEMs and other tools.
//!
//! The wire types here are deliberately separate from the core's types. The core is free to
//! rename, split or reorder its structs; this file is the only place that decides what a JSON
//! consumer sees, and [`SCHEMA_VERSION`] says which contract a document follows. The contract is
//! documented field by field in `docs/json-output.md`: change the two together.
//!
//! The wire types also implement `Deserialize`, so tests (and Rust consumers) can read a document
//! back. Readers ignore fields they do not know and map enum values they do not know to `Other`,
//! because a minor version may add both.
//!
//! [`JsonPrinter`] does not build an [`AuditDocument`]: that would copy every finding (a large
//! audit's findings twice in memory). It serializes private borrowed views of the same shape
//! instead, one finding at a time; a test checks that both give the same bytes.

use crate::{rfc3339, FindingsReport, Printer};
use keywarden_core::finding::{
    CredentialKind, EvidenceValue as CoreValue, ExemptionNote, Finding, Severity as CoreSeverity,
    Status as CoreStatus,
};
use keywarden_core::model::KeySlot;
use keywarden_core::Timestamp;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io::{self, Write};

/// The version of the JSON contract this build writes. Additive changes bump the minor number,
/// anything that can break a reader bumps the major one.
pub const SCHEMA_VERSION: &str = "1.1";

/// The major version this build can read; see [`AuditDocument::from_json`].
pub const SCHEMA_MAJOR: u32 = 1;

/// One audit, as written by `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditDocument {
    pub schema_version: String,
    pub tool: ToolInfo,
    /// The audit's `now`: the instant every age was measured from.
    #[serde(with = "rfc3339_serde")]
    #[schemars(with = "String")]
    pub generated_at: Timestamp,
    /// When the audited data was produced, if known.
    #[serde(with = "rfc3339_serde::option")]
    #[schemars(with = "Option<String>")]
    pub data_as_of: Option<Timestamp>,
    pub data_source: DataSourceInfo,
    pub preset: String,
    pub summary: Summary,
    /// Sorted: severity (worst first), rule code, account, user, credential.
    pub findings: Vec<FindingRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DataSourceInfo {
    /// `credential-report-file`, `demo`, `live`.
    pub kind: String,
    pub location: String,
    /// How `data_as_of` was learned, or why it is unknown.
    pub as_of_basis: String,
    /// `generated_at - data_as_of` in whole seconds; negative when the data is dated after the
    /// audit's `now`; `null` when `data_as_of` is unknown.
    pub age_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Rows evaluated, the root row included.
    pub users_evaluated: u64,
    pub root_row_seen: bool,
    /// Codes of the rules that ran, in catalogue order.
    pub rules_run: Vec<String>,
    pub fail: u64,
    pub unknown: u64,
    pub exempted: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindingRecord {
    /// The rule code, e.g. `KEY001`.
    pub rule: String,
    /// The rule name, e.g. `unused-access-key`.
    pub name: String,
    pub severity: Severity,
    pub status: Status,
    pub account: Option<String>,
    /// `<root_account>` for the root user; `null` for account-wide findings.
    pub user: Option<String>,
    pub credential: Credential,
    pub access_key_id: Option<String>,
    pub message: String,
    pub evidence: Evidence,
    pub exemption: Option<ExemptionRecord>,
    pub ignored_exemption: Option<ExemptionRecord>,
    /// CloudTrail detections only (1.1): the event behind the finding. Absent from audit
    /// findings.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventRecord>,
}

/// The CloudTrail event a detection fired on (schema 1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventRecord {
    pub event_id: String,
    #[serde(with = "rfc3339_serde")]
    #[schemars(with = "String")]
    pub event_time: Timestamp,
    pub event_name: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who made the call: the caller's ARN, else user name or access key.
    pub actor: Option<String>,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExemptionRecord {
    pub reason: String,
    /// `config:exemption[N]` or `tag:<key>`.
    pub source: String,
    #[serde(with = "rfc3339_serde::option")]
    #[schemars(with = "Option<String>")]
    pub expires: Option<Timestamp>,
}

/// The values a rule's decision used, as a JSON object whose keys keep the rule's order.
///
/// A plain map would sort the keys; the order is the order the rule read its inputs, which is
/// how a person follows the reasoning, so it is kept on the wire and when read back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence(pub Vec<(String, EvidenceValue)>);

impl Evidence {
    /// A finding's evidence in wire form; also what the CSV and SARIF outputs embed.
    pub fn of(finding: &Finding) -> Self {
        Evidence(
            finding
                .evidence
                .iter()
                .map(|(k, v)| ((*k).to_owned(), EvidenceValue::from(v)))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&EvidenceValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// One evidence value. Instants are RFC 3339 strings, so they arrive as `Text`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EvidenceValue {
    Null,
    Bool(bool),
    Integer(i64),
    Text(String),
    /// Any other JSON value, which a later minor version may add.
    Other(serde_json::Value),
}

impl JsonSchema for Evidence {
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

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedMap;

        impl<'de> Visitor<'de> for OrderedMap {
            type Value = Evidence;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an evidence object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Evidence, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(Evidence(entries))
            }
        }

        deserializer.deserialize_map(OrderedMap)
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

impl From<&CoreValue> for EvidenceValue {
    fn from(v: &CoreValue) -> Self {
        match v {
            CoreValue::Text(s) => EvidenceValue::Text(s.clone()),
            CoreValue::Time(t) => EvidenceValue::Text(rfc3339(*t)),
            CoreValue::Integer(i) => EvidenceValue::Integer(*i),
            CoreValue::Bool(b) => EvidenceValue::Bool(*b),
            CoreValue::Null => EvidenceValue::Null,
        }
    }
}

impl From<&ExemptionNote> for ExemptionRecord {
    fn from(note: &ExemptionNote) -> Self {
        ExemptionRecord {
            reason: note.reason.clone(),
            source: note.source.clone(),
            expires: note.expires,
        }
    }
}

impl FindingRecord {
    pub fn from_finding(f: &Finding) -> Self {
        FindingRecord {
            rule: f.rule.code.to_owned(),
            name: f.rule.name.to_owned(),
            severity: f.severity().into(),
            status: f.status.into(),
            account: f.account.clone(),
            user: f.user.clone(),
            credential: f.credential.into(),
            access_key_id: f.access_key_id.clone(),
            message: f.message.clone(),
            evidence: Evidence::of(f),
            exemption: f.exemption.as_ref().map(ExemptionRecord::from),
            ignored_exemption: f.ignored_exemption.as_ref().map(ExemptionRecord::from),
            event: f.event.as_ref().map(|e| EventRecord {
                event_id: e.event_id.clone(),
                event_time: e.event_time,
                event_name: e.event_name.clone(),
                source_ip: e.source_ip.clone(),
                user_agent: e.user_agent.clone(),
                actor: e.actor.clone(),
            }),
        }
    }
}

impl AuditDocument {
    pub fn from_report(report: &FindingsReport<'_>) -> Self {
        let head = DocumentHead::of(report);
        AuditDocument {
            schema_version: SCHEMA_VERSION.to_owned(),
            tool: head.tool,
            generated_at: head.generated_at,
            data_as_of: head.data_as_of,
            data_source: head.data_source,
            preset: report.preset.to_owned(),
            summary: head.summary,
            findings: report
                .findings
                .iter()
                .map(FindingRecord::from_finding)
                .collect(),
        }
    }

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

/// Everything of a document but its findings: small, and built the same way for
/// [`AuditDocument::from_report`] and for the printer.
struct DocumentHead {
    tool: ToolInfo,
    generated_at: Timestamp,
    data_as_of: Option<Timestamp>,
    data_source: DataSourceInfo,
    summary: Summary,
}

impl DocumentHead {
    fn of(report: &FindingsReport<'_>) -> Self {
        let count = |status| report.count(status) as u64;
        DocumentHead {
            tool: ToolInfo {
                name: "keywarden".to_owned(),
                version: report.tool_version.to_owned(),
            },
            generated_at: report.now,
            data_as_of: report.source.as_of,
            data_source: DataSourceInfo {
                kind: report.source.kind.to_owned(),
                location: report.source.location.clone(),
                as_of_basis: report.source.as_of_basis.clone(),
                age_seconds: report.source.age_seconds(report.now),
            },
            summary: Summary {
                users_evaluated: report.users_evaluated(),
                root_row_seen: report.root_row_seen(),
                rules_run: report.rules_run.iter().map(|r| r.code.to_owned()).collect(),
                fail: count(CoreStatus::Fail),
                unknown: count(CoreStatus::Unknown),
                exempted: count(CoreStatus::Exempted),
            },
        }
    }
}

// Borrowed views of the wire types, for writing only. Each mirrors its owned type field for
// field, in the same order and with the same serde attributes, so the bytes are the same; the
// test `views_write_the_same_bytes_as_the_wire_types` holds them together.

/// [`AuditDocument`], with the findings borrowed.
#[derive(Serialize)]
struct AuditDocumentView<'a> {
    schema_version: &'static str,
    tool: ToolInfo,
    #[serde(with = "rfc3339_serde")]
    generated_at: Timestamp,
    #[serde(with = "rfc3339_serde::option")]
    data_as_of: Option<Timestamp>,
    data_source: DataSourceInfo,
    preset: &'a str,
    summary: Summary,
    findings: FindingsView<'a>,
}

impl<'a> AuditDocumentView<'a> {
    fn of(report: &'a FindingsReport<'a>) -> Self {
        let head = DocumentHead::of(report);
        AuditDocumentView {
            schema_version: SCHEMA_VERSION,
            tool: head.tool,
            generated_at: head.generated_at,
            data_as_of: head.data_as_of,
            data_source: head.data_source,
            preset: report.preset,
            summary: head.summary,
            findings: FindingsView(report.findings),
        }
    }
}

/// The findings array, each finding viewed as it is written.
struct FindingsView<'a>(&'a [Finding]);

impl Serialize for FindingsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(FindingView::of))
    }
}

/// [`FindingRecord`], borrowed.
#[derive(Serialize)]
struct FindingView<'a> {
    rule: &'static str,
    name: &'static str,
    severity: Severity,
    status: Status,
    account: Option<&'a str>,
    user: Option<&'a str>,
    credential: Credential,
    access_key_id: Option<&'a str>,
    message: &'a str,
    evidence: EvidenceView<'a>,
    exemption: Option<ExemptionView<'a>>,
    ignored_exemption: Option<ExemptionView<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    event: Option<EventView<'a>>,
}

impl<'a> FindingView<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingView {
            rule: f.rule.code,
            name: f.rule.name,
            severity: f.severity().into(),
            status: f.status.into(),
            account: f.account.as_deref(),
            user: f.user.as_deref(),
            credential: f.credential.into(),
            access_key_id: f.access_key_id.as_deref(),
            message: &f.message,
            evidence: EvidenceView(&f.evidence),
            exemption: f.exemption.as_ref().map(ExemptionView::of),
            ignored_exemption: f.ignored_exemption.as_ref().map(ExemptionView::of),
            event: f.event.as_deref().map(|e| EventView {
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

/// [`EventRecord`], borrowed.
#[derive(Serialize)]
struct EventView<'a> {
    event_id: &'a str,
    #[serde(with = "rfc3339_serde")]
    event_time: Timestamp,
    event_name: &'a str,
    source_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    actor: Option<&'a str>,
}

/// [`ExemptionRecord`], borrowed.
#[derive(Serialize)]
struct ExemptionView<'a> {
    reason: &'a str,
    source: &'a str,
    #[serde(with = "rfc3339_serde::option")]
    expires: Option<Timestamp>,
}

impl<'a> ExemptionView<'a> {
    fn of(note: &'a ExemptionNote) -> Self {
        ExemptionView {
            reason: &note.reason,
            source: &note.source,
            expires: note.expires,
        }
    }
}

/// [`Evidence`], borrowed: an object in the rule's order.
struct EvidenceView<'a>(&'a [(&'static str, CoreValue)]);

impl Serialize for EvidenceView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, &EvidenceValueView(value))?;
        }
        map.end()
    }
}

/// [`EvidenceValue`], borrowed: written as the untagged owned enum writes it.
struct EvidenceValueView<'a>(&'a CoreValue);

impl Serialize for EvidenceValueView<'_> {
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
        AuditDocumentView::of(report).serialize(&mut serializer)?;
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
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::rfc3339(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(de::Error::custom)
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
    fn views_write_the_same_bytes_as_the_wire_types() {
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
            let document = AuditDocument::from_report(&report);
            let mut owned = serde_json::to_vec_pretty(&document).unwrap();
            owned.push(b'\n');
            assert_eq!(
                String::from_utf8(printed.clone()).unwrap(),
                String::from_utf8(owned).unwrap()
            );
            let back = AuditDocument::from_json(std::str::from_utf8(&printed).unwrap()).unwrap();
            assert_eq!(back.findings.len(), report.findings.len());
            assert_eq!(back.summary, document.summary);
        }
    }

    #[test]
    fn evidence_keeps_its_order_both_ways() {
        let evidence = Evidence(vec![
            ("zeta".into(), EvidenceValue::Integer(3)),
            ("alpha".into(), EvidenceValue::Null),
            ("mid".into(), EvidenceValue::Bool(true)),
        ]);
        let text = serde_json::to_string(&evidence).unwrap();
        assert_eq!(text, r#"{"zeta":3,"alpha":null,"mid":true}"#);
        let back: Evidence = serde_json::from_str(&text).unwrap();
        assert_eq!(back, evidence);
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
