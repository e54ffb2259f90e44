//! `keywarden audit` against the live account, and `keywarden permissions`: the glue between the
//! command line, the tokio runtime, the AWS boundary and the application layer.

use crate::audit_cmd::print_findings_for;
use crate::cli::{AuditArgs, Destination, OrgPermissionsArgs, PermissionsFor};
use crate::Exit;
use anyhow::{anyhow, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use keywarden_app::{run_live_audit, LiveAuditOptions, Progress};
use keywarden_aws::api::WhoAmI;
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_aws::permissions::{
    apply_policy, audit_policy, audit_role_template, contain_policy, is_valid_role_name,
    org_management_policy, plan_policy, remediation_role_template, rotate_policy,
    securityhub_policy, trail_policy,
};
use keywarden_core::{AuditConfig, Timestamp};
use keywarden_output::asff::AsffTarget;
use keywarden_output::{DataSource, FindingsReport};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// The live audit's options from the flags (an organization run's accounts use the same).
pub(crate) fn live_options(aws: &crate::cli::AwsArgs) -> Result<LiveAuditOptions> {
    Ok(LiveAuditOptions {
        max_report_age: parse_duration(&aws.max_report_age).ok_or_else(|| {
            anyhow!(
                "--max-report-age: `{}` is not a duration such as 30m, 4h or 1d",
                aws.max_report_age
            )
        })?,
        enrich: !aws.no_enrich,
        concurrency: aws.concurrency.max(1),
        ..LiveAuditOptions::default()
    })
}

pub fn run_live(args: &AuditArgs, config: &AuditConfig, now: Timestamp) -> Result<Exit> {
    let aws = &args.aws;
    let options = live_options(aws)?;
    let connect = aws.connect.options();
    let (audit, client, identity) = live_audit(&connect, &options, config, now)?;
    if aws.stats {
        print_stats(&client);
    }
    let audit = audit?;
    for note in &audit.notes {
        diag!("keywarden: note: {note}");
    }
    let location = match &identity {
        Ok(id) => format!("{} as {}", id.account, id.arn),
        Err(e) => format!("the account of the configured credentials ({})", e.reason()),
    };
    let source = DataSource {
        kind: "live",
        location,
        as_of: Some(audit.report_generated_at),
        as_of_basis: audit.report_basis.as_of_basis().into(),
    };
    let report = FindingsReport::audit(
        &audit.outcome,
        source,
        config.preset.name(),
        env!("CARGO_PKG_VERSION"),
    );
    let asff = AsffTarget {
        region: client.region().to_owned(),
        account: identity.as_ref().ok().map(|id| id.account.clone()),
        administrator: false,
    };
    let exit = print_findings_for(&report, args.output.format, &asff)?;
    if args.output.to == Some(Destination::Securityhub)
        && !crate::securityhub_cmd::to_securityhub(&report, &connect, true, aws.stats)?
    {
        return Ok(Exit::ErrorOrIncomplete);
    }
    Ok(exit)
}

/// A live audit's result, the client that made it (for --stats) and who the credentials
/// belong to.
pub(crate) type LiveAuditRun = (
    Result<keywarden_app::LiveAudit, keywarden_app::LiveAuditError>,
    Arc<LiveClient>,
    keywarden_aws::api::AwsResult<keywarden_aws::api::CallerIdentity>,
);

/// Runs a live audit on a runtime of its own.
pub(crate) fn live_audit(
    connect: &ConnectOptions,
    options: &LiveAuditOptions,
    config: &AuditConfig,
    now: Timestamp,
) -> Result<LiveAuditRun> {
    let runtime = runtime()?;
    let progress = TerminalProgress::new();
    let client = Arc::new(runtime.block_on(LiveClient::connect(connect))?);
    Ok(runtime.block_on(async {
        let identity = client.caller_identity().await;
        let audit = run_live_audit(Arc::clone(&client), config, now, options, &progress).await;
        (audit, client, identity)
    }))
}

/// The async runtime the AWS commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn print_stats(client: &LiveClient) {
    print_requests(client.requests());
}

