//! `keywarden audit --report FILE` and `keywarden demo`: build the configuration, stream the
//! report through the core's audit engine, print with the chosen format, return the exit status.

use crate::cli::{AuditArgs, DemoArgs, FormatArg, PresetArg, ThresholdArgs};
use crate::Exit;
use anyhow::{anyhow, bail, Context, Result};
use keywarden_core::account_file::parse_account_file;
use keywarden_core::cloudtrail::lineage::Lineage;
use keywarden_core::config::{self, ConfigFile, Preset, RuleSelection, ThresholdOverrides};
use keywarden_core::report::ReportReader;
use keywarden_core::time::{parse_instant, INSTANT_FORMS};
use keywarden_core::{
    audit_report, audit_report_at, demo, AccountExtras, AuditConfig, AuditOutcome, Status,
    Timestamp,
};
use keywarden_output::asff::AsffTarget;
use keywarden_output::{AsffPrinter, DataSource, FindingsReport, Format, HtmlPrinter};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

pub fn run_audit(args: AuditArgs) -> Result<Exit> {
    let now = resolve_now(args.output.now.as_deref())?;
    let config = build_config(&args.thresholds)?;
    if args.org.org {
        return crate::org_cmd::run_org(&args, config, now);
    }
    let Some(path) = args.report.as_deref() else {
        return crate::live_cmd::run_live(&args, &config, now);
    };
    if args.output.to.is_some() {
        bail!("--to securityhub imports into the account the AWS credentials point at: audit it live (without --report)");
    }
    let (input, origin, file_time): (Box<dyn Read>, String, Option<Timestamp>) = if path
        == Path::new("-")
    {
        (Box::new(io::stdin().lock()), "-".to_owned(), None)
    } else {
        if path.is_dir() {
            bail!(
                    "--report `{}` is a folder: give the credential report's CSV file (from `aws iam get-credential-report`, base64-decoded), or `-` for standard input",
                    path.display()
                );
        }
        let file = File::open(path)
            .with_context(|| format!("cannot open credential report `{}`", path.display()))?;
        // Whole seconds: a report's own times have none, and nanoseconds only look precise.
        let modified = file
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .map(|t| chrono::SubsecRound::trunc_subsecs(Timestamp::from(t), 0));
        (Box::new(file), path.display().to_string(), modified)
    };
    let report_time = args
        .report_time
        .as_deref()
        .map(|text| parse_time_flag("--report-time", text))
        .transpose()?;
    // No BufReader: the report reader reads in 64 KiB blocks itself, and a second buffer would
    // only copy every byte once more.
    let reader = ReportReader::new(input, origin.clone())?;
    // The data's own time is the report's GeneratedTime when the user gives it; a file's
    // modification time is not one (a copy, a touch), so without it the bound is `now`.
    let outcome = audit_report_at(
        reader,
        &config,
        now,
        report_time,
        AccountExtras::unknown_from_report_file(),
    )?;
    let source = match (report_time, file_time) {
        (Some(report_time), _) => DataSource {
            kind: "credential-report-file",
            location: origin,
            as_of: Some(report_time),
            as_of_basis: "--report-time".into(),
        },
        (None, Some(modified)) => DataSource {
            kind: "credential-report-file",
            location: origin,
            as_of: Some(modified),
            as_of_basis: "file modification time (pass --report-time with the report's GeneratedTime to be exact)".into(),
        },
        (None, None) => DataSource {
            kind: "credential-report-file",
            location: origin,
            as_of: None,
            as_of_basis: "unknown for standard input (pass --report-time)".into(),
        },
    };
    let exit = print(&outcome, source, &config, args.output.format)?;
    // The output is written and flushed, and the process exits next: the OS takes the memory
    // back at once. Dropping the outcome would free every finding's strings and vectors one by
    // one first (a 100,000-row report gives ~20,000 findings, ~100,000 allocations; a neglected
    // account ten times that), which only delays the exit. So it is leaked, on this path only:
    // an error above drops it as usual.
    std::mem::forget(outcome);
    Ok(exit)
}

pub fn run_demo(args: DemoArgs) -> Result<Exit> {
    let now = parse_time_flag("demo now", demo::DEMO_NOW)?;
    let config = build_config(&args.thresholds)?;
    let reader = ReportReader::new(demo::DEMO_REPORT.as_bytes(), "demo/credential-report.csv")?;
    let extras = parse_account_file(demo::DEMO_ACCOUNT, "demo/account.toml")?;
    let outcome = audit_report(reader, &config, now, extras)?;
    let source = DataSource {
        kind: "demo",
        location: "demo account 111122223333 (bundled in the binary)".into(),
        as_of: Some(now),
        as_of_basis: "the demo's fixed time".into(),
    };
    print(&outcome, source, &config, args.format)
}

