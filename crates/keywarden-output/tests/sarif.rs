//! The SARIF printer: the document is checked against what SARIF 2.1.0 requires and what GitHub
//! code scanning needs to accept an upload, then the keywarden-specific mapping is asserted.

mod common;

use common::*;
use keywarden_output::{DataSource, Format};
use serde_json::{json, Value};
use std::collections::HashSet;

fn sarif() -> Value {
    let outcome = outcome();
    let text = render(Format::Sarif, &report(&outcome, file_source()));
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).unwrap()
}

fn text_of(message: &Value, what: &str) -> String {
    let text = message["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: `text` is required"));
    assert!(!text.is_empty(), "{what}: empty text");
    text.to_owned()
}

/// The required structure of SARIF 2.1.0 (sarifLog, run, tool, toolComponent, reportingDescriptor,
/// result, location, suppression) plus GitHub code scanning's own requirements (a physical
/// location with a non-empty uri and a start line, a `security-severity` score).
fn check_structure(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = log["runs"].as_array().expect("runs is required");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert!(driver["name"].is_string(), "tool.driver.name is required");
    let rules = driver["rules"].as_array().unwrap();
    let levels = ["none", "note", "warning", "error"];
    let mut ids = HashSet::new();
    for rule in rules {
        let id = rule["id"]
            .as_str()
            .expect("reportingDescriptor.id is required");
        assert!(ids.insert(id), "duplicate rule id {id}");
        text_of(&rule["shortDescription"], id);
        text_of(&rule["fullDescription"], id);
        text_of(&rule["help"], id);
        assert!(rule["help"]["markdown"].is_string());
        assert!(levels.contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()));
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
    }
    for result in run["results"].as_array().expect("results") {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], rule_id,
            "ruleIndex points at the result's rule"
        );
        text_of(&result["message"], rule_id);
        assert!(levels.contains(&result["level"].as_str().unwrap()));
        let locations = result["locations"].as_array().unwrap();
        assert!(!locations.is_empty(), "code scanning needs a location");
        for location in locations {
            let physical = &location["physicalLocation"];
            assert!(!physical["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .is_empty());
            assert!(physical["region"]["startLine"].as_u64().unwrap() >= 1);
            for logical in location["logicalLocations"].as_array().unwrap() {
                assert!(logical["fullyQualifiedName"].is_string());
                assert!(logical["kind"].is_string());
            }
        }
        for (_, fingerprint) in result["partialFingerprints"].as_object().unwrap() {
            assert!(fingerprint.is_string());
        }
        for suppression in result["suppressions"].as_array().into_iter().flatten() {
            assert!(["inSource", "external"].contains(&suppression["kind"].as_str().unwrap()));
        }
    }
}

#[test]
fn structure_is_valid_sarif() {
    check_structure(&sarif());
}

