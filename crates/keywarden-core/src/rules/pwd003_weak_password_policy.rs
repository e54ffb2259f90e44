use super::{declare_rule, Context, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::{AccountFacts, Known, PasswordPolicy};

declare_rule! {
    /// ## What it does
    /// Checks the account password policy against the configured requirements: minimum length
    /// (14), the four character classes, reuse prevention (24 passwords) and expiry (90 days).
    ///
    /// ## Why it matters
    /// The password policy is the only thing standing between an IAM user and a password like
    /// `Summer2024`. Short passwords and reuse make console credentials easy to guess or replay.
    ///
    /// ## How it decides
    /// With no custom policy, AWS's default applies (8 characters, no class required, no reuse
    /// prevention, no expiry), which fails. Otherwise each requirement is checked: length at
    /// least `minimum_length`; uppercase, lowercase, numbers and symbols each required when so
    /// configured; reuse prevention at least `reuse_prevention`; expiry set and at most
    /// `max_age_days`. A requirement set to 0 or false is not checked. One finding lists every
    /// shortfall. A credential report does not contain the policy, so from a report file alone the
    /// finding is `unknown`.
    ///
    /// ## How to fix
    /// Set a stronger policy: `aws iam update-account-password-policy --minimum-password-length 14
    /// --require-uppercase-characters --require-lowercase-characters --require-numbers
    /// --require-symbols --password-reuse-prevention 24 --max-password-age 90`.
    ///
    /// ## Fix safety
    /// `manual`: the password policy is the account's decision, and changing it affects every user.
    /// The plan's step is How to fix's first paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.8 (length 14) and 1.9 (reuse 24), AWS Security Hub IAM.7,
    /// AWS Config iam-password-policy.
    pub struct WeakPasswordPolicy {
        code: "PWD003",
        name: "weak-password-policy",
        severity: Medium,
        scope: Account,
        summary: "the account password policy misses length, character classes, reuse prevention or expiry",
        live_data: [PasswordPolicy],
        fix: Manual(&[]),
        standards: [
            (CisAwsFoundationsV3, "1.8"),
            (CisAwsFoundationsV3, "1.9"),
            (AwsFsbp, "IAM.7"),
        ],
    }
}

impl Rule for WeakPasswordPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let account_id = account.account_id.as_deref();
        let (policy, custom) = match &account.password_policy {
            Known::Unknown(reason) => {
                out.push(
                    Finding::for_account(
                        &Self::META,
                        Status::Unknown,
                        account_id,
                        format!("cannot decide: {reason}"),
                    )
                    .with("unknown_reason", reason.as_str()),
                );
                return;
            }
            Known::Known(Some(policy)) => (policy.clone(), true),
            Known::Known(None) => (PasswordPolicy::aws_default(), false),
        };
        let shortfalls = shortfalls(&policy, &ctx.config.password);
        if shortfalls.is_empty() {
            return;
        }
        let prefix = if custom {
            "password policy"
        } else {
            "no password policy is set, and AWS's default"
        };
        out.push(
            Finding::for_account(
                &Self::META,
                Status::Fail,
                account_id,
                format!("{prefix} falls short: {}", shortfalls.join("; ")),
            )
            .with("custom_policy_set", custom)
            .with("minimum_password_length", policy.minimum_password_length)
            .with(
                "require_uppercase_characters",
                policy.require_uppercase_characters,
            )
            .with(
                "require_lowercase_characters",
                policy.require_lowercase_characters,
            )
            .with("require_numbers", policy.require_numbers)
            .with("require_symbols", policy.require_symbols)
            .with(
                "password_reuse_prevention",
                policy.password_reuse_prevention,
            )
            .with("max_password_age", policy.max_password_age),
        );
    }
}

fn shortfalls(policy: &PasswordPolicy, want: &crate::config::PasswordRequirements) -> Vec<String> {
    let mut missing = Vec::new();
    if policy.minimum_password_length < want.minimum_length {
        missing.push(format!(
            "minimum length {} < {}",
            policy.minimum_password_length, want.minimum_length
        ));
    }
    for (required, present, class) in [
        (
            want.require_uppercase,
            policy.require_uppercase_characters,
            "uppercase",
        ),
        (
            want.require_lowercase,
            policy.require_lowercase_characters,
            "lowercase",
        ),
        (want.require_numbers, policy.require_numbers, "numbers"),
        (want.require_symbols, policy.require_symbols, "symbols"),
    ] {
        if required && !present {
            missing.push(format!("{class} not required"));
        }
    }
    if want.reuse_prevention > 0 {
        match policy.password_reuse_prevention {
            Some(n) if n >= want.reuse_prevention => {}
            Some(n) => missing.push(format!("reuse prevention {n} < {}", want.reuse_prevention)),
            None => missing.push("no reuse prevention".into()),
        }
    }
    if want.max_age_days > 0 {
        match policy.max_password_age {
            Some(n) if n <= want.max_age_days => {}
            Some(n) => missing.push(format!(
                "passwords expire after {n} days > {}",
                want.max_age_days
            )),
            None => missing.push("passwords never expire".into()),
        }
    }
    missing
}
