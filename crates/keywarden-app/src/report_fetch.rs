//! Getting a credential report that is fresh enough: reuse the current one when it is younger
//! than `max_report_age`, otherwise ask AWS to generate one and poll, with backoff, within a
//! bound. AWS's own answers (STARTED / INPROGRESS / COMPLETE, LimitExceeded, ReportNotPresent,
//! ReportExpired, ReportInProgress) drive the loop; any other error ends it.

use keywarden_aws::api::{AwsError, CredentialReportBlob, IamRead, ReportGeneration};
use keywarden_core::time::age;
use keywarden_core::Timestamp;
use std::time::{Duration, Instant};

/// How long to wait and how often to ask.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Give up after this long.
    pub bound: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            bound: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    // No #[from]: it would make the AWS error the source too, and the binary prints the
    // whole chain, so the message would say it twice.
    #[error("cannot get the credential report: {0}")]
    Aws(AwsError),
    #[error("the credential report was not ready after {waited_seconds} s (last answer: {last_answer}); try again later or raise the bound")]
    NotReady {
        waited_seconds: u64,
        last_answer: String,
    },
}

/// A report, and why it is the one the run reads.
#[derive(Debug, Clone)]
pub struct FetchedReport {
    pub blob: CredentialReportBlob,
    pub basis: ReportBasis,
}

/// Which decision gave the run its report. The output's `data_source.as_of_basis` and the
/// notes on stderr both come from it, so they cannot disagree: a yes/no "generated for this
/// run" once labelled a report AWS served again after a regeneration request (AWS generates
/// at most one every 4 hours) as "reused: younger than --max-report-age", while stderr said
/// it was older.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBasis {
    /// The current report was at most `max_report_age` old: read without asking for a new one.
    Reused,
    /// Generated at this run's request (newer than any report there was before).
    Generated,
    /// The current report was older than `max_report_age`; asked for a new one, AWS served the
    /// same report again.
    ServedAgain,
}

impl ReportBasis {
    /// How the data's time was learned, for `data_source.as_of_basis`.
    pub fn as_of_basis(self) -> &'static str {
        match self {
            ReportBasis::Reused => {
                "credential report GeneratedTime (reused: younger than --max-report-age)"
            }
            ReportBasis::Generated => "credential report GeneratedTime (generated for this run)",
            ReportBasis::ServedAgain => {
                "credential report GeneratedTime (older than --max-report-age: asked for a new one, AWS served this one again)"
            }
        }
    }

    /// What the user should know about the report's age at `now`, if anything.
    pub fn note(
        self,
        now: Timestamp,
        generated_at: Timestamp,
        max_report_age: chrono::Duration,
    ) -> Option<String> {
        let report_age = age(now, generated_at);
        let hours = report_age.num_hours();
        match self {
            ReportBasis::Reused => None,
            ReportBasis::ServedAgain => Some(format!(
                "the credential report is {hours} h old, older than --max-report-age: AWS served it again when asked for a new one (it generates one at most every 4 hours)"
            )),
            // A report generated just now that is dated hours ago: AWS's clock, or --now,
            // disagrees with this run's.
            ReportBasis::Generated if report_age > max_report_age => Some(format!(
                "the credential report generated for this run is dated {hours} h before now (its GeneratedTime), older than --max-report-age"
            )),
            ReportBasis::Generated => None,
        }
    }
}

pub async fn fetch_report<C: IamRead>(
    client: &C,
    now: Timestamp,
    max_report_age: chrono::Duration,
    poll: PollPolicy,
) -> Result<FetchedReport, FetchError> {
    let mut previous = None;
    match client.get_credential_report().await {
        Ok(blob) if age(now, blob.generated_at) <= max_report_age => {
            return Ok(FetchedReport {
                blob,
                basis: ReportBasis::Reused,
            })
        }
        Ok(blob) => previous = Some(blob.generated_at),
        Err(e) if is_absent_or_pending(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let started = Instant::now();
    let mut delay = poll.first_delay;
    let mut wait = |last_answer: String| {
        let waited = started.elapsed();
        if waited + delay > poll.bound {
            return Err(FetchError::NotReady {
                waited_seconds: waited.as_secs(),
                last_answer,
            });
        }
        let this_delay = delay;
        delay = (delay * 2).min(poll.max_delay);
        Ok(this_delay)
    };
    loop {
        let last_answer = match client.generate_credential_report().await {
            Ok(ReportGeneration::Complete) => break,
            Ok(state) => format!("{state:?}"),
            // Generation requests are rate limited; waiting is the documented answer.
            Err(e) if e.code.starts_with("LimitExceeded") => e.code.clone(),
            Err(e) => return Err(e.into()),
        };
        tokio::time::sleep(wait(last_answer)?).await;
    }
    loop {
        match client.get_credential_report().await {
            Ok(blob) => {
                // AWS serves the old report again when it is under 4 hours old.
                let basis = if previous.is_none_or(|p| blob.generated_at > p) {
                    ReportBasis::Generated
                } else {
                    ReportBasis::ServedAgain
                };
                return Ok(FetchedReport { blob, basis });
            }
            Err(e) if e.code == "ReportInProgress" => {
                tokio::time::sleep(wait(e.code.clone())?).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl From<AwsError> for FetchError {
    fn from(error: AwsError) -> Self {
        FetchError::Aws(error)
    }
}

fn is_absent_or_pending(e: &AwsError) -> bool {
    matches!(
        e.code.as_str(),
        "ReportNotPresent" | "ReportExpired" | "ReportInProgress"
    )
}
