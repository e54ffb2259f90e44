use super::{declare_rule, key_finding, unreadable_key_column, Context, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::{AccountFacts, Cell, KeyField, Known, ROOT_USER_NAME};

declare_rule! {
    /// ## What it does
    /// Flags every access key of the root user, active or not.
    ///
    /// ## Why it matters
    /// The root user cannot be restricted by IAM policies. A root access key is a permanent,
    /// unlimited credential for the whole account; an inactive one can be reactivated by anyone
    /// who gets root. AWS's guidance is that the root user has no access keys at all.
    ///
    /// ## How it decides
    /// The `<root_account>` row of the credential report: a slot holds a key when it is active or
    /// has a creation date (`access_key_N_last_rotated`). One finding per key. A live audit also asks
    /// GetAccountSummary (`AccountAccessKeysPresent`), which is fresher than the report: when it
    /// says root has no key, the report's keys were deleted since and nothing fails; when it counts
    /// more keys than the row shows, or there is no root row, it fails on the summary's count.
    /// With neither a root row (moto, a filtered export) nor a summary, or with the columns
    /// missing, the finding is `unknown`: the absence of a row is not proof of the absence of a key.
    ///
    /// ## How to fix
    /// Sign in as root, open Security credentials, and delete the access keys. keywarden cannot
    /// do this for you: only root's own session can delete root's keys.
    ///
    /// ## Fix safety
    /// `manual`: only root's own session can manage root's keys. The plan's steps say how.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.4, AWS Security Hub IAM.4, AWS Config iam-root-access-key-check.
    pub struct RootAccessKeyPresent {
        code: "ROOT001",
        name: "root-access-key-present",
        severity: Critical,
        scope: Account,
        summary: "the root user has an access key (active or not)",
        live_data: [AccountSummary],
        fix: Manual(ROOT_KEY_STEPS),
        standards: [
            (CisAwsFoundationsV3, "1.4"),
            (AwsFsbp, "IAM.4"),
        ],
    }
}

/// The steps for root's access keys, which only root's own session can manage: ROOT001's fix,
/// and the plan's for any key finding about root.
pub const ROOT_KEY_STEPS: &[&str] = &[
    "root's access keys can only be managed by root itself: sign in as the root user",
    "Security credentials > Access keys: make each key inactive, check nothing broke, then delete it",
];

impl Rule for RootAccessKeyPresent {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let summary = account.known_root_summary();
        if let Some(reason) = account.root_unknown_reason() {
            let mut finding = Finding::for_account(
                &Self::META,
                Status::Unknown,
                account.account_id.as_deref(),
                format!("cannot decide: {reason}"),
            )
            .with("unknown_reason", reason);
            finding.user = Some(ROOT_USER_NAME.into());
            out.push(finding);
            return;
        }
        if summary.is_some_and(|s| s.access_keys_present == 0) {
            // The summary is live; keys the report still shows were deleted since.
            return;
        }
        let mut keys_in_row = 0;
        if let Known::Known(root) = &account.root {
            for key in &root.access_keys {
                match key.exists() {
                    Cell::Value(true) => {
                        keys_in_row += 1;
                        let active = key.active == Cell::Value(true);
                        let state = if active { "an active" } else { "an inactive" };
                        out.push(
                            key_finding(
                                &Self::META,
                                Status::Fail,
                                root,
                                key,
                                format!(
                                    "root user has {state} access key (access_key_{})",
                                    key.slot.number()
                                ),
                            )
                            .with("active", active)
                            .with("created", key.last_rotated.value().copied())
                            .with("last_used", key.last_used.value().copied()),
                        );
                    }
                    Cell::Value(false) => {}
                    _ if summary.is_some() => {}
                    _ => {
                        let field = if key.active.is_missing() {
                            KeyField::Active
                        } else {
                            KeyField::LastRotated
                        };
                        out.push(unreadable_key_column(&Self::META, root, key, field));
                    }
                }
            }
        }
        if let Some(summary) = summary.filter(|s| s.access_keys_present > keys_in_row) {
            let mut finding = Finding::for_account(
                &Self::META,
                Status::Fail,
                account.account_id.as_deref(),
                format!(
                    "root user has {} access key(s) according to GetAccountSummary",
                    summary.access_keys_present
                ),
            )
            .with("account_access_keys_present", summary.access_keys_present)
            .with("keys_in_report_row", keys_in_row);
            finding.user = Some(ROOT_USER_NAME.into());
            out.push(finding);
        }
    }
}
