//! `keywarden rules` and `keywarden rule CODE`: the catalogue (a table, or JSON: kind
//! `rule-list` in docs/json-output.md) and one rule's documentation, which is the rule's own
//! doc comment.

use crate::{write_json, DocumentFormat};
use keywarden_core::rules::RuleMeta;
use schemars::JsonSchema;
use serde::Serialize;
use std::io::{self, Write};

/// One rule of the catalogue. Fields are in alphabetical order, as the document has always been
/// written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleRecord<'a> {
    /// The stable code, e.g. `KEY001`.
    pub code: &'a str,
    /// The rule's documentation (Markdown): what it does, why it matters, how it decides, how to
    /// fix, standards.
    pub documentation: String,
    pub name: &'a str,
    /// `critical`, `high`, `medium`, `low`.
    pub severity: &'a str,
    /// The controls of published standards the rule checks (its Standards section, structured);
    /// empty for a rule that checks none.
    pub standards: Vec<StandardRecord>,
    /// When it fails, in one line.
    pub summary: &'a str,
}

/// One control of a standard: `{"standard": "CIS AWS Foundations Benchmark v3.0.0", "control": "1.12"}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StandardRecord {
    /// The control's id in the standard: `1.12`, `IAM.8`.
    pub control: &'static str,
    /// The standard's full name and version.
    pub standard: &'static str,
}

impl<'a> RuleRecord<'a> {
    pub fn of(m: &'a RuleMeta) -> Self {
        RuleRecord {
            code: m.code,
            documentation: m.documentation_text(),
            name: m.name,
            severity: m.severity.as_str(),
            standards: m
                .standards
                .iter()
                .map(|c| StandardRecord {
                    control: c.control,
                    standard: c.standard.name(),
                })
                .collect(),
            summary: m.summary,
        }
    }
}

/// The catalogue in `format`.
pub fn print_rule_list<'a>(
    rules: impl Iterator<Item = &'a RuleMeta>,
    format: DocumentFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        DocumentFormat::Json => {
            let records: Vec<_> = rules.map(RuleRecord::of).collect();
            write_json(&records, out)
        }
        DocumentFormat::Table => {
            writeln!(
                out,
                "{:<9} {:<38} {:<9} fails when",
                "code", "name", "severity"
            )?;
            for m in rules {
                writeln!(
                    out,
                    "{:<9} {:<38} {:<9} {}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.summary
                )?;
            }
            Ok(())
        }
    }
}

/// One rule's documentation, under a title.
pub fn print_rule(m: &RuleMeta, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {} {} ({})\n", m.code, m.name, m.severity.as_str())?;
    write!(out, "{}", m.documentation_text())
}
