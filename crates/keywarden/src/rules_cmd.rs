//! `keywarden rules` and `keywarden rule CODE`: the catalogue and each rule's documentation,
//! which is the rule's own doc comment.

use crate::cli::{RulesArgs, RulesFormat};
use crate::Exit;
use anyhow::{bail, Result};
use keywarden_core::rules::{catalogue, meta_by_code};
use std::io::Write;

pub fn list(args: RulesArgs) -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    match args.format {
        RulesFormat::Table => {
            writeln!(
                out,
                "{:<9} {:<38} {:<9} fails when",
                "code", "name", "severity"
            )?;
            for m in catalogue() {
                writeln!(
                    out,
                    "{:<9} {:<38} {:<9} {}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.summary
                )?;
            }
        }
        RulesFormat::Json => {
            let rules: Vec<_> = catalogue()
                .map(|m| {
                    serde_json::json!({
                        "code": m.code,
                        "name": m.name,
                        "severity": m.severity.as_str(),
                        "summary": m.summary,
                        "documentation": m.documentation_text(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rules)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(Exit::Clean)
}

pub fn show(code: &str) -> Result<Exit> {
    let Some(m) = meta_by_code(code) else {
        let codes: Vec<_> = catalogue().map(|m| m.code).collect();
        bail!("no rule `{code}`; the catalogue has {}", codes.join(", "));
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {} {} ({})\n", m.code, m.name, m.severity.as_str())?;
    write!(out, "{}", m.documentation_text())?;
    out.flush()?;
    Ok(Exit::Clean)
}
