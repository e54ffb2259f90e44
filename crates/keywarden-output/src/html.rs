//! `--format html`: one self-contained page a person opens in a browser, from `file://`, offline.
//!
//! The page is a fixed shell (`html/report.css`, `html/report.js`, inlined) and the report's data,
//! embedded once as compact JSON in a `<script type="application/json">` block. The page's own
//! script draws everything from that data with `textContent` and DOM calls, never by parsing
//! markup, so a user name such as `<img src=x onerror=alert(1)>` is shown as text.
//!
//! What keeps the data inert:
//! - [`script_json`]: the JSON is escaped for the inside of a `<script>` element: `<`, `>` and `&`
//!   become `\u003c`, `\u003e`, `\u0026` (so no value can write `</script>` or `<!--`), and U+2028,
//!   U+2029, the Bidi controls and the other invisible characters become `\u2028` and the like.
//!   All are JSON escapes, so `JSON.parse` gives the exact values back.
//! - A Content-Security-Policy `<meta>`, first in `<head>`, allows only the page's own style and
//!   script, by their SHA-256 hashes: no other script runs, and nothing is fetched (no image, font,
//!   frame, connection or form target), so the file works offline and leaks nothing when opened.
//!
//! Size: 100,000 findings must stay under 20 MB and load fast, so rows are arrays, not objects;
//! rules, accounts and evidence keys are tables that rows point into by index; instants are Unix
//! seconds. The page renders only the rows in view (a virtual table). The layout is documented
//! where it is written ([`Page`]) and read (`report.js`, `load`).
//!
//! For trail runs built with [`HtmlPrinter::with_lineage`], each key a finding names gets a
//! timeline from the run's lineage: creation, status changes, sessions minted, first and last
//! use, deletion, and uses after the key was revoked.

use crate::escape::is_unsafe_on_terminal;
use crate::json::DataSourceInfo;
use crate::{rfc3339, FindingsReport, Printer, Subject};
use base64::Engine as _;
use keywarden_core::cloudtrail::lineage::{Change, KeyHistory, Lineage, UseSpan};
use keywarden_core::finding::{CredentialKind, EvidenceValue, Finding, Status};
use keywarden_core::rules::{Fix, RuleMeta};
use keywarden_core::Timestamp;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");
/// The incident report page's script (`contain --format html`).
const INCIDENT_JS: &str = include_str!("html/incident.js");

/// The credential kinds, in the order rows index them (`CredentialKind::as_str`).
const CREDENTIALS: [CredentialKind; 7] = CredentialKind::ALL;

/// The statuses, in the order rows index them.
const STATUSES: [Status; 3] = Status::ALL;

/// The HTML report printer.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlPrinter<'l> {
    lineage: Option<&'l Lineage>,
}

impl<'l> HtmlPrinter<'l> {
    /// A printer that adds, for a trail run, the timeline of every key a finding names.
    pub fn with_lineage(lineage: &'l Lineage) -> Self {
        HtmlPrinter {
            lineage: Some(lineage),
        }
    }
}

impl Printer for HtmlPrinter<'_> {
    /// Two passes over the findings: the first gathers the tables rows point into (rules,
    /// accounts, messages, evidence keys), the second writes each row as it reads it. An
    /// organization run's findings are read back account by account both times, so the page is
    /// written without holding them.
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut tables = Tables::new(report);
        report.for_each_finding(&mut |f| {
            tables.add(f);
            Ok(())
        })?;
        write_page(report, &tables, self.lineage, out)
    }
}

/// The `'sha256-...'` CSP source of an inline element's text.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page's Content-Security-Policy: nothing but its own style and script.
pub fn content_security_policy() -> String {
    policy_for(JS)
}

/// The Content-Security-Policy of a page whose only script is `js` and only style the CSS.
fn policy_for(js: &str) -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'none'; font-src 'none'; \
         connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; \
         worker-src 'none'; manifest-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(js),
        csp_hash(CSS)
    )
}

/// The incident report page's Content-Security-Policy.
pub fn incident_content_security_policy() -> String {
    policy_for(INCIDENT_JS)
}

