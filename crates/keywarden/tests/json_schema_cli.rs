//! Every JSON document the binary prints offline validates against its schema in docs/schemas/
//! (generated from keywarden-output's wire types and keywarden-core's plan, see
//! `keywarden_output::schema`): findings (`demo`, `audit --report`, `trail`, `trail --sigma`), a
//! key's timeline, the rule catalogue, the list of runs and a plan from a saved audit (on
//! stdout and written with `--out`). The run report, a run's steps and the plans of live
//! audits are checked in remediate_moto.rs, where runs happen; the incident report in
//! contain_moto.rs.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{assert_matches_schema, repo_root, schema_check};

fn json_of(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(args)
        .env(
            "KEYWARDEN_STATE_DIR",
            support::scratch_dir().join("no-state"),
        )
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "keywarden {args:?}: stdout is not JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn findings_documents_match_their_schema() {
    let report = repo_root().join("crates/keywarden-core/demo/credential-report.csv");
    let trail = data("stratus-red-team");
    let sigma = repo_root().join("crates/keywarden-sigma/tests/data/sigma");
    let now = ["--now", "2026-12-01T00:00:00Z"];
    let runs: Vec<Vec<&str>> = vec![
        vec!["demo", "--format", "json"],
        vec![
            "audit",
            "--report",
            arg(&report),
            "--format",
            "json",
            now[0],
            now[1],
        ],
        vec!["trail", arg(&trail), "--format", "json", now[0], now[1]],
        vec![
            "trail",
            arg(&trail),
            "--sigma",
            arg(&sigma),
            "--format",
            "json",
            now[0],
            now[1],
        ],
    ];
    for args in runs {
        let doc = json_of(&args);
        assert!(
            !doc["findings"].as_array().unwrap().is_empty(),
            "{args:?} found nothing: the check would be weak"
        );
        assert_matches_schema("findings", &doc);
    }
}

#[test]
fn a_key_timeline_matches_its_schema() {
    let contain = data("contain");
    for key in ["AKIA6V1GNZTT65XQH36M", "AKIAIOSFODNN7EXAMPLE"] {
        let doc = json_of(&["key", key, arg(&contain), "--format", "json"]);
        assert_matches_schema("key-timeline", &doc);
    }
    let seen = json_of(&[
        "key",
        "AKIA6V1GNZTT65XQH36M",
        arg(&contain),
        "--format",
        "json",
    ]);
    assert_eq!(seen["sessions"].as_array().unwrap().len(), 1, "{seen:#}");
}

#[test]
fn the_rule_catalogue_and_an_empty_run_list_match_their_schemas() {
    assert_matches_schema("rule-list", &json_of(&["rules", "--format", "json"]));
    assert_matches_schema("run-list", &json_of(&["runs", "--format", "json"]));
}

/// `plan --from` a saved audit: the demo's, and a credential report's whose keys are old (exit
/// status 2: findings), on stdout and in the `--out` file.
#[test]
fn plans_match_their_schema() {
    let report = repo_root().join(
        "crates/keywarden-core/tests/data/credential-reports/test_iam_user_unused_keys__iam.GetCredentialReport_2.csv",
    );
    let audits = [
        ("demo", json_of(&["demo", "--format", "json"])),
        (
            "report",
            json_of(&[
                "audit",
                "--report",
                arg(&report),
                "--report-time",
                "2026-11-30T00:00:00Z",
                "--now",
                "2026-12-01T00:00:00Z",
                "--format",
                "json",
            ]),
        ),
    ];
    for (name, audit) in audits {
        let saved = support::scratch_file(&format!("{name}-audit.json"), &audit.to_string());
        let written = saved.with_extension("plan.json");
        // A plan file is never replaced without --force: start from none (a rerun's is there).
        let _ = std::fs::remove_file(&written);
        let plan = json_of(&[
            "plan",
            "--from",
            arg(&saved),
            "--delete-after-days",
            "3",
            "--format",
            "json",
            "--out",
            arg(&written),
        ]);
        assert!(
            !plan["actions"].as_array().unwrap().is_empty(),
            "the {name} plan has no action: the check would be weak"
        );
        assert_matches_schema("plan", &plan);
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
        assert_eq!(file, plan, "the --out file and stdout hold the same plan");
    }
}

/// The check can fail: a document missing a required field, or with a field of the wrong type,
/// is refused.
#[test]
fn the_schema_check_refuses_a_wrong_document() {
    let mut doc = json_of(&["demo", "--format", "json"]);
    assert!(schema_check("findings", &doc).is_ok());
    doc["findings"][0]["severity"] = Value::from(3);
    assert!(schema_check("findings", &doc).is_err());
    doc.as_object_mut().unwrap().remove("summary");
    assert!(schema_check("findings", &doc).is_err());
    let timeline = serde_json::json!({"access_key_id": "AKIA", "seen": "yes"});
    assert!(schema_check("key-timeline", &timeline).is_err());
    // The plan file refuses unknown fields, as `apply` does: a misspelled precondition too.
    let saved = support::scratch_file(
        "audit.json",
        &json_of(&["demo", "--format", "json"]).to_string(),
    );
    let mut plan = json_of(&["plan", "--from", arg(&saved), "--format", "json"]);
    assert!(schema_check("plan", &plan).is_ok());
    plan["actions"][0]["precondition"]["key_unused_sinse"] = serde_json::json!({"last_used": null});
    assert!(schema_check("plan", &plan).is_err());
    plan["actions"][0]["precondition"] = serde_json::json!({});
    plan["comment"] = Value::from("reviewed");
    assert!(schema_check("plan", &plan).is_err());
}
