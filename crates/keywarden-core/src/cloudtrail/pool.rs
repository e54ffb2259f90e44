//! Per-thread reuse of decoded events and of their strings: an event handed back with
//! [`recycle`] is decoded into again, and a string a field no longer needs waits for the next
//! event that has that field. Decoding gives the same events either way; why it pays is in
//! BENCHMARKS.md (the trail's items 9 and 10).

use super::event::{Event, Identity, KeyRef, TrailChange};
use crate::time::Timestamp;

/// An event to decode into (`decode_into`, `from_wire_into`): a recycled one if there is one.
pub(super) fn spare_event() -> Event {
    SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_else(blank)
}

/// An event with nothing in it, to be filled by a decoder (which sets every field).
pub(super) fn blank() -> Event {
    Event {
        event_id: String::new(),
        event_time: Timestamp::UNIX_EPOCH,
        event_source: String::new(),
        event_name: String::new(),
        region: None,
        source_ip: None,
        user_agent: None,
        error_code: None,
        recipient_account_id: None,
        identity: Identity::default(),
        target_user: None,
        request_key: KeyRef::default(),
        created_key: KeyRef::default(),
        minted_key: None,
        console_login: None,
        mfa_used: None,
        trail: TrailChange::default(),
    }
}

// Events handed back with [`recycle`]: their strings' allocations are reused by the next events
// decoded on the same thread. A reader parses some fifteen strings per event; the system
// allocator's malloc and free were a fifth of `keywarden trail`'s time without this.
thread_local! {
    pub(super) static SPARE: std::cell::RefCell<Vec<Event>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// At most this many events wait for reuse per thread.
const SPARE_MAX: usize = 4096;

/// Hands events that are no longer needed to this thread's reuse pool (up to a few thousand; the
/// rest are dropped), so that the events decoded next on this thread reuse their allocations.
/// Decoding gives the same events either way.
pub fn recycle(events: &mut Vec<Event>) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        let room = SPARE_MAX.saturating_sub(spare.len()).min(events.len());
        spare.extend(events.drain(..room));
    });
    events.clear();
}

/// `*slot = value.map(str::to_owned)`, reusing the slot's allocation.
pub(super) fn put(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (None, Some(v)) => {
            let mut s = SPARE_STRINGS
                .with(|spare| spare.borrow_mut().pop())
                .unwrap_or_default();
            s.push_str(v);
            *slot = Some(s);
        }
        (_, None) => clear(slot),
    }
}

// Strings of fields an event had and the next one decoded into it does not (an `errorCode`,
// a session issuer...), kept for the next event that has them: events vary, and without this
// each such change was a free and a malloc.
thread_local! {
    static SPARE_STRINGS: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `*slot = None`, keeping the string's allocation for reuse on this thread.
pub(super) fn clear(slot: &mut Option<String>) {
    if let Some(mut s) = slot.take() {
        SPARE_STRINGS.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < 256 {
                s.clear();
                spare.push(s);
            }
        });
    }
}

pub(super) fn put_string(slot: &mut String, value: &str) {
    slot.clear();
    slot.push_str(value);
}
