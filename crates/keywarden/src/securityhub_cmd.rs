//! `--to securityhub`: the findings a command printed, imported into Security Hub through the
//! app's push; what it did on standard error. The caller turns an incomplete push into exit 2.
//! An organization run ([`org_to_securityhub`]) imports each account's findings into that
//! account (entered through `AccountClients`) or, with `--securityhub-admin`, into the caller's.

use crate::live_cmd::{print_requests, runtime};
use anyhow::{Context, Result};
use keywarden_app::securityhub::{push, PushOptions, PushReport, Resolve, TokioPace};
use keywarden_aws::api::{EnterAccount, WhoAmI};
use keywarden_aws::live::{AccountClients, ConnectOptions, LiveClient};
use keywarden_core::finding::Finding;
use keywarden_output::asff::{self, AsffBatch, AsffTarget};
use keywarden_output::FindingsReport;
use std::collections::HashSet;

/// Imports `report`'s findings into the account the credentials point at, in the client's
/// region; with `resolve` (audits), resolves the findings of the rules that ran that keywarden
/// imported earlier and this run no longer produces. Returns whether every finding was
/// imported and every resolution done.
pub fn to_securityhub(
    report: &FindingsReport<'_>,
    connect: &ConnectOptions,
    resolve: bool,
    stats: bool,
) -> Result<bool> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = LiveClient::connect(connect).await?;
        let identity = client
            .caller_identity()
            .await
            .context("--to securityhub: cannot tell which account the credentials belong to")?;
        let target = AsffTarget {
            region: client.region().to_owned(),
            account: Some(identity.account.clone()),
            administrator: false,
        };
        let batch = asff::documents(report, &target);
        let documents = unique_documents(&batch, report.findings, "");
        let product_arn = asff::product_arn(&target.region, &identity.account);
        let resolution = resolve.then(|| Resolve {
            product_arn: product_arn.clone(),
            account: identity.account.clone(),
            generator_ids: generator_ids(report),
            id_prefix: None,
        });
        let pushed = push(
            &client,
            documents,
            resolution.as_ref(),
            report.now,
            &PushOptions::default(),
            &TokioPace::default(),
        )
        .await;
        let complete = say_pushed(&pushed, &batch, &product_arn, "");
        if stats {
            print_requests(client.requests());
        }
        Ok(complete)
    })
}

/// The `GeneratorId`s of the rules that ran: only their findings are resolved.
fn generator_ids(report: &FindingsReport<'_>) -> HashSet<String> {
    report
        .rules_run
        .iter()
        .map(|rule| asff::generator_id(rule))
        .collect()
}

/// The batch's documents as JSON, each `Id` once; the findings that could not be converted said
/// on standard error (`findings`: the batch's, `whose`: which account's, for an organization).
fn unique_documents(batch: &AsffBatch, findings: &[Finding], whose: &str) -> Vec<asff::AsffJson> {
    for skipped in &batch.unconvertible {
        let user = findings
            .get(skipped.index)
            .and_then(|f| f.user.as_deref())
            .unwrap_or("account");
        diag!(
            "keywarden: securityhub: {whose}finding {} ({}, {}) not imported: {}",
            skipped.index + 1,
            skipped.rule,
            user,
            skipped.reason
        );
    }
    batch.unique_json()
}

/// What a push did, on standard error; whether it was complete.
fn say_pushed(pushed: &PushReport, batch: &AsffBatch, product_arn: &str, whose: &str) -> bool {
    for failed in &pushed.failed {
        diag!(
            "keywarden: securityhub: {whose}finding {} not imported: {}: {}",
            failed.id,
            failed.code,
            failed.message
        );
    }
    for failed in &pushed.resolve_failed {
        diag!(
            "keywarden: securityhub: {whose}finding {} not resolved: {}: {}",
            failed.id,
            failed.code,
            failed.message
        );
    }
    if let Some(error) = &pushed.lookup_error {
        diag!("keywarden: securityhub: {whose}findings imported earlier not looked up, none resolved: {error}");
    }
    diag!(
        "keywarden: securityhub: {whose}{} finding(s) imported into {product_arn}, {} not imported, {} resolved{}",
        pushed.imported,
        pushed.failed.len() + batch.unconvertible.len(),
        pushed.resolved.len(),
        if pushed.throttled > 0 {
            format!(" ({} throttled call(s) waited out)", pushed.throttled)
        } else {
            String::new()
        }
    );
    pushed.complete() && batch.unconvertible.is_empty()
}

/// An organization run's findings into Security Hub, one account at a time (its findings read
/// back from the run's folder): each account's into its own Security Hub, entered through
/// `clients` (the audit's `--role-name`), or with `administrator` into the caller's, the member
/// named in each finding's `Id`, resources and ProductFields. Earlier findings are resolved per
/// account, only for accounts audited to the end (an account not audited checked nothing). An
/// account that could not be audited or entered is said and makes the push incomplete.
pub fn org_to_securityhub(
    report: &FindingsReport<'_>,
    runtime: &tokio::runtime::Runtime,
    clients: &AccountClients,
    administrator: bool,
) -> Result<bool> {
    let Some(org) = report.org else {
        anyhow::bail!("--to securityhub: not an organization run");
    };
    let region = clients.home().region().to_owned();
    let home = clients.home_account().to_owned();
    let generator_ids = generator_ids(report);
    let options = PushOptions::default();
    let mut complete = true;
    let mut first = true;
    org.for_each_account(&mut |account, findings| {
        let whose = format!("account {}: ", account.id);
        let audited = account.is_ok();
        let client = if administrator {
            std::sync::Arc::clone(clients.home())
        } else if !audited {
            if !findings.is_empty() {
                diag!(
                    "keywarden: securityhub: {whose}{} finding(s) not imported: the account was not audited ({}), so it was not entered",
                    findings.len(),
                    account.status
                );
                complete = false;
            }
            return Ok(());
        } else {
            match runtime.block_on(clients.enter(&account.id)) {
                Ok(client) => client,
                Err(error) => {
                    diag!(
                        "keywarden: securityhub: {whose}{} finding(s) not imported, none resolved: cannot enter the account: {}",
                        findings.len(),
                        error.reason()
                    );
                    complete = false;
                    return Ok(());
                }
            }
        };
        let importer = if administrator { home.clone() } else { account.id.clone() };
        let target = AsffTarget {
            region: region.clone(),
            account: Some(importer.clone()),
            administrator,
        };
        let batch = asff::documents_of(findings, report.now, report.tool_version, &target);
        let documents = unique_documents(&batch, findings, &whose);
        let product_arn = asff::product_arn(&region, &importer);
        let resolution = audited.then(|| Resolve {
            product_arn: product_arn.clone(),
            account: importer.clone(),
            generator_ids: generator_ids.clone(),
            id_prefix: administrator.then(|| asff::id_prefix(&account.id)),
        });
        if administrator && !first {
            // One Security Hub for every account: the pace holds across their pushes.
            std::thread::sleep(options.min_interval);
        }
        first = false;
        let pushed = runtime.block_on(push(
            &*client,
            documents,
            resolution.as_ref(),
            report.now,
            &options,
            &TokioPace::default(),
        ));
        complete &= say_pushed(&pushed, &batch, &product_arn, &whose);
        Ok(())
    })
    .context("--to securityhub: cannot read the organization run's findings back")?;
    Ok(complete)
}
