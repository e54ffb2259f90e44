//! Key lineage: for each long-term key (AKIA...), who created it and when, every status change,
//! its deletion, the temporary keys (ASIA...) it minted through GetSessionToken,
//! GetFederationToken or AssumeRole, and the use of those temporary keys.
//!
//! Everything is keyed by access key id, which AWS makes unique across accounts, so an
//! organization trail's accounts are one log: a key of account A that assumes a role of account
//! B mints a session whose uses B's logs record, and those uses are the key's sessions' uses.
//! Each change remembers the account it was recorded in (a session minted by AssumeRole into
//! another account is recorded in the role's account: the session's account).
//!
//! Events arrive in any order, so lineage keeps facts, not a running state: histories are
//! sorted by time when read. Memory grows with keys and sessions, not with events: a use is
//! folded into its key's first and last use, which a repeated event cannot move.

use super::event::{Event, IAM, STS};
use crate::time::Timestamp;
use std::collections::HashMap;

/// A state change of a key: creation, a status change, deletion, a session minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub time: Timestamp,
    pub event_id: String,
    pub event_name: String,
    /// The new status for UpdateAccessKey (`Active`, `Inactive`).
    pub status: Option<String>,
    /// Who made the call.
    pub actor: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub region: Option<String>,
    /// The account the event was recorded in (`recipientAccountId`, else the caller's): for a
    /// session minted by AssumeRole, the role's account.
    pub account: Option<String>,
}

/// One call signed with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub time: Timestamp,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The first and last use of a key; duplicates of an event cannot move either. `calls` counts
/// the calls read: an event that is not deduplicated (only the events a detection or the lineage
/// reads are, see the analyzer) counts again when two sources hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseSpan {
    pub first: Use,
    pub last: Use,
    pub calls: u64,
}

impl Use {
    fn of(event: &Event) -> Use {
        Use {
            time: event.event_time,
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            event_source: event.event_source.clone(),
            region: event.region.clone(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
        }
    }

    /// `*self = Use::of(event)`, reusing the strings' allocations: in a log read in time order
    /// nearly every use moves its key's last use.
    fn set(&mut self, event: &Event) {
        self.time = event.event_time;
        self.event_id.clone_from(&event.event_id);
        self.event_name.clone_from(&event.event_name);
        self.event_source.clone_from(&event.event_source);
        self.region.clone_from(&event.region);
        self.source_ip.clone_from(&event.source_ip);
        self.user_agent.clone_from(&event.user_agent);
    }
}

impl UseSpan {
    fn new(event: &Event) -> UseSpan {
        let used = Use::of(event);
        UseSpan {
            first: used.clone(),
            last: used,
            calls: 1,
        }
    }

    /// Moves the first or last use to `event` if it is earlier or later. Most uses move
    /// neither, and copy nothing; a move reuses the strings' allocations.
    fn observe(&mut self, event: &Event) {
        self.calls += 1;
        let at = (event.event_time, &event.event_id);
        if at < (self.first.time, &self.first.event_id) {
            self.first.set(event);
        } else if at > (self.last.time, &self.last.event_id) {
            self.last.set(event);
        }
    }

    fn observe_in(span: &mut Option<UseSpan>, event: &Event) {
        match span {
            None => *span = Some(UseSpan::new(event)),
            Some(s) => s.observe(event),
        }
    }
}

/// Everything the logs say about one long-term key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyHistory {
    pub key_id: String,
    /// The IAM user the key belongs to.
    pub owner: Option<String>,
    pub account: Option<String>,
    pub created: Option<Change>,
    /// UpdateAccessKey calls, in time order once [`Lineage::finish`] ran.
    pub status_changes: Vec<Change>,
    pub deleted: Option<Change>,
    /// Temporary keys minted with this key.
    pub minted: Vec<String>,
    pub used: Option<UseSpan>,
}

impl KeyHistory {
    /// A call signed with this key.
    fn observe_use(&mut self, event: &Event) {
        UseSpan::observe_in(&mut self.used, event);
        if event.identity.kind.as_deref() == Some("IAMUser") {
            if self.owner.is_none() {
                self.owner = event.identity.user_name.clone();
            }
            // The signer's own account (an IAM user's key belongs to the user's account), not
            // the recipient's: a call into another account's resource is recorded there too.
            if self.account.is_none() {
                self.account = event.identity.account_id.clone();
            }
        }
    }

    /// The first deactivation or deletion at or after `after`: from then on the key cannot
    /// sign, but the sessions it minted stay valid until they expire. A revocation logged in the
    /// same second as a minting counts: the minting succeeded, so the key was active before.
    pub fn revoked_after(&self, after: Timestamp) -> Option<&Change> {
        let deactivations = self
            .status_changes
            .iter()
            .filter(|c| c.status.as_deref() == Some("Inactive"));
        deactivations
            .chain(self.deleted.iter())
            .filter(|c| c.time >= after)
            .min_by_key(|c| (c.time, c.event_id.clone()))
    }
}

/// A temporary key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub key_id: String,
    /// The key that signed the minting call: AKIA..., or ASIA... for role chaining.
    pub parent: String,
    pub minted: Change,
}

#[derive(Debug, Default)]
pub struct Lineage {
    pub keys: HashMap<String, KeyHistory>,
    pub sessions: HashMap<String, Session>,
    /// Uses of temporary keys, whether or not their minting was seen (events come in any order).
    pub session_uses: HashMap<String, UseSpan>,
}

pub fn is_long_term(key_id: &str) -> bool {
    key_id.starts_with("AKIA")
}

pub fn is_temporary(key_id: &str) -> bool {
    key_id.starts_with("ASIA")
}

