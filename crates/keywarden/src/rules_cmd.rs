//! `keywarden rules` and `keywarden rule CODE`: the catalogue and each rule's documentation,
//! which is the rule's own doc comment, printed by keywarden-output's `rules` printer.

use crate::cli::{RulesArgs, RulesFormat};
use crate::Exit;
use anyhow::{bail, Result};
use keywarden_core::rules::{catalogue, meta_by_code};
use keywarden_output::rules::{print_rule, print_rule_list};
use keywarden_output::DocumentFormat;
use std::io::Write;

pub fn list(args: RulesArgs) -> Result<Exit> {
    let format = match args.format {
        RulesFormat::Table => DocumentFormat::Table,
        RulesFormat::Json => DocumentFormat::Json,
    };
    let mut out = std::io::stdout().lock();
    print_rule_list(catalogue(), format, &mut out)?;
    out.flush()?;
    Ok(Exit::Clean)
}

pub fn show(code: &str) -> Result<Exit> {
    let Some(m) = meta_by_code(code) else {
        let codes: Vec<_> = catalogue().map(|m| m.code).collect();
        bail!("no rule `{code}`; the catalogue has {}", codes.join(", "));
    };
    let mut out = std::io::stdout().lock();
    print_rule(m, &mut out)?;
    out.flush()?;
    Ok(Exit::Clean)
}
