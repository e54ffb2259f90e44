//! The audit engine: runs the selected rules over users as they stream in, then over the account,
//! and applies exemptions. It holds no rows, only findings and the root row, so a large report
//! is evaluated in constant memory apart from its findings.

use crate::config::{AuditConfig, ExemptionMatch};
use crate::finding::{CredentialKind, Finding, Severity, Status};
use crate::model::{AccountFacts, Known, PasswordPolicy, RootSummary, Trail, UserCredentials};
use crate::report::{ReportError, ReportReader};
use crate::rules::{data_time, Context, LiveData, Rule, RuleMeta, Scope, ALL_RULES};
use crate::time::Timestamp;
use std::io::Read;

/// Account-level facts a source may add beyond the user rows.
#[derive(Debug, Clone)]
pub struct AccountExtras {
    pub password_policy: Known<Option<PasswordPolicy>>,
    pub trails: Known<Vec<Trail>>,
    /// GetAccountSummary's root facts; `None` when the source has none (a report file).
    pub root_summary: Option<Known<RootSummary>>,
}

impl AccountExtras {
    /// What a credential report file alone can say about the account: nothing.
    pub fn unknown_from_report_file() -> Self {
        AccountExtras {
            password_policy: Known::Unknown(
                "a credential report does not include the account password policy; audit the live account".into(),
            ),
            trails: Known::Unknown(
                "a credential report does not include CloudTrail trails; audit the live account".into(),
            ),
            root_summary: None,
        }
    }
}

/// The result of one audit.
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    /// Sorted: severity (worst first), rule code, account, user, credential.
    pub findings: Vec<Finding>,
    pub users_evaluated: u64,
    pub root_row_seen: bool,
    pub account_ids: Vec<String>,
    pub rules_run: Vec<&'static RuleMeta>,
    pub now: Timestamp,
}

impl AuditOutcome {
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// One audit in progress.
pub struct AuditRun<'c> {
    config: &'c AuditConfig,
    now: Timestamp,
    /// The data's own time (`rules::Context::data_time`).
    data_time: Timestamp,
    user_rules: Vec<&'static dyn Rule>,
    account_rules: Vec<&'static dyn Rule>,
    findings: Vec<Finding>,
    scratch: Vec<Finding>,
    users_evaluated: u64,
    root: Option<UserCredentials>,
    account_ids: Vec<String>,
}

impl<'c> AuditRun<'c> {
    pub fn new(config: &'c AuditConfig, now: Timestamp) -> Self {
        let selected = ALL_RULES
            .iter()
            .copied()
            .filter(|r| config.selection.includes(r.meta()));
        let (user_rules, account_rules): (Vec<_>, Vec<_>) = selected
            .filter(|r| r.meta().scope != Scope::Event)
            .partition(|r| r.meta().scope == Scope::User);
        AuditRun {
            config,
            now,
            data_time: now,
            user_rules,
            account_rules,
            findings: Vec::new(),
            scratch: Vec::new(),
            users_evaluated: 0,
            root: None,
            account_ids: Vec::new(),
        }
    }

    /// Sets when the data was produced (a credential report's GeneratedTime), when the source
    /// knows it: a date after it (or after `now`) cannot be true and makes its finding
    /// `unknown`. Without it, the data's own time is `now`.
    pub fn generated_at(mut self, generated: Option<Timestamp>) -> Self {
        self.data_time = data_time(self.now, generated);
        self
    }

    fn context(&self) -> Context<'c> {
        Context {
            now: self.now,
            data_time: self.data_time,
            config: self.config,
        }
    }

    /// The findings the user rules would give this (non-root) user, exemptions applied, without
    /// recording them: a live audit uses this to decide which users need fresher data.
    pub fn preview_user(&self, user: &UserCredentials) -> Vec<Finding> {
        let ctx = self.context();
        let mut findings = Vec::new();
        if user.is_root {
            return findings;
        }
        for rule in &self.user_rules {
            rule.check_user(user, &ctx, &mut findings);
        }
        findings
            .into_iter()
            .map(|f| apply_exemption(self.config, f, Some(user), self.now))
            .collect()
    }

    /// Whether a rule taking part in the run reads `data` (what a live audit must ask AWS for).
    pub fn reads(&self, data: LiveData) -> bool {
        self.user_rules
            .iter()
            .chain(&self.account_rules)
            .any(|r| r.meta().live_data.contains(&data))
    }

    /// Evaluates one row. The root row is kept for the account rules; user rules skip it.
    pub fn add_user(&mut self, user: &UserCredentials) {
        self.users_evaluated += 1;
        if let Some(account) = user.account_id() {
            if !self.account_ids.iter().any(|a| a == account) {
                self.account_ids.push(account.to_owned());
            }
        }
        if user.is_root {
            self.root = Some(user.clone());
            return;
        }
        let ctx = self.context();
        for rule in &self.user_rules {
            rule.check_user(user, &ctx, &mut self.scratch);
        }
        for finding in self.scratch.drain(..) {
            self.findings
                .push(apply_exemption(self.config, finding, Some(user), self.now));
        }
    }

    /// Runs the account rules and returns the sorted findings.
    pub fn finish(mut self, extras: AccountExtras) -> AuditOutcome {
        let root_row_seen = self.root.is_some();
        let root = self.root.take();
        let facts = AccountFacts {
            account_id: self.account_ids.first().cloned(),
            root: match root {
                Some(row) => Known::Known(row),
                None => Known::Unknown("the credential report has no <root_account> row".into()),
            },
            password_policy: extras.password_policy,
            trails: extras.trails,
            root_summary: extras.root_summary,
        };
        let ctx = self.context();
        for rule in &self.account_rules {
            rule.check_account(&facts, &ctx, &mut self.scratch);
        }
        let root_row = match &facts.root {
            Known::Known(row) => Some(row),
            Known::Unknown(_) => None,
        };
        for finding in self.scratch.drain(..) {
            let subject =
                root_row.filter(|_| finding.user.as_deref() == root_row.map(|r| r.name.as_str()));
            self.findings
                .push(apply_exemption(self.config, finding, subject, self.now));
        }
        let findings = sorted(self.findings);
        let mut rules_run: Vec<&'static RuleMeta> = self
            .user_rules
            .iter()
            .chain(&self.account_rules)
            .map(|r| r.meta())
            .collect();
        rules_run.sort_by_key(|m| ALL_RULES.iter().position(|r| std::ptr::eq(r.meta(), *m)));
        AuditOutcome {
            findings,
            users_evaluated: self.users_evaluated,
            root_row_seen,
            account_ids: self.account_ids,
            rules_run,
            now: self.now,
        }
    }
}

