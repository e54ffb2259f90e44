//! The formats other tools ingest, checked against the standards that define them, on what the
//! binary really prints:
//! - OCSF (`--format ocsf`, `--format ocsf-json`): every document of the demo, audits of the
//!   shared credential reports, trail runs over the shared CloudTrail data (with the shared Sigma
//!   rules) and a live audit on moto is validated against OCSF 1.8.0 compiled from its own
//!   repository by ocsf-lib (`tests/ocsf/validate.py`, through `scripts/ensure-ocsf.sh`: a missing
//!   validator fails, never skips), and a broken document is rejected by the same run;
//! - SARIF (`--format sarif`): valid against the SARIF 2.1.0 schema (`tests/sarif/`), with what
//!   GitHub code scanning needs, and fingerprints that do not move between runs at other times;
//! - Markdown (`--format markdown`): every command prints it.

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::cli::{arg, described, keywarden};
use support::scenario::{stale_user, NOW};
use support::{ocsf_python, repo_root, scratch_dir, Moto};

const AT: [&str; 2] = ["--now", "2026-12-01T00:00:00Z"];

/// The OCSF validator's python, installed by the project's script; a failure fails the test.
fn shared(path: &str) -> PathBuf {
    repo_root().join(path)
}

/// Runs keywarden with `args` and keeps its standard output in a scratch file named `name`.
fn output_file(name: &str, args: &[&str]) -> (PathBuf, String) {
    let out = keywarden(args);
    assert!(
        matches!(out.status.code(), Some(0..=2)) && !out.stdout.is_empty(),
        "{args:?}: {}",
        described(&out)
    );
    let path = scratch_dir().join(format!("formats-{name}"));
    std::fs::write(&path, &out.stdout).unwrap();
    (path, String::from_utf8(out.stdout).unwrap())
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// The number of findings the JSON output of the same run has.
fn json_findings(args: &[&str]) -> usize {
    let mut args = args.to_vec();
    let at = args.iter().position(|a| *a == "--format").unwrap();
    args[at + 1] = "json";
    let out = keywarden(&args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"].as_array().unwrap().len()
}

/// Every OCSF run the test validates: the demo, each shared credential report, the shared
/// CloudTrail data with and without the shared Sigma rules.
fn ocsf_runs() -> Vec<(String, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let mut runs = vec![
        ("demo.jsonl".to_owned(), s(&["demo", "--format", "ocsf"])),
        (
            "demo.json".to_owned(),
            s(&["demo", "--format", "ocsf-json"]),
        ),
    ];
    let demo_report = shared("crates/keywarden-core/demo/credential-report.csv");
    runs.push((
        "demo-report.jsonl".to_owned(),
        s(&[
            "audit",
            "--report",
            arg(&demo_report),
            "--format",
            "ocsf",
            AT[0],
            AT[1],
        ]),
    ));
    let reports = shared("crates/keywarden-core/tests/data/credential-reports");
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    csvs.sort();
    assert!(!csvs.is_empty());
    for (i, csv) in csvs.iter().enumerate() {
        runs.push((
            format!("report-{i}.jsonl"),
            s(&[
                "audit",
                "--report",
                arg(csv),
                "--format",
                "ocsf",
                AT[0],
                AT[1],
            ]),
        ));
    }
    let stratus = shared("crates/keywarden/tests/data/stratus-red-team");
    let cloudtrail = shared("crates/keywarden-sigma/tests/data/cloudtrail");
    let sigma = shared("crates/keywarden-sigma/tests/data/sigma");
    runs.push((
        "trail.jsonl".to_owned(),
        s(&["trail", arg(&stratus), "--format", "ocsf", AT[0], AT[1]]),
    ));
    runs.push((
        "trail-sigma.json".to_owned(),
        s(&[
            "trail",
            arg(&cloudtrail),
            "--sigma",
            arg(&sigma),
            "--format",
            "ocsf-json",
            AT[0],
            AT[1],
        ]),
    ));
    runs
}

/// A valid IAM Analysis Finding broken four ways, one per line: each must be rejected.
fn broken_documents(valid: &Value) -> Vec<Value> {
    let mut wrong_type = valid.clone();
    wrong_type["identity_activity_metrics"]["last_seen_time"] = json!("yesterday");
    let mut unknown_attribute = valid.clone();
    unknown_attribute["finding_info"]["standards"] = json!(["CIS"]);
    let mut missing_required = valid.clone();
    missing_required["finding_info"]
        .as_object_mut()
        .unwrap()
        .remove("uid");
    let mut wrong_caption = valid.clone();
    wrong_caption["severity"] = json!("Low");
    vec![
        wrong_type,
        unknown_attribute,
        missing_required,
        wrong_caption,
    ]
}

#[test]
fn every_ocsf_document_is_valid_ocsf_1_8_0() {
    let python = ocsf_python();
    let mut files = Vec::new();
    let mut classes = BTreeSet::new();
    let mut first_iam = None;
    for (name, args) in ocsf_runs() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (path, text) = output_file(&name, &args);
        let docs = if name.ends_with(".json") {
            serde_json::from_str::<Vec<Value>>(&text).unwrap()
        } else {
            lines(&text)
        };
        assert_eq!(
            docs.len(),
            json_findings(&args),
            "{args:?}: one document per finding"
        );
        let uids: BTreeSet<&str> = docs
            .iter()
            .map(|d| d["finding_info"]["uid"].as_str().unwrap())
            .collect();
        assert_eq!(uids.len(), docs.len(), "{args:?}: finding uids are unique");
        for doc in &docs {
            classes.insert(doc["class_uid"].as_u64().unwrap());
            if doc["class_uid"] == 2008 && first_iam.is_none() {
                first_iam = Some(doc.clone());
            }
        }
        files.push(path);
    }

    // A live audit on moto: what the SDK read, printed as OCSF.
    let moto = Moto::start(&json!({
        "now": NOW,
        "users": [stale_user()],
        "root": {"mfa": false, "password_last_used": "-30d"},
        "password_policy": {"MinimumPasswordLength": 8},
        "trails": [],
        "credential_report": {"aws_shape": true, "generated": "-2h"}
    }));
    let live = moto
        .keywarden(&moto.admin())
        .args(["audit", "--now", moto.now(), "--format", "ocsf"])
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(1), "{}", described(&live));
    let live_docs = lines(&String::from_utf8(live.stdout.clone()).unwrap());
    let stale_key = moto.key_id("stale", 0);
    let key001 = live_docs
        .iter()
        .find(|d| d["finding_info"]["analytic"]["uid"] == "KEY001")
        .expect("KEY001 on moto");
    assert_eq!(key001["class_uid"], 2008);
    assert_eq!(
        key001["identity_activity_metrics"]["programmatic_credentials"][0]["uid"],
        stale_key.as_str()
    );
    let live_path = scratch_dir().join("formats-live.jsonl");
    std::fs::write(&live_path, &live.stdout).unwrap();
    files.push(live_path);

    assert_eq!(
        classes,
        BTreeSet::from([2003, 2004, 2008]),
        "credential, posture and detection findings all checked"
    );
    let broken = scratch_dir().join("formats-broken.jsonl");
    let mut expect_invalid = vec![];
    for (i, doc) in broken_documents(&first_iam.unwrap()).iter().enumerate() {
        let path = broken.with_extension(format!("{i}.jsonl"));
        std::fs::write(&path, format!("{doc}\n")).unwrap();
        expect_invalid.push(path);
    }

    let root = repo_root();
    let out = Command::new(&python)
        .arg(root.join("tests/ocsf/validate.py"))
        .arg(root.join("tests/ocsf/schema-1.8.0"))
        .args(&files)
        .arg("--expect-invalid")
        .args(&expect_invalid)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "OCSF validation failed:\n{report}");
    assert_eq!(
        report.matches("rejected as expected").count(),
        expect_invalid.len(),
        "{report}"
    );
    assert_eq!(
        report.matches("documents valid").count(),
        files.len(),
        "{report}"
    );
}

