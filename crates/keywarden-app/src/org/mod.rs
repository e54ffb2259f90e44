//! `keywarden audit --org`: every account of an organization, audited the way one account is.
//!
//! - **Discovery** ([`discover`]): the organization's tree walked from its root with
//!   Organizations (ListRoots, then ListOrganizationalUnitsForParent and ListAccountsForParent
//!   per parent), which gives each account its OU path; `--ou` keeps the subtrees of those OUs
//!   (nested OUs included), `--accounts` and `--exclude-accounts` narrow further. Accounts that
//!   are not `ACTIVE` (suspended, closing) are listed as `skipped-suspended`, never entered.
//! - **Fan-out** ([`run_org_audit`]): at most `account_concurrency` accounts at once through
//!   [`crate::bounded`], each entered through [`EnterAccount`] (sts:AssumeRole; the caller's own
//!   account with its own credentials) and audited by [`run_live_audit`] with its own bounded
//!   per-user concurrency. Throttling is the SDK's to absorb (adaptive retry, set by the caller).
//! - **Honest status**: an account that cannot be entered or audited gets its status
//!   (`assume-role-denied`, `throttled`, `access-denied`, `report-failed`, `error`) with AWS's
//!   error code, and one `unknown` finding of [`ACCOUNT_NOT_AUDITED`] with the reason; the other
//!   accounts complete.
//! - **Bounded memory** ([`store`]): each account's result goes to its own file in the state
//!   folder as soon as it finishes; only summaries stay in memory, and the merged output reads
//!   the files back one account at a time. The same files make `--resume RUN_ID` audit only the
//!   accounts not finished (a failed account is tried again).

pub mod store;

use crate::bounded::for_each_bounded;
use crate::live_audit::{run_live_audit, LiveAuditError, LiveAuditOptions, NoProgress};
use crate::report_fetch::FetchError;
use keywarden_aws::api::{AwsError, EnterAccount, IamRead, OrgAccount, OrgRead, TrailRead};
use keywarden_core::audit::{AccountExtras, AuditRun};
use keywarden_core::finding::{Finding, Severity, Status};
use keywarden_core::rules::{Fix, RuleMeta, Scope};
use keywarden_core::{AuditConfig, Timestamp};
use keywarden_output::AccountSummary;
use std::collections::BTreeSet;
use std::sync::Arc;
pub use store::{new_run_id, valid_run_id, OrgReport, RunStore};

/// The finding of an account that could not be audited. Outside the catalogue (as Sigma's
/// rules are): it is about the run, not about a credential.
pub static ACCOUNT_NOT_AUDITED: RuleMeta = RuleMeta {
    code: "ORG-NOT-AUDITED",
    name: "account-not-audited",
    severity: Severity::High,
    scope: Scope::Account,
    summary: "An account of the organization could not be audited",
    documentation: "## What it does\n\nReports an account of an organization run (`audit --org`) that could not be \
entered or audited: its status (`assume-role-denied`, `throttled`, `access-denied`, \
`report-failed`, `error`) and AWS's error code.\n\n## Why it matters\n\nAn account that was not \
audited has unknown credentials, never clean ones.\n\n## How it decides\n\nThe AssumeRole into \
the account's audit role failed, or the credential report could not be read there.\n\n## How to \
fix\n\nDeploy the audit role in the account (the StackSet of `keywarden permissions --org`), \
check its trust policy and ExternalId, or run again later (`--resume RUN_ID`) when AWS \
throttled.\n\n## Standards\n\nNone: keywarden's own.\n",
    live_data: &[],
    fix: Fix::Manual(&[]),
    standards: &[],
};

/// What `audit --org` was asked to do.
#[derive(Debug, Clone)]
pub struct OrgAuditOptions {
    /// Organizational units whose subtrees are audited; empty: the whole organization.
    pub ous: Vec<String>,
    /// Only these accounts (empty: every account found).
    pub accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
    /// Accounts audited at once.
    pub account_concurrency: usize,
    /// Each account's live audit.
    pub live: LiveAuditOptions,
}

/// An account to audit (or to list as skipped), with its place in the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgTarget {
    pub account: OrgAccount,
    /// `Root/Workloads/Prod`: the names from the root down.
    pub ou_path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("cannot list the organization's accounts: {0}")]
    Discover(AwsError),
    #[error("--ou {0}: no such organizational unit in the organization")]
    NoSuchOu(String),
    #[error("--accounts {0}: no such account in the organization (or under --ou)")]
    NoSuchAccount(String),
    #[error("the run's state folder: {0}")]
    Store(#[from] std::io::Error),
}

