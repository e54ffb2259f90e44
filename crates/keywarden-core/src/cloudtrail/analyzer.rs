//! The CloudTrail analysis of one run: deduplicates events by `eventID` (per account), folds them into key
//! lineage, runs the per-event detections as events arrive and the lineage detections at the
//! end. Its memory holds lineage, findings and the ids of the events detections care about,
//! never the events themselves.

use super::detect::{Detector, ALL_DETECTORS};
use super::event::{Event, CLOUDTRAIL, IAM, SIGNIN, STS};
use super::lineage::{changes_state, Lineage};
use crate::config::RuleSelection;
use crate::finding::Finding;
use crate::rules::RuleMeta;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrailStats {
    /// Events read, duplicates included.
    pub events: u64,
    /// Events skipped because their `eventID` was already seen.
    pub duplicates: u64,
    /// Records that were not usable events (reported separately with where and why).
    pub bad_records: u64,
    /// Events outside `--since` / `--until`: still folded into lineage (a session used in the
    /// window may have been minted before it), but no finding is reported for them.
    pub outside_window: u64,
    /// Events the detections judged: inside the window and not a duplicate. Zero means the run
    /// checked nothing, which no output may present as a pass.
    pub analysed: u64,
    /// The latest event time read: how far the logs reach.
    pub latest_event: Option<crate::time::Timestamp>,
}

pub struct TrailAnalyzer {
    detectors: Vec<&'static dyn Detector>,
    lineage: Lineage,
    findings: Vec<Finding>,
    /// [`dedup_key`]s of the tracked events folded in.
    seen: HashSet<String>,
    window: Window,
    pub stats: TrailStats,
}

/// The result of one analysis.
#[derive(Debug)]
pub struct TrailOutcome {
    /// In event-time order.
    pub findings: Vec<Finding>,
    pub lineage: Lineage,
    pub stats: TrailStats,
    pub detections_run: Vec<&'static RuleMeta>,
}

/// `--since` / `--until`: the span of event times findings are reported for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<crate::time::Timestamp>,
    pub until: Option<crate::time::Timestamp>,
}

impl Window {
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether `t` lies in `[since, until]`.
    pub fn contains(&self, t: crate::time::Timestamp) -> bool {
        !(self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u))
    }
}

/// What makes an event a repeat: its `eventID` in the account it was recorded in. A cross-account
/// call (AssumeRole into another account's role) is delivered to both accounts, each copy with
/// the same `sharedEventID`; AWS's own samples show the two copies with one `eventID` too, and
/// only the role account's copy names the signing key: an organization trail holds both, and
/// neither may hide the other.
fn dedup_key(event: &Event) -> String {
    let account = event.account().unwrap_or_default();
    let mut key = String::with_capacity(event.event_id.len() + 1 + account.len());
    key.push_str(&event.event_id);
    key.push('\u{0}');
    key.push_str(account);
    key
}

/// Events a detection or the lineage reads; only these need deduplication, since every other
/// event only moves a key's first or last use, which a repeat cannot change.
fn is_tracked(event: &Event) -> bool {
    changes_state(event)
        || matches!(
            (event.event_source.as_str(), event.event_name.as_str()),
            (SIGNIN, "ConsoleLogin")
                | (IAM, "CreateLoginProfile" | "UpdateLoginProfile")
                | (STS, _)
                | (
                    CLOUDTRAIL,
                    "StopLogging" | "DeleteTrail" | "UpdateTrail" | "PutEventSelectors"
                )
        )
}

impl TrailAnalyzer {
    pub fn new(selection: &RuleSelection) -> Self {
        TrailAnalyzer {
            detectors: ALL_DETECTORS
                .iter()
                .copied()
                .filter(|d| selection.includes(d.meta()))
                .collect(),
            lineage: Lineage::default(),
            findings: Vec::new(),
            seen: HashSet::new(),
            window: Window::default(),
            stats: TrailStats::default(),
        }
    }

    /// Only findings about events with `since <= eventTime <= until` are reported; every event
    /// still feeds lineage, since a session used in the window may have been minted before it.
    pub fn with_window(
        mut self,
        since: Option<crate::time::Timestamp>,
        until: Option<crate::time::Timestamp>,
    ) -> Self {
        self.window = Window { since, until };
        self
    }

    pub fn observe(&mut self, event: &Event) {
        let in_window = self.window.contains(event.event_time);
        if !in_window {
            self.stats.outside_window += 1;
        }
        self.stats.events += 1;
        if self.stats.latest_event.is_none_or(|t| event.event_time > t) {
            self.stats.latest_event = Some(event.event_time);
        }
        if is_tracked(event) && !self.seen.insert(dedup_key(event)) {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.analysed += u64::from(in_window);
        self.lineage.observe(event);
        for detector in &self.detectors {
            detector.on_event(event, &mut self.findings);
        }
    }

    /// The lineage so far (histories are put in time order only by [`TrailAnalyzer::finish`]).
    pub fn lineage(&self) -> &Lineage {
        &self.lineage
    }

    pub fn record_bad(&mut self) {
        self.stats.bad_records += 1;
    }

    pub fn finish(mut self) -> TrailOutcome {
        self.lineage.finish();
        for detector in &self.detectors {
            detector.finish(&self.lineage, &mut self.findings);
        }
        let window = self.window;
        self.findings.retain(|f| {
            f.event
                .as_ref()
                .is_none_or(|e| window.contains(e.event_time))
        });
        self.findings
            .sort_by(|a, b| trail_order(a).cmp(&trail_order(b)));
        TrailOutcome {
            findings: self.findings,
            lineage: self.lineage,
            stats: self.stats,
            detections_run: self.detectors.iter().map(|d| d.meta()).collect(),
        }
    }
}

/// The order of a trail's findings: event time and id, rule code, key, account (the two copies
/// of a cross-account call share an id). The one sort of them.
fn trail_order(f: &Finding) -> impl Ord + '_ {
    (
        f.event
            .as_ref()
            .map(|e| (e.event_time, e.event_id.as_str())),
        f.rule.code,
        f.access_key_id.as_deref(),
        f.account.as_deref(),
    )
}

impl TrailOutcome {
    /// Adds the findings an inspector (Sigma rules) made while the events were read, once per
    /// event, account and rule (the same event read twice matches twice; the copies of a
    /// cross-account call in two accounts are two events, as for the lineage), in the trail's
    /// order.
    pub fn add_inspected(&mut self, mut inspected: Vec<Finding>) {
        inspected.sort_by(|a, b| trail_order(a).cmp(&trail_order(b)));
        fn event_id(f: &Finding) -> Option<&str> {
            f.event.as_ref().map(|e| e.event_id.as_str())
        }
        inspected.dedup_by(|a, b| {
            event_id(a) == event_id(b) && a.account == b.account && a.rule.code == b.rule.code
        });
        // Two sorted runs: the sort merges them.
        self.findings.extend(inspected);
        self.findings
            .sort_by(|a, b| trail_order(a).cmp(&trail_order(b)));
    }
}
