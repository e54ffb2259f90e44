//! `--to securityhub`: a run's findings imported into Security Hub, and the findings keywarden
//! imported earlier that the run no longer produces resolved.
//!
//! - Batches of at most [`PushOptions::batch_findings`] (100) findings and
//!   [`PushOptions::batch_bytes`] (6 MB) of request body, BatchImportFindings' limits; a document
//!   over a finding's own limit (240 KB) fails alone, before any call.
//! - Calls paced: at least [`PushOptions::min_interval`] between two Security Hub calls (under
//!   its 10 calls a second); a throttled call (after the SDK's own retries) waits with
//!   exponential backoff and is tried again, up to [`PushOptions::throttle_retries`] times.
//! - Each finding Security Hub refuses (`FailedFindings`) is reported with its code; a batch whose
//!   call fails makes each of its findings failed with the call's error. Either makes the run's
//!   exit status 2 ([`PushReport::complete`]).
//! - Resolution (audits only, [`Resolve`]): GetFindings for the account's default product,
//!   generator ids starting `keywarden/`, record state ACTIVE; the answer is filtered again here
//!   (a server that ignores filters, as moto does, cannot widen it). A finding whose rule ran in
//!   this run and whose `Id` the run did not produce is re-imported archived with compliance
//!   PASSED, then set to workflow RESOLVED with BatchUpdateFindings (an import cannot change the
//!   workflow of a finding that exists). A finding of a rule that did not run (`--select`,
//!   `--ignore`) is left alone: nothing was checked. Trail runs never resolve: a detection is an
//!   event, and a run over other logs does not make it go away.

use keywarden_aws::api::{
    AwsError, FailedFinding, FindingRef, FindingsQuery, SecurityHubRead, SecurityHubWrite,
};
use keywarden_core::Timestamp;
use keywarden_output::asff::{self, GENERATOR_PREFIX};
use serde_json::Value;
use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

/// Limits and pacing of a push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Findings per BatchImportFindings call (AWS: at most 100).
    pub batch_findings: usize,
    /// Request body bytes per call (AWS: 6 MB).
    pub batch_bytes: usize,
    /// One finding's largest document (AWS: 240 KB).
    pub finding_bytes: usize,
    /// The least time between two calls: 10 calls a second is Security Hub's rate.
    pub min_interval: Duration,
    /// Attempts after a throttled call, each after a doubled wait.
    pub throttle_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            batch_findings: 100,
            batch_bytes: 6_000_000,
            finding_bytes: 240_000,
            // 110 ms: at most 9.1 calls a second.
            min_interval: Duration::from_millis(110),
            throttle_retries: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
        }
    }
}