/// The organization's accounts, each with its OU path, sorted by account id; narrowed to the
/// subtrees of `ous` when given.
pub async fn discover<O: OrgRead>(org: &O, ous: &[String]) -> Result<Vec<OrgTarget>, OrgError> {
    let mut targets = Vec::new();
    let mut found_ous = BTreeSet::new();
    // (parent id, its path, whether it is inside a selected subtree)
    let mut pending: Vec<(String, String, bool)> = org
        .list_roots()
        .await
        .map_err(OrgError::Discover)?
        .into_iter()
        .map(|root| {
            let name = if root.name.is_empty() {
                "Root".to_owned()
            } else {
                root.name
            };
            let selected = ous.is_empty() || ous.contains(&root.id);
            if selected && !ous.is_empty() {
                found_ous.insert(root.id.clone());
            }
            (root.id, name, selected)
        })
        .collect();
    while let Some((parent, path, selected)) = pending.pop() {
        if selected {
            for account in org
                .list_accounts_for_parent(&parent)
                .await
                .map_err(OrgError::Discover)?
            {
                targets.push(OrgTarget {
                    account,
                    ou_path: path.clone(),
                });
            }
        }
        // Outside the selection, only the OUs still to be found are worth walking to.
        if !selected && found_ous.len() == ous.len() {
            continue;
        }
        for unit in org
            .list_organizational_units_for_parent(&parent)
            .await
            .map_err(OrgError::Discover)?
        {
            let chosen = ous.contains(&unit.id);
            if chosen {
                found_ous.insert(unit.id.clone());
            }
            pending.push((unit.id, format!("{path}/{}", unit.name), selected || chosen));
        }
    }
    if let Some(missing) = ous.iter().find(|ou| !found_ous.contains(*ou)) {
        return Err(OrgError::NoSuchOu(missing.clone()));
    }
    targets.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    targets.dedup_by(|a, b| a.account.id == b.account.id);
    Ok(targets)
}

/// `targets` narrowed by `--accounts` (each must be there) and `--exclude-accounts`.
pub fn narrow(
    targets: Vec<OrgTarget>,
    accounts: &[String],
    exclude: &[String],
) -> Result<Vec<OrgTarget>, OrgError> {
    if let Some(missing) = accounts
        .iter()
        .find(|id| !targets.iter().any(|t| &t.account.id == *id))
    {
        return Err(OrgError::NoSuchAccount(missing.clone()));
    }
    Ok(targets
        .into_iter()
        .filter(|t| accounts.is_empty() || accounts.contains(&t.account.id))
        .filter(|t| !exclude.contains(&t.account.id))
        .collect())
}

/// Progress of an organization run, for a progress bar: accounts done, failed and left.
pub trait OrgProgress: Send + Sync {
    fn start(&self, accounts: u64);
    /// One account finished (audited, failed or skipped).
    fn account_finished(&self, account: &AccountSummary);
    fn finish(&self);
}

pub struct NoOrgProgress;

impl OrgProgress for NoOrgProgress {
    fn start(&self, _accounts: u64) {}
    fn account_finished(&self, _account: &AccountSummary) {}
    fn finish(&self) {}
}

/// AWS's codes for "slow down": the SDK retried them already; past its attempts, the account
/// is `throttled`.
fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
    )
}

fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    )
}

/// The status of an account that could not be entered (its AssumeRole failed).
pub fn enter_status(error: &AwsError) -> &'static str {
    if is_throttling(&error.code) {
        "throttled"
    } else if is_access_denied(&error.code) {
        "assume-role-denied"
    } else {
        "error"
    }
}

/// The status of an account whose audit failed once entered.
pub fn audit_status(error: &LiveAuditError) -> (&'static str, Option<String>) {
    match error {
        LiveAuditError::Report(FetchError::Aws(e)) if is_throttling(&e.code) => {
            ("throttled", Some(e.code.clone()))
        }
        LiveAuditError::Report(FetchError::Aws(e)) if is_access_denied(&e.code) => {
            ("access-denied", Some(e.code.clone()))
        }
        LiveAuditError::Report(FetchError::Aws(e)) => ("report-failed", Some(e.code.clone())),
        LiveAuditError::Report(FetchError::NotReady { .. }) | LiveAuditError::Parse(_) => {
            ("report-failed", None)
        }
    }
}

fn summary_of(target: &OrgTarget, status: &str) -> AccountSummary {
    AccountSummary {
        id: target.account.id.clone(),
        name: target.account.name.clone(),
        ou_path: target.ou_path.clone(),
        status: status.to_owned(),
        error_code: None,
        reason: None,
        report_generated_at: None,
        users_evaluated: 0,
        fail_by_severity: [0; 4],
        fail: 0,
        unknown: 0,
        exempted: 0,
    }
}

/// The summary of an audited account, counted from its findings.
fn count(summary: &mut AccountSummary, findings: &[Finding]) {
    for f in findings {
        match f.status {
            Status::Fail => {
                summary.fail += 1;
                let index = Severity::ALL
                    .iter()
                    .position(|s| *s == f.severity())
                    .unwrap_or_default();
                summary.fail_by_severity[index] += 1;
            }
            Status::Unknown => summary.unknown += 1,
            Status::Exempted => summary.exempted += 1,
        }
    }
}