/// `contain --format html`: the incident report (its JSON document, docs/incident-report.md)
/// as one self-contained page, made by the same machinery as the findings report: the document
/// embedded once as escaped JSON, drawn by the page's own script with `textContent`, a CSP that
/// allows only that script and the style by their hashes.
pub fn print_incident_page<T: Serialize + ?Sized>(
    report: &T,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_shell("keywarden incident report", INCIDENT_JS, out, &mut |out| {
        write_json_piece(report, out)
    })
}

fn write_page(
    report: &FindingsReport<'_>,
    tables: &Tables,
    lineage: Option<&Lineage>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let title = format!(
        "keywarden report: {} finding(s), {}",
        tables.findings,
        rfc3339(report.now)
    );
    write_shell(&title, JS, out, &mut |out| {
        write_data(report, tables, lineage, out)
    })
}

/// A page: the CSP for `js` first, the style, the data block `data` writes, then the script.
/// `title` is ours (a count and an instant, or a fixed text): never a value from the data.
fn write_shell(
    title: &str,
    js: &str,
    out: &mut dyn Write,
    data: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    out.write_all(b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        policy_for(js)
    )?;
    out.write_all(b"<meta name=\"referrer\" content=\"no-referrer\">\n")?;
    out.write_all(b"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")?;
    writeln!(out, "<title>{title}</title>")?;
    write!(out, "<style>{CSS}</style>\n</head>\n<body>\n")?;
    out.write_all(
        b"<noscript><p>This report is drawn by its own inline script: allow JavaScript for this \
          file, or use --format json.</p></noscript>\n",
    )?;
    out.write_all(b"<script type=\"application/json\" id=\"kw-data\">")?;
    data(out)?;
    out.write_all(b"</script>\n")?;
    write!(out, "<script>{js}</script>\n</body>\n</html>\n")
}

/// `value` as compact JSON escaped for the data block ([`script_json`]).
fn write_json_piece<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(script_json(&serde_json::to_string(value)?).as_bytes())
}

/// The data block's JSON object (see [`Tables`] for its fields), its rows written one by one as
/// the second pass reads the findings.
fn write_data(
    report: &FindingsReport<'_>,
    tables: &Tables,
    lineage: Option<&Lineage>,
    out: &mut dyn Write,
) -> io::Result<()> {
    out.write_all(b"{\"meta\":")?;
    write_json_piece(&tables.meta(report), out)?;
    out.write_all(b",\"rules\":")?;
    write_json_piece(
        &tables.rules.iter().map(|r| RuleRow(r)).collect::<Vec<_>>(),
        out,
    )?;
    out.write_all(b",\"accounts\":")?;
    write_json_piece(&tables.accounts, out)?;
    out.write_all(b",\"messages\":")?;
    write_json_piece(&tables.messages, out)?;
    out.write_all(b",\"evkeys\":")?;
    write_json_piece(&tables.evkeys, out)?;
    out.write_all(b",\"credentials\":")?;
    write_json_piece(&CREDENTIALS.map(|c| c.as_str()), out)?;
    out.write_all(b",\"statuses\":")?;
    write_json_piece(&STATUSES.map(|s| s.as_str()), out)?;
    if let Some(org) = report.org {
        out.write_all(b",\"org\":")?;
        let accounts: Vec<OrgAccount<'_>> = org.accounts().iter().map(OrgAccount).collect();
        write_json_piece(&accounts, out)?;
    }
    out.write_all(b",\"rows\":[")?;
    let mut first = true;
    report.for_each_finding(&mut |f| {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write_json_piece(&tables.row(f, report.now), out)
    })?;
    out.write_all(b"],\"timelines\":")?;
    let timelines = lineage.map_or_else(Vec::new, |l| timelines(report.findings, l));
    write_json_piece(&timelines, out)?;
    out.write_all(b"}")
}

/// JSON for the inside of an HTML `<script>` element: `<`, `>`, `&` and every character that
/// reorders or hides text ([`is_unsafe_on_terminal`]: Bidi overrides, U+2028, U+2029, DEL, C1...)
/// as `\uXXXX` escapes. `json` must be serde_json's output, where these can only occur inside
/// strings (it escapes the C0 controls itself), so the escapes keep the document valid and its
/// values exact, and the page's source reads as it runs.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        if matches!(c, '<' | '>' | '&') || is_unsafe_on_terminal(c) {
            // Every such character is in the Basic Multilingual Plane: one \u escape.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// An instant as Unix seconds, with milliseconds when it has them.
