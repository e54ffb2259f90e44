use super::{declare_rule, for_each_key, key_finding, Context, Needs, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::UserCredentials;
use crate::time::days_past_limit;

declare_rule! {
    /// ## What it does
    /// Flags every active access key that has not been used for longer than `max_unused_days`
    /// (45 by default).
    ///
    /// ## Why it matters
    /// An active key nobody uses is pure exposure: it can leak from an old laptop, a CI variable
    /// or a repository and still open the account, while nobody would notice it missing.
    ///
    /// ## How it decides
    /// For an active key, the reference instant is its last use, or, when the key was never used
    /// (`N/A`), its creation (`access_key_N_last_rotated`); when the report shows a creation later
    /// than the last use, the later instant counts. The key fails when `now - reference >
    /// max_unused_days * 24h`, exactly. A never-used key is not clean: Prowler passes it whatever
    /// its age, which is its best-known false negative. Inactive keys and empty slots are left to
    /// KEY004. Key 1 and key 2 are judged alike, one finding per key. A missing column makes the
    /// finding `unknown`, and so does a creation or last use after the data's own time (the
    /// report's generation time when known, else `now`): a key used "in 2099" cannot be true, and
    /// its negative age would otherwise pass.
    ///
    /// ## How to fix
    /// Deactivate the key (`aws iam update-access-key --status Inactive`), wait for anything that
    /// breaks, then delete it.
    ///
    /// Before deleting, check CloudTrail for the key id to be sure nothing still depends on it.
    ///
    /// ## Fix safety
    /// Two actions. `deactivate-key` is `safe`: the finding proves the key idle for
    /// `max_unused_days` (since its last use, or its creation when never used), and `apply` runs it
    /// only if the key is still active, still unused since and idle that long. `delete-key` follows
    /// `delete_after_days` later and is `two-phase`: irreversible, run only when asked, once
    /// keywarden's journal shows the key inactive and unused that long. Without last-use evidence
    /// the plan demands a key never used. Root's keys are left to root (`manual`).
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.12 / 2.11 (45 days), AWS Security Hub IAM.22 (45) and IAM.8 (90),
    /// AWS Config iam-user-unused-credentials-check (90), Trend Micro Conformity IAM-003 (90),
    /// PingSafe "Unused Access Keys" (180).
    pub struct UnusedAccessKey {
        code: "KEY001",
        name: "unused-access-key",
        severity: Medium,
        scope: User,
        summary: "an active access key unused (or never used since creation) for longer than max_unused_days",
        live_data: [AccessKeys, KeyLastUse],
        fix: RetireKey { proves_idle: true },
        standards: [
            (CisAwsFoundationsV3, "1.12"),
            (AwsFsbp, "IAM.8"),
            (AwsSecurityHubCis, "IAM.22"),
        ],
    }
}

impl Rule for UnusedAccessKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let limit = ctx.config.thresholds.max_unused_days;
        for_each_key(
            &Self::META,
            user,
            true,
            Needs::LastUse,
            ctx,
            out,
            |k, out| {
                let reference = k.last_activity();
                let Some(idle) = days_past_limit(ctx.now, reference, limit) else {
                    return;
                };
                let message = match k.last_used {
                    Some(_) => format!("active access key unused for {idle} days (limit {limit})"),
                    None => {
                        format!(
                            "active access key never used, created {idle} days ago (limit {limit})"
                        )
                    }
                };
                out.push(
                    key_finding(&Self::META, Status::Fail, user, k.key, message)
                        .with("active", true)
                        .with("created", k.created)
                        .with("last_used", k.last_used)
                        .with(
                            "last_used_service",
                            k.key.last_used_service.value().cloned(),
                        )
                        .with("days_unused", idle)
                        .with("max_unused_days", limit),
                );
            },
        );
    }
}