/// The summary and the one `unknown` finding of an account that could not be audited.
fn failed(
    target: &OrgTarget,
    status: &str,
    code: Option<String>,
    reason: String,
) -> (AccountSummary, Vec<Finding>) {
    let mut summary = summary_of(target, status);
    let mut finding = Finding::for_account(
        &ACCOUNT_NOT_AUDITED,
        Status::Unknown,
        Some(&target.account.id),
        format!("account not audited ({status}): {reason}"),
    )
    .with("status", status)
    .with("unknown_reason", reason.as_str());
    if let Some(code) = &code {
        finding = finding.with("aws_error_code", code.as_str());
    }
    summary.error_code = code;
    summary.reason = Some(reason);
    summary.unknown = 1;
    (summary, vec![finding])
}

/// Enters one account and audits it: its summary and findings.
async fn audit_account<E>(
    enter: &E,
    target: &OrgTarget,
    config: &AuditConfig,
    now: Timestamp,
    options: &LiveAuditOptions,
) -> (AccountSummary, Vec<Finding>)
where
    E: EnterAccount,
    E::Client: IamRead + TrailRead,
{
    let client = match enter.enter(&target.account.id).await {
        Ok(client) => client,
        Err(error) => {
            return failed(
                target,
                enter_status(&error),
                Some(error.code.clone()),
                error.reason(),
            )
        }
    };
    match run_live_audit(client, config, now, options, &NoProgress).await {
        Ok(audit) => {
            let mut summary = summary_of(target, "ok");
            summary.report_generated_at = Some(audit.report_generated_at);
            summary.users_evaluated = audit.outcome.users_evaluated;
            count(&mut summary, &audit.outcome.findings);
            (summary, audit.outcome.findings)
        }
        Err(error) => {
            let (status, code) = audit_status(&error);
            failed(target, status, code, error.to_string())
        }
    }
}

/// The rules every account's audit runs, in catalogue order.
pub fn rules_run(config: &AuditConfig, now: Timestamp) -> Vec<&'static RuleMeta> {
    AuditRun::new(config, now)
        .finish(AccountExtras::unknown_from_report_file())
        .rules_run
}

/// Audits `targets` (from [`discover`] and [`narrow`]): the accounts `store` has no finished
/// record of are entered and audited, at most `account_concurrency` at once, each recorded in
/// `store` as it finishes; suspended and closing accounts are recorded as skipped. Returns
/// every target's summary in `targets`' order (the finished ones read back from `store`).
pub async fn run_org_audit<E>(
    enter: Arc<E>,
    targets: Vec<OrgTarget>,
    store: Arc<RunStore>,
    config: Arc<AuditConfig>,
    now: Timestamp,
    options: &OrgAuditOptions,
    progress: &dyn OrgProgress,
) -> Result<OrgReport, OrgError>
where
    E: EnterAccount + 'static,
    E::Client: IamRead + TrailRead,
{
    let mut summaries: Vec<Option<AccountSummary>> = Vec::with_capacity(targets.len());
    let mut jobs = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        // A resumed run keeps what an earlier attempt finished: audited, or skipped.
        let earlier = store
            .summary(&target.account.id)?
            .filter(|s| s.is_ok() || s.status.starts_with("skipped"));
        if earlier.is_none() {
            jobs.push((index, target.clone()));
        }
        summaries.push(earlier);
    }
    progress.start(jobs.len() as u64);
    let mut store_error = None;
    for_each_bounded(
        jobs,
        options.account_concurrency,
        |(index, target)| {
            let (enter, store, config) =
                (Arc::clone(&enter), Arc::clone(&store), Arc::clone(&config));
            let live = options.live.clone();
            async move {
                let (summary, findings) = if target.account.is_active() {
                    audit_account(&*enter, &target, &config, now, &live).await
                } else {
                    let mut summary = summary_of(&target, "skipped-suspended");
                    summary.reason = Some(format!(
                        "the account is {}: not audited",
                        target.account.state
                    ));
                    (summary, Vec::new())
                };
                // A small file, written once per account: the worker thread can afford it.
                let written = store.write(&summary, &findings, now);
                (index, summary, written)
            }
        },
        |(index, summary, written)| {
            if let Err(error) = written {
                store_error.get_or_insert(error);
            }
            progress.account_finished(&summary);
            summaries[index] = Some(summary);
        },
    )
    .await;
    progress.finish();
    if let Some(error) = store_error {
        return Err(OrgError::Store(error));
    }
    let accounts = summaries.into_iter().flatten().collect();
    Ok(OrgReport {
        store: Arc::unwrap_or_clone(store),
        accounts,
    })
}

#[cfg(test)]
mod tests;
