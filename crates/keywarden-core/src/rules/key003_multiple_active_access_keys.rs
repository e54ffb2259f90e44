use super::{
    declare_rule, key_finding, key_state, unreadable_key_column, Context, KeyState, Rule, RuleMeta,
};
use crate::finding::{Finding, Status};
use crate::model::UserCredentials;

declare_rule! {
    /// ## What it does
    /// Flags a user with two active access keys.
    ///
    /// ## Why it matters
    /// Two active keys double the exposure and usually mean a rotation that was never finished:
    /// the old key is still live somewhere. Outside a short rotation window a user needs one key.
    ///
    /// ## How it decides
    /// Both slots hold an active key. One finding per user, on the older key (the one a finished
    /// rotation would retire; key 1 when both were created in the same second); the evidence
    /// names both keys' creation and last use. A missing column makes the finding `unknown`.
    ///
    /// ## How to fix
    /// Finish the rotation: find which key the workload uses (last-used date and service), then
    /// deactivate the other one and delete it once nothing breaks.
    ///
    /// ## Fix safety
    /// `deactivate-key` is `unsafe`, on the key the finding names: the workload may still use it.
    /// The plan's step says to rotate first; `apply` runs it only when asked, on a key still active
    /// and not used after the audit saw the older key's last use. Root's keys are left to root
    /// (`manual`).
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.13; PingSafe's audit steps for unused access keys.
    pub struct MultipleActiveAccessKeys {
        code: "KEY003",
        name: "multiple-active-access-keys",
        severity: Low,
        scope: User,
        summary: "a user has two active access keys",
        live_data: [AccessKeys],
        fix: DeactivateAfterRotation { last_used: "older_key_last_used" },
        standards: [
            (CisAwsFoundationsV3, "1.13"),
        ],
    }
}

impl Rule for MultipleActiveAccessKeys {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_user(&self, user: &UserCredentials, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        // Two slots, so at most two active keys: an array, not a Vec allocated for every user.
        let mut active = [None, None];
        let mut count = 0;
        for key in &user.access_keys {
            match key_state(key) {
                KeyState::Unreadable(field) => {
                    out.push(unreadable_key_column(&Self::META, user, key, field));
                    return;
                }
                KeyState::Present {
                    active: true,
                    created,
                    last_use,
                    key,
                } => {
                    active[count] = Some((created, last_use.date(), key));
                    count += 1;
                }
                _ => {}
            }
        }
        let [Some(first), Some(second)] = &active else {
            return;
        };
        let (older, newer) = if second.0 < first.0 {
            (second, first)
        } else {
            (first, second)
        };
        out.push(
            key_finding(
                &Self::META,
                Status::Fail,
                user,
                older.2,
                format!(
                    "user has 2 active access keys; access_key_{} is the older one",
                    older.2.slot.number()
                ),
            )
            .with("older_key_created", older.0)
            .with("older_key_last_used", older.1)
            .with("newer_key", format!("access_key_{}", newer.2.slot.number()))
            .with("newer_key_id", newer.2.id.clone())
            .with("newer_key_created", newer.0)
            .with("newer_key_last_used", newer.1),
        );
    }
}