/// The caller, for display: ARN, else user name, else access key.
pub fn actor_of(event: &Event) -> Option<String> {
    let id = &event.identity;
    id.arn
        .clone()
        .or_else(|| id.user_name.clone())
        .or_else(|| id.access_key_id.clone())
}

fn change(event: &Event, status: Option<String>) -> Change {
    Change {
        time: event.event_time,
        event_id: event.event_id.clone(),
        event_name: event.event_name.clone(),
        status,
        actor: actor_of(event),
        source_ip: event.source_ip.clone(),
        user_agent: event.user_agent.clone(),
        region: event.region.clone(),
        account: event.account().map(str::to_owned),
    }
}

impl Lineage {
    fn key(&mut self, key_id: &str) -> &mut KeyHistory {
        // Looked up before the entry API, which would copy the id for every use of a known key.
        if !self.keys.contains_key(key_id) {
            self.keys.insert(
                key_id.to_owned(),
                KeyHistory {
                    key_id: key_id.to_owned(),
                    ..KeyHistory::default()
                },
            );
        }
        self.keys.get_mut(key_id).expect("inserted above")
    }

    /// Folds one distinct event in (the analyzer deduplicates by `eventID` first).
    pub fn observe(&mut self, event: &Event) {
        if let Some(signer) = event.identity.access_key_id.as_deref() {
            if is_temporary(signer) {
                match self.session_uses.get_mut(signer) {
                    Some(span) => span.observe(event),
                    None => {
                        self.session_uses
                            .insert(signer.to_owned(), UseSpan::new(event));
                    }
                }
            } else if is_long_term(signer) {
                // One lookup for a known key (most uses), `key` for a new one.
                match self.keys.get_mut(signer) {
                    Some(history) => history.observe_use(event),
                    None => self.key(signer).observe_use(event),
                }
            }
        }
        if !event.succeeded() || !changes_state(event) {
            return;
        }
        let target_user = event
            .target_user
            .clone()
            .or_else(|| event.identity.acting_user().map(str::to_owned));
        let account = event.account().map(str::to_owned);
        match (event.event_source.as_str(), event.event_name.as_str()) {
            (IAM, "CreateAccessKey") => {
                if let Some(id) = event.created_key.access_key_id.clone() {
                    let owner = event.created_key.user_name.clone().or(target_user);
                    let created = change(event, event.created_key.status.clone());
                    let history = self.key(&id);
                    history.owner = owner.or(history.owner.take());
                    history.account = account;
                    history.created = Some(created);
                }
            }
            (IAM, "UpdateAccessKey") => {
                if let Some(id) = event.request_key.access_key_id.clone() {
                    let changed = change(event, event.request_key.status.clone());
                    let history = self.key(&id);
                    if history.owner.is_none() {
                        history.owner = target_user;
                    }
                    history.account = history.account.take().or(account);
                    history.status_changes.push(changed);
                }
            }
            (IAM, "DeleteAccessKey") => {
                if let Some(id) = event.request_key.access_key_id.clone() {
                    let deleted = change(event, None);
                    let history = self.key(&id);
                    if history.owner.is_none() {
                        history.owner = target_user;
                    }
                    history.account = history.account.take().or(account);
                    history.deleted = Some(deleted);
                }
            }
            (STS, "GetSessionToken" | "GetFederationToken" | "AssumeRole") => {
                if let (Some(minted), Some(parent)) = (
                    event.minted_key.clone(),
                    event.identity.access_key_id.clone(),
                ) {
                    if is_long_term(&parent) {
                        self.key(&parent).minted.push(minted.clone());
                    }
                    self.sessions.insert(
                        minted.clone(),
                        Session {
                            key_id: minted,
                            parent,
                            minted: change(event, None),
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// Puts every history in time order; call once all events are in.
    pub fn finish(&mut self) {
        for history in self.keys.values_mut() {
            history
                .status_changes
                .sort_by(|a, b| (a.time, &a.event_id).cmp(&(b.time, &b.event_id)));
            history.minted.sort();
            // The same minting read from two copies of a log (overlapping sources).
            history.minted.dedup();
        }
    }

    /// The sessions descending from the long-term key `key_id`: minted with it, or by role
    /// chaining from one of those; in minting order (time, then key id). The one place that
    /// follows a key to its sessions (`key`'s timeline and `key --lookup`'s rounds use it).
    pub fn sessions_of(&self, key_id: &str) -> Vec<&Session> {
        let mut sessions: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| self.root_key_of(&s.key_id) == Some(key_id))
            .collect();
        sessions.sort_by(|a, b| (a.minted.time, &a.key_id).cmp(&(b.minted.time, &b.key_id)));
        sessions
    }

    /// The long-term key a temporary key descends from (through role chaining), if known.
    pub fn root_key_of(&self, session: &str) -> Option<&str> {
        self.chain_origin(session).map(|(key, _)| key)
    }

    /// The long-term key a temporary key descends from, and when that key minted the first
    /// session of the chain: a session chained later still descends from that minting.
    pub fn chain_origin(&self, session: &str) -> Option<(&str, Timestamp)> {
        let mut current = self.sessions.get(session)?;
        // Role chaining is at most a few hops; the bound guards against a malformed cycle.
        for _ in 0..16 {
            if is_long_term(&current.parent) {
                return Some((&current.parent, current.minted.time));
            }
            current = self.sessions.get(&current.parent)?;
        }
        None
    }
}

/// Events that change a key's lineage (and so are deduplicated by `eventID`).
pub fn changes_state(event: &Event) -> bool {
    matches!(
        (event.event_source.as_str(), event.event_name.as_str()),
        (
            IAM,
            "CreateAccessKey" | "UpdateAccessKey" | "DeleteAccessKey"
        ) | (STS, "GetSessionToken" | "GetFederationToken" | "AssumeRole")
    )
}
