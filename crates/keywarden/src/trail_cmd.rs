//! `keywarden trail` and `keywarden key`: read CloudTrail sources through the application
//! layer, print detections with the audit's printers, or one key's timeline.

use crate::audit_cmd::{print, resolve_now};
use crate::cli::{KeyArgs, RulesFormat, TrailArgs, TrailSourceArgs};
use crate::Exit;
use anyhow::{anyhow, bail, Result};
use keywarden_app::trail::{analyze_units, expand, ReadReport};
use keywarden_core::cloudtrail::analyzer::{TrailAnalyzer, TrailOutcome};
use keywarden_core::cloudtrail::lineage::{Change, UseSpan};
use keywarden_core::config::{AuditConfig, RuleSelection};
use keywarden_core::time::{format_timestamp, parse_timestamp};
use keywarden_core::AuditOutcome;
use keywarden_output::DataSource;
use serde_json::{json, Value};
use std::io::Write;

/// How many bad records are echoed to standard error; all are counted.
const BAD_RECORDS_SHOWN: usize = 20;

fn read_sources(
    input: &TrailSourceArgs,
    selection: &RuleSelection,
) -> Result<(TrailOutcome, ReadReport)> {
    if input.sources.is_empty() {
        bail!("no CloudTrail source: name files, folders, or `-` for standard input");
    }
    let time = |flag: &str, value: &Option<String>| -> Result<_> {
        value
            .as_deref()
            .map(|t| {
                parse_timestamp(t).ok_or_else(|| anyhow!("{flag}: `{t}` is not an RFC 3339 time"))
            })
            .transpose()
    };
    let since = time("--since", &input.since)?;
    let until = time("--until", &input.until)?;
    let units = expand(&input.sources)?;
    let threads = input
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut analyzer = TrailAnalyzer::new(selection).with_window(since, until);
    let report = analyze_units(units, threads, &mut analyzer);
    let outcome = analyzer.finish();
    let mut err = std::io::stderr().lock();
    for record in report.bad_records.iter().take(BAD_RECORDS_SHOWN) {
        let _ = writeln!(err, "keywarden: skipped bad record: {record}");
    }
    let stats = outcome.stats;
    let _ = writeln!(
        err,
        "keywarden: {} source(s), {} events ({} duplicates skipped{}), {} bad records",
        report.units_read,
        stats.events,
        stats.duplicates,
        if stats.outside_window > 0 {
            format!(", {} outside --since/--until", stats.outside_window)
        } else {
            String::new()
        },
        stats.bad_records
    );
    Ok((outcome, report))
}

pub fn run_trail(args: TrailArgs) -> Result<Exit> {
    let now = resolve_now(args.output.now.as_deref())?;
    let selection = RuleSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let config = keywarden_core::config::layer(None, None, &Default::default(), &selection)?;
    let (outcome, _) = read_sources(&args.input, &selection)?;
    let bad = outcome.stats.bad_records;
    let source = DataSource {
        kind: "cloudtrail",
        location: args
            .input
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        as_of: outcome.stats.latest_event,
        as_of_basis: "the latest eventTime read".into(),
    };
    let audit_like = AuditOutcome {
        findings: outcome.findings,
        users_evaluated: 0,
        root_row_seen: false,
        account_ids: Vec::new(),
        rules_run: outcome.detections_run,
        now,
    };
    let exit = print(&audit_like, source, &config, args.output.format)?;
    // Bad records mean some of the logs were not read: the run is incomplete.
    Ok(if bad > 0 {
        Exit::ErrorOrIncomplete
    } else {
        exit
    })
}

