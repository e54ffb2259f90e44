use super::{declare_rule, Context, Rule, RuleMeta};
use crate::finding::{CredentialKind, Finding, Status};
use crate::model::{Cell, UserCredentials};

declare_rule! {
    /// ## What it does
    /// Flags an IAM user who can sign in to the console with a password but has no MFA device.
    ///
    /// ## Why it matters
    /// A password alone falls to phishing, reuse from other breaches and guessing. MFA is the
    /// control that makes a stolen password useless.
    ///
    /// ## How it decides
    /// `password_enabled` is true and `mfa_active` is false. Users without a password pass: they
    /// cannot use the console. The root user is left to ROOT002. A missing column, or a value the
    /// report does not support for an IAM user, makes the finding `unknown`.
    ///
    /// ## How to fix
    /// Have the user enable an MFA device (a passkey or security key is best), or remove the
    /// password if the user does not need the console. An IAM policy that denies everything
    /// without `aws:MultiFactorAuthPresent` enforces it.
    ///
    /// ## Fix safety
    /// `manual`: an MFA device is enrolled by its owner. The plan's steps name the user: enable an
    /// MFA device, or remove the password if the console is not needed.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.10, AWS Security Hub IAM.5, AWS Config mfa-enabled-for-iam-console-access.
    pub struct ConsoleUserWithoutMfa {
        code: "PWD002",
        name: "console-user-without-mfa",
        severity: High,
        scope: User,
        summary: "a user with a console password has no MFA device",
        live_data: [LoginProfile, MfaDevices],
        fix: Manual(&[
            "have {user} enable an MFA device (IAM console, Security credentials)",
            "or, if {user} does not need the console, remove the password \
             (aws iam delete-login-profile --user-name {user})",
        ]),
        standards: [
            (CisAwsFoundationsV3, "1.10"),
            (AwsFsbp, "IAM.5"),
        ],
    }
}

impl Rule for ConsoleUserWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let unknown = |column: &'static str, value: String| {
            Finding::for_user(
                &Self::META,
                Status::Unknown,
                user,
                CredentialKind::Mfa,
                format!("cannot decide: `{column}` is {value}"),
            )
            .with("column", column)
        };
        match &user.password_enabled {
            Cell::Value(true) => {}
            Cell::Value(false) | Cell::NotApplicable => return,
            other => return out.push(unknown("password_enabled", other.describe())),
        }
        match &user.mfa_active {
            Cell::Value(true) => {}
            Cell::Value(false) => out.push(
                Finding::for_user(
                    &Self::META,
                    Status::Fail,
                    user,
                    CredentialKind::Mfa,
                    "console user has a password and no MFA device",
                )
                .with("password_enabled", true)
                .with("password_last_used", &user.password_last_used)
                .with("mfa_active", false),
            ),
            other => out.push(unknown("mfa_active", other.describe())),
        }
    }
}
