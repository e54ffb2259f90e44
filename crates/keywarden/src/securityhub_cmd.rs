//! `--to securityhub`: the findings a command printed, imported into Security Hub through the
//! app's push; what it did on standard error. The caller turns an incomplete push into exit 2.

use crate::live_cmd::{print_requests, runtime};
use anyhow::{Context, Result};
use keywarden_app::securityhub::{push, PushOptions, Resolve, TokioPace};
use keywarden_aws::api::WhoAmI;
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_output::asff::{self, AsffTarget};
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
        };
        let batch = asff::documents(report, &target);
        for skipped in &batch.unconvertible {
            let finding = &report.findings[skipped.index];
            diag!(
                "keywarden: securityhub: finding {} ({}, {}) not imported: {}",
                skipped.index + 1,
                skipped.rule,
                finding.user.as_deref().unwrap_or("account"),
                skipped.reason
            );
        }
        let mut seen = HashSet::new();
        let mut documents = Vec::with_capacity(batch.findings.len());
        for doc in batch.findings {
            if seen.insert(doc.id.clone()) {
                documents.push(doc.to_json());
            }
        }
        let product_arn = asff::product_arn(&target.region, &identity.account);
        let resolution = resolve.then(|| Resolve {
            product_arn: product_arn.clone(),
            account: identity.account.clone(),
            generator_ids: report
                .rules_run
                .iter()
                .map(|rule| asff::generator_id(rule))
                .collect(),
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
        for failed in &pushed.failed {
            diag!(
                "keywarden: securityhub: finding {} not imported: {}: {}",
                failed.id,
                failed.code,
                failed.message
            );
        }
        for failed in &pushed.resolve_failed {
            diag!(
                "keywarden: securityhub: finding {} not resolved: {}: {}",
                failed.id,
                failed.code,
                failed.message
            );
        }
        if let Some(error) = &pushed.lookup_error {
            diag!("keywarden: securityhub: findings imported earlier not looked up, none resolved: {error}");
        }
        diag!(
            "keywarden: securityhub: {} finding(s) imported into {product_arn}, {} not imported, {} resolved{}",
            pushed.imported,
            pushed.failed.len() + batch.unconvertible.len(),
            pushed.resolved.len(),
            if pushed.throttled > 0 {
                format!(" ({} throttled call(s) waited out)", pushed.throttled)
            } else {
                String::new()
            }
        );
        if stats {
            print_requests(client.requests());
        }
        Ok(pushed.complete() && batch.unconvertible.is_empty())
    })
}
