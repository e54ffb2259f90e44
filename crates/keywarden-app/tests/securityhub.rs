//! `--to securityhub`'s push against an in-memory Security Hub on a virtual clock: batches of
//! 100 findings and 6 MB, calls paced under 10 a second, throttling waited out, FailedFindings
//! reported per finding, and findings no longer produced archived and resolved.

use keywarden_app::securityhub::{
    batches, push, Pace, PushOptions, PushReport, Resolve, ENVELOPE_BYTES,
};
use keywarden_aws::api::{
    AwsError, AwsResult, FailedFinding, FindingRef, FindingsQuery, ImportOutcome, SecurityHubRead,
    SecurityHubWrite,
};
use keywarden_core::time::parse_timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

const ACCOUNT: &str = "123456789012";
const PRODUCT: &str = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";

/// A virtual clock: only sleeping moves it.
#[derive(Default)]
struct Clock(Mutex<Duration>);

impl Pace for Clock {
    fn elapsed(&self) -> Duration {
        *self.0.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        *self.0.lock().unwrap() += duration;
        std::future::ready(())
    }
}

#[derive(Debug, Clone)]
struct Call {
    action: &'static str,
    at: Duration,
    findings: usize,
    body_bytes: usize,
}

/// Security Hub in memory: findings by Id, every call recorded with the clock's time.
#[derive(Default)]
struct FakeHub<'c> {
    clock: Option<&'c Clock>,
    findings: Mutex<BTreeMap<String, Value>>,
    calls: Mutex<Vec<Call>>,
    /// The next import calls answer this error.
    throttle_imports: Mutex<u32>,
    /// Findings an import refuses (FailedFindings).
    refuse: HashSet<String>,
    lookup_fails: bool,
}

impl<'c> FakeHub<'c> {
    fn new(clock: &'c Clock) -> Self {
        FakeHub {
            clock: Some(clock),
            ..FakeHub::default()
        }
    }

    fn record(&self, action: &'static str, findings: usize, body_bytes: usize) {
        let at = self.clock.map(Clock::elapsed).unwrap_or_default();
        self.calls.lock().unwrap().push(Call {
            action,
            at,
            findings,
            body_bytes,
        });
    }

    fn calls(&self, action: &str) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.action == action)
            .cloned()
            .collect()
    }

    fn state(&self, id: &str) -> (String, String, String) {
        let findings = self.findings.lock().unwrap();
        let doc = &findings[id];
        (
            doc["RecordState"].as_str().unwrap().to_owned(),
            doc["Compliance"]["Status"].as_str().unwrap().to_owned(),
            doc["Workflow"]["Status"]
                .as_str()
                .unwrap_or("NEW")
                .to_owned(),
        )
    }
}

impl SecurityHubWrite for FakeHub<'_> {
    fn batch_import_findings(
        &self,
        findings: &[Value],
    ) -> impl Future<Output = AwsResult<ImportOutcome>> + Send {
        let body = serde_json::to_vec(&json!({ "Findings": findings })).unwrap();
        self.record("import", findings.len(), body.len());
        let result = (|| {
            let mut throttle = self.throttle_imports.lock().unwrap();
            if *throttle > 0 {
                *throttle -= 1;
                return Err(AwsError {
                    action: "securityhub:BatchImportFindings",
                    code: "TooManyRequestsException".into(),
                    message: "Rate exceeded".into(),
                });
            }
            assert!(findings.len() <= 100, "more than 100 findings in a call");
            assert!(body.len() <= 6_000_000, "a body over 6 MB");
            let mut outcome = ImportOutcome::default();
            let mut stored = self.findings.lock().unwrap();
            for doc in findings {
                let id = doc["Id"].as_str().unwrap().to_owned();
                if self.refuse.contains(&id) {
                    outcome.failed.push(FailedFinding {
                        id,
                        code: "InvalidInput".into(),
                        message: "refused".into(),
                    });
                    continue;
                }
                // An import never changes the workflow of a finding that exists.
                let workflow = stored.get(&id).map(|old| old["Workflow"].clone());
                let mut doc = doc.clone();
                if let Some(workflow) = workflow {
                    doc["Workflow"] = workflow;
                }
                stored.insert(id, doc);
                outcome.succeeded += 1;
            }
            Ok(outcome)
        })();
        std::future::ready(result)
    }

    fn resolve_findings(
        &self,
        findings: &[FindingRef],
        _note: &str,
    ) -> impl Future<Output = AwsResult<Vec<FailedFinding>>> + Send {
        self.record("update", findings.len(), 0);
        let mut stored = self.findings.lock().unwrap();
        for f in findings {
            stored.get_mut(&f.id).unwrap()["Workflow"] = json!({ "Status": "RESOLVED" });
        }
        std::future::ready(Ok(Vec::new()))
    }
}

