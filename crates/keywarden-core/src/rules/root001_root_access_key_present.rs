use super::{declare_rule, key_finding, unreadable_key_column, Context, Rule, RuleMeta};
use crate::finding::{CredentialKind, Finding, Status};
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
    /// has a creation date (`access_key_N_last_rotated`). One finding per key. When the source has
    /// no root row (moto, or a filtered export) or lacks the columns, the finding is `unknown`:
    /// the absence of a row is not proof of the absence of a key.
    ///
    /// ## How to fix
    /// Sign in as root, open Security credentials, and delete the access keys. keywarden cannot
    /// do this for you: only root's own session can delete root's keys.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.4, AWS Security Hub IAM.4, AWS Config iam-root-access-key-check.
    pub struct RootAccessKeyPresent {
        code: "ROOT001",
        name: "root-access-key-present",
        severity: Critical,
        scope: Account,
        summary: "the root user has an access key (active or not)",
    }
}

impl Rule for RootAccessKeyPresent {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let root = match &account.root {
            Known::Known(root) => root,
            Known::Unknown(reason) => {
                let mut finding = Finding::for_account(
                    &Self::META,
                    Status::Unknown,
                    account.account_id.as_deref(),
                    format!("cannot decide: {reason}"),
                )
                .with("unknown_reason", reason.as_str());
                finding.user = Some(ROOT_USER_NAME.into());
                out.push(finding);
                return;
            }
        };
        for key in &root.access_keys {
            match key.exists() {
                Cell::Value(true) => {
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
                _ => {
                    let field = if key.active.is_missing() {
                        KeyField::Active
                    } else {
                        KeyField::LastRotated
                    };
                    let mut finding = unreadable_key_column(&Self::META, root, key, field);
                    finding.credential = CredentialKind::AccessKey(key.slot);
                    out.push(finding);
                }
            }
        }
    }
}