#[derive(Clone, Copy)]
struct Seconds(Timestamp);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let millis = self.0.timestamp_millis();
        if millis % 1000 == 0 {
            s.serialize_i64(millis / 1000)
        } else {
            s.serialize_f64(millis as f64 / 1000.0)
        }
    }
}

fn seconds(t: Timestamp) -> Seconds {
    Seconds(t)
}

/// Whole days from `t` to `now`.
fn days_between(t: Timestamp, now: Timestamp) -> i64 {
    now.signed_duration_since(t).num_days()
}

/// The embedded data's tables, gathered by a first pass over the findings. The data block is a
/// JSON object; field by field, as `report.js` reads it:
/// - `meta`: tool, version, `generated_at`, `data_as_of`, `source` (as the JSON output's
///   `data_source`), `preset`, `subject` (`credentials` or `events`), `users_evaluated`,
///   `root_row_seen`, `summary` (`fail`, `unknown`, `exempted`), `thresholds` (the limits the
///   findings' evidence names, by evidence key).
/// - `rules`: `[code, name, severity, summary, documentation, fix hint, acts_on_key,
///   [[action, safety]...], [manual step...]]`.
/// - `accounts`: account ids (an organization run's in its order, then any other a finding
///   names); `messages`: the findings' messages, each once; `evkeys`: `[name, kind]` pairs, kind
///   one of text, time, int, bool, null; `credentials`, `statuses`: the names rows index.
/// - `org` (organization runs only): one entry per account, `[id, name, OU path, status, AWS
///   error code, reason, report generated at, users evaluated, fail, unknown, exempted,
///   [failing by severity, critical first]]`, the id at the same index as in `accounts`.
/// - `rows`: one per finding, `[rule, status, account (-1: none), user, credential, key id,
///   message (index), evidence, key age days, days since use, exemption, ignored exemption, event]`,
///   trailing nulls left off; evidence is flat `[evkey, value, ...]` (instants in seconds,
///   0 for null); an exemption `[reason, source, expires]`; an event `[id, time, name, region,
///   source ip, user agent, actor]`.
/// - `timelines`: for trail runs, `[key id, owner, account, [[time, label, detail, alert]...]]`.
///
/// The tables own their text: an organization run's findings are gone once their account is
/// read. They grow with distinct rules, accounts, messages and evidence keys, not findings.
struct Tables {
    findings: usize,
    rules: Vec<&'static RuleMeta>,
    rule_index: HashMap<&'static str, usize>,
    accounts: Vec<String>,
    account_index: HashMap<String, usize>,
    // Messages repeat (the same rule, the same count of days): each is written once.
    messages: Vec<String>,
    message_index: HashMap<String, usize>,
    evkeys: Vec<(&'static str, &'static str)>,
    evkey_index: HashMap<(&'static str, &'static str), usize>,
    thresholds: BTreeMap<&'static str, i64>,
}

impl Tables {
    /// The tables before any finding: the rules that ran, an organization's accounts.
    fn new(report: &FindingsReport<'_>) -> Self {
        let mut tables = Tables {
            findings: 0,
            rules: Vec::new(),
            rule_index: HashMap::new(),
            accounts: Vec::new(),
            account_index: HashMap::new(),
            messages: Vec::new(),
            message_index: HashMap::new(),
            evkeys: Vec::new(),
            evkey_index: HashMap::new(),
            thresholds: BTreeMap::new(),
        };
        // Rules: those that ran, then any a finding names that is not among them.
        for r in report.rules_run {
            tables.rule(r);
        }
        for a in report.accounts() {
            tables.account(&a.id);
        }
        tables
    }

    fn rule(&mut self, rule: &'static RuleMeta) -> usize {
        *self.rule_index.entry(rule.code).or_insert_with(|| {
            self.rules.push(rule);
            self.rules.len() - 1
        })
    }

    fn account(&mut self, id: &str) -> usize {
        if let Some(i) = self.account_index.get(id) {
            return *i;
        }
        self.accounts.push(id.to_owned());
        self.account_index
            .insert(id.to_owned(), self.accounts.len() - 1);
        self.accounts.len() - 1
    }

