//! LookupEvents sources: one query per attribute and region, paged, 2 calls a second per region
//! across a run's rounds; each page's records handed to the pipeline as one JSON-lines unit.

use super::*;
use std::sync::Arc;

use crate::bounded::try_for_each_bounded;
use keywarden_aws::logs::{EventHistoryRead, LookupAttribute, LookupQuery, LOOKUP_MAX_RESULTS};
use std::collections::HashMap;
use std::time::Duration;

/// The least time between two LookupEvents calls in one region. AWS allows 2 a second; the
/// 20 ms over 500 leave room for the jitter between when a call is scheduled and when it
/// reaches AWS, so that two calls never arrive closer than AWS's limit allows.
pub const LOOKUP_INTERVAL: Duration = Duration::from_millis(520);

/// The pace of LookupEvents calls, per region, for a whole run: a call in a region goes out no
/// sooner than `interval` after the one before it in that region, whichever query or round
/// made that one. Clones share the pace.
#[derive(Debug, Clone, Default)]
pub struct LookupPacer(Arc<std::sync::Mutex<HashMap<String, tokio::time::Instant>>>);

impl LookupPacer {
    /// Waits for the next slot in `region`, and takes it.
    pub async fn wait(&self, region: &str, interval: Duration) {
        let slot = {
            let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            let slot = last
                .get(region)
                .map_or(now, |&previous| (previous + interval).max(now));
            last.insert(region.to_owned(), slot);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Two plans are the same plan whatever their pace.
impl PartialEq for LookupPacer {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for LookupPacer {}

/// What `--lookup` asks CloudTrail's event history for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupPlan {
    pub regions: Vec<String>,
    /// One query per attribute; none: one query for every management event.
    pub attributes: Vec<LookupAttribute>,
    pub window: Window,
    /// Events per page (at most 50).
    pub page_size: u32,
    /// The least time between two calls in one region.
    pub interval: Duration,
    /// Keeps `interval` across plans: share one between the rounds of a run.
    pub pacer: LookupPacer,
}

impl LookupPlan {
    pub fn new(regions: Vec<String>, attributes: Vec<LookupAttribute>, window: Window) -> Self {
        LookupPlan {
            regions,
            attributes,
            window,
            page_size: LOOKUP_MAX_RESULTS,
            interval: LOOKUP_INTERVAL,
            pacer: LookupPacer::default(),
        }
    }

    /// The queries each region runs, in order.
    pub fn queries(&self) -> Vec<LookupQuery> {
        let query = |attribute| LookupQuery {
            attribute,
            start: self.window.since,
            end: self.window.until,
            max_results: self.page_size,
        };
        if self.attributes.is_empty() {
            vec![query(None)]
        } else {
            let mut attributes = self.attributes.clone();
            let mut seen = std::collections::HashSet::new();
            attributes.retain(|a| seen.insert(a.clone()));
            attributes.into_iter().map(|a| query(Some(a))).collect()
        }
    }
}

/// Reads every page of every query in one region, at most one call per `interval` (kept by
/// `pacer`, which may have calls of an earlier round to space from).
pub async fn lookup_region<C>(
    client: Arc<C>,
    region: String,
    queries: Vec<LookupQuery>,
    interval: Duration,
    pacer: LookupPacer,
    sink: UnitSink,
) -> Result<SourceSummary, RemoteError>
where
    C: EventHistoryRead + 'static,
{
    let mut summary = SourceSummary {
        source: format!("LookupEvents {region}"),
        ..SourceSummary::default()
    };
    for query in queries {
        let name = query
            .attribute
            .as_ref()
            .map_or("all events".to_owned(), |a| a.to_string());
        let origin = |page: usize| format!("LookupEvents {region} {name} page {page}");
        let mut token: Option<String> = None;
        let mut page_number = 0;
        loop {
            // Slots are taken when a call starts: a slow call never lets two go out back to back.
            pacer.wait(&region, interval).await;
            page_number += 1;
            let page = client
                .lookup_events(&region, &query, token.as_deref())
                .await
                .map_err(|error| RemoteError::Aws {
                    origin: origin(page_number),
                    error,
                })?;
            summary.units += 1;
            summary.events += page.events.len();
            summary.without_record += page.without_record;
            if !page.events.is_empty() {
                let data = page.events.join("\n").into_bytes();
                summary.bytes += data.len() as u64;
                let unit = Unit::Bytes {
                    origin: origin(page_number),
                    data: Arc::new(data),
                };
                if sink.send(unit).await.is_err() {
                    return Ok(summary);
                }
            }
            match page.next_token {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(RemoteError::Invalid {
                        origin: origin(page_number),
                        message: "LookupEvents repeated its NextToken".into(),
                    });
                }
                Some(next) => token = Some(next),
                None => break,
            }
        }
    }
    Ok(summary)
}

/// Every region of the plan, concurrently; each region keeps its own pace.
pub async fn read_lookup<C>(
    client: Arc<C>,
    plan: LookupPlan,
    sink: UnitSink,
) -> Result<Vec<SourceSummary>, RemoteError>
where
    C: EventHistoryRead + 'static,
{
    let queries = plan.queries();
    let mut regions = plan.regions.clone();
    let mut seen = std::collections::HashSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    // Every region at once: each keeps its own pace.
    let limit = regions.len();
    let mut summaries = Vec::new();
    try_for_each_bounded(
        regions.into_iter().enumerate(),
        limit,
        |(index, region)| {
            let read = lookup_region(
                Arc::clone(&client),
                region,
                queries.clone(),
                plan.interval,
                plan.pacer.clone(),
                sink.clone(),
            );
            async move { (index, read.await) }
        },
        |(index, result)| {
            summaries.push((index, result?));
            Ok(())
        },
    )
    .await?;
    summaries.sort_by_key(|(index, _)| *index);
    Ok(summaries.into_iter().map(|(_, s)| s).collect())
}