/// An audit's findings in the format asked for; the exit status they call for.
pub fn print(
    outcome: &AuditOutcome,
    source: DataSource,
    config: &AuditConfig,
    format: Option<FormatArg>,
) -> Result<Exit> {
    let report = FindingsReport::audit(
        outcome,
        source,
        config.preset.name(),
        env!("CARGO_PKG_VERSION"),
    );
    print_findings(&report, format)
}

/// Findings (an audit's or a trail's) in the format asked for; the exit status they call for.
pub fn print_findings(report: &FindingsReport<'_>, format: Option<FormatArg>) -> Result<Exit> {
    print_findings_with(report, format, None, &AsffTarget::default())
}

/// [`print_findings`], with the region (and account) `--format asff` writes its documents for.
pub fn print_findings_for(
    report: &FindingsReport<'_>,
    format: Option<FormatArg>,
    asff: &AsffTarget,
) -> Result<Exit> {
    print_findings_with(report, format, None, asff)
}

/// [`print_findings`], with a trail run's lineage for the HTML report's key timelines and the
/// region (and account) `--format asff` writes its documents for.
pub fn print_findings_with(
    report: &FindingsReport<'_>,
    format: Option<FormatArg>,
    lineage: Option<&Lineage>,
    asff: &AsffTarget,
) -> Result<Exit> {
    let format = match format {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Ocsf) => Format::Ocsf,
        Some(FormatArg::OcsfJson) => Format::OcsfJson,
        Some(FormatArg::Markdown) => Format::Markdown,
        Some(FormatArg::Html) => Format::Html,
        Some(FormatArg::Asff) => Format::Asff,
        None if io::stdout().is_terminal() => Format::Table,
        None => Format::Json,
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let printer: Box<dyn keywarden_output::Printer> = match (format, lineage) {
        (Format::Html, Some(lineage)) => Box::new(HtmlPrinter::with_lineage(lineage)),
        (Format::Asff, _) => Box::new(AsffPrinter {
            target: asff.clone(),
        }),
        (Format::Table, _) => Box::new(keywarden_output::TablePrinter {
            style: crate::terminal::table_style(),
        }),
        (other, _) => other.printer(),
    };
    printer.print_findings(report, &mut out)?;
    out.flush()?;
    Ok(exit_status(report))
}

/// Unknown findings mean the run is incomplete, which outranks failing findings.
pub(crate) fn exit_status(report: &FindingsReport<'_>) -> Exit {
    if report.count(Status::Unknown) > 0 {
        Exit::ErrorOrIncomplete
    } else if report.count(Status::Fail) > 0 {
        Exit::Failing
    } else {
        Exit::Clean
    }
}

/// The only place the clock is read.
pub fn resolve_now(flag: Option<&str>) -> Result<Timestamp> {
    match flag {
        Some(text) => parse_time_flag("--now", text),
        None => Ok(chrono::Utc::now()),
    }
}

/// Every instant the command line takes (`--now`, `--report-time`, `--since`, `--until`).
pub(crate) fn parse_time_flag(flag: &str, text: &str) -> Result<Timestamp> {
    parse_instant(text).ok_or_else(|| anyhow!("{flag}: `{text}` is not {INSTANT_FORMS}"))
}

pub(crate) fn build_config(args: &ThresholdArgs) -> Result<AuditConfig> {
    let file = match &args.config {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file `{origin}`"))?;
            Some((ConfigFile::parse(&text, &origin)?, origin))
        }
        None => None,
    };
    let preset = args.preset.map(|p| match p {
        PresetArg::Default => Preset::Default,
        PresetArg::Cis => Preset::Cis,
        PresetArg::AwsConfig => Preset::AwsConfig,
        PresetArg::Conformity => Preset::Conformity,
        PresetArg::Pingsafe => Preset::Pingsafe,
    });
    let overrides = ThresholdOverrides {
        max_unused_days: args.max_unused_days,
        max_key_age_days: args.max_key_age_days,
        max_inactive_days: args.max_inactive_days,
        setup_window_minutes: None,
    };
    let selection = RuleSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    Ok(config::layer(
        preset,
        file.as_ref().map(|(f, origin)| (f, origin.as_str())),
        &overrides,
        &selection,
    )?)
}
