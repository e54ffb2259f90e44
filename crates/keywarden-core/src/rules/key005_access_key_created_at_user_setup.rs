use super::{
    after_data_time, date_after_data_time, declare_rule, for_each_key, key_finding, Context, Needs,
    Rule, RuleMeta,
};
use crate::finding::{CredentialKind, Finding, Status};
use crate::model::{Cell, UserCredentials};
use chrono::Duration;

declare_rule! {
    /// ## What it does
    /// Flags an active, never-used access key that a console user received when the user was
    /// created.
    ///
    /// ## Why it matters
    /// Handing every new console user an access key "just in case" creates long-term keys that no
    /// one needs. A key that was created with the user and never used is proof that it was not
    /// needed.
    ///
    /// ## How it decides
    /// The user has a console password (`password_enabled` true); the key is active, has never
    /// been used (`access_key_N_last_used_date` is `N/A`), and was created within
    /// `setup_window_minutes` (10 by default) of `user_creation_time`. Key 1 and key 2 are judged
    /// alike; a missing column makes the finding `unknown`, and so does a key creation, last use
    /// or `user_creation_time` after the data's own time (the report's generation time when
    /// known, else `now`): such a date cannot be true.
    ///
    /// ## How to fix
    /// Delete the unused key. Issue keys only to users who need programmatic access, when they
    /// ask for one, and prefer IAM Identity Center or roles.
    ///
    /// ## Fix safety
    /// Two actions. `deactivate-key` is `unsafe`: the finding proves the key never used, not that
    /// it is old; made with its user, it may be about to be used, so the plan says to check with
    /// its owner first. `delete-key` follows `delete_after_days` later and is `two-phase`:
    /// irreversible, run only when asked, once keywarden's journal shows the key inactive and
    /// unused that long. Root's keys are left to root (`manual`).
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.11 ("Do not setup access keys during initial user setup for all IAM
    /// users that have a console password").
    pub struct AccessKeyCreatedAtUserSetup {
        code: "KEY005",
        name: "access-key-created-at-user-setup",
        severity: Low,
        scope: User,
        summary: "a console user got an access key at creation (within setup_window_minutes) that was never used",
        live_data: [AccessKeys, KeyLastUse, LoginProfile],
        fix: RetireKey { proves_idle: false },
        standards: [
            (CisAwsFoundationsV3, "1.11"),
        ],
    }
}

impl Rule for AccessKeyCreatedAtUserSetup {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let window = Duration::minutes(i64::from(ctx.config.thresholds.setup_window_minutes));
        // A user without a console password cannot fail, whatever the key columns say.
        if matches!(
            user.password_enabled,
            Cell::Value(false) | Cell::NotApplicable
        ) {
            return;
        }
        for_each_key(
            &Self::META,
            user,
            true,
            Needs::LastUse,
            ctx,
            out,
            |k, out| {
                // Only a never-used key can fail; the user's columns are read after that, so a
                // user without such a key never needs them.
                if k.last_used.is_some() {
                    return;
                }
                let unknown = |column: &'static str, value: String| {
                    key_finding(
                        &Self::META,
                        Status::Unknown,
                        user,
                        k.key,
                        format!("cannot decide: `{column}` is {value}"),
                    )
                    .with("column", column)
                };
                match &user.password_enabled {
                    Cell::Value(true) => {}
                    Cell::Value(false) | Cell::NotApplicable => return,
                    other => return out.push(unknown("password_enabled", other.describe())),
                }
                let user_created = match &user.created {
                    Cell::Value(t) => *t,
                    other => return out.push(unknown("user_creation_time", other.describe())),
                };
                if after_data_time(ctx, user_created) {
                    return out.push(date_after_data_time(
                        &Self::META,
                        user,
                        CredentialKind::AccessKey(k.key.slot),
                        "user_creation_time",
                        user_created,
                        ctx,
                    ));
                }
                if (k.created - user_created).abs() > window {
                    return;
                }
                out.push(
                    key_finding(
                        &Self::META,
                        Status::Fail,
                        user,
                        k.key,
                        format!(
                        "console user's access key was created {} s after the user and never used",
                        (k.created - user_created).num_seconds()
                    ),
                    )
                    .with("user_created", user_created)
                    .with("key_created", k.created)
                    .with("last_used", None::<String>)
                    .with("password_enabled", true)
                    .with(
                        "setup_window_minutes",
                        ctx.config.thresholds.setup_window_minutes,
                    ),
                );
            },
        );
    }
}
