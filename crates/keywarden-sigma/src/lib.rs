//! Sigma rules over CloudTrail events, for `keywarden trail --sigma DIR`.
//!
//! [`load_dir`] loads every Sigma rule file (`*.yml`, `*.yaml`) under a folder; a rule that cannot
//! be run is kept aside as [`NotLoaded`], by file name and reason, and the others are compiled.
//! [`SigmaRules::check`] then runs all of them over one record (the event's JSON text as the
//! reader read it, parsed once into a `serde_json::Value`) and turns each match into a keywarden
//! [`Finding`].
//!
//! # The engine: rsigma-eval
//!
//! keywarden does not interpret Sigma itself: [`rsigma_parser`] reads the rules and
//! [`rsigma_eval`] compiles and evaluates them. It was chosen over `sigma-rust` (0.7) after
//! running both over the 65 rules of `tests/data/sigma` (20 SigmaHQ CloudTrail rules, 45 Suzaku
//! rules) and the 441 real events of `tests/data/cloudtrail`:
//!
//! - **Same verdicts.** Both load the same 63 single-event rules and give the same number of hits
//!   for every one of them; both implement `fieldref` and `contains` as written, so the two
//!   defective rules (`aws_iam_backdoor_users_keys`, `aws_update_login_profile`) fire as their
//!   text says; both reject the old `| count() > 50` aggregation syntax. The one difference is
//!   the placeholder rule: sigma-rust refuses `|expand`, while rsigma-eval loads it and expands
//!   `%name%` from the event's own fields, so its filters never match and the rule would fire on
//!   every successful console login. keywarden therefore refuses `|expand` rules itself (a
//!   placeholder needs values from a processing pipeline, which keywarden does not have), and
//!   the rules keywarden runs are the same 63 with either crate.
//! - **Speed.** rsigma-eval compiles each rule once, indexes the rules by the fields they test,
//!   and evaluates a borrowed `serde_json::Value` without copying it; sigma-rust needs an owned
//!   event tree of its own (hash maps) built for every event. Side by side in one program, the
//!   parse and evaluation of the 63 rules ran at about 100,000 events/s with rsigma-eval against
//!   29,000 with sigma-rust, on one core (BENCHMARKS.md, "Sigma", has keywarden's own figures).
//! - **Upkeep.** rsigma is released often, follows the Sigma specification's versions (v2
//!   conditions, array quantifiers, correlation rules), and has a correlation engine should
//!   keywarden one day run aggregation rules.
//! - **Cost.** rsigma-eval 0.23 needs Rust 1.95 (its later releases need 1.96, hence `0.23`), and
//!   brings regex, aho-corasick, pest and a YAML parser. Default features stay off: the parser's
//!   `fix` (rule rewriting) and the evaluator's `parallel` / `daachorse-index` (keywarden's
//!   parsing workers are already parallel).
//!
//! # Findings
//!
//! A Sigma rule is not in keywarden's catalogue, and a [`Finding`] names its rule by a
//! `&'static RuleMeta`: each loaded rule gets one, leaked once per run at load time. Its `code`
//! is the Sigma rule's `id` (a UUID, which cannot collide with a catalogue code such as
//! `EVT001`; a rule whose id equals a catalogue code, or the id of a rule already loaded, is not
//! loaded), or `sigma:<file>` for a rule without an id; `name` is the title; `severity` comes
//! from `level` (informational and a missing level count as low); `documentation` is built
//! from the rule (description, false positives, the detection as run, tags and references) with
//! the five sections every keywarden rule has. The finding is `fail`, about the caller (the
//! IAM user for IAMUser and Root callers, and the access key that signed the call), and carries
//! the event's context like the EVT detections.

use keywarden_core::cloudtrail::detect::context_of;
use keywarden_core::cloudtrail::event::Event;
use keywarden_core::cloudtrail::reader::Record;
use keywarden_core::finding::{CredentialKind, Finding, Severity, Status};
use keywarden_core::rules::{meta_by_code, Fix, RuleMeta, Scope};
use rsigma_eval::{Engine, JsonEvent};
use rsigma_parser::ast::{Detection, Level, Modifier, SigmaRule, Status as SigmaStatus};
use rsigma_parser::SigmaValue;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The Sigma engine's name and version, as findings' documentation and the benchmark print it.
pub const ENGINE: &str = "rsigma-eval 0.23";