#[test]
fn driver_describes_every_rule_run() {
    let log = sarif();
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "keywarden");
    assert_eq!(driver["version"], "0.1.0");
    assert_eq!(
        driver["informationUri"],
        "https://github.com/keywarden/keywarden"
    );
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "KEY001", "KEY002", "KEY003", "KEY004", "KEY005", "PWD001", "PWD002", "PWD003",
            "ROOT001", "ROOT002", "TRAIL001"
        ]
    );

    let rule = |id: &str| {
        driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let key001 = rule("KEY001");
    assert_eq!(key001["name"], "unused-access-key");
    assert_eq!(
        key001["shortDescription"]["text"],
        "an active access key unused (or never used since creation) for longer than max_unused_days"
    );
    let meta = keywarden_core::rules::rule_by_code("KEY001")
        .unwrap()
        .meta();
    assert_eq!(key001["help"]["markdown"], meta.documentation_text());
    assert_eq!(key001["help"]["text"], meta.documentation_text());
    assert!(key001["fullDescription"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Flags every active access key"));
    assert_eq!(key001["properties"]["tags"], json!(["security"]));

    for (id, level, score) in [
        ("ROOT001", "error", "9.5"),
        ("TRAIL001", "error", "8.0"),
        ("KEY001", "warning", "5.5"),
        ("KEY003", "note", "3.0"),
    ] {
        let r = rule(id);
        assert_eq!(r["defaultConfiguration"]["level"], level, "{id}");
        assert_eq!(r["properties"]["security-severity"], score, "{id}");
    }
}

#[test]
fn results_map_status_to_level_and_suppressions() {
    let log = sarif();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);

    let bob = &results[0];
    assert_eq!(bob["ruleId"], "PWD002");
    assert_eq!(bob["level"], "error", "a failing high finding is an error");
    assert_eq!(bob["properties"]["status"], "fail");
    assert!(bob.get("suppressions").is_none());
    assert_eq!(
        bob["properties"]["ignored_exemption"]["reason"],
        "expired: MFA rollout"
    );

    let trail = &results[1];
    assert_eq!(trail["ruleId"], "TRAIL001");
    assert_eq!(
        trail["level"], "note",
        "unknown is a note whatever the severity"
    );
    assert_eq!(trail["properties"]["status"], "unknown");
    assert_eq!(
        trail["locations"][0]["logicalLocations"][0],
        json!({"name": "account", "fullyQualifiedName": "123456789012/-/account", "kind": "object"})
    );

    let alice = &results[2];
    assert_eq!(alice["ruleId"], "KEY001");
    assert_eq!(alice["ruleIndex"], 0);
    assert_eq!(alice["level"], "warning");
    assert_eq!(
        alice["message"]["text"],
        "alice access_key_1: active access key unused for 121 days (limit 45)"
    );
    assert_eq!(
        alice["locations"][0],
        json!({
            "physicalLocation": {"artifactLocation": {"uri": "aws/123456789012/alice"}, "region": {"startLine": 4}},
            "logicalLocations": [{
                "name": "alice",
                "fullyQualifiedName": "123456789012/alice/access_key_1",
                "kind": "object",
            }],
        })
    );
    assert_eq!(alice["properties"]["evidence"]["days_unused"], 121);
    assert_eq!(
        alice["properties"]["evidence"]["created"],
        "2024-01-01T00:00:00Z"
    );

    let ci_bot = &results[3];
    assert_eq!(ci_bot["properties"]["status"], "exempted");
    assert_eq!(
        ci_bot["suppressions"],
        json!([{
            "kind": "external",
            "justification": "CI migration, see \"OPS-12\"",
            "properties": {"source": "config:exemption[0]", "expires": "2024-12-31T23:59:59Z"},
        }])
    );
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let first = sarif();
    let second = sarif();
    let prints = |log: &Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["keywarden/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let a = prints(&first);
    assert_eq!(a, prints(&second));
    assert_eq!(
        a.iter().collect::<HashSet<_>>().len(),
        a.len(),
        "one identity per finding"
    );
    assert!(a
        .iter()
        .all(|p| p.len() == 16 && p.chars().all(|c| c.is_ascii_hexdigit())));

    // The message (which changes as a key ages) is not part of the identity.
    let later = {
        let outcome = audit(
            ROWS,
            &config(CONFIG),
            keywarden_core::AccountExtras::unknown_from_report_file(),
        );
        let mut outcome = outcome;
        outcome.findings[2].message = "active access key unused for 122 days (limit 45)".into();
        let text = render(Format::Sarif, &report(&outcome, file_source()));
        serde_json::from_str::<Value>(&text).unwrap()
    };
    assert_eq!(prints(&later), a);
}

#[test]
fn run_properties_say_how_old_the_data_is() {
    let log = sarif();
    assert_eq!(
        log["runs"][0]["properties"],
        json!({
            "generated_at": "2024-06-01T00:00:00Z",
            "data_as_of": "2024-05-31T21:00:00Z",
            "data_source": {
                "kind": "credential-report-file",
                "location": "./r.csv",
                "as_of_basis": "--report-time",
                "age_seconds": 10800,
            },
            "preset": "default",
        })
    );
}

#[test]
fn each_account_and_user_is_one_artifact_and_each_credential_one_line() {
    let log = sarif();
    let places: Vec<(String, u64)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let physical = &r["locations"][0]["physicalLocation"];
            (
                physical["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                physical["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(places.contains(&("aws/123456789012/account".to_owned(), 1)));
    assert!(places.contains(&("aws/123456789012/bob".to_owned(), 3)));
    assert!(places.contains(&("aws/123456789012/ci-bot".to_owned(), 4)));
    // Where the data came from is in the run's properties, not in a result's location: the
    // same finding from another report file is at the same place.
    let outcome = outcome();
    let source = DataSource {
        location: "/var/audits/credential report.csv".into(),
        ..file_source()
    };
    let elsewhere: Value =
        serde_json::from_str(&render(Format::Sarif, &report(&outcome, source))).unwrap();
    check_structure(&elsewhere);
    assert_eq!(
        elsewhere["runs"][0]["results"], log["runs"][0]["results"],
        "the source's path changes no result"
    );
    assert_eq!(
        elsewhere["runs"][0]["properties"]["data_source"]["location"],
        "/var/audits/credential report.csv"
    );
}

#[test]
fn fingerprints_survive_a_run_at_another_time() {
    let prints = |outcome: &keywarden_core::AuditOutcome| -> Vec<(String, String)> {
        let log: Value =
            serde_json::from_str(&render(Format::Sarif, &report(outcome, file_source()))).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                        + " "
                        + r["ruleId"].as_str().unwrap(),
                    r["partialFingerprints"]["keywarden/v1"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect()
    };
    let now = prints(&outcome());
    let csv = report_csv(ROWS);
    let reader = keywarden_core::report::ReportReader::new(csv.as_bytes(), "r.csv").unwrap();
    let a_month_later = keywarden_core::audit_report(
        reader,
        &config(CONFIG),
        ts("2024-07-01T00:00:00Z"),
        keywarden_core::AccountExtras::unknown_from_report_file(),
    )
    .unwrap();
    let later = prints(&a_month_later);
    let mut same = 0;
    for (finding, print) in &now {
        if let Some((_, later_print)) = later.iter().find(|(f, _)| f == finding) {
            assert_eq!(print, later_print, "{finding}");
            same += 1;
        }
    }
    assert!(
        same >= 5,
        "too few findings in both runs ({same}) to compare"
    );
}

#[test]
fn past_the_limit_the_most_severe_results_stay_and_the_rest_are_counted() {
    let outcome = outcome();
    let report = report(&outcome, file_source());
    let log = serde_json::to_value(keywarden_output::sarif::SarifLog::from_report_with_limit(
        &report, 2,
    ))
    .unwrap();
    check_structure(&log);
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // The fixture's worst: PWD002 (high, fail) and TRAIL001 (high, unknown).
    let kept: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["PWD002", "TRAIL001"]);
    let omitted = &run["properties"]["omitted_results"];
    assert_eq!(omitted["count"], 5);
    assert_eq!(omitted["by_rule"]["KEY002"], 2);
    let note = &run["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "warning");
    assert!(note["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("5 of 7 results left out"));

    // Under the limit nothing is said.
    let all =
        serde_json::to_value(keywarden_output::sarif::SarifLog::from_report(&report)).unwrap();
    assert!(all["runs"][0].get("invocations").is_none());
    assert!(all["runs"][0]["properties"]
        .get("omitted_results")
        .is_none());
    assert_eq!(keywarden_output::sarif::MAX_RESULTS, 25_000);
}

#[test]
fn a_clean_audit_has_rules_and_no_results() {
    let outcome = audit(&ROWS[..1], &Default::default(), clean_extras());
    let log: Value =
        serde_json::from_str(&render(Format::Sarif, &report(&outcome, file_source()))).unwrap();
    check_structure(&log);
    assert_eq!(log["runs"][0]["results"], json!([]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
}

/// An organization run in memory: accounts and their findings, read account by account.
#[derive(Debug)]
struct Org {
    accounts: Vec<keywarden_output::AccountSummary>,
    findings: Vec<Vec<keywarden_core::finding::Finding>>,
}

impl keywarden_output::OrgFindings for Org {
    fn accounts(&self) -> &[keywarden_output::AccountSummary] {
        &self.accounts
    }

    fn for_each_account(
        &self,
        each: &mut dyn FnMut(
            &keywarden_output::AccountSummary,
            &[keywarden_core::finding::Finding],
        ) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        for (a, f) in self.accounts.iter().zip(&self.findings) {
            each(a, f)?;
        }
        Ok(())
    }

    fn extra_rules(&self) -> Vec<&'static keywarden_core::rules::RuleMeta> {
        Vec::new()
    }
}

fn account(
    id: &str,
    findings: &[keywarden_core::finding::Finding],
) -> keywarden_output::AccountSummary {
    let count = |s: keywarden_core::finding::Status| {
        findings.iter().filter(|f| f.status == s).count() as u64
    };
    keywarden_output::AccountSummary {
        id: id.into(),
        name: format!("name-{id}"),
        ou_path: "Root".into(),
        status: "ok".into(),
        error_code: None,
        reason: None,
        report_generated_at: None,
        users_evaluated: 5,
        fail_by_severity: [0; 4],
        fail: count(keywarden_core::finding::Status::Fail),
        unknown: count(keywarden_core::finding::Status::Unknown),
        exempted: count(keywarden_core::finding::Status::Exempted),
    }
}

#[test]
fn an_organization_run_is_capped_as_one_account_is_with_the_same_results_kept() {
    let outcome = outcome();
    // The fixture's findings twice, in two accounts: the org run streams them account by
    // account; one account's report holds the same findings in the same order.
    let mut both = Vec::new();
    let mut per_account = Vec::new();
    for id in ["111111111111", "222222222222"] {
        let findings: Vec<_> = outcome
            .findings
            .iter()
            .cloned()
            .map(|mut f| {
                f.account = Some(id.to_owned());
                f
            })
            .collect();
        both.extend(findings.iter().cloned());
        per_account.push(findings);
    }
    let org = Org {
        accounts: vec![
            account("111111111111", &per_account[0]),
            account("222222222222", &per_account[1]),
        ],
        findings: per_account,
    };
    let mut single_outcome = outcome.clone();
    single_outcome.findings = both;
    let single = report(&single_outcome, file_source());
    let org_report = keywarden_output::FindingsReport::org(
        &org,
        &outcome.rules_run,
        outcome.now,
        file_source(),
        "default",
        "0.1.0",
    );
    let results = |log: &Value| -> Vec<(String, String)> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_owned(),
                    r["partialFingerprints"].to_string(),
                )
            })
            .collect()
    };
    let total = single_outcome.findings.len();
    assert_eq!(total, 14);
    for limit in [0, 1, 2, 3, 5, 8, 13, 14, 20] {
        let one = serde_json::to_value(keywarden_output::sarif::SarifLog::from_report_with_limit(
            &single, limit,
        ))
        .unwrap();
        let many = serde_json::to_value(keywarden_output::sarif::SarifLog::from_report_with_limit(
            &org_report,
            limit,
        ))
        .unwrap();
        check_structure(&many);
        assert_eq!(results(&many), results(&one), "limit {limit}");
        assert_eq!(results(&many).len(), limit.min(total));
        let omitted = |log: &Value| log["runs"][0]["properties"]["omitted_results"].clone();
        assert_eq!(omitted(&many), omitted(&one), "limit {limit}");
        let note = |log: &Value| log["runs"][0]["invocations"].clone();
        assert_eq!(note(&many), note(&one), "limit {limit}");
        if limit < total {
            assert_eq!(omitted(&many)["count"], total - limit);
        } else {
            assert!(omitted(&many).is_null());
        }
    }
}
