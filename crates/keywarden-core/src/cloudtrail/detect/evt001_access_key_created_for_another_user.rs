use super::{event_finding, targets_caller, Detector};
use crate::cloudtrail::event::{Event, IAM};
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a successful CreateAccessKey whose target user is not the caller.
    ///
    /// ## Why it matters
    /// Creating a key for another user is a classic persistence step: an attacker with
    /// `iam:CreateAccessKey` mints a long-term key for a privileged user and keeps access after
    /// their own foothold is removed. Administrators do it too, which is why it deserves a look.
    ///
    /// ## How it decides
    /// `eventName` is CreateAccessKey from iam.amazonaws.com with no `errorCode`, and
    /// `requestParameters.userName` names a user other than the caller (`userIdentity.userName`
    /// for an IAM user, `<root_account>` for root; any named user for a role session, which is
    /// never the same principal). A user creating their own key, or a failed attempt, does not
    /// fire. SigmaHQ's aws_iam_backdoor_users_keys compares with a literal string instead of a
    /// field and fires on every CreateAccessKey; this detection does not copy that defect.
    ///
    /// ## How to fix
    /// Confirm with the caller that the key was intended. If not, deactivate the new key at once
    /// (`keywarden contain NEW_KEY_ID`, or `aws iam update-access-key --status Inactive`), and
    /// review what else the caller did.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// MITRE ATT&CK T1098.001 (Additional Cloud Credentials); Stratus Red Team
    /// aws.persistence.iam-backdoor-user.
    pub struct AccessKeyCreatedForAnotherUser {
        code: "EVT001",
        name: "access-key-created-for-another-user",
        severity: High,
        scope: Event,
        summary: "CreateAccessKey whose target user is not the caller (persistence)",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for AccessKeyCreatedForAnotherUser {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        if !event.is(IAM, "CreateAccessKey") || !event.succeeded() {
            return;
        }
        let Some(target) = event.target_user.as_deref() else {
            return;
        };
        if targets_caller(event, target) {
            return;
        }
        let caller =
            super::super::lineage::actor_of(event).unwrap_or_else(|| "unknown caller".into());
        out.push(
            event_finding(
                &Self::META,
                event,
                Some(target),
                CredentialKind::AccessKeyId,
                event.created_key.access_key_id.as_deref(),
                format!("{caller} created an access key for user {target}"),
            )
            .with("target_user", target)
            .with("caller", caller),
        );
    }
}
