use super::{event_finding, targets_caller, Detector};
use crate::cloudtrail::event::{Event, IAM};
use crate::cloudtrail::lineage::actor_of;
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a successful CreateLoginProfile or UpdateLoginProfile on a user other than the
    /// caller.
    ///
    /// ## Why it matters
    /// Giving another user a console password, or resetting theirs, lets the caller sign in as
    /// that user: a privilege escalation and persistence path (Stratus Red Team
    /// iam-create-user-login-profile and iam-update-user-login-profile).
    ///
    /// ## How it decides
    /// `eventName` is CreateLoginProfile or UpdateLoginProfile from iam.amazonaws.com with no
    /// `errorCode`, and `requestParameters.userName` is not the caller's user. A user changing
    /// their own password does not fire. SigmaHQ's aws_update_login_profile compares a full ARN
    /// with a bare user name and so fires on every UpdateLoginProfile; this detection compares
    /// user names.
    ///
    /// ## How to fix
    /// Confirm the change with the caller. If unexpected, delete the login profile
    /// (`aws iam delete-login-profile`), and review the target user's console sign-ins since.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// MITRE ATT&CK T1098 (Account Manipulation).
    pub struct LoginProfileChangedForAnotherUser {
        code: "EVT004",
        name: "login-profile-changed-for-another-user",
        severity: High,
        scope: Event,
        summary: "Create/UpdateLoginProfile on someone else",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for LoginProfileChangedForAnotherUser {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        let relevant = event.is(IAM, "CreateLoginProfile") || event.is(IAM, "UpdateLoginProfile");
        if !relevant || !event.succeeded() {
            return;
        }
        let Some(target) = event.target_user.as_deref() else {
            return;
        };
        if targets_caller(event, target) {
            return;
        }
        let caller = actor_of(event).unwrap_or_else(|| "unknown caller".into());
        let verb = if event.event_name == "CreateLoginProfile" {
            "gave"
        } else {
            "reset"
        };
        out.push(
            event_finding(
                &Self::META,
                event,
                Some(target),
                CredentialKind::Password,
                None,
                format!("{caller} {verb} the console password of user {target}"),
            )
            .with("target_user", target)
            .with("caller", caller),
        );
    }
}