    /// The first pass: what `f` adds to the tables.
    fn add(&mut self, f: &Finding) {
        self.findings += 1;
        self.rule(f.rule);
        if let Some(a) = f.account.as_deref() {
            self.account(a);
        }
        if !self.message_index.contains_key(&f.message) {
            self.messages.push(f.message.clone());
            self.message_index
                .insert(f.message.clone(), self.messages.len() - 1);
        }
        for (key, value) in &f.evidence {
            let pair = (*key, evidence_kind(value));
            if !self.evkey_index.contains_key(&pair) {
                self.evkeys.push(pair);
                self.evkey_index.insert(pair, self.evkeys.len() - 1);
            }
            if let (Some(name), EvidenceValue::Integer(limit)) =
                (THRESHOLD_KEYS.iter().find(|t| **t == *key), value)
            {
                self.thresholds.entry(name).or_insert(*limit);
            }
        }
    }

    fn meta<'r>(&self, report: &'r FindingsReport<'_>) -> Meta<'r> {
        Meta {
            tool: "keywarden",
            version: report.tool_version,
            generated_at: rfc3339(report.now),
            data_as_of: report.source.as_of.map(rfc3339),
            source: DataSourceInfo::of(&report.source, report.now),
            preset: report.preset,
            subject: match report.subject {
                Subject::Credentials { .. } => "credentials",
                Subject::Events { .. } => "events",
            },
            users_evaluated: report.users_evaluated(),
            root_row_seen: report.root_row_seen(),
            summary: STATUSES
                .iter()
                .map(|s| (s.as_str(), report.count(*s)))
                .collect(),
            thresholds: self.thresholds.clone(),
        }
    }

    /// The second pass: `f`'s row, every index from the first pass (a finding the first pass
    /// did not see points at index 0, never panics).
    fn row<'f>(&self, f: &'f Finding, now: Timestamp) -> Row<'f> {
        let index = |i: Option<&usize>| i.copied().unwrap_or(0) as i64;
        let mut ev = Vec::with_capacity(f.evidence.len() * 2);
        for (key, value) in &f.evidence {
            let k = self
                .evkey_index
                .get(&(*key, evidence_kind(value)))
                .copied()
                .unwrap_or(0);
            ev.push(EvCell::Key(k));
            ev.push(EvCell::Value(value));
        }
        let opt_int = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
        let text = |v: Option<&'f str>| v.map_or(Cell::Null, Cell::Text);
        let account = match f.account.as_deref() {
            Some(a) => index(self.account_index.get(a)),
            None => -1,
        };
        let mut cells = vec![
            Cell::Int(index(self.rule_index.get(f.rule.code))),
            Cell::Int(STATUSES.iter().position(|s| *s == f.status).unwrap_or(0) as i64),
            Cell::Int(account),
            text(f.user.as_deref()),
            Cell::Int(
                CREDENTIALS
                    .iter()
                    .position(|c| *c == f.credential)
                    .unwrap_or(0) as i64,
            ),
            text(f.access_key_id.as_deref()),
            Cell::Int(index(self.message_index.get(&f.message))),
            Cell::Evidence(ev),
            opt_int(key_age_days(f, now)),
            opt_int(days_since_use(f, now)),
            f.exemption.as_ref().map_or(Cell::Null, Cell::Exemption),
            f.ignored_exemption
                .as_ref()
                .map_or(Cell::Null, Cell::Exemption),
            f.event.as_deref().map_or(Cell::Null, Cell::Event),
        ];
        while matches!(cells.last(), Some(Cell::Null)) {
            cells.pop();
        }
        Row(cells)
    }
}

/// One account of an organization run, as the `org` table holds it.
struct OrgAccount<'a>(&'a crate::AccountSummary);

impl Serialize for OrgAccount<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        (
            &a.id,
            &a.name,
            &a.ou_path,
            &a.status,
            &a.error_code,
            &a.reason,
            a.report_generated_at.map(seconds),
            a.users_evaluated,
            a.fail,
            a.unknown,
            a.exempted,
            a.fail_by_severity,
        )
            .serialize(s)
    }
}

#[derive(Serialize)]
struct Meta<'a> {
    tool: &'static str,
    version: &'a str,
    generated_at: String,
    data_as_of: Option<String>,
    source: DataSourceInfo<'a>,
    preset: &'a str,
    subject: &'static str,
    users_evaluated: u64,
    root_row_seen: bool,
    summary: BTreeMap<&'static str, usize>,
    thresholds: BTreeMap<&'static str, i64>,
}

