use super::{declare_rule, for_each_key, key_finding, Context, Needs, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::UserCredentials;
use crate::time::days_past_limit;

declare_rule! {
    /// ## What it does
    /// Flags an inactive access key that has been kept, idle, for longer than
    /// `max_inactive_days` (30 by default).
    ///
    /// ## Why it matters
    /// An inactive key is one API call (`UpdateAccessKey --status Active`) away from working
    /// again, and reactivation is a known persistence trick. Once a deactivation has shown that
    /// nothing breaks, the key should be deleted.
    ///
    /// ## How it decides
    /// The slot holds a key (it has a creation date) whose status is inactive. The credential
    /// report does not say when a key was deactivated, so the rule measures from the key's last
    /// activity: the later of its creation and its last use. The key fails when `now - that >
    /// max_inactive_days * 24h`, exactly. Key 1 and key 2 are judged alike; a missing column makes
    /// the finding `unknown`, and so does a creation or last use after the data's own time (the
    /// report's generation time when known, else `now`), which cannot be true.
    ///
    /// ## How to fix
    /// Delete the key (`aws iam delete-access-key`): it has been inactive and unused long enough
    /// to show that nothing depends on it.
    ///
    /// ## Fix safety
    /// `delete-key` is `two-phase`: irreversible, run only when asked, and only once keywarden's
    /// journal shows the key inactive for `delete_after_days` and unused since. A plan made before
    /// keywarden saw the key become inactive has `apply` record it, and a later run deletes it.
    /// Root's keys are left to root (`manual`).
    ///
    /// ## Standards
    /// ScoutSuite's inactive-key finding; the delete-inactive-keys step of AWS's UpdateAccessKey
    /// rotation guidance.
    pub struct StaleInactiveAccessKey {
        code: "KEY004",
        name: "stale-inactive-access-key",
        severity: Low,
        scope: User,
        summary: "an inactive access key kept, idle, for longer than max_inactive_days",
        live_data: [AccessKeys, KeyLastUse],
        fix: DeleteInactiveKey,
    }
}

impl Rule for StaleInactiveAccessKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let limit = ctx.config.thresholds.max_inactive_days;
        for_each_key(
            &Self::META,
            user,
            false,
            Needs::LastUse,
            ctx,
            out,
            |k, out| {
                let last_activity = k.last_activity();
                let Some(idle) = days_past_limit(ctx.now, last_activity, limit) else {
                    return;
                };
                out.push(
                    key_finding(
                        &Self::META,
                        Status::Fail,
                        user,
                        k.key,
                        format!(
                        "inactive access key kept with no activity for {idle} days (limit {limit})"
                    ),
                    )
                    .with("active", false)
                    .with("created", k.created)
                    .with("last_used", k.last_used)
                    .with("days_idle", idle)
                    .with("max_inactive_days", limit),
                );
            },
        );
    }
}