/// A rule file, or one rule in it, that is not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLoaded {
    /// Relative to the folder given to [`load_dir`].
    pub file: PathBuf,
    /// The rule's title, when the file could be read that far.
    pub title: Option<String>,
    pub reason: String,
}

impl fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.title {
            Some(title) => write!(f, "{} ({title}): {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

/// A folder that cannot be walked at all.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct LoadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// One rule that runs.
#[derive(Debug)]
pub struct LoadedRule {
    /// The finding's rule: code, title, severity, documentation. Leaked once per load.
    pub meta: &'static RuleMeta,
    /// Relative to the folder given to [`load_dir`].
    pub file: PathBuf,
    /// `file` as text, for the findings' evidence.
    file_text: String,
    /// The Sigma `id`, when the rule has one (then it is also `meta.code`).
    pub sigma_id: Option<String>,
    /// The Sigma `level` as written (`informational`...), when there is one.
    pub level: Option<&'static str>,
}

/// What [`load_dir`] found.
#[derive(Debug)]
pub struct Loaded {
    pub rules: SigmaRules,
    /// Rules (or whole files) that are not run, in file order.
    pub not_loaded: Vec<NotLoaded>,
    /// Rules written for another log source (`product` other than `aws`, or `service` other
    /// than `cloudtrail`): valid, but never meant for these events, so not run and not an error.
    pub other_log_source: Vec<PathBuf>,
    /// Rule files read.
    pub files: usize,
    /// Entries of the folder that were not read (FIFOs, sockets, devices, broken links, link
    /// loops), to be shown as warnings.
    pub skipped: Vec<keywarden_walk::Skipped>,
}

/// The compiled rules of one run.
pub struct SigmaRules {
    engine: Engine,
    rules: Vec<LoadedRule>,
    /// `meta.code` -> index in `rules`; the engine reports a match by the rule's id, which is
    /// set to the code before compiling.
    by_code: HashMap<&'static str, usize>,
}

impl fmt::Debug for SigmaRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigmaRules")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// Loads every `*.yml` / `*.yaml` under `dir` (recursively, in name order, hidden entries
/// skipped), found by the walker `keywarden trail` uses for log folders (`keywarden-walk`:
/// symbolic links followed with loop detection, only regular files read). Only a folder that
/// cannot be read is an error; a rule that cannot be run is reported in [`Loaded::not_loaded`]
/// and the others are kept.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let filter = keywarden_walk::Filter {
        file: &|name| name.ends_with(".yml") || name.ends_with(".yaml"),
        folder: &|_| true,
    };
    let walked = keywarden_walk::walk(dir, &filter).map_err(|e| LoadError {
        path: e.path,
        source: e.source,
    })?;
    let files = walked.files;
    let mut loader = Loader::new(files.len(), walked.skipped);
    for path in &files {
        let relative = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
        match std::fs::read_to_string(path) {
            Ok(text) => loader.load_text(&text, &relative),
            Err(e) => loader.refuse(&relative, None, format!("cannot read: {e}")),
        }
    }
    Ok(loader.loaded)
}

/// Loads the rules of one YAML text (what [`load_dir`] does for each file); `file` names it.
pub fn load_str(text: &str, file: &Path) -> Loaded {
    let mut loader = Loader::new(1, Vec::new());
    loader.load_text(text, file);
    loader.loaded
}

struct Loader {
    loaded: Loaded,
}

impl Loader {
    /// Nothing loaded yet, from `files` files; `skipped` what the walker passed over.
    fn new(files: usize, skipped: Vec<keywarden_walk::Skipped>) -> Self {
        Loader {
            loaded: Loaded {
                rules: SigmaRules {
                    engine: Engine::new(),
                    rules: Vec::new(),
                    by_code: HashMap::new(),
                },
                not_loaded: Vec::new(),
                other_log_source: Vec::new(),
                files,
                skipped,
            },
        }
    }

    fn refuse(&mut self, file: &Path, title: Option<&str>, reason: String) {
        self.loaded.not_loaded.push(NotLoaded {
            file: file.to_path_buf(),
            title: title.map(str::to_owned),
            reason,
        });
    }