struct RuleRow<'a>(&'a RuleMeta);

impl Serialize for RuleRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let actions: Vec<(&str, &str)> = r
            .fix
            .actions()
            .iter()
            .map(|(kind, safety)| (kind.as_str(), safety.as_str()))
            .collect();
        let steps: &[&str] = match r.fix {
            Fix::Manual(steps) => steps,
            _ => &[],
        };
        (
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary,
            r.documentation_text(),
            r.fix_hint(),
            r.fix.acts_on_key(),
            actions,
            steps,
        )
            .serialize(s)
    }
}

/// One cell of a row.
enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Null,
    Evidence(Vec<EvCell<'a>>),
    Exemption(&'a keywarden_core::finding::ExemptionNote),
    Event(&'a keywarden_core::finding::EventContext),
}

enum EvCell<'a> {
    Key(usize),
    Value(&'a EvidenceValue),
}

struct Row<'a>(Vec<Cell<'a>>);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for cell in &self.0 {
            match cell {
                Cell::Int(i) => seq.serialize_element(i)?,
                Cell::Text(t) => seq.serialize_element(t)?,
                Cell::Null => seq.serialize_element(&())?,
                Cell::Evidence(items) => seq.serialize_element(&EvList(items))?,
                Cell::Exemption(note) => {
                    seq.serialize_element(&(&note.reason, &note.source, note.expires.map(seconds)))?
                }
                Cell::Event(e) => seq.serialize_element(&(
                    &e.event_id,
                    seconds(e.event_time),
                    &e.event_name,
                    &e.region,
                    &e.source_ip,
                    &e.user_agent,
                    &e.actor,
                ))?,
            }
        }
        seq.end()
    }
}

struct EvList<'s, 'a>(&'s [EvCell<'a>]);

impl Serialize for EvList<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for cell in self.0 {
            match cell {
                EvCell::Key(k) => seq.serialize_element(k)?,
                EvCell::Value(EvidenceValue::Text(t)) => seq.serialize_element(t)?,
                EvCell::Value(EvidenceValue::Time(t)) => seq.serialize_element(&seconds(*t))?,
                EvCell::Value(EvidenceValue::Integer(i)) => seq.serialize_element(i)?,
                EvCell::Value(EvidenceValue::Bool(b)) => seq.serialize_element(b)?,
                EvCell::Value(EvidenceValue::Null) => seq.serialize_element(&0)?,
            }
        }
        seq.end()
    }
}

fn evidence_kind(value: &EvidenceValue) -> &'static str {
    match value {
        EvidenceValue::Text(_) => "text",
        EvidenceValue::Time(_) => "time",
        EvidenceValue::Integer(_) => "int",
        EvidenceValue::Bool(_) => "bool",
        EvidenceValue::Null => "null",
    }
}

/// The evidence keys whose integer value is a limit the histograms mark.
const THRESHOLD_KEYS: [&str; 3] = ["max_key_age_days", "max_unused_days", "max_inactive_days"];

fn is_key(credential: CredentialKind) -> bool {
    matches!(
        credential,
        CredentialKind::AccessKey(_) | CredentialKind::AccessKeyId
    )
}

fn evidence<'f>(f: &'f Finding, key: &str) -> Option<&'f EvidenceValue> {
    f.evidence.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// A key's age in days from its creation, as the finding's evidence tells it.
fn key_age_days(f: &Finding, now: Timestamp) -> Option<i64> {
    if !is_key(f.credential) {
        return None;
    }
    if let Some(EvidenceValue::Integer(days)) = evidence(f, "age_days") {
        return Some(*days);
    }
    ["created", "key_created"]
        .iter()
        .find_map(|key| match evidence(f, key) {
            Some(EvidenceValue::Time(t)) => Some(days_between(*t, now)),
            _ => None,
        })
}

/// Days since a key was last used (since creation when never used, as the rules count).
fn days_since_use(f: &Finding, now: Timestamp) -> Option<i64> {
    if !is_key(f.credential) {
        return None;
    }
    for key in ["days_unused", "days_idle"] {
        if let Some(EvidenceValue::Integer(days)) = evidence(f, key) {
            return Some(*days);
        }
    }
    match evidence(f, "last_used") {
        Some(EvidenceValue::Time(t)) => Some(days_between(*t, now)),
        _ => None,
    }
}

