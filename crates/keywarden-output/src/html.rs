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
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let page = Page::of(report, self.lineage);
        let data = script_json(&serde_json::to_string(&page)?);
        write_page(report, &data, out)
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
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'none'; font-src 'none'; \
         connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; \
         worker-src 'none'; manifest-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(JS),
        csp_hash(CSS)
    )
}

fn write_page(report: &FindingsReport<'_>, data: &str, out: &mut dyn Write) -> io::Result<()> {
    let title = format!(
        "keywarden report: {} finding(s), {}",
        report.findings.len(),
        rfc3339(report.now)
    );
    out.write_all(b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        content_security_policy()
    )?;
    out.write_all(b"<meta name=\"referrer\" content=\"no-referrer\">\n")?;
    out.write_all(b"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")?;
    // The title is ours (a count and an instant): no value from the data.
    writeln!(out, "<title>{title}</title>")?;
    write!(out, "<style>{CSS}</style>\n</head>\n<body>\n")?;
    out.write_all(
        b"<noscript><p>This report is drawn by its own inline script: allow JavaScript for this \
          file, or use --format json.</p></noscript>\n",
    )?;
    out.write_all(b"<script type=\"application/json\" id=\"kw-data\">")?;
    out.write_all(data.as_bytes())?;
    out.write_all(b"</script>\n")?;
    write!(out, "<script>{JS}</script>\n</body>\n</html>\n")
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

/// The embedded data. Field by field, as `report.js` reads it:
/// - `meta`: tool, version, `generated_at`, `data_as_of`, `source` (as the JSON output's
///   `data_source`), `preset`, `subject` (`credentials` or `events`), `users_evaluated`,
///   `root_row_seen`, `summary` (`fail`, `unknown`, `exempted`), `thresholds` (the limits the
///   findings' evidence names, by evidence key).
/// - `rules`: `[code, name, severity, summary, documentation, fix hint, acts_on_key,
///   [[action, safety]...], [manual step...]]`.
/// - `accounts`: account ids; `messages`: the findings' messages, each once; `evkeys`: `[name, kind]` pairs, kind one of text, time, int,
///   bool, null; `credentials`, `statuses`: the names rows index.
/// - `rows`: one per finding, `[rule, status, account (-1: none), user, credential, key id,
///   message (index), evidence, key age days, days since use, exemption, ignored exemption, event]`,
///   trailing nulls left off; evidence is flat `[evkey, value, ...]` (instants in seconds,
///   0 for null); an exemption `[reason, source, expires]`; an event `[id, time, name, region,
///   source ip, user agent, actor]`.
/// - `timelines`: for trail runs, `[key id, owner, account, [[time, label, detail, alert]...]]`.
#[derive(Serialize)]
struct Page<'a> {
    meta: Meta<'a>,
    rules: Vec<RuleRow<'a>>,
    accounts: Vec<&'a str>,
    messages: Vec<&'a str>,
    evkeys: Vec<(&'static str, &'static str)>,
    credentials: Vec<&'static str>,
    statuses: Vec<&'static str>,
    rows: Vec<Row<'a>>,
    timelines: Vec<Timeline<'a>>,
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

impl<'a> Page<'a> {
    fn of(report: &'a FindingsReport<'a>, lineage: Option<&'a Lineage>) -> Self {
        // Rules: those that ran, then any a finding names that is not among them.
        let mut rules: Vec<&'a RuleMeta> = report.rules_run.to_vec();
        let mut rule_index: HashMap<&str, usize> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            rule_index.entry(r.code).or_insert(i);
        }
        let mut accounts: Vec<&'a str> = Vec::new();
        let mut account_index: HashMap<&'a str, usize> = HashMap::new();
        // Messages repeat (the same rule, the same count of days): each is written once.
        let mut messages: Vec<&'a str> = Vec::new();
        let mut message_index: HashMap<&'a str, usize> = HashMap::new();
        let mut evkeys: Vec<(&'static str, &'static str)> = Vec::new();
        let mut evkey_index: HashMap<(&'static str, &'static str), usize> = HashMap::new();
        let mut thresholds: BTreeMap<&'static str, i64> = BTreeMap::new();
        let mut rows = Vec::with_capacity(report.findings.len());
        for f in report.findings {
            let rule = *rule_index.entry(f.rule.code).or_insert_with(|| {
                rules.push(f.rule);
                rules.len() - 1
            });
            let account = match f.account.as_deref() {
                Some(a) => *account_index.entry(a).or_insert_with(|| {
                    accounts.push(a);
                    accounts.len() - 1
                }) as i64,
                None => -1,
            };
            let mut ev = Vec::with_capacity(f.evidence.len() * 2);
            for (key, value) in &f.evidence {
                let pair = (*key, evidence_kind(value));
                let k = *evkey_index.entry(pair).or_insert_with(|| {
                    evkeys.push(pair);
                    evkeys.len() - 1
                });
                ev.push(EvCell::Key(k));
                ev.push(EvCell::Value(value));
                if let (Some(name), EvidenceValue::Integer(limit)) =
                    (THRESHOLD_KEYS.iter().find(|t| **t == *key), value)
                {
                    thresholds.entry(name).or_insert(*limit);
                }
            }
            let opt_int = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
            let text = |v: Option<&'a str>| v.map_or(Cell::Null, Cell::Text);
            let mut cells = vec![
                Cell::Int(rule as i64),
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
                Cell::Int(*message_index.entry(&f.message).or_insert_with(|| {
                    messages.push(&f.message);
                    messages.len() - 1
                }) as i64),
                Cell::Evidence(ev),
                opt_int(key_age_days(f, report.now)),
                opt_int(days_since_use(f, report.now)),
                f.exemption.as_ref().map_or(Cell::Null, Cell::Exemption),
                f.ignored_exemption
                    .as_ref()
                    .map_or(Cell::Null, Cell::Exemption),
                f.event.as_deref().map_or(Cell::Null, Cell::Event),
            ];
            while matches!(cells.last(), Some(Cell::Null)) {
                cells.pop();
            }
            rows.push(Row(cells));
        }
        let summary = STATUSES
            .iter()
            .map(|s| (s.as_str(), report.count(*s)))
            .collect();
        Page {
            meta: Meta {
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
                summary,
                thresholds,
            },
            rules: rules.into_iter().map(RuleRow).collect(),
            accounts,
            messages,
            evkeys,
            credentials: CREDENTIALS.iter().map(|c| c.as_str()).collect(),
            statuses: STATUSES.iter().map(|s| s.as_str()).collect(),
            rows,
            timelines: lineage.map_or_else(Vec::new, |l| timelines(report.findings, l)),
        }
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
