//! Reading a live audit's outcome: shared by `live_audit.rs` here and, through `#[path]`, by the
//! binary's `live_audit_both.rs` (the same scenarios against the fake and moto).

use keywarden_app::LiveAudit;
use keywarden_core::{Finding, Status};

/// `(code, status, credential, key id)` of a user's findings, sorted by code and credential.
pub fn of<'a>(
    audit: &'a LiveAudit,
    user: &str,
) -> Vec<(&'static str, Status, &'static str, Option<&'a str>)> {
    let mut out: Vec<_> = audit
        .outcome
        .findings
        .iter()
        .filter(|f| f.user.as_deref() == Some(user))
        .map(|f| {
            (
                f.rule.code,
                f.status,
                f.credential.as_str(),
                f.access_key_id.as_deref(),
            )
        })
        .collect();
    out.sort_by_key(|&(code, _, credential, _)| (code, credential));
    out
}

/// The one finding of `code` about `user` (`None`: an account-wide finding).
pub fn finding<'a>(audit: &'a LiveAudit, user: Option<&str>, code: &str) -> &'a Finding {
    let matching: Vec<&Finding> = audit
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule.code == code && f.user.as_deref() == user)
        .collect();
    assert_eq!(matching.len(), 1, "{code} for {user:?}: {matching:#?}");
    matching[0]
}

/// The text of a finding's evidence `key` (empty when it has none).
pub fn evidence(finding: &Finding, key: &str) -> String {
    finding
        .evidence
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}