/// `--stats`: the AWS requests counted, by action, on standard error.
pub(crate) fn print_requests(requests: &keywarden_aws::live::RequestCounter) {
    let counts = requests.snapshot();
    let total: u64 = counts.values().sum();
    diag!("keywarden: {total} AWS requests");
    for (action, n) in counts {
        diag!("  {n:>7}  {action}");
    }
}

pub fn permissions(command: PermissionsFor, org: &OrgPermissionsArgs) -> Result<Exit> {
    if org.org {
        return org_permissions(org);
    }
    let policy = match command {
        PermissionsFor::Audit => audit_policy(),
        PermissionsFor::Trail => trail_policy(),
        PermissionsFor::Plan => plan_policy(),
        PermissionsFor::Apply => apply_policy(),
        PermissionsFor::Contain => contain_policy(),
        PermissionsFor::Rotate => rotate_policy(),
        PermissionsFor::Securityhub => securityhub_policy(),
    };
    let mut out = std::io::stdout().lock();
    keywarden_output::write_json(&policy, &mut out)?;
    out.flush()?;
    Ok(Exit::Clean)
}

/// The StackSet templates `permissions --org --template-out DIR` writes.
pub const AUDIT_ROLE_TEMPLATE_FILE: &str = "keywarden-audit-role.json";
pub const REMEDIATION_ROLE_TEMPLATE_FILE: &str = "keywarden-remediation-role.json";

/// `permissions --org`: the management-side policy on stdout, and with `--template-out` the two
/// StackSet templates, each written atomically and 0600. The templates are written first: the
/// policy printed means both files are there.
fn org_permissions(org: &OrgPermissionsArgs) -> Result<Exit> {
    for (flag, name) in [
        ("--role-name", &org.role_name),
        ("--remediation-role-name", &org.remediation_role_name),
    ] {
        if !is_valid_role_name(name) {
            return Err(anyhow!(
                "{flag} `{name}` is not an IAM role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)"
            ));
        }
    }
    if let Some(dir) = &org.template_out {
        let templates = [
            (
                AUDIT_ROLE_TEMPLATE_FILE,
                audit_role_template(&org.role_name),
            ),
            (
                REMEDIATION_ROLE_TEMPLATE_FILE,
                remediation_role_template(&org.remediation_role_name),
            ),
        ];
        for (file, template) in templates {
            let mut text = Vec::new();
            keywarden_output::write_json(&template, &mut text)?;
            crate::state::write_atomically(
                &dir.join(file),
                &String::from_utf8(text)?,
                crate::state::Existing::Replace,
            )?;
        }
    }
    let mut out = std::io::stdout().lock();
    keywarden_output::write_json(&org_management_policy(&org.role_name), &mut out)?;
    out.flush()?;
    Ok(Exit::Clean)
}

/// `30s`, `30m`, `4h`, `1d`.
fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    match unit {
        "s" => Some(chrono::Duration::seconds(n)),
        "m" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "d" => Some(chrono::Duration::days(n)),
        _ => None,
    }
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
struct TerminalProgress(Option<ProgressBar>);

impl TerminalProgress {
    fn new() -> Self {
        TerminalProgress(std::io::stderr().is_terminal().then(ProgressBar::hidden))
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("re-reading users {bar:30} {pos}/{len} {elapsed}")
            {
                bar.set_style(style);
            }
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h"), Some(chrono::Duration::hours(4)));
        assert_eq!(parse_duration("90s"), Some(chrono::Duration::seconds(90)));
        assert_eq!(parse_duration("1d"), Some(chrono::Duration::days(1)));
        assert_eq!(parse_duration("4 hours"), None);
        assert_eq!(parse_duration("h"), None);
    }
}
