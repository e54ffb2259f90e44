//! `keywarden audit --org`: the glue between the command line, the per-account clients
//! (`AccountClients`, sts:AssumeRole), the application layer's organization run and the
//! printers. The findings are printed by `audit_cmd::print_findings_for` (an organization's, read
//! back from the run's folder one account at a time), then imported into Security Hub with
//! `--to securityhub` (`securityhub_cmd::org_to_securityhub`).

use crate::audit_cmd::print_findings_for;
use crate::cli::{AuditArgs, Destination};
use crate::live_cmd::{live_options, print_requests, runtime};
use crate::Exit;
use anyhow::{anyhow, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use keywarden_app::files::default_state_dir;
use keywarden_app::org::{
    discover, narrow, new_run_id, rules_run, run_org_audit, OrgAuditOptions, OrgProgress, RunStore,
};
use keywarden_aws::live::{AccountClients, RoleSpec};
use keywarden_core::{AuditConfig, Timestamp};
use keywarden_output::asff::AsffTarget;
use keywarden_output::{AccountSummary, DataSource, FindingsReport};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub fn run_org(args: &AuditArgs, config: AuditConfig, now: Timestamp) -> Result<Exit> {
    let aws = &args.aws;
    let org = &args.org;
    let state_dir = match &org.state_dir {
        Some(dir) => dir.clone(),
        None => default_state_dir()?,
    };
    let store = match &org.resume {
        Some(run_id) => RunStore::open(&state_dir, run_id)?,
        None => RunStore::create(&state_dir, &new_run_id(now))
            .context("cannot create the organization run's folder")?,
    };
    let run_id = store.run_id().to_owned();
    let options = OrgAuditOptions {
        ous: org.ou.clone(),
        accounts: org.accounts.clone(),
        exclude_accounts: org.exclude_accounts.clone(),
        account_concurrency: org.account_concurrency.max(1),
        live: live_options(aws)?,
    };
    let mut connect = aws.connect.options();
    // Many accounts at once meet IAM's and STS's rate limits: the SDK's adaptive mode slows
    // every client down once AWS throttles, on top of the standard backoff.
    connect.adaptive_retry = true;
    let role = RoleSpec {
        role_name: org.role_name.clone(),
        external_id: org.external_id.clone(),
        session_name: format!("keywarden-audit-{run_id}"),
        via_role: org.via_role.clone(),
    };
    let rules = rules_run(&config, now);
    let runtime = runtime()?;
    let progress = AccountsProgress::new();
    let (report, clients) = runtime.block_on(async {
        let clients = AccountClients::connect(&connect, role)
            .await
            .map_err(|e| anyhow!("cannot start the organization run: {}", e.reason()))?;
        let targets = discover(&**clients.home(), &options.ous).await?;
        let targets = narrow(targets, &options.accounts, &options.exclude_accounts)?;
        let clients = Arc::new(clients);
        let report = run_org_audit(
            Arc::clone(&clients),
            targets,
            Arc::new(store),
            Arc::new(config.clone()),
            now,
            &options,
            &progress,
        )
        .await?;
        anyhow::Ok((report, clients))
    })?;
    let failed = report
        .accounts
        .iter()
        .filter(|a| !a.is_ok() && !a.status.starts_with("skipped"))
        .count();
    diag!(
        "keywarden: organization run {run_id}: {} accounts, {failed} not audited; results in {}",
        report.accounts.len(),
        report.store.dir().display()
    );
    if failed > 0 {
        diag!("keywarden: note: `--resume {run_id}` audits again only the accounts not finished");
    }
    let source = DataSource {
        kind: "organization",
        location: format!(
            "caller account {}, run {run_id}, role {}",
            clients.home_account(),
            org.role_name
        ),
        as_of: None,
        as_of_basis: "each account's own (its report age in the account summary)".into(),
    };
    let findings = FindingsReport::org(
        &report,
        &rules,
        now,
        source,
        config.preset.name(),
        env!("CARGO_PKG_VERSION"),
    );
    // --format asff: each account's documents for that account, or all for the caller's
    // (administrator) account with --securityhub-admin.
    let asff = AsffTarget {
        region: clients.home().region().to_owned(),
        account: org
            .securityhub_admin
            .then(|| clients.home_account().to_owned()),
        administrator: org.securityhub_admin,
    };
    let exit = print_findings_for(&findings, args.output.format, &asff)?;
    let pushed = match args.output.to {
        Some(Destination::Securityhub) => crate::securityhub_cmd::org_to_securityhub(
            &findings,
            &runtime,
            &clients,
            org.securityhub_admin,
        )?,
        None => true,
    };
    if aws.stats {
        print_requests(clients.requests());
    }
    Ok(if pushed {
        exit
    } else {
        Exit::ErrorOrIncomplete
    })
}

/// Accounts done / failed / left on standard error when it is a terminal.
struct AccountsProgress {
    bar: Option<ProgressBar>,
    failed: AtomicU64,
}

impl AccountsProgress {
    fn new() -> Self {
        AccountsProgress {
            bar: std::io::stderr().is_terminal().then(ProgressBar::hidden),
            failed: AtomicU64::new(0),
        }
    }
}

impl OrgProgress for AccountsProgress {
    fn start(&self, accounts: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(accounts);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("accounts {bar:30} {pos}/{len} done, {msg}, {elapsed}")
            {
                bar.set_style(style);
            }
            bar.set_message(format!("0 failed, {accounts} left"));
        }
    }

    fn account_finished(&self, account: &AccountSummary) {
        let failed = if account.is_ok() || account.status.starts_with("skipped") {
            self.failed.load(Ordering::Relaxed)
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        };
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let left = bar.length().unwrap_or(0).saturating_sub(bar.position());
            bar.set_message(format!("{failed} failed, {left} left"));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
