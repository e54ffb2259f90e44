//! A JSON Schema for every JSON document keywarden writes on standard output, generated from the
//! wire types (schemars), so the schema cannot drift from what is written: the wire types of
//! this crate, and the plan file (keywarden-core's `Plan`, which `plan` prints and `apply` reads
//! back). The committed copies are `docs/schemas/<kind>.schema.json`: `tests/schemas.rs` fails
//! when they differ from these (regenerate with
//! `KEYWARDEN_UPDATE_SCHEMAS=1 cargo test -p keywarden-output --test schemas`), and the binary's
//! `json_schema_cli` test validates real outputs against them. The incident report, which
//! `contain` writes to a file, has its schema from keywarden-app (`IncidentReport::schema_text`).

use crate::json::AuditDocument;
use crate::key::KeyTimeline;
use crate::remediation::{RunRecord, RunReportDocument, RunStepsDocument};
use crate::rules::RuleRecord;
use keywarden_core::remediation::Plan;
use schemars::{schema_for, Schema};

/// The document kinds, as `docs/json-output.md` names them.
pub const KINDS: [&str; 8] = [
    "findings",
    "key-timeline",
    "plan",
    "rule-list",
    "run-list",
    "run-report",
    "run-steps",
    "asff",
];

/// The schema of a document kind, as pretty JSON with a final newline.
pub fn schema_text(kind: &str) -> Option<String> {
    let schema: Schema = match kind {
        // `audit`, `demo` and `trail` with --format json.
        "findings" => schema_for!(AuditDocument),
        "key-timeline" => schema_for!(KeyTimeline<'static>),
        // `plan --format json` and `plan --out`; every object refuses unknown fields
        // (`additionalProperties: false`), as `Plan::from_json` does.
        "plan" => schema_for!(Plan),
        "rule-list" => schema_for!(Vec<RuleRecord<'static>>),
        "run-list" => schema_for!(Vec<RunRecord<'static>>),
        "run-report" => schema_for!(RunReportDocument<'static>),
        "run-steps" => schema_for!(RunStepsDocument<'static>),
        // `--format asff`: AWS's Security Finding Format, the fields keywarden writes.
        "asff" => schema_for!(Vec<crate::asff::AsffFinding>),
        _ => return None,
    };
    Some(render(schema))
}

/// A schema as the committed files have it: pretty JSON, keys sorted, with a final newline.
pub fn render(schema: Schema) -> String {
    let value = canonical(schema.to_value());
    let mut text = serde_json::to_string_pretty(&value).expect("a schema serializes");
    text.push('\n');
    text
}

/// `value` with every object's keys in sorted order, whether or not a crate of the build turned
/// on serde_json's `preserve_order` (which keeps schemars' insertion order): the same schema
/// text from any build.
fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical).collect())
        }
        other => other,
    }
}
