use super::{after_data_time, date_after_data_time, declare_rule, Context, Rule, RuleMeta};
use crate::finding::{CredentialKind, Finding, Status};
use crate::model::{Cell, UserCredentials};
use crate::time::days_past_limit;

declare_rule! {
    /// ## What it does
    /// Flags an enabled console password that has not been used for longer than
    /// `max_unused_days` (45 by default).
    ///
    /// ## Why it matters
    /// A password nobody signs in with can still be phished, guessed or reused from another
    /// breach, and a sign-in with it would go unnoticed.
    ///
    /// ## How it decides
    /// For a user whose `password_enabled` is true, the reference instant is
    /// `password_last_used`; when the password was never used (`no_information`, or `N/A`), it is
    /// `password_last_changed`, when the password was set. The password fails when
    /// `now - reference > max_unused_days * 24h`, exactly. A never-used password is not clean.
    /// The root user is left to ROOT002 (its password cannot be removed). A missing column, or no
    /// usable date at all, makes the finding `unknown`; so does a reference instant after the
    /// data's own time (the report's generation time when known, else `now`), which cannot be
    /// true: a password used after the report was generated would otherwise pass as fresh.
    ///
    /// ## How to fix
    /// Remove the console password (`aws iam delete-login-profile --user-name USER`); the user
    /// can be given a new one if they ask for it.
    ///
    /// AWS lost password-use data between 2018-05-03 and 2018-05-23; the age is exact otherwise.
    ///
    /// ## Fix safety
    /// `delete-login-profile` is `unsafe`: the user loses console access and the password cannot be
    /// restored (a new one can be set). `apply` runs it only when asked, while the password exists
    /// and was not used after the audit saw it.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.12 (45 days), Trend Micro Conformity IAM-003 case B (90),
    /// AWS Config iam-user-unused-credentials-check (90), AWS Security Hub IAM.22 (45) and IAM.8 (90).
    pub struct UnusedConsolePassword {
        code: "PWD001",
        name: "unused-console-password",
        severity: Medium,
        scope: User,
        summary: "an enabled console password unused (or never used since set) for longer than max_unused_days",
        live_data: [LoginProfile],
        fix: DeleteLoginProfile,
        standards: [
            (CisAwsFoundationsV3, "1.12"),
            (AwsFsbp, "IAM.8"),
            (AwsSecurityHubCis, "IAM.22"),
        ],
    }
}

impl Rule for UnusedConsolePassword {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let limit = ctx.config.thresholds.max_unused_days;
        let unknown = |column: &'static str, value: String| {
            Finding::for_user(
                &Self::META,
                Status::Unknown,
                user,
                CredentialKind::Password,
                format!("cannot decide: `{column}` is {value}"),
            )
            .with("column", column)
        };
        match &user.password_enabled {
            Cell::Value(true) => {}
            Cell::Value(false) | Cell::NotApplicable => return,
            other => {
                out.push(unknown("password_enabled", other.describe()));
                return;
            }
        }
        let (reference, used) = match (&user.password_last_used, &user.password_last_changed) {
            (Cell::Value(used), _) => (*used, true),
            (Cell::NoInformation | Cell::NotApplicable, Cell::Value(changed)) => (*changed, false),
            (Cell::NoInformation | Cell::NotApplicable, changed) => {
                out.push(unknown("password_last_changed", changed.describe()));
                return;
            }
            (used, _) => {
                out.push(unknown("password_last_used", used.describe()));
                return;
            }
        };
        if after_data_time(ctx, reference) {
            let column = if used {
                "password_last_used"
            } else {
                "password_last_changed"
            };
            out.push(date_after_data_time(
                &Self::META,
                user,
                CredentialKind::Password,
                column,
                reference,
                ctx,
            ));
            return;
        }
        let Some(idle) = days_past_limit(ctx.now, reference, limit) else {
            return;
        };
        let message = if used {
            format!("console password unused for {idle} days (limit {limit})")
        } else {
            format!("console password never used, set {idle} days ago (limit {limit})")
        };
        out.push(
            Finding::for_user(
                &Self::META,
                Status::Fail,
                user,
                CredentialKind::Password,
                message,
            )
            .with("password_enabled", true)
            .with("password_last_used", &user.password_last_used)
            .with("password_last_changed", &user.password_last_changed)
            .with("days_unused", idle)
            .with("max_unused_days", limit),
        );
    }
}