/// Sorts findings by severity (worst first), rule code, account, user, credential, stably.
///
/// Sorts a permutation of indices rather than the findings: a finding is a few hundred bytes,
/// and moving findings dominated the sort. The permutation is then applied in place.
fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    type Key<'f> = (
        Severity,
        &'static str,
        Option<&'f str>,
        Option<&'f str>,
        CredentialKind,
    );
    fn key(f: &Finding) -> Key<'_> {
        (
            f.severity(),
            f.rule.code,
            f.account.as_deref(),
            f.user.as_deref(),
            f.credential,
        )
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // Stable, and the indices start in order: equal keys keep the order they were found in.
    order.sort_by(|&a, &b| key(&findings[a]).cmp(&key(&findings[b])));
    // Position i receives the finding that was at order[i]. Follow each cycle of the
    // permutation with swaps, marking each visited position done (order[p] = p).
    for start in 0..findings.len() {
        let mut current = start;
        loop {
            let next = order[current];
            order[current] = current;
            if next == start || next == current {
                break;
            }
            findings.swap(current, next);
            current = next;
        }
    }
    findings
}

fn apply_exemption(
    config: &AuditConfig,
    mut finding: Finding,
    user: Option<&UserCredentials>,
    now: Timestamp,
) -> Finding {
    match config.exemption_for(
        finding.rule,
        user,
        finding.user.as_deref(),
        finding.access_key_id.as_deref(),
        now,
    ) {
        ExemptionMatch::None => {}
        ExemptionMatch::Applies(note) => {
            finding.status = Status::Exempted;
            finding.exemption = Some(note);
        }
        ExemptionMatch::Ignored(note) => finding.ignored_exemption = Some(note),
    }
    finding
}

/// Audits a whole credential report as it streams in. Stops at the first bad row: no findings
/// from a half-read report are returned. The data's own time is `now`; see [`audit_report_at`].
pub fn audit_report<R: Read>(
    reader: ReportReader<R>,
    config: &AuditConfig,
    now: Timestamp,
    extras: AccountExtras,
) -> Result<AuditOutcome, ReportError> {
    audit_report_at(reader, config, now, None, extras)
}

/// [`audit_report`] for a report whose generation time is known (`generated`): a date in it
/// after that time cannot be true and makes its finding `unknown`.
pub fn audit_report_at<R: Read>(
    mut reader: ReportReader<R>,
    config: &AuditConfig,
    now: Timestamp,
    generated: Option<Timestamp>,
    extras: AccountExtras,
) -> Result<AuditOutcome, ReportError> {
    let mut run = AuditRun::new(config, now).generated_at(generated);
    // One row for the whole report: each row is decoded into it, reusing its strings.
    let Some(first) = reader.next_user() else {
        return Ok(run.finish(extras));
    };
    let mut user = first?;
    run.add_user(&user);
    while let Some(row) = reader.next_user_into(&mut user) {
        row?;
        run.add_user(&user);
    }
    Ok(run.finish(extras))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySlot;
    use proptest::prelude::*;

    fn finding(
        rule: usize,
        account: Option<u8>,
        user: Option<u8>,
        slot: bool,
        tag: usize,
    ) -> Finding {
        let mut f = Finding::for_account(
            ALL_RULES[rule % ALL_RULES.len()].meta(),
            Status::Fail,
            account.map(|a| format!("acct{a}")).as_deref(),
            format!("{tag}"),
        );
        f.user = user.map(|u| format!("user{u}"));
        f.credential = CredentialKind::AccessKey(if slot { KeySlot::One } else { KeySlot::Two });
        f
    }

    proptest! {
        #[test]
        fn sorted_is_the_stable_sort_by_key(
            specs in proptest::collection::vec(
                (0usize..12, proptest::option::of(0u8..3), proptest::option::of(0u8..4), any::<bool>()),
                0..64,
            )
        ) {
            let findings: Vec<Finding> = specs
                .iter()
                .enumerate()
                .map(|(i, &(rule, account, user, slot))| finding(rule, account, user, slot, i))
                .collect();
            let mut expected = findings.clone();
            expected.sort_by(|a, b| {
                (a.severity(), a.rule.code, &a.account, &a.user, a.credential).cmp(&(
                    b.severity(),
                    b.rule.code,
                    &b.account,
                    &b.user,
                    b.credential,
                ))
            });
            prop_assert_eq!(sorted(findings), expected);
        }
    }
}
