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
    /// A live audit asks GetAccountSummary (`AccountMFAEnabled`), which is fresher than the
    /// report and decides alone. Otherwise the `<root_account>` row's `mfa_active` is false. With
    /// neither a summary nor a root row, or no `mfa_active` column, the finding is `unknown`.
    ///
    /// ## How to fix
    /// Sign in as root and register an MFA device (a hardware security key or passkey is best;
    /// AWS allows up to eight). In an Organization, consider centrally managed root access, which
    /// removes member accounts' root credentials.
    ///
    /// ## Fix safety
    /// `manual`: only root can register root's MFA device. The plan's steps say how.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.5 (and 1.6 for hardware MFA), AWS Security Hub IAM.9 (and IAM.6,
    /// an AWS Foundational Security Best Practices control, for hardware MFA),
    /// AWS Config root-account-mfa-enabled.
    pub struct RootWithoutMfa {
        code: "ROOT002",
        name: "root-without-mfa",
        severity: Critical,
        scope: Account,
        summary: "the root user has no MFA",
        live_data: [AccountSummary],
        fix: Manual(&[
            "sign in as the root user and open Security credentials",
            "assign an MFA device (a hardware key or passkey is best)",
        ]),
        standards: [
            (CisAwsFoundationsV3, "1.5"),
            (CisAwsFoundationsV3, "1.6"),
            (AwsFsbp, "IAM.6"),
            (AwsSecurityHubCis, "IAM.9"),
        ],
    }
}

impl Rule for RootWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let root_row = match &account.root {
            Known::Known(root) => Some(root),
            Known::Unknown(_) => None,
        };
        let (status, message, mfa_active) = match (account.known_root_summary(), root_row) {
            (Some(summary), _) if summary.mfa_enabled => return,
            (Some(_), _) => (
                Status::Fail,
                "root user has no MFA device (GetAccountSummary)".to_owned(),
                Some(false),
            ),
            (None, Some(root)) => match &root.mfa_active {
                Cell::Value(true) => return,
                Cell::Value(false) => (
                    Status::Fail,
                    "root user has no MFA device".to_owned(),
                    Some(false),
                ),
                other => (
                    Status::Unknown,
                    format!("cannot decide: root's `mfa_active` is {}", other.describe()),
                    None,
                ),
            },
            (None, None) => {
                let reason = account
                    .root_unknown_reason()
                    .unwrap_or_else(|| "nothing is known about the root user".into());
                (Status::Unknown, format!("cannot decide: {reason}"), None)
            }
        };
        let finding = match root_row {
            Some(root) => {
                Finding::for_user(&Self::META, status, root, CredentialKind::Mfa, message)
                    .with("mfa_active", mfa_active)
                    .with("password_last_used", &root.password_last_used)
            }
            None => {
                let mut f = Finding::for_account(
                    &Self::META,
                    status,
                    account.account_id.as_deref(),
                    message,
                )
                .with("mfa_active", mfa_active);
                f.user = Some(ROOT_USER_NAME.into());
                f.credential = CredentialKind::Mfa;
                f
            }
        };
        out.push(finding);
    }
}