    fn load_text(&mut self, text: &str, file: &Path) {
        let collection = match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                self.refuse(file, None, reason_text(&e.to_string(), text));
                return;
            }
        };
        for error in &collection.errors {
            self.refuse(file, None, reason_text(error, text));
        }
        for correlation in &collection.correlations {
            self.refuse(
                file,
                Some(&correlation.title),
                "a correlation rule (state across events); keywarden runs single-event rules"
                    .into(),
            );
        }
        for filter in &collection.filters {
            self.refuse(
                file,
                Some(&filter.title),
                "a Sigma filter (it amends other rules); filters are not applied".into(),
            );
        }
        let several = collection.rules.len() > 1;
        for (index, rule) in collection.rules.into_iter().enumerate() {
            let code = match &rule.id {
                Some(id) => id.clone(),
                None if several => format!("sigma:{}#{}", file.display(), index + 1),
                None => format!("sigma:{}", file.display()),
            };
            self.load_rule(rule, code, file);
        }
    }

    fn load_rule(&mut self, mut rule: SigmaRule, code: String, file: &Path) {
        let title = rule.title.clone();
        let refuse = |this: &mut Self, reason: String| this.refuse(file, Some(&title), reason);
        if rule.status == Some(SigmaStatus::Unsupported) {
            return refuse(
                self,
                "status `unsupported`: its authors mark it as not runnable as written".into(),
            );
        }
        if let Some(timeframe) = &rule.detection.timeframe {
            return refuse(
                self,
                format!("`timeframe: {timeframe}` is the old aggregation syntax (state across events); keywarden runs single-event rules"),
            );
        }
        let placeholders = expand_fields(&rule);
        if !placeholders.is_empty() {
            return refuse(
                self,
                format!(
                    "placeholder rule: {} need values from a processing pipeline, and keywarden has none",
                    placeholders.join(", ")
                ),
            );
        }
        if !is_for_cloudtrail(&rule) {
            self.loaded.other_log_source.push(file.to_path_buf());
            return;
        }
        if let Some(meta) = meta_by_code(&code) {
            return refuse(
                self,
                format!("id `{code}` is keywarden's own rule code ({})", meta.name),
            );
        }
        let rules = &self.loaded.rules;
        if let Some(&other) = rules.by_code.get(code.as_str()) {
            let other = rules.rules[other].file.display().to_string();
            return refuse(
                self,
                format!("id `{code}` is already used by a rule loaded from {other}"),
            );
        }
        let sigma_id = rule.id.clone();
        let documentation = documentation(&rule, file);
        // The engine reports matches by id: make it the code, unique among loaded rules.
        rule.id = Some(code.clone());
        if let Err(e) = self.loaded.rules.engine.add_rule(&rule) {
            return refuse(self, one_line(&e.to_string()));
        }
        let level = rule.level.map(|l| level_name(&l));
        let meta: &'static RuleMeta = Box::leak(Box::new(RuleMeta {
            code: leak(code),
            name: leak(title.clone()),
            severity: severity(rule.level.as_ref()),
            scope: Scope::Event,
            summary: leak(format!("Sigma rule matched: {title}")),
            documentation: leak(documentation),
            live_data: &[],
            fix: Fix::Manual(&[]),
            standards: &[],
        }));
        let rules = &mut self.loaded.rules;
        rules.by_code.insert(meta.code, rules.rules.len());
        rules.rules.push(LoadedRule {
            meta,
            file: file.to_path_buf(),
            file_text: file.display().to_string(),
            sigma_id,
            level,
        });
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// `product: aws` / `service: cloudtrail`, or no product and service at all.
fn is_for_cloudtrail(rule: &SigmaRule) -> bool {
    let is = |value: &Option<String>, expected: &str| {
        value
            .as_deref()
            .is_none_or(|v| v.eq_ignore_ascii_case(expected))
    };
    is(&rule.logsource.product, "aws") && is(&rule.logsource.service, "cloudtrail")
}

