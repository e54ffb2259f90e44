use super::{
    declare_rule, key_finding, key_state, missing_key_column, Context, KeyState, Rule, RuleMeta,
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
    /// alike; a missing column makes the finding `unknown`.
    ///
    /// ## How to fix
    /// Delete the unused key. Issue keys only to users who need programmatic access, when they
    /// ask for one, and prefer IAM Identity Center or roles.
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
    }
}

impl Rule for AccessKeyCreatedAtUserSetup {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let window_minutes = ctx.config.thresholds.setup_window_minutes;
        let console_user = match &user.password_enabled {
            Cell::Value(enabled) => *enabled,
            Cell::Missing => {
                out.push(unknown(user, "password_enabled"));
                return;
            }
            _ => false,
        };
        if !console_user {
            return;
        }
        let user_created = match &user.created {
            Cell::Value(t) => *t,
            _ => {
                out.push(unknown(user, "user_creation_time"));
                return;
            }
        };
        for key in &user.access_keys {
            let created = match key_state(key) {
                KeyState::Missing(field) => {
                    out.push(missing_key_column(&Self::META, user, key, field));
                    continue;
                }
                KeyState::Present {
                    active: true,
                    created,
                    last_used: None,
                    ..
                } => created,
                _ => continue,
            };
            let gap = (created - user_created).abs();
            if gap > Duration::minutes(i64::from(window_minutes)) {
                continue;
            }
            out.push(
                key_finding(
                    &Self::META,
                    Status::Fail,
                    user,
                    key,
                    format!(
                        "console user's access key was created {} s after the user and never used",
                        (created - user_created).num_seconds()
                    ),
                )
                .with("user_created", user_created)
                .with("key_created", created)
                .with("last_used", None::<String>)
                .with("password_enabled", true)
                .with("setup_window_minutes", window_minutes),
            );
        }
    }
}

fn unknown(user: &UserCredentials, column: &'static str) -> Finding {
    Finding::for_user(
        &AccessKeyCreatedAtUserSetup::META,
        Status::Unknown,
        user,
        CredentialKind::Password,
        format!("cannot decide: the source has no usable `{column}` value"),
    )
    .with("missing_column", column)
}
