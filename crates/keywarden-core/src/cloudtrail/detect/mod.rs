//! The CloudTrail detections, EVT001 to EVT009: one file each, documented in its own doc comment
//! like the audit rules (`keywarden rule EVT006` prints it).
//!
//! A detector sees each distinct event once, in arrival order (`on_event`), and the finished
//! lineage once (`finish`), for detections that depend on events seen in any order. Only
//! successful calls count: a failed attempt changed nothing.

use super::event::Event;
use super::lineage::{actor_of, Lineage};
use crate::finding::{CredentialKind, EventContext, Finding, Status};
use crate::rules::RuleMeta;

mod evt001_access_key_created_for_another_user;
mod evt002_access_key_reactivated;
mod evt003_access_key_status_changed;
mod evt004_login_profile_changed_for_another_user;
mod evt005_session_minted_by_long_term_key;
mod evt006_session_used_after_parent_key_revoked;
mod evt007_console_login_without_mfa;
mod evt008_root_access_key_created;
mod evt009_trail_logging_stopped;

pub use evt001_access_key_created_for_another_user::AccessKeyCreatedForAnotherUser;
pub use evt002_access_key_reactivated::AccessKeyReactivated;
pub use evt003_access_key_status_changed::AccessKeyStatusChanged;
pub use evt004_login_profile_changed_for_another_user::LoginProfileChangedForAnotherUser;
pub use evt005_session_minted_by_long_term_key::SessionMintedByLongTermKey;
pub use evt006_session_used_after_parent_key_revoked::SessionUsedAfterParentKeyRevoked;
pub use evt007_console_login_without_mfa::ConsoleLoginWithoutMfa;
pub use evt008_root_access_key_created::RootAccessKeyCreated;
pub use evt009_trail_logging_stopped::TrailLoggingStopped;

pub trait Detector: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Each distinct event, once, in arrival order.
    fn on_event(&self, _event: &Event, _out: &mut Vec<Finding>) {}

    /// Once, after every event, with the time-ordered lineage.
    fn finish(&self, _lineage: &Lineage, _out: &mut Vec<Finding>) {}
}

/// Every detection, in catalogue order.
pub static ALL_DETECTORS: &[&dyn Detector] = &[
    &AccessKeyCreatedForAnotherUser,
    &AccessKeyReactivated,
    &AccessKeyStatusChanged,
    &LoginProfileChangedForAnotherUser,
    &SessionMintedByLongTermKey,
    &SessionUsedAfterParentKeyRevoked,
    &ConsoleLoginWithoutMfa,
    &RootAccessKeyCreated,
    &TrailLoggingStopped,
];

/// The context a finding carries about the event behind it.
pub fn context_of(event: &Event) -> EventContext {
    EventContext {
        event_id: event.event_id.clone(),
        event_time: event.event_time,
        event_name: event.event_name.clone(),
        region: event.region.clone(),
        source_ip: event.source_ip.clone(),
        user_agent: event.user_agent.clone(),
        actor: actor_of(event),
    }
}

/// A failing finding about `event`, concerning `user`'s `credential`.
pub(crate) fn event_finding(
    meta: &'static RuleMeta,
    event: &Event,
    user: Option<&str>,
    credential: CredentialKind,
    access_key_id: Option<&str>,
    message: String,
) -> Finding {
    let mut finding = Finding::for_account(meta, Status::Fail, event.account(), message);
    finding.user = user.map(str::to_owned);
    finding.credential = credential;
    finding.access_key_id = access_key_id.map(str::to_owned);
    finding.event = Some(Box::new(context_of(event)));
    finding
}

/// Whether a call's target user is the caller itself. IAM user names are case-insensitive.
pub(crate) fn targets_caller(event: &Event, target: &str) -> bool {
    caller_user(event).is_some_and(|caller| caller.eq_ignore_ascii_case(target))
}

/// The IAM user a call was made as (`<root_account>` for root), if it was made by a user.
pub(crate) fn caller_user(event: &Event) -> Option<&str> {
    match event.identity.kind.as_deref() {
        Some("IAMUser") | Some("Root") => event.identity.acting_user(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Scope, CATALOGUE_DOC_SECTIONS};
    use std::collections::HashSet;

    #[test]
    fn detections_are_documented_and_codes_are_unique_across_the_catalogue() {
        let mut codes = HashSet::new();
        for meta in crate::rules::catalogue() {
            assert!(codes.insert(meta.code), "duplicate code {}", meta.code);
        }
        for detector in ALL_DETECTORS {
            let meta = detector.meta();
            assert_eq!(meta.scope, Scope::Event, "{}", meta.code);
            assert!(meta.code.starts_with("EVT"), "{}", meta.code);
            for title in CATALOGUE_DOC_SECTIONS {
                assert!(
                    meta.section(title).is_some(),
                    "{} lacks `{title}`",
                    meta.code
                );
            }
        }
        assert_eq!(ALL_DETECTORS.len(), 9);
    }
}