impl SecurityHubRead for FakeHub<'_> {
    fn get_findings(
        &self,
        _query: &FindingsQuery,
    ) -> impl Future<Output = AwsResult<Vec<Value>>> + Send {
        self.record("get", 0, 0);
        let result = if self.lookup_fails {
            Err(AwsError {
                action: "securityhub:GetFindings",
                code: "AccessDeniedException".into(),
                message: "no".into(),
            })
        } else {
            // Filters ignored, as moto ignores them: the push filters again.
            Ok(self.findings.lock().unwrap().values().cloned().collect())
        };
        std::future::ready(result)
    }
}

fn doc(id: &str, rule: &str, padding: usize) -> Value {
    json!({
        "Id": id,
        "ProductArn": PRODUCT,
        "GeneratorId": format!("keywarden/{rule}"),
        "AwsAccountId": ACCOUNT,
        "RecordState": "ACTIVE",
        "Compliance": { "Status": "FAILED" },
        "Description": "x".repeat(padding),
    })
}

fn docs(n: usize) -> Vec<Value> {
    (0..n).map(|i| doc(&format!("f{i:04}"), "R1", 10)).collect()
}

fn now() -> keywarden_core::Timestamp {
    parse_timestamp("2024-06-01T00:00:00Z").unwrap()
}

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn push_all(
    hub: &FakeHub<'_>,
    clock: &Clock,
    documents: Vec<Value>,
    resolve: Option<&Resolve>,
) -> PushReport {
    run(push(
        hub,
        documents,
        resolve,
        now(),
        &PushOptions::default(),
        clock,
    ))
}

fn resolve_for(rules: &[&str]) -> Resolve {
    Resolve {
        product_arn: PRODUCT.into(),
        account: ACCOUNT.into(),
        generator_ids: rules.iter().map(|r| format!("keywarden/{r}")).collect(),
        id_prefix: None,
    }
}

#[test]
fn a_hundred_and_fifty_findings_go_in_two_calls_paced_under_ten_a_second() {
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    let report = push_all(&hub, &clock, docs(150), None);
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.imported, 150);
    let calls = hub.calls("import");
    assert_eq!(
        calls.iter().map(|c| c.findings).collect::<Vec<_>>(),
        [100, 50]
    );
    assert_eq!(report.import_calls, 2);
    assert_eq!(hub.findings.lock().unwrap().len(), 150);

    // 25 batches: every two consecutive calls at least 100 ms apart, so never 10 in a second.
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    push_all(&hub, &clock, docs(2_500), None);
    let calls = hub.calls("import");
    assert_eq!(calls.len(), 25);
    for pair in calls.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(100),
            "{pair:?}"
        );
    }
    for window in calls.windows(10) {
        assert!(window[9].at - window[0].at >= Duration::from_millis(900));
    }
}

#[test]
fn batches_stop_at_six_megabytes_exactly() {
    let options = PushOptions::default();
    let sized = |n: usize, bytes: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let mut d = doc(&format!("b{i:03}"), "R1", 0);
                let base = serde_json::to_vec(&d).unwrap().len();
                d["Description"] = json!("x".repeat(bytes - base));
                assert_eq!(serde_json::to_vec(&d).unwrap().len(), bytes);
                d
            })
            .collect()
    };
    // 25 documents of 239,000 bytes fit one 6 MB call, 26 do not.
    let mut failed = Vec::new();
    assert_eq!(batches(sized(25, 239_000), &options, &mut failed).len(), 1);
    let split = batches(sized(26, 239_000), &options, &mut failed);
    assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [25, 1]);
    assert!(failed.is_empty());
    // The exact boundary: a body of exactly the limit is one call, one byte more is two.
    let two = sized(2, 200_000);
    let exact = PushOptions {
        batch_bytes: ENVELOPE_BYTES + 200_000 * 2 + 1,
        ..PushOptions::default()
    };
    assert_eq!(batches(two.clone(), &exact, &mut failed).len(), 1);
    let short = PushOptions {
        batch_bytes: exact.batch_bytes - 1,
        ..PushOptions::default()
    };
    assert_eq!(batches(two, &short, &mut failed).len(), 2);
    // A document over a finding's limit fails alone, before any call.
    let mut too_big = sized(1, 240_001);
    too_big.extend(sized(1, 1_000));
    let kept = batches(too_big, &options, &mut failed);
    assert_eq!(kept.concat().len(), 1);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].code, "FindingTooLarge");

    // Against the fake: 60 documents of 230 KB, every body within 6 MB.
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    let report = push_all(&hub, &clock, sized(60, 230_000), None);
    assert!(report.complete());
    let calls = hub.calls("import");
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.body_bytes <= 6_000_000));
}

#[test]
fn throttling_is_waited_out_with_backoff_then_the_batch_succeeds() {
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    *hub.throttle_imports.lock().unwrap() = 2;
    let report = push_all(&hub, &clock, docs(3), None);
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.imported, 3);
    assert_eq!(report.throttled, 2);
    assert_eq!(report.import_calls, 3);
    let calls = hub.calls("import");
    // 1 s, then 2 s of backoff (plus the pacing interval).
    assert!(calls[1].at - calls[0].at >= Duration::from_secs(1));
    assert!(calls[2].at - calls[1].at >= Duration::from_secs(2));
}

