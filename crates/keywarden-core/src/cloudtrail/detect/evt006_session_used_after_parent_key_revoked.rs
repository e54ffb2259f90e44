use super::Detector;
use crate::cloudtrail::lineage::Lineage;
use crate::finding::{CredentialKind, EventContext, Finding, Status};
use crate::rules::{declare_rule, RuleMeta};
use crate::time::format_timestamp;

declare_rule! {
    /// ## What it does
    /// Flags a temporary (ASIA) key used after the long-term key that minted it was deactivated
    /// or deleted.
    ///
    /// ## Why it matters
    /// Deactivating or deleting a leaked key does not end the sessions it minted: credentials from
    /// GetSessionToken or GetFederationToken stay valid for up to 36 hours, role sessions up to
    /// 12. An incident closed at "key deleted" while its sessions keep working is the gap other
    /// tools miss. This detection proves the gap was used.
    ///
    /// ## How it decides
    /// Key lineage links each temporary key to the key that signed the STS call minting it
    /// (GetSessionToken, GetFederationToken, AssumeRole; role chaining is followed back to the
    /// long-term key). The parent's revocation is its first deactivation or deletion after the
    /// minting. The temporary key fails when its last use in the logs is later than that
    /// revocation. Events are matched across files and regardless of arrival order; the finding
    /// names the session, its parent, the revocation and the last use.
    ///
    /// ## How to fix
    /// Revoke the sessions: attach to the user an inline deny-all policy with
    /// `"Condition": {"DateLessThan": {"aws:TokenIssueTime": "<now>"}}` (and revoke role sessions
    /// on the role), then review everything the session did after the revocation.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// AWS Security Incident Response Guide (compromised credentials); MITRE ATT&CK T1550.001.
    pub struct SessionUsedAfterParentKeyRevoked {
        code: "EVT006",
        name: "session-used-after-parent-key-revoked",
        severity: Critical,
        scope: Event,
        summary: "a temporary (ASIA) key used after the long-term key that minted it was deactivated or deleted",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for SessionUsedAfterParentKeyRevoked {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn finish(&self, lineage: &Lineage, out: &mut Vec<Finding>) {
        for session in lineage.sessions.values() {
            let Some((root, first_minted)) = lineage.chain_origin(&session.key_id) else {
                continue;
            };
            let Some(parent) = lineage.keys.get(root) else {
                continue;
            };
            let Some(revoked) = parent.revoked_after(first_minted) else {
                continue;
            };
            let Some(uses) = lineage.session_uses.get(&session.key_id) else {
                continue;
            };
            if uses.last.time <= revoked.time {
                continue;
            }
            let how = if revoked.event_name == "DeleteAccessKey" {
                "deleted"
            } else {
                "deactivated"
            };
            let last = &uses.last;
            let mut finding = Finding::for_account(
                &Self::META,
                Status::Fail,
                parent.account.as_deref(),
                format!(
                    "temporary key {} (minted by {root} with {}) was used at {} ({}), after {root} was {how} at {}",
                    session.key_id,
                    session.minted.event_name,
                    format_timestamp(last.time),
                    last.event_name,
                    format_timestamp(revoked.time)
                ),
            )
            .with("parent_key", root)
            .with("minted_at", session.minted.time)
            .with("minted_with", session.minted.event_name.clone())
            .with("revoked_at", revoked.time)
            .with("revoked_by", revoked.event_name.clone())
            .with("first_use", uses.first.time)
            .with("last_use", last.time);
            finding.user = parent.owner.clone();
            finding.credential = CredentialKind::SessionKey;
            finding.access_key_id = Some(session.key_id.clone());
            finding.event = Some(Box::new(EventContext {
                event_id: last.event_id.clone(),
                event_time: last.time,
                event_name: last.event_name.clone(),
                region: last.region.clone(),
                source_ip: last.source_ip.clone(),
                user_agent: last.user_agent.clone(),
                actor: Some(session.key_id.clone()),
            }));
            out.push(finding);
        }
    }
}
