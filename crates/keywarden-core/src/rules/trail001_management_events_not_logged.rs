use super::{declare_rule, Context, Rule, RuleMeta};
use crate::finding::{Finding, Status};
use crate::model::{AccountFacts, Known};

declare_rule! {
    /// ## What it does
    /// Checks that at least one multi-region CloudTrail trail is logging management events.
    ///
    /// ## Why it matters
    /// Every key creation, deactivation and deletion is a management event; IAM logs them in
    /// us-east-1. Without a multi-region trail that logs them, nobody can say who changed a key,
    /// and the CloudTrail half of keywarden (and of any incident response) has nothing to read.
    ///
    /// ## How it decides
    /// Passes when some trail is multi-region, is logging (GetTrailStatus `IsLogging`), and its
    /// event selectors include write management events. Otherwise one finding lists each trail
    /// and what it lacks. A credential report does not describe trails, so from a report file
    /// alone the finding is `unknown`.
    ///
    /// ## How to fix
    /// Create or fix a trail: `aws cloudtrail create-trail --name org-trail --s3-bucket-name
    /// BUCKET --is-multi-region-trail`, then `aws cloudtrail start-logging --name org-trail`;
    /// keep management events (read and write) in its selectors.
    ///
    /// ## Fix safety
    /// `manual`: a trail needs a bucket and decisions on regions, retention and cost. The plan's
    /// step is How to fix's first paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 3.1, AWS Security Hub CloudTrail.1; the CloudTrail step of AWS's
    /// UpdateAccessKey guidance.
    pub struct ManagementEventsNotLogged {
        code: "TRAIL001",
        name: "management-events-not-logged",
        severity: High,
        scope: Account,
        summary: "no multi-region trail is logging management events",
        live_data: [Trails],
        fix: Manual(&[]),
        standards: [
            (CisAwsFoundationsV3, "3.1"),
            (AwsFsbp, "CloudTrail.1"),
        ],
    }
}

impl Rule for ManagementEventsNotLogged {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_account(&self, account: &AccountFacts, _ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let account_id = account.account_id.as_deref();
        let trails = match &account.trails {
            Known::Known(trails) => trails,
            Known::Unknown(reason) => {
                out.push(
                    Finding::for_account(
                        &Self::META,
                        Status::Unknown,
                        account_id,
                        format!("cannot decide: {reason}"),
                    )
                    .with("unknown_reason", reason.as_str()),
                );
                return;
            }
        };
        let mut gaps = Vec::new();
        for trail in trails {
            let mut lacks = Vec::new();
            if !trail.is_multi_region {
                lacks.push("single-region");
            }
            if !trail.is_logging {
                lacks.push("not logging");
            }
            if !trail.logs_management_write_events {
                lacks.push("no write management events");
            }
            if lacks.is_empty() {
                return;
            }
            gaps.push(format!(
                "{} ({}): {}",
                trail.name,
                trail.home_region,
                lacks.join(", ")
            ));
        }
        let message = if trails.is_empty() {
            "no CloudTrail trail exists".to_owned()
        } else {
            format!(
                "no trail is multi-region, logging and recording management events: {}",
                gaps.join("; ")
            )
        };
        out.push(
            Finding::for_account(&Self::META, Status::Fail, account_id, message)
                .with("trails", trails.len() as i64)
                .with("trail_gaps", gaps.join("; ")),
        );
    }
}
