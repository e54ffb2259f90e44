use super::{declare_rule, for_each_key, key_finding, Context, Needs, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::UserCredentials;
use crate::time::days_past_limit;

declare_rule! {
    /// ## What it does
    /// Flags every active access key created more than `max_key_age_days` (90 by default) ago.
    ///
    /// ## Why it matters
    /// The older a key, the more places it has been copied to and the longer a leaked copy keeps
    /// working. Regular rotation bounds the life of a leak nobody noticed.
    ///
    /// ## How it decides
    /// An active key fails when `now - access_key_N_last_rotated > max_key_age_days * 24h`,
    /// exactly. Use does not matter: a key used every day is still due for rotation. Inactive keys
    /// and empty slots pass. Key 1 and key 2 are judged alike, one finding per key; a missing
    /// column makes the finding `unknown`, and so does a creation after the data's own time (the
    /// report's generation time when known, else `now`): a key created "in 2099" cannot be true,
    /// and its negative age would otherwise pass.
    ///
    /// ## How to fix
    /// Rotate: create a second key, move the workload to it, deactivate the old key, then delete
    /// it once nothing breaks (AWS's rotation sample waits 7 days before each step).
    ///
    /// Better still, replace long-term keys with roles and temporary credentials.
    ///
    /// ## Fix safety
    /// `deactivate-key` is `unsafe`: an old key is often a key in use. The plan's step says to
    /// rotate first (`keywarden rotate USER`); `apply` runs it only when asked, on a key still
    /// active and not used after the audit saw it. Root's keys are left to root (`manual`).
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.14 / 2.12 (90 days), AWS Config access-keys-rotated (90),
    /// AWS Security Hub IAM.3 (90).
    pub struct AccessKeyNotRotated {
        code: "KEY002",
        name: "access-key-not-rotated",
        severity: Medium,
        scope: User,
        summary: "an active access key created more than max_key_age_days ago",
        live_data: [AccessKeys],
        fix: DeactivateAfterRotation { last_used: "last_used" },
        standards: [
            (CisAwsFoundationsV3, "1.14"),
            (AwsFsbp, "IAM.3"),
        ],
    }
}

impl Rule for AccessKeyNotRotated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let limit = ctx.config.thresholds.max_key_age_days;
        for_each_key(
            &Self::META,
            user,
            true,
            Needs::Creation,
            ctx,
            out,
            |k, out| {
                let Some(key_age) = days_past_limit(ctx.now, k.created, limit) else {
                    return;
                };
                out.push(
                    key_finding(
                        &Self::META,
                        Status::Fail,
                        user,
                        k.key,
                        format!("active access key is {key_age} days old (limit {limit})"),
                    )
                    .with("active", true)
                    .with("created", k.created)
                    .with("age_days", key_age)
                    .with("max_key_age_days", limit),
                );
            },
        );
    }
}