#[test]
fn ocsf_maps_credentials_posture_and_detections_to_their_classes() {
    let demo = lines(&String::from_utf8(keywarden(&["demo", "--format", "ocsf"]).stdout).unwrap());
    let find = |code: &str, user: &str| {
        demo.iter()
            .find(|d| {
                d["finding_info"]["analytic"]["uid"] == code
                    && d["user"]["name"].as_str().unwrap_or("-") == user
            })
            .unwrap_or_else(|| panic!("{code} {user}"))
            .clone()
    };
    // A key: IAM Analysis Finding, its creation and last use from the evidence.
    let key = find("KEY001", "old-reporting-bot");
    assert_eq!(key["class_uid"], 2008);
    assert_eq!(key["type_uid"], 200801);
    assert_eq!(key["severity_id"], 3);
    let metrics = &key["identity_activity_metrics"];
    assert_eq!(
        metrics["first_seen_time"], 1_620_118_821_000_i64,
        "2021-05-04T09:00:21Z"
    );
    assert_eq!(
        metrics["last_seen_time"], 1_669_874_400_000_i64,
        "2022-12-01T06:00:00Z"
    );
    assert_eq!(key["unmapped"]["evidence"]["days_unused"], 1450);
    let tags = key["finding_info"]["tags"].as_array().unwrap();
    assert!(tags.contains(&json!({
        "name": "compliance:CIS AWS Foundations Benchmark v3.0.0",
        "values": ["1.12"]
    })));
    // A password: its last use.
    let password = find("PWD001", "dan.kowalski");
    assert_eq!(
        password["identity_activity_metrics"]["password_last_used_time"], 1_784_051_102_000_i64,
        "2026-07-14T17:45:02Z"
    );
    // A never-used password has no time: the exact value stays in the evidence.
    let never = find("PWD001", "breakglass-admin");
    assert!(never["identity_activity_metrics"]
        .get("password_last_used_time")
        .is_none());
    assert_eq!(
        never["unmapped"]["evidence"]["password_last_used"],
        "no_information"
    );
    // The password policy: a Compliance Finding with its standards' controls.
    let policy = find("PWD003", "-");
    assert_eq!(policy["class_uid"], 2003);
    let compliance = &policy["compliance"];
    assert_eq!(compliance["status"], "Fail");
    let checks: Vec<&str> = compliance["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uid"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["1.8", "1.9", "IAM.7"]);
    assert_eq!(
        compliance["standards"],
        json!([
            "CIS AWS Foundations Benchmark v3.0.0",
            "AWS Foundational Security Best Practices v1.0.0"
        ])
    );

    // A detection: the caller, the source address and the event id.
    let stratus = shared("crates/keywarden/tests/data/stratus-red-team");
    let trail = keywarden(&["trail", arg(&stratus), "--format", "ocsf", AT[0], AT[1]]);
    let docs = lines(&String::from_utf8(trail.stdout).unwrap());
    let evt001 = docs
        .iter()
        .find(|d| d["finding_info"]["analytic"]["uid"] == "EVT001")
        .unwrap();
    assert_eq!(evt001["class_uid"], 2004);
    let evidence = &evt001["evidences"][0];
    assert_eq!(
        evidence["actor"]["user"]["uid"],
        "arn:aws:iam::946986569305:user/christophe"
    );
    assert_eq!(evidence["src_endpoint"]["name"], "211.9.016.253");
    assert!(
        evidence["src_endpoint"].get("ip").is_none(),
        "not an address OCSF's ip_t takes (a leading zero)"
    );
    let event_id = "c64c4ded-ef03-4e5c-81eb-153b118d72f2";
    assert_eq!(evidence["uid"], event_id);
    assert_eq!(evt001["finding_info"]["related_events"][0]["uid"], event_id);
}