/// The clock a push paces itself by (the tests' is virtual).
pub trait Pace: Send + Sync {
    /// Time since the push started.
    fn elapsed(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Tokio's clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioPace(tokio::time::Instant);

impl Default for TokioPace {
    fn default() -> Self {
        TokioPace(tokio::time::Instant::now())
    }
}

impl Pace for TokioPace {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// Which findings imported earlier a run may resolve.
#[derive(Debug, Clone)]
pub struct Resolve {
    pub product_arn: String,
    pub account: String,
    /// The `GeneratorId`s of the rules that ran: only their findings can be resolved.
    pub generator_ids: HashSet<String>,
    /// Only findings whose `Id` starts with this: an administrator resolving one member
    /// account's findings (`keywarden/<member>/`, [`asff::id_prefix`]).
    pub id_prefix: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushReport {
    /// Findings Security Hub took.
    pub imported: u64,
    /// Findings it did not take (or that were never sent), each with why.
    pub failed: Vec<FailedFinding>,
    /// Findings keywarden imported earlier and resolved now.
    pub resolved: Vec<String>,
    /// Findings that should have been resolved and were not (import or workflow update).
    pub resolve_failed: Vec<FailedFinding>,
    /// GetFindings' error: nothing could be resolved.
    pub lookup_error: Option<AwsError>,
    /// BatchImportFindings calls (retries included).
    pub import_calls: u64,
    /// Throttled calls waited for.
    pub throttled: u64,
}

impl PushReport {
    /// Whether everything was imported and everything to resolve was resolved.
    pub fn complete(&self) -> bool {
        self.failed.is_empty() && self.resolve_failed.is_empty() && self.lookup_error.is_none()
    }
}

/// Whether Security Hub (or the SDK after its retries) said to slow down.
pub fn is_throttling(error: &AwsError) -> bool {
    matches!(
        error.code.as_str(),
        "TooManyRequestsException"
            | "ThrottlingException"
            | "Throttling"
            | "RequestLimitExceeded"
            | "LimitExceededException"
    )
}

/// The request body's bytes around the documents: `{"Findings":[` and `]}`.
pub const ENVELOPE_BYTES: usize = 16;

/// The documents cut into batches within the limits; a document too large for any batch is
/// failed instead.
pub fn batches(
    documents: Vec<Value>,
    options: &PushOptions,
    failed: &mut Vec<FailedFinding>,
) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = ENVELOPE_BYTES;
    for doc in documents {
        let size = serde_json::to_vec(&doc).map_or(usize::MAX, |v| v.len());
        if size > options.finding_bytes || size + ENVELOPE_BYTES > options.batch_bytes {
            failed.push(FailedFinding {
                id: id_of(&doc),
                code: "FindingTooLarge".into(),
                message: format!(
                    "the document is {size} bytes; Security Hub takes at most {} a finding",
                    options
                        .finding_bytes
                        .min(options.batch_bytes - ENVELOPE_BYTES)
                ),
            });
            continue;
        }
        // A comma before every document but the first.
        let added = size + usize::from(!current.is_empty());
        if !current.is_empty()
            && (current.len() >= options.batch_findings || bytes + added > options.batch_bytes)
        {
            out.push(std::mem::take(&mut current));
            bytes = ENVELOPE_BYTES;
        }
        bytes += size + usize::from(!current.is_empty());
        current.push(doc);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn id_of(doc: &Value) -> String {
    doc.get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Calls spaced by the minimum interval, throttling waited out.
struct Pacer<'a, P: Pace> {
    pace: &'a P,
    options: &'a PushOptions,
    last_call: Option<Duration>,
    throttled: u64,
}

impl<P: Pace> Pacer<'_, P> {
    async fn wait_turn(&mut self) {
        if let Some(last) = self.last_call {
            let next = last + self.options.min_interval;
            let now = self.pace.elapsed();
            if next > now {
                self.pace.sleep(next - now).await;
            }
        }
        self.last_call = Some(self.pace.elapsed());
    }

    /// `call` in its turn, again after a backoff while it is throttled.
    async fn call<T, F, Fut>(&mut self, mut call: F) -> (Result<T, AwsError>, u64)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut backoff = self.options.initial_backoff;
        let mut attempts: u32 = 0;
        loop {
            self.wait_turn().await;
            attempts += 1;
            match call().await {
                Err(error)
                    if is_throttling(&error) && attempts <= self.options.throttle_retries =>
                {
                    self.throttled += 1;
                    self.pace.sleep(backoff).await;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
                result => return (result, u64::from(attempts)),
            }
        }
    }
}

/// Imports `documents` (each with a distinct `Id`) and, with `resolve`, resolves what keywarden
/// imported earlier and this run no longer produces.
pub async fn push<C, P>(
    client: &C,
    documents: Vec<Value>,
    resolve: Option<&Resolve>,
    now: Timestamp,
    options: &PushOptions,
    pace: &P,
) -> PushReport
where
    C: SecurityHubWrite + SecurityHubRead,
    P: Pace,
{
    let mut report = PushReport::default();
    let mut pacer = Pacer {
        pace,
        options,
        last_call: None,
        throttled: 0,
    };
    let produced: HashSet<String> = documents.iter().map(id_of).collect();
    let (imported, failed) = import(client, documents, options, &mut pacer, &mut report).await;
    report.imported = imported;
    report.failed = failed;
    if let Some(resolve) = resolve {
        resolve_gone(
            client,
            resolve,
            &produced,
            now,
            options,
            &mut pacer,
            &mut report,
        )
        .await;
    }
    report.throttled = pacer.throttled;
    report
}

async fn import<C: SecurityHubWrite, P: Pace>(
    client: &C,
    documents: Vec<Value>,
    options: &PushOptions,
    pacer: &mut Pacer<'_, P>,
    report: &mut PushReport,
) -> (u64, Vec<FailedFinding>) {
    let mut failed = Vec::new();
    let mut imported = 0;
    for batch in batches(documents, options, &mut failed) {
        let (result, attempts) = pacer.call(|| client.batch_import_findings(&batch)).await;
        report.import_calls += attempts;
        match result {
            Ok(outcome) => {
                imported += outcome.succeeded;
                failed.extend(outcome.failed);
            }
            Err(error) => failed.extend(batch.iter().map(|doc| FailedFinding {
                id: id_of(doc),
                code: error.code.clone(),
                message: error.reason(),
            })),
        }
    }
    (imported, failed)
}

async fn resolve_gone<C, P>(
    client: &C,
    resolve: &Resolve,
    produced: &HashSet<String>,
    now: Timestamp,
    options: &PushOptions,
    pacer: &mut Pacer<'_, P>,
    report: &mut PushReport,
) where
    C: SecurityHubWrite + SecurityHubRead,
    P: Pace,
{
    let query = FindingsQuery {
        product_arn: resolve.product_arn.clone(),
        account: resolve.account.clone(),
        generator_prefix: GENERATOR_PREFIX.to_owned(),
        id_prefix: resolve.id_prefix.clone(),
    };
    let (found, _) = pacer.call(|| client.get_findings(&query)).await;
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            report.lookup_error = Some(error);
            return;
        }
    };
    let text = |doc: &Value, key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut seen = HashSet::new();
    let gone: Vec<Value> = found
        .into_iter()
        .filter(|doc| {
            let id = id_of(doc);
            text(doc, "ProductArn").as_deref() == Some(resolve.product_arn.as_str())
                && text(doc, "AwsAccountId").as_deref() == Some(resolve.account.as_str())
                && text(doc, "RecordState").as_deref() == Some("ACTIVE")
                && text(doc, "GeneratorId").is_some_and(|g| resolve.generator_ids.contains(&g))
                && resolve
                    .id_prefix
                    .as_deref()
                    .is_none_or(|prefix| id.starts_with(prefix))
                && !produced.contains(&id)
                && seen.insert(id)
        })
        .map(|doc| asff::resolved(doc, now))
        .collect();
    if gone.is_empty() {
        return;
    }
    let ids: Vec<String> = gone.iter().map(id_of).collect();
    let (_, failed) = import(client, gone, options, pacer, report).await;
    let failed_ids: HashSet<&str> = failed.iter().map(|f| f.id.as_str()).collect();
    let archived: Vec<FindingRef> = ids
        .iter()
        .filter(|id| !failed_ids.contains(id.as_str()))
        .map(|id| FindingRef {
            id: id.clone(),
            product_arn: resolve.product_arn.clone(),
        })
        .collect();
    let mut resolve_failed = failed;
    for chunk in archived.chunks(options.batch_findings.max(1)) {
        let (result, _) = pacer
            .call(|| client.resolve_findings(chunk, "keywarden: no longer produced"))
            .await;
        match result {
            Ok(unprocessed) => {
                let unprocessed_ids: HashSet<&str> =
                    unprocessed.iter().map(|f| f.id.as_str()).collect();
                report.resolved.extend(
                    chunk
                        .iter()
                        .filter(|f| !unprocessed_ids.contains(f.id.as_str()))
                        .map(|f| f.id.clone()),
                );
                resolve_failed.extend(unprocessed);
            }
            Err(error) => resolve_failed.extend(chunk.iter().map(|f| FailedFinding {
                id: f.id.clone(),
                code: error.code.clone(),
                message: error.reason(),
            })),
        }
    }
    report.resolve_failed = resolve_failed;
}
