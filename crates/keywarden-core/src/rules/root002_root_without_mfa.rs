use super::{declare_rule, Context, Rule, RuleMeta};
use crate::finding::{CredentialKind, Finding, Status};
use crate::model::{AccountFacts, Cell, Known, ROOT_USER_NAME};

declare_rule! {
    /// ## What it does
    /// Flags a root user without MFA.
    ///
    /// ## Why it matters
    /// Root can do anything, including closing the account and removing every other control. Its
    /// password alone must never be enough to sign in.
    ///
    /// ## How it decides
    /// The `<root_account>` row's `mfa_active` is false. When the source has no root row or no
    /// `mfa_active` column, the finding is `unknown`.
    ///
    /// ## How to fix
    /// Sign in as root and register an MFA device (a hardware security key or passkey is best;
    /// AWS allows up to eight). In an Organization, consider centrally managed root access, which
    /// removes member accounts' root credentials.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.5 (and 1.6 for hardware MFA), AWS Security Hub IAM.9,
    /// AWS Config root-account-mfa-enabled.
    pub struct RootWithoutMfa {
        code: "ROOT002",
        name: "root-without-mfa",
        severity: Critical,
        scope: Account,
        summary: "the root user has no MFA",
    }
}

impl Rule for RootWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let (status, message, mut finding_for) = match &account.root {
            Known::Unknown(reason) => (Status::Unknown, format!("cannot decide: {reason}"), None),
            Known::Known(root) => match &root.mfa_active {
                Cell::Value(true) => return,
                Cell::Value(false) => (
                    Status::Fail,
                    "root user has no MFA device".to_owned(),
                    Some(root),
                ),
                other => (
                    Status::Unknown,
                    format!("cannot decide: root's `mfa_active` is {}", other.describe()),
                    Some(root),
                ),
            },
        };
        let finding = match finding_for.take() {
            Some(root) => {
                Finding::for_user(&Self::META, status, root, CredentialKind::Mfa, message)
                    .with("mfa_active", root.mfa_active.value().copied())
                    .with("password_last_used", &root.password_last_used)
            }
            None => {
                let mut f = Finding::for_account(
                    &Self::META,
                    status,
                    account.account_id.as_deref(),
                    message,
                );
                f.user = Some(ROOT_USER_NAME.into());
                f.credential = CredentialKind::Mfa;
                f
            }
        };
        out.push(finding);
    }
}