/// The `field|expand: %placeholder%` items of a rule, as written.
fn expand_fields(rule: &SigmaRule) -> Vec<String> {
    fn visit(detection: &Detection, out: &mut Vec<String>) {
        match detection {
            Detection::AllOf(items) => {
                for item in items {
                    if item.field.has_modifier(Modifier::Expand) {
                        let values: Vec<String> = item
                            .values
                            .iter()
                            .map(|v| match v {
                                SigmaValue::String(s) => s.original.clone(),
                                other => format!("{other:?}"),
                            })
                            .collect();
                        out.push(format!(
                            "`{}|expand: {}`",
                            item.field.name.as_deref().unwrap_or(""),
                            values.join(", ")
                        ));
                    }
                }
            }
            Detection::AnyOf(list) | Detection::And(list) => {
                list.iter().for_each(|d| visit(d, out));
            }
            Detection::ArrayMatch { body, .. } => visit(body, out),
            Detection::Conditional { named, .. } => named.values().for_each(|d| visit(d, out)),
            Detection::Keywords(_) => {}
        }
    }
    let mut names: Vec<&String> = rule.detection.named.keys().collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        visit(&rule.detection.named[name], &mut out);
    }
    out
}

fn level_name(level: &Level) -> &'static str {
    match level {
        Level::Informational => "informational",
        Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "high",
        Level::Critical => "critical",
    }
}

/// Sigma levels onto keywarden's severities; informational and a missing level are low.
pub fn severity(level: Option<&Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) => Severity::Medium,
        Some(Level::Low | Level::Informational) | None => Severity::Low,
    }
}

/// A parser message on one line: pest's source excerpt and caret lines are dropped, the
/// message and its "= expected ..." line kept. The old aggregation syntax gets a hint.
fn reason_text(message: &str, text: &str) -> String {
    let mut reason = one_line(message);
    let aggregation = text.lines().map(str::trim).find(|l| {
        l.strip_prefix("condition:")
            .is_some_and(|c| c.contains(" | ") || c.trim_start().starts_with("| "))
    });
    if let Some(condition) = aggregation {
        reason.push_str(&format!(
            " (`{condition}` is the old aggregation syntax, replaced by correlation rules in Sigma 2; keywarden runs single-event rules)"
        ));
    }
    reason
}

fn one_line(message: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for (i, line) in message.lines().enumerate() {
        let t = line.trim();
        if i == 0 {
            // pest repeats the position as ` --> line:column` after the message.
            let t = t.split(" --> ").next().unwrap_or(t).trim_end();
            parts.push(t.strip_suffix(':').unwrap_or(t));
        } else if let Some(rest) = t.strip_prefix('=') {
            parts.push(rest.trim());
        }
    }
    parts.join(": ")
}

/// The rule's documentation in keywarden's five sections, each line indented by one space as
/// rustdoc leaves doc comments (`RuleMeta::documentation_text` removes it).
fn documentation(rule: &SigmaRule, file: &Path) -> String {
    let mut doc = format!(
        "Sigma rule `{}` from `{}`, run by `keywarden trail --sigma`.\n\n",
        rule.title,
        file.display()
    );
    doc.push_str("## What it does\n\n");
    match &rule.description {
        Some(d) if !d.trim().is_empty() => doc.push_str(d.trim()),
        _ => doc.push_str("The rule has no description."),
    }
    doc.push_str("\n\n## Why it matters\n\n");
    doc.push_str(&format!(
        "Sigma level: {}. Status: {}.",
        rule.level.as_ref().map_or("none", level_name),
        rule.status
            .map_or("none".to_owned(), |s| format!("{s:?}").to_lowercase()),
    ));
    if let Some(author) = &rule.author {
        doc.push_str(&format!(" Author: {}.", author.trim()));
    }
    if !rule.falsepositives.is_empty() {
        doc.push_str("\n\nFalse positives its authors list:\n\n");
        for fp in &rule.falsepositives {
            doc.push_str(&format!("- {fp}\n"));
        }
    }
    doc.push_str("\n\n## How it decides\n\n");
    doc.push_str(&format!(
        "The rule's detection, run as written by {ENGINE} over the event's JSON:\n\n```yaml\n"
    ));
    doc.push_str(&detection_yaml(rule));
    doc.push_str("```\n\n## How to fix\n\n");
    doc.push_str(
        "Review the event: who made the call (`actor`), from where (`source_ip`, `user_agent`), \
         and whether it was expected. A rule that does not fit the account is removed from the \
         rules folder; keywarden runs every rule it finds there.\n\n## Standards\n\n",
    );
    if rule.tags.is_empty() {
        doc.push_str("Tags: none.");
    } else {
        doc.push_str(&format!("Tags: {}.", rule.tags.join(", ")));
    }
    if !rule.references.is_empty() {
        doc.push_str("\n\nReferences:\n\n");
        for r in &rule.references {
            doc.push_str(&format!("- {r}\n"));
        }
    }
    doc.lines()
        .map(|l| format!(" {l}\n"))
        .collect::<Vec<_>>()
        .concat()
}

