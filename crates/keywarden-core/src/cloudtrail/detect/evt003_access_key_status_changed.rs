use super::{event_finding, Detector};
use crate::cloudtrail::event::{Event, IAM};
use crate::cloudtrail::lineage::actor_of;
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Records every successful UpdateAccessKey: who changed whose key, to what, from where.
    ///
    /// ## Why it matters
    /// This is the accountability trail of key status. During an incident it answers "who turned
    /// this key off (or on), and when"; in an audit it shows that deactivations really happen.
    ///
    /// ## How it decides
    /// `eventName` is UpdateAccessKey from iam.amazonaws.com with no `errorCode`. The finding
    /// names the key (`requestParameters.accessKeyId`), its owner (`requestParameters.userName`,
    /// or the caller when absent), the new status, the caller, source IP and user agent. Severity
    /// is low: the finding is a record, not an alarm.
    ///
    /// ## How to fix
    /// Nothing to fix by itself; check that each change matches a ticket or a rotation.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 3.x (monitoring of IAM changes); AWS's UpdateAccessKey guidance.
    pub struct AccessKeyStatusChanged {
        code: "EVT003",
        name: "access-key-status-changed",
        severity: Low,
        scope: Event,
        summary: "every successful UpdateAccessKey (who, whose key, from where)",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for AccessKeyStatusChanged {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        if !event.is(IAM, "UpdateAccessKey") || !event.succeeded() {
            return;
        }
        let owner = event
            .target_user
            .as_deref()
            .or(event.identity.acting_user());
        let status = event
            .request_key
            .status
            .as_deref()
            .unwrap_or("(status not logged)");
        let key = event.request_key.access_key_id.as_deref();
        let caller = actor_of(event).unwrap_or_else(|| "unknown caller".into());
        out.push(
            event_finding(
                &Self::META,
                event,
                owner,
                CredentialKind::AccessKeyId,
                key,
                format!(
                    "{caller} set access key {} of {} to {status}",
                    key.unwrap_or("(id not logged)"),
                    owner.unwrap_or("(user not logged)")
                ),
            )
            .with("new_status", status)
            .with("caller", caller),
        );
    }
}
