use super::Detector;
use crate::cloudtrail::lineage::Lineage;
use crate::finding::{CredentialKind, Finding, Status};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags an UpdateAccessKey that set a key to Active after the logs show it Inactive.
    ///
    /// ## Why it matters
    /// Deactivating a key is how a leak is contained and how rotation is finished. Turning the
    /// same key back on undoes that, and is a known persistence trick: an attacker who cannot
    /// create keys reactivates an old one that nobody watches.
    ///
    /// ## How it decides
    /// From the key's whole history, sorted by event time (events arrive in any order and across
    /// files): every successful UpdateAccessKey to `Active` whose latest earlier status change
    /// set the key `Inactive`. A call to Active on a key the logs never show inactive is a no-op
    /// as far as they can tell, and does not fire (EVT003 still records it).
    ///
    /// ## How to fix
    /// Ask who reactivated the key and why. If nobody can say, deactivate it again and treat it
    /// as leaked: revoke its sessions and review its use since the reactivation.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// MITRE ATT&CK T1098 (Account Manipulation); AWS's UpdateAccessKey rotation guidance.
    pub struct AccessKeyReactivated {
        code: "EVT002",
        name: "access-key-reactivated",
        severity: High,
        scope: Event,
        summary: "UpdateAccessKey to Active of a key that was Inactive",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for AccessKeyReactivated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn finish(&self, lineage: &Lineage, out: &mut Vec<Finding>) {
        for history in lineage.keys.values() {
            for pair in history.status_changes.windows(2) {
                let (before, after) = (&pair[0], &pair[1]);
                if before.status.as_deref() != Some("Inactive")
                    || after.status.as_deref() != Some("Active")
                {
                    continue;
                }
                let who = after
                    .actor
                    .clone()
                    .unwrap_or_else(|| "unknown caller".into());
                let mut finding = Finding::for_account(
                    &Self::META,
                    Status::Fail,
                    history.account.as_deref(),
                    format!(
                        "{who} reactivated access key {} (inactive since {})",
                        history.key_id,
                        crate::time::format_timestamp(before.time)
                    ),
                )
                .with("deactivated_at", before.time)
                .with("deactivated_by", before.actor.clone())
                .with("deactivation_event_id", before.event_id.clone());
                finding.user = history.owner.clone();
                finding.credential = CredentialKind::AccessKeyId;
                finding.access_key_id = Some(history.key_id.clone());
                finding.event = Some(Box::new(crate::finding::EventContext {
                    event_id: after.event_id.clone(),
                    event_time: after.time,
                    event_name: after.event_name.clone(),
                    region: after.region.clone(),
                    source_ip: after.source_ip.clone(),
                    user_agent: after.user_agent.clone(),
                    actor: after.actor.clone(),
                }));
                out.push(finding);
            }
        }
    }
}