#[test]
fn ocsf_finding_uids_are_stable_across_runs_at_other_times() {
    let report = shared("crates/keywarden-core/demo/credential-report.csv");
    let uids = |now: &str| -> BTreeMap<String, String> {
        let out = keywarden(&[
            "audit",
            "--report",
            arg(&report),
            "--format",
            "ocsf",
            "--now",
            now,
        ]);
        lines(&String::from_utf8(out.stdout).unwrap())
            .into_iter()
            .map(|d| {
                (
                    format!(
                        "{} {} {}",
                        d["finding_info"]["analytic"]["uid"],
                        d["user"]["name"],
                        d["unmapped"]["credential"]
                    ),
                    d["finding_info"]["uid"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let first = uids("2026-12-01T00:00:00Z");
    let later = uids("2027-01-15T00:00:00Z");
    let common: Vec<_> = first.keys().filter(|k| later.contains_key(*k)).collect();
    assert!(common.len() >= 10, "{common:?}");
    for k in common {
        assert_eq!(first[k], later[k], "{k}");
    }
}

/// Validates `doc` against the SARIF 2.1.0 schema with Python's jsonschema.
fn sarif_schema_errors(python: &Path, doc: &Value) -> Option<String> {
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             cls = jsonschema.validators.validator_for(schema)\n\
             cls.check_schema(schema)\n\
             errors = [f'{list(e.absolute_path)}: {e.message}' for e in cls(schema).iter_errors(json.load(sys.stdin))]\n\
             print('\\n'.join(errors[:20]), file=sys.stderr)\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(repo_root().join("tests/sarif/sarif-schema-2.1.0.json"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn sarif_is_valid_sarif_2_1_0_and_what_code_scanning_accepts() {
    let python = ocsf_python();
    let demo_report = shared("crates/keywarden-core/demo/credential-report.csv");
    let stratus = shared("crates/keywarden/tests/data/stratus-red-team");
    let cloudtrail = shared("crates/keywarden-sigma/tests/data/cloudtrail");
    let sigma = shared("crates/keywarden-sigma/tests/data/sigma");
    let runs: Vec<Vec<&str>> = vec![
        vec!["demo", "--format", "sarif"],
        vec![
            "audit",
            "--report",
            arg(&demo_report),
            "--format",
            "sarif",
            AT[0],
            AT[1],
        ],
        vec!["trail", arg(&stratus), "--format", "sarif", AT[0], AT[1]],
        vec![
            "trail",
            arg(&cloudtrail),
            "--sigma",
            arg(&sigma),
            "--format",
            "sarif",
            AT[0],
            AT[1],
        ],
    ];
    for args in runs {
        let out = keywarden(&args);
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", described(&out)));
        if let Some(errors) = sarif_schema_errors(&python, &doc) {
            panic!("{args:?}: not valid SARIF 2.1.0:\n{errors}");
        }
        let run = &doc["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{args:?}: nothing to check");
        assert!(results.len() <= 25_000);
        let mut prints = BTreeSet::new();
        for result in results {
            let location = &result["locations"][0];
            assert!(
                location["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    >= 1
            );
            assert!(location["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("aws/"));
            assert!(location["logicalLocations"][0]["fullyQualifiedName"].is_string());
            assert!(prints.insert(result["partialFingerprints"]["keywarden/v1"].to_string()));
        }
        for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
            assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        }
    }
    // The check can fail: a document missing `version` is refused.
    let mut wrong =
        serde_json::from_slice::<Value>(&keywarden(&["demo", "--format", "sarif"]).stdout).unwrap();
    wrong.as_object_mut().unwrap().remove("version");
    assert!(sarif_schema_errors(&python, &wrong).is_some());
}

#[test]
fn sarif_fingerprints_are_the_same_in_runs_at_other_times() {
    let report = shared("crates/keywarden-core/demo/credential-report.csv");
    let stratus = shared("crates/keywarden/tests/data/stratus-red-team");
    // What identifies a finding: its rule and place, and for a detection its evidence (which
    // names the event's parties; an audit's evidence holds ages, which change with the time).
    for (source, by_evidence) in [
        (vec!["audit", "--report", arg(&report)], false),
        (vec!["trail", arg(&stratus)], true),
    ] {
        let prints = |now: &str| -> BTreeMap<String, String> {
            let mut args = source.clone();
            args.extend(["--format", "sarif", "--now", now]);
            let doc: Value = serde_json::from_slice(&keywarden(&args).stdout).unwrap();
            let results = doc["runs"][0]["results"].as_array().unwrap().clone();
            let prints: BTreeMap<String, String> = results
                .iter()
                .map(|r| {
                    let at = &r["locations"][0]["physicalLocation"];
                    let mut key = format!(
                        "{} {} {}",
                        r["ruleId"], at["artifactLocation"]["uri"], at["region"]["startLine"]
                    );
                    if by_evidence {
                        key.push_str(&r["properties"]["evidence"].to_string());
                    }
                    (key, r["partialFingerprints"]["keywarden/v1"].to_string())
                })
                .collect();
            assert_eq!(
                prints.len(),
                results.len(),
                "{source:?}: one key per result"
            );
            prints
        };
        let first = prints("2026-12-01T00:00:00Z");
        let later = prints("2027-02-01T00:00:00Z");
        let mut compared = 0;
        for (key, print) in &first {
            if let Some(later_print) = later.get(key) {
                assert_eq!(print, later_print, "{source:?}: {key}");
                compared += 1;
            }
        }
        assert!(
            compared >= 5,
            "{source:?}: only {compared} findings in both runs"
        );
    }
}

#[test]
fn every_findings_command_prints_markdown() {
    let report = shared("crates/keywarden-core/demo/credential-report.csv");
    let stratus = shared("crates/keywarden/tests/data/stratus-red-team");
    for args in [
        vec!["demo", "--format", "markdown"],
        vec![
            "audit",
            "--report",
            arg(&report),
            "--format",
            "markdown",
            AT[0],
            AT[1],
        ],
        vec!["trail", arg(&stratus), "--format", "markdown", AT[0], AT[1]],
    ] {
        let out = keywarden(&args);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {}",
            described(&out)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("## keywarden: "), "{args:?}:\n{text}");
        assert!(text.contains("| Severity | fail | unknown | exempted | total |"));
        assert!(text.contains("### Critical and high ("), "{args:?}");
    }
}

#[test]
fn the_rule_catalogue_lists_each_rules_standards() {
    let out = keywarden(&["rules", "--format", "json"]);
    let rules: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let of = |code: &str| rules.iter().find(|r| r["code"] == code).unwrap()["standards"].clone();
    assert_eq!(
        of("KEY002"),
        json!([
            {"control": "1.14", "standard": "CIS AWS Foundations Benchmark v3.0.0"},
            {"control": "IAM.3", "standard": "AWS Foundational Security Best Practices v1.0.0"}
        ])
    );
    assert_eq!(
        of("EVT001"),
        json!([]),
        "a detection cites no benchmark control"
    );
    assert_eq!(of("KEY004"), json!([]));
}