pub fn run_key(args: KeyArgs) -> Result<Exit> {
    let key_id = args.key_id.trim().to_owned();
    let (outcome, _) = read_sources(&args.input, &AuditConfig::default().selection)?;
    let lineage = &outcome.lineage;
    let history = lineage.keys.get(&key_id);
    let sessions: Vec<_> = {
        let mut s: Vec<_> = lineage
            .sessions
            .values()
            .filter(|s| lineage.root_key_of(&s.key_id) == Some(key_id.as_str()))
            .collect();
        s.sort_by_key(|s| (s.minted.time, s.key_id.clone()));
        s
    };
    let change_json = |c: &Change| {
        json!({
            "time": format_timestamp(c.time),
            "event_name": c.event_name,
            "event_id": c.event_id,
            "status": c.status,
            "actor": c.actor,
            "source_ip": c.source_ip,
        })
    };
    let span_json = |span: Option<&UseSpan>| match span {
        None => Value::Null,
        Some(s) => json!({
            "first": {"time": format_timestamp(s.first.time), "event_name": s.first.event_name, "event_id": s.first.event_id, "source_ip": s.first.source_ip},
            "last": {"time": format_timestamp(s.last.time), "event_name": s.last.event_name, "event_id": s.last.event_id, "source_ip": s.last.source_ip},
        }),
    };
    let document = json!({
        "access_key_id": key_id,
        "seen": history.is_some(),
        "owner": history.and_then(|h| h.owner.clone()),
        "account": history.and_then(|h| h.account.clone()),
        "created": history.and_then(|h| h.created.as_ref()).map(change_json),
        "status_changes": history.map(|h| h.status_changes.iter().map(change_json).collect::<Vec<_>>()).unwrap_or_default(),
        "deleted": history.and_then(|h| h.deleted.as_ref()).map(change_json),
        "used": span_json(history.and_then(|h| h.used.as_ref())),
        "sessions": sessions.iter().map(|s| json!({
            "access_key_id": s.key_id,
            "minted": change_json(&s.minted),
            "parent": s.parent,
            "used": span_json(lineage.session_uses.get(&s.key_id)),
        })).collect::<Vec<_>>(),
    });
    let mut out = std::io::stdout().lock();
    match args.format {
        RulesFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        RulesFormat::Table => print_timeline(&mut out, &key_id, &document)?,
    }
    out.flush()?;
    Ok(if outcome.stats.bad_records > 0 {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}

/// The timeline as a reviewer reads it: one line per fact, in time order.
fn print_timeline(out: &mut dyn Write, key_id: &str, doc: &Value) -> std::io::Result<()> {
    if doc["seen"] == false {
        return writeln!(out, "{key_id}: not found in the logs read");
    }
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    writeln!(
        out,
        "{key_id}  owner {}  account {}",
        text(&doc["owner"]),
        text(&doc["account"])
    )?;
    let mut lines: Vec<(String, String)> = Vec::new();
    let change_line = |label: &str, c: &Value| {
        (
            text(&c["time"]),
            format!(
                "{label:<10} {} by {} from {}",
                c["status"]
                    .as_str()
                    .map(|s| format!("-> {s}"))
                    .unwrap_or_default(),
                text(&c["actor"]),
                text(&c["source_ip"])
            ),
        )
    };
    if !doc["created"].is_null() {
        lines.push(change_line("created", &doc["created"]));
    }
    for c in doc["status_changes"].as_array().into_iter().flatten() {
        lines.push(change_line("status", c));
    }
    if !doc["deleted"].is_null() {
        lines.push(change_line("deleted", &doc["deleted"]));
    }
    for (label, span) in [("first use", "first"), ("last use", "last")] {
        let u = &doc["used"][span];
        if !u.is_null() {
            lines.push((
                text(&u["time"]),
                format!(
                    "{label:<10} {} from {}",
                    text(&u["event_name"]),
                    text(&u["source_ip"])
                ),
            ));
        }
    }
    for s in doc["sessions"].as_array().into_iter().flatten() {
        let id = text(&s["access_key_id"]);
        lines.push((
            text(&s["minted"]["time"]),
            format!(
                "minted     {id} with {} from {}",
                text(&s["minted"]["event_name"]),
                text(&s["minted"]["source_ip"])
            ),
        ));
        for (label, span) in [("first use", "first"), ("last use", "last")] {
            let u = &s["used"][span];
            if !u.is_null() {
                lines.push((
                    text(&u["time"]),
                    format!(
                        "  {label:<8} {id}: {} from {}",
                        text(&u["event_name"]),
                        text(&u["source_ip"])
                    ),
                ));
            }
        }
    }
    lines.sort();
    for (time, line) in lines {
        writeln!(out, "  {time}  {line}")?;
    }
    Ok(())
}
