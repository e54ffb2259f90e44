use super::{event_finding, Detector};
use crate::cloudtrail::event::{Event, STS};
use crate::cloudtrail::lineage::is_long_term;
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags GetSessionToken and GetFederationToken calls signed with a long-term (AKIA) key.
    ///
    /// ## Why it matters
    /// Temporary credentials minted from a long-term key outlive the key: deleting a leaked key
    /// leaves its GetSessionToken and GetFederationToken sessions valid for up to 36 hours. An
    /// attacker who expects the key to be revoked mints sessions first (Stratus Red Team
    /// sts-federation-token).
    ///
    /// ## How it decides
    /// `eventName` is GetSessionToken or GetFederationToken from sts.amazonaws.com with no
    /// `errorCode`, and `userIdentity.accessKeyId` starts with AKIA. The minted key
    /// (`responseElements.credentials.accessKeyId`) is in the evidence; `keywarden key` follows
    /// it. A console session (an IAM user's ASIA key) calling STS is not a long-term key and does
    /// not fire.
    ///
    /// ## How to fix
    /// If the key's owner did not do this, treat the key as leaked: deactivate it and revoke its
    /// sessions with a deny policy on `aws:TokenIssueTime`; deleting the key alone is not enough.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// MITRE ATT&CK T1550.001 (Application Access Token); SigmaHQ aws_sts_getsessiontoken_misuse.
    pub struct SessionMintedByLongTermKey {
        code: "EVT005",
        name: "session-minted-by-long-term-key",
        severity: Medium,
        scope: Event,
        summary: "GetSessionToken / GetFederationToken called with an AKIA key",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for SessionMintedByLongTermKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        let minting = event.is(STS, "GetSessionToken") || event.is(STS, "GetFederationToken");
        if !minting || !event.succeeded() {
            return;
        }
        let Some(signer) = event
            .identity
            .access_key_id
            .as_deref()
            .filter(|k| is_long_term(k))
        else {
            return;
        };
        let minted = event.minted_key.as_deref();
        out.push(
            event_finding(
                &Self::META,
                event,
                event.identity.acting_user(),
                CredentialKind::AccessKeyId,
                Some(signer),
                format!(
                    "long-term key {signer} minted temporary key {} with {}",
                    minted.unwrap_or("(not logged)"),
                    event.event_name
                ),
            )
            .with("minted_key", minted.map(str::to_owned)),
        );
    }
}