/// The `detection:` block of the rule, as the parser understood it.
fn detection_yaml(rule: &SigmaRule) -> String {
    let yaml = rsigma_parser::emit_rule_yaml(rule);
    let mut out = String::new();
    let mut inside = false;
    for line in yaml.lines() {
        let top_level = !line.starts_with(' ') && !line.starts_with('-') && !line.is_empty();
        if top_level {
            inside = line.starts_with("detection:");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The CloudTrail event inside an export wrapper (EventBridge's `detail`, some tools' `event`),
/// as keywarden's event parser unwraps it; any other value as it is.
pub fn unwrap_export(mut value: &Value) -> &Value {
    loop {
        let Some(object) = value.as_object() else {
            return value;
        };
        let has_text = |key: &str| object.get(key).is_some_and(Value::is_string);
        if has_text("eventTime") || has_text("@timestamp") || has_text("eventName") {
            return value;
        }
        match object.get("detail").or_else(|| object.get("event")) {
            Some(inner) if inner.is_object() => value = inner,
            _ => return value,
        }
    }
}

impl SigmaRules {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The loaded rules, in load order (file name order, then order in the file).
    pub fn rules(&self) -> &[LoadedRule] {
        &self.rules
    }

    /// The rules' metas, for the list of rules that ran.
    pub fn metas(&self) -> impl Iterator<Item = &'static RuleMeta> + '_ {
        self.rules.iter().map(|r| r.meta)
    }

    /// The rules that match one event (unwrapped from an export wrapper), in load order.
    pub fn matching(&self, event: &Value) -> Vec<&LoadedRule> {
        let event = JsonEvent::borrow(unwrap_export(event));
        let mut hits: Vec<usize> = self
            .engine
            .evaluate(&event)
            .iter()
            .filter_map(|m| m.header.rule_id.as_deref())
            .filter_map(|id| self.by_code.get(id).copied())
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| &self.rules[i]).collect()
    }

    /// Runs every rule over one record and adds a finding per match. The record's JSON text is
    /// parsed here, once: only a run with Sigma rules pays for it.
    pub fn check(&self, record: &Record<'_>, out: &mut Vec<Finding>) {
        // The reader has just parsed the same text with serde_json, so this cannot fail short of
        // serde_json's nesting limit, which the reader hits first.
        let Ok(value) = serde_json::from_str::<Value>(record.raw) else {
            return;
        };
        for rule in self.matching(&value) {
            out.push(rule.finding(&record.event));
        }
    }
}

impl LoadedRule {
    /// The finding for a match of this rule on `event`.
    pub fn finding(&self, event: &Event) -> Finding {
        let identity = &event.identity;
        let actor = match identity.kind.as_deref() {
            Some("IAMUser" | "Root") => identity.acting_user(),
            _ => None,
        };
        let (credential, key) = match identity.access_key_id.as_deref() {
            Some(k) if k.starts_with("ASIA") => (CredentialKind::SessionKey, Some(k)),
            Some(k) => (CredentialKind::AccessKeyId, Some(k)),
            None => (CredentialKind::Account, None),
        };
        // Built by hand: `format!` costs more than the rest of the finding together.
        let who = identity.arn.as_deref().or(actor);
        let level = self.level.unwrap_or("no level");
        let mut message = String::with_capacity(
            40 + self.meta.name.len()
                + level.len()
                + event.event_name.len()
                + who.map_or(0, str::len),
        );
        for part in [
            "Sigma rule `",
            self.meta.name,
            "` (",
            level,
            ") matched ",
            &event.event_name,
        ] {
            message.push_str(part);
        }
        if let Some(who) = who {
            message.push_str(" by ");
            message.push_str(who);
        }
        let mut finding = Finding::for_account(self.meta, Status::Fail, event.account(), message)
            .with("sigma_id", self.sigma_id.clone())
            .with("sigma_level", self.level)
            .with("sigma_file", self.file_text.clone())
            .with("event_source", event.event_source.as_str())
            .with("error_code", event.error_code.clone());
        finding.user = actor.map(str::to_owned);
        finding.credential = credential;
        finding.access_key_id = key.map(str::to_owned);
        finding.event = Some(Box::new(context_of(event)));
        finding
    }
}
