use super::{event_finding, Detector};
use crate::cloudtrail::event::{Event, CLOUDTRAIL};
use crate::cloudtrail::lineage::actor_of;
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags CloudTrail changes that remove coverage: StopLogging, DeleteTrail, an UpdateTrail
    /// that makes a trail single-region or drops global service events (where IAM events are
    /// logged), and a PutEventSelectors that stops logging write management events.
    ///
    /// ## Why it matters
    /// Key creation, deactivation and deletion are management events logged in us-east-1.
    /// Turning logging off, or narrowing it, blinds every detection here; attackers do it first
    /// (Stratus Red Team cloudtrail-stop, cloudtrail-delete, cloudtrail-event-selectors).
    ///
    /// ## How it decides
    /// From cloudtrail.amazonaws.com with no `errorCode`: StopLogging and DeleteTrail always;
    /// UpdateTrail when `isMultiRegionTrail` or `includeGlobalServiceEvents` is set to false;
    /// PutEventSelectors when no basic selector keeps write management events (advanced selectors
    /// are not judged).
    ///
    /// ## How to fix
    /// Restore the trail (`aws cloudtrail start-logging`, recreate it, or restore its selectors),
    /// then find out who made the change; the gap in the logs is part of the incident.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 3.1 and 4.5 (CloudTrail configuration changes); MITRE ATT&CK T1562.008.
    pub struct TrailLoggingStopped {
        code: "EVT009",
        name: "trail-logging-stopped",
        severity: High,
        scope: Event,
        summary: "StopLogging / DeleteTrail / UpdateTrail that removes coverage",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for TrailLoggingStopped {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        if event.event_source != CLOUDTRAIL || !event.succeeded() {
            return;
        }
        let trail = &event.trail;
        let what = match event.event_name.as_str() {
            "StopLogging" => "stopped logging",
            "DeleteTrail" => "deleted the trail",
            "UpdateTrail" if trail.is_multi_region == Some(false) => "made the trail single-region",
            "UpdateTrail" if trail.include_global_service_events == Some(false) => {
                "stopped logging global service events (IAM)"
            }
            "PutEventSelectors" if trail.keeps_management_writes == Some(false) => {
                "stopped logging write management events"
            }
            _ => return,
        };
        let caller = actor_of(event).unwrap_or_else(|| "unknown caller".into());
        let name = trail.name.as_deref().unwrap_or("(trail not logged)");
        out.push(
            event_finding(
                &Self::META,
                event,
                None,
                CredentialKind::Account,
                None,
                format!("{caller} {what}: {name}"),
            )
            .with("trail", name)
            .with("caller", caller),
        );
    }
}
