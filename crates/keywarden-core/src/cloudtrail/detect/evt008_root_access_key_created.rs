use super::{event_finding, Detector};
use crate::cloudtrail::event::{Event, IAM};
use crate::finding::{CredentialKind, Finding};
use crate::model::ROOT_USER_NAME;
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a successful CreateAccessKey that created a key for the root user.
    ///
    /// ## Why it matters
    /// A root access key is an unrestricted, permanent credential for the whole account; AWS's
    /// guidance is that root has none (ROOT001 in the audit). Its creation is either a serious
    /// mistake or an attacker with root making their access permanent.
    ///
    /// ## How it decides
    /// `eventName` is CreateAccessKey from iam.amazonaws.com with no `errorCode`, made by the
    /// root identity (`userIdentity.type` Root) without `requestParameters.userName` (which
    /// creates the caller's own, root, key), or with the root user named as target.
    ///
    /// ## How to fix
    /// Sign in as root and delete the key at once; then find out who holds root's password and
    /// MFA, and rotate them.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 1.4; AWS Security Hub IAM.4.
    pub struct RootAccessKeyCreated {
        code: "EVT008",
        name: "root-access-key-created",
        severity: Critical,
        scope: Event,
        summary: "CreateAccessKey by or for root",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for RootAccessKeyCreated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        if !event.is(IAM, "CreateAccessKey") || !event.succeeded() {
            return;
        }
        let by_root_for_itself =
            event.identity.kind.as_deref() == Some("Root") && event.target_user.is_none();
        let for_root = event.target_user.as_deref() == Some(ROOT_USER_NAME);
        if !(by_root_for_itself || for_root) {
            return;
        }
        out.push(event_finding(
            &Self::META,
            event,
            Some(ROOT_USER_NAME),
            CredentialKind::AccessKeyId,
            event.created_key.access_key_id.as_deref(),
            format!(
                "an access key was created for the root user: {}",
                event
                    .created_key
                    .access_key_id
                    .as_deref()
                    .unwrap_or("(id not logged)")
            ),
        ));
    }
}
