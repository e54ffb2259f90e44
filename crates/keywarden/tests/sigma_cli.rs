//! `keywarden trail --sigma DIR` end to end: the shared Sigma rules (copied under
//! crates/keywarden-sigma/tests/data with their licenses) over the shared real CloudTrail events.
//! The engine's verdicts per rule are pinned in keywarden-sigma's tests; here, the glue: rules
//! that cannot load, findings in the output, deduplication, the time window, exit status. The
//! same rules over S3 and LookupEvents sources are tested against moto in trail_s3_moto.rs.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::cli::{arg as path, keywarden, stderr, stdout_json};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keywarden-sigma/tests/data")
}

/// Findings per rule code.
fn per_rule(doc: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in doc["findings"].as_array().unwrap() {
        *counts
            .entry(f["rule"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

const BACKDOOR_USERS_KEYS: &str = "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2";
const UPDATE_LOGIN_PROFILE: &str = "055fb148-60f8-462d-ad16-26926ce050f1";
const SUZAKU_ASSUME_ROLE: &str = "90639333-3f9b-512d-9b1d-6aa5618c12e5";

#[test]
fn sigma_matches_are_findings_and_unloadable_rules_are_named() {
    let events = data().join("cloudtrail");
    let rules = data().join("sigma");
    let output = keywarden(&[
        "trail",
        path(&events),
        "--sigma",
        path(&rules),
        "--format",
        "json",
    ]);
    let err = stderr(&output);
    // Two rules cannot load: the run goes on, says which and why, and exits 2.
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("keywarden: sigma rule not loaded: placeholder_aws_cloudtrail_console_login_success_from_susp_locations.yml (AWS Console Login Monitoring): placeholder rule"), "{err}");
    assert!(
        err.contains("keywarden: sigma rule not loaded: unsupported_aws_enum_listing.yml: "),
        "{err}"
    );
    assert!(err.contains("63 rule(s) loaded"), "{err}");
    // Two documentation examples repeated across pages; the cross-account AssumeRole's two
    // copies (one eventID, one per account) are two events.
    assert!(err.contains("441 events (2 duplicates skipped)"), "{err}");

    let doc = stdout_json(&output);
    let rules_run = doc["summary"]["rules_run"].as_array().unwrap();
    assert_eq!(rules_run.len(), 9 + 63);
    assert!(rules_run.contains(&Value::from(BACKDOOR_USERS_KEYS)));
    let counts = per_rule(&doc);
    let evt: usize = counts
        .iter()
        .filter(|(code, _)| code.starts_with("EVT"))
        .map(|(_, n)| n)
        .sum();
    let sigma: usize = counts
        .iter()
        .filter(|(code, _)| !code.starts_with("EVT"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(evt, 11);
    // 144 hits over the 441 events read; 4 of them are on the 2 events read twice (documentation
    // examples repeated across pages), which count once, as for the detections. The
    // cross-account AssumeRole logged in both accounts (IAM user guide's example) is matched
    // once in each account.
    assert_eq!(sigma, 140);
    assert_eq!(counts[BACKDOOR_USERS_KEYS], 2);
    assert_eq!(counts[UPDATE_LOGIN_PROFILE], 1);
    assert_eq!(counts[SUZAKU_ASSUME_ROLE], 17);
    let cross_account: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["event_id"] == "dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE")
        .map(|f| {
            (
                f["account"].as_str().unwrap(),
                f["access_key_id"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        cross_account,
        [
            ("777788889999", "-"),
            ("111122223333", "AKIAQRSTUVWXYZEXAMPLE")
        ]
    );

    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == UPDATE_LOGIN_PROFILE)
        .unwrap();
    assert_eq!(finding["name"], "AWS User Login Profile Was Modified");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["event_id"], "a46a1a42-9ef1-48d4-9c61-507eb6d4019f");
    assert_eq!(finding["event_name"], "UpdateLoginProfile");
    assert_eq!(
        finding["actor"],
        "arn:aws:iam::763751499319:user/christophe"
    );
    assert_eq!(
        finding["evidence"]["sigma_file"],
        "aws_update_login_profile.yml"
    );
}

/// A scratch folder of Sigma rules copied from the shared ones.
fn rules_folder(name: &str, files: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("sigma-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        std::fs::copy(data().join("sigma").join(file), dir.join(file)).unwrap();
    }
    dir
}

#[test]
fn with_every_rule_loaded_the_exit_status_is_the_findings_one() {
    let rules = rules_folder(
        "loadable",
        &[
            "aws_update_login_profile.yml",
            "aws_iam_backdoor_users_keys.yml",
        ],
    );
    let events = data().join("cloudtrail/stratus-red-team");
    let output = keywarden(&[
        "trail",
        path(&events),
        "--sigma",
        path(&rules),
        "--select",
        "EVT009",
        "--format",
        "json",
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(!err.contains("not loaded:"), "{err}");
    assert!(err.contains("2 rule(s) loaded"), "{err}");
    let doc = stdout_json(&output);
    // --select chooses among keywarden's detections; the Sigma rules in the folder all run.
    assert_eq!(
        per_rule(&doc),
        BTreeMap::from([
            ("EVT009".to_owned(), 3),
            (BACKDOOR_USERS_KEYS.to_owned(), 2),
            (UPDATE_LOGIN_PROFILE.to_owned(), 1),
        ])
    );
}

#[test]
fn sigma_findings_follow_the_window_and_count_an_event_read_twice_once() {
    let rules = rules_folder("window", &["aws_iam_backdoor_users_keys.yml"]);
    let backdoor =
        data().join("cloudtrail/stratus-red-team/aws.persistence.iam-backdoor-user.json");
    let admin =
        data().join("cloudtrail/stratus-red-team/aws.persistence.iam-create-admin-user.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "trail",
            path(&backdoor),
            path(&admin),
            "--sigma",
            path(&rules),
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--select", "EVT009", "--format", "json"]);
        let output = keywarden(&args);
        // A window that holds none of the events read is a run that checked nothing: exit 2.
        let expected = if stderr(&output).contains("no event was analysed") {
            matches!(output.status.code(), Some(2))
        } else {
            matches!(output.status.code(), Some(0 | 1))
        };
        assert!(expected, "{:?} {}", output.status.code(), stderr(&output));
        per_rule(&stdout_json(&output))
            .get(BACKDOOR_USERS_KEYS)
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(run(&[]), 2);
    // The backdoor key was created 2024-07-30, the admin user's on 2024-08-01.
    assert_eq!(run(&["--since", "2024-08-01T00:00:00Z"]), 1);
    assert_eq!(run(&["--until", "2024-07-31T00:00:00Z"]), 1);
    assert_eq!(run(&["--since", "2025-01-01T00:00:00Z"]), 0);
    // The same file named twice: its event is read twice, matched once.
    let mut twice = vec!["trail", path(&backdoor), path(&backdoor)];
    twice.extend_from_slice(&["--sigma", path(&rules), "--format", "json"]);
    let output = keywarden(&twice);
    assert_eq!(per_rule(&stdout_json(&output))[BACKDOOR_USERS_KEYS], 1);
}

#[test]
fn without_sigma_the_trail_output_has_only_the_detections() {
    let events = data().join("cloudtrail");
    let output = keywarden(&["trail", path(&events), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let doc = stdout_json(&output);
    assert!(per_rule(&doc).keys().all(|code| code.starts_with("EVT")));
    assert_eq!(doc["summary"]["rules_run"].as_array().unwrap().len(), 9);
    assert!(!stderr(&output).contains("sigma"));
}

#[test]
fn a_sigma_folder_that_cannot_be_used_is_an_error() {
    let events = data().join("cloudtrail/stratus-red-team");
    let missing = data().join("no-such-folder");
    let output = keywarden(&["trail", path(&events), "--sigma", path(&missing)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--sigma: "), "{}", stderr(&output));
    assert!(output.stdout.is_empty());

    let empty = rules_folder("empty", &[]);
    let output = keywarden(&["trail", path(&events), "--sigma", path(&empty)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no Sigma rule files"),
        "{}",
        stderr(&output)
    );
}