/// One key's timeline: `[key id, owner, account, events]`.
#[derive(Serialize)]
struct Timeline<'a>(
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Vec<TimelineEvent>,
);

/// `[time, label, detail, alert]`: `alert` marks a use after the key was revoked.
#[derive(Serialize)]
struct TimelineEvent(Seconds, &'static str, String, bool);

fn change_detail(c: &Change) -> String {
    format!(
        "{} by {} from {}",
        c.event_name,
        c.actor.as_deref().unwrap_or("unknown caller"),
        c.source_ip.as_deref().unwrap_or("unknown address")
    )
}

fn use_events(span: Option<&UseSpan>, who: &str, revoked: Option<&Change>) -> Vec<TimelineEvent> {
    let Some(span) = span else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for (label, u) in [("first use", &span.first), ("last use", &span.last)] {
        events.push(TimelineEvent(
            seconds(u.time),
            label,
            format!(
                "{who}{} from {}",
                u.event_name,
                u.source_ip.as_deref().unwrap_or("unknown address")
            ),
            false,
        ));
    }
    if let Some(revoked) = revoked.filter(|r| span.last.time > r.time) {
        events.push(TimelineEvent(
            seconds(span.last.time),
            "used after revocation",
            format!(
                "{who}{} at {}, after {} at {}",
                span.last.event_name,
                rfc3339(span.last.time),
                revoked.event_name,
                rfc3339(revoked.time)
            ),
            true,
        ));
    }
    events
}

/// The change that left `h` revoked at `t`: its last deactivation or deletion before `t`, unless
/// an activation came after it.
fn revoked_at(h: &KeyHistory, t: Timestamp) -> Option<&Change> {
    let changes = h.status_changes.iter().chain(h.deleted.iter());
    let last = changes
        .filter(|c| c.time < t)
        .max_by_key(|c| (c.time, c.event_id.as_str()))?;
    let revokes = h.deleted.as_ref().is_some_and(|d| std::ptr::eq(d, last))
        || last.status.as_deref() == Some("Inactive");
    revokes.then_some(last)
}

/// The timelines of the long-term keys the findings name (as their key or in their evidence),
/// by key id.
fn timelines<'a>(findings: &'a [Finding], lineage: &'a Lineage) -> Vec<Timeline<'a>> {
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for f in findings {
        let texts = f.evidence.iter().filter_map(|(_, v)| match v {
            EvidenceValue::Text(t) => Some(t.as_str()),
            _ => None,
        });
        for id in f.access_key_id.as_deref().into_iter().chain(texts) {
            if lineage.keys.contains_key(id) {
                named.insert(id);
            }
        }
    }
    let mut out = Vec::with_capacity(named.len());
    for id in named {
        let Some(h) = lineage.keys.get(id) else {
            continue;
        };
        let mut events = Vec::new();
        if let Some(c) = &h.created {
            events.push(TimelineEvent(
                seconds(c.time),
                "created",
                change_detail(c),
                false,
            ));
        }
        for c in &h.status_changes {
            let label = match c.status.as_deref() {
                Some("Inactive") => "deactivated",
                Some("Active") => "activated",
                _ => "status changed",
            };
            events.push(TimelineEvent(
                seconds(c.time),
                label,
                change_detail(c),
                false,
            ));
        }
        if let Some(c) = &h.deleted {
            events.push(TimelineEvent(
                seconds(c.time),
                "deleted",
                change_detail(c),
                false,
            ));
        }
        let revoked = h.used.as_ref().and_then(|u| revoked_at(h, u.last.time));
        events.extend(use_events(h.used.as_ref(), "", revoked));
        for s in lineage.sessions_of(id) {
            events.push(TimelineEvent(
                seconds(s.minted.time),
                "session minted",
                format!("{} with {}", s.key_id, change_detail(&s.minted)),
                false,
            ));
            let revoked = h.revoked_after(s.minted.time);
            let who = format!("session {}: ", s.key_id);
            events.extend(use_events(
                lineage.session_uses.get(&s.key_id),
                &who,
                revoked,
            ));
        }
        events.sort_by(|a, b| (a.0 .0, a.1).cmp(&(b.0 .0, b.1)));
        out.push(Timeline(
            id,
            h.owner.as_deref(),
            h.account.as_deref(),
            events,
        ));
    }
    out
}

#[cfg(test)]
mod tests;