#[test]
fn throttling_that_never_ends_fails_each_finding_of_the_batch() {
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    *hub.throttle_imports.lock().unwrap() = 100;
    let report = push_all(&hub, &clock, docs(3), None);
    assert!(!report.complete());
    assert_eq!(report.imported, 0);
    assert_eq!(report.failed.len(), 3);
    assert!(report
        .failed
        .iter()
        .all(|f| f.code == "TooManyRequestsException"));
    assert_eq!(
        report.import_calls,
        1 + u64::from(PushOptions::default().throttle_retries)
    );
}

#[test]
fn failed_findings_are_reported_one_by_one() {
    let clock = Clock::default();
    let mut hub = FakeHub::new(&clock);
    hub.refuse = ["f0001".to_owned(), "f0003".to_owned()].into();
    let report = push_all(&hub, &clock, docs(5), None);
    assert!(
        !report.complete(),
        "a refused finding makes the push incomplete"
    );
    assert_eq!(report.imported, 3);
    let ids: Vec<&str> = report.failed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["f0001", "f0003"]);
    assert_eq!(report.failed[0].code, "InvalidInput");
}

#[test]
fn a_finding_no_longer_produced_is_archived_and_resolved_and_nothing_else() {
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    let first = vec![
        doc("a", "R1", 1),
        doc("b", "R1", 1),
        doc("gone", "R1", 1),
        doc("other-rule", "R2", 1),
    ];
    let report = push_all(&hub, &clock, first, Some(&resolve_for(&["R1", "R2"])));
    assert!(report.complete());
    assert!(report.resolved.is_empty());
    // Something another product or account imported is never touched.
    {
        let mut stored = hub.findings.lock().unwrap();
        let mut foreign = doc("foreign", "R1", 1);
        foreign["AwsAccountId"] = json!("210987654321");
        stored.insert("foreign".into(), foreign);
        let mut not_ours = doc("not-ours", "R1", 1);
        not_ours["GeneratorId"] = json!("prowler/R1");
        stored.insert("not-ours".into(), not_ours);
    }
    // The second run: `gone` is no longer produced; R2 did not run (--select), so its finding
    // is left alone.
    let second = vec![doc("a", "R1", 2), doc("b", "R1", 2)];
    let report = push_all(&hub, &clock, second, Some(&resolve_for(&["R1"])));
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.imported, 2);
    assert_eq!(report.resolved, ["gone"]);
    assert_eq!(
        hub.state("gone"),
        ("ARCHIVED".into(), "PASSED".into(), "RESOLVED".into())
    );
    for id in ["a", "b", "other-rule", "foreign", "not-ours"] {
        assert_eq!(hub.state(id).0, "ACTIVE", "{id}");
    }
    // Ids are stable: no duplicate was added.
    assert_eq!(hub.findings.lock().unwrap().len(), 6);
    // A third run resolves nothing more (the archived one is not ACTIVE any more).
    let report = push_all(
        &hub,
        &clock,
        vec![doc("a", "R1", 3), doc("b", "R1", 3)],
        Some(&resolve_for(&["R1"])),
    );
    assert!(report.resolved.is_empty());
    // Without resolution (a trail run), nothing is resolved even though `b` is gone.
    let report = push_all(&hub, &clock, vec![doc("a", "R1", 4)], None);
    assert!(report.resolved.is_empty());
    assert!(hub.calls("get").len() == 3);
    assert_eq!(hub.state("b").0, "ACTIVE");
}

#[test]
fn a_failed_lookup_leaves_the_push_incomplete() {
    let clock = Clock::default();
    let mut hub = FakeHub::new(&clock);
    hub.lookup_fails = true;
    let report = push_all(&hub, &clock, docs(2), Some(&resolve_for(&["R1"])));
    assert_eq!(report.imported, 2);
    assert!(!report.complete());
    assert_eq!(report.lookup_error.unwrap().code, "AccessDeniedException");
}

#[test]
fn an_administrator_resolves_only_the_findings_of_the_member_it_pushes() {
    let clock = Clock::default();
    let hub = FakeHub::new(&clock);
    let first = vec![
        doc("keywarden/111111111111/R1/a", "R1", 1),
        doc("keywarden/111111111111/R1/gone", "R1", 1),
        doc("keywarden/222222222222/R1/other", "R1", 1),
    ];
    push_all(&hub, &clock, first, None);
    let member = |id: &str| Resolve {
        id_prefix: Some(format!("keywarden/{id}/")),
        ..resolve_for(&["R1"])
    };
    // Member 111111111111 pushed alone: its `gone` is resolved, the other member's finding
    // (not in this push either) is not.
    let report = push_all(
        &hub,
        &clock,
        vec![doc("keywarden/111111111111/R1/a", "R1", 2)],
        Some(&member("111111111111")),
    );
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.resolved, ["keywarden/111111111111/R1/gone"]);
    assert_eq!(hub.state("keywarden/222222222222/R1/other").0, "ACTIVE");
    assert_eq!(hub.state("keywarden/111111111111/R1/a").0, "ACTIVE");
}
