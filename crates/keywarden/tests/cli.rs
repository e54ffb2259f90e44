//! End-to-end tests of the `keywarden` binary: arguments, files, exit status, error messages.
//! Rule semantics are tested in keywarden-core; here we check the glue the user touches.

mod support;

use support::cli::{keywarden, keywarden_stdin, stderr, stdout_json};
use support::scratch_file;

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
const ROOT_CLEAN: &str = "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
/// A bot whose key was created 2024-01-01 and last used 2024-05-30.
const BOT: &str = "bot,arn:aws:iam::123456789012:user/bot,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,2024-05-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
const NOW: &str = "2024-06-01T00:00:00Z";

fn finding_keys(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
                f["user"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn demo_fails_every_rule_and_exits_1() {
    let out = keywarden(&["demo", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    let mut failing: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    failing.sort();
    failing.dedup();
    assert_eq!(
        failing,
        [
            "KEY001", "KEY002", "KEY003", "KEY004", "KEY005", "PWD001", "PWD002", "PWD003",
            "ROOT001", "ROOT002", "TRAIL001"
        ]
    );
    assert_eq!(doc["data_as_of"], "2026-11-20T12:00:00Z");
}

#[test]
fn demo_prints_every_format() {
    for format in ["table", "json", "csv", "sarif"] {
        let out = keywarden(&["demo", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{format}");
    }
    let sarif = stdout_json(&keywarden(&["demo", "--format", "sarif"]));
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn a_report_file_alone_leaves_policy_and_trails_unknown_and_exits_2() {
    let path = scratch_file("bot.csv", &format!("{HEADER}\n{ROOT_CLEAN}\n{BOT}\n"));
    let out = keywarden(&[
        "audit",
        "--report",
        path.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = stdout_json(&out);
    // Bot's key is 152 days old: KEY002 fails; it was used 2 days ago, so KEY001 passes.
    assert_eq!(
        finding_keys(&doc),
        ["TRAIL001 unknown -", "KEY002 fail bot", "PWD003 unknown -"]
    );
    assert_eq!(doc["data_source"]["kind"], "credential-report-file");
    assert!(
        doc["data_as_of"].is_string(),
        "a file's modification time gives the data's age"
    );
}

#[test]
fn exit_status_is_0_when_nothing_fails_and_1_when_something_does() {
    let path = scratch_file("exit.csv", &format!("{HEADER}\n{ROOT_CLEAN}\n{BOT}\n"));
    let path = path.to_str().unwrap();
    let clean = keywarden(&[
        "audit",
        "--report",
        path,
        "--now",
        NOW,
        "--format",
        "json",
        "--select",
        "KEY001,ROOT001",
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert_eq!(stdout_json(&clean)["findings"], serde_json::json!([]));
    let failing = keywarden(&[
        "audit",
        "--report",
        path,
        "--now",
        NOW,
        "--format",
        "json",
        "--ignore",
        "PWD003,TRAIL001",
    ]);
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
}

#[test]
fn reads_the_report_from_stdin() {
    let out = keywarden_stdin(
        &[
            "audit", "--report", "-", "--now", NOW, "--format", "json", "--select", "KEY002",
        ],
        format!("{HEADER}\n{BOT}"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["data_source"]["location"], "-");
    assert_eq!(doc["data_as_of"], serde_json::Value::Null);
}

#[test]
fn report_time_sets_the_data_age() {
    let out = keywarden_stdin(
        &[
            "audit",
            "--report",
            "-",
            "--now",
            NOW,
            "--format",
            "json",
            "--select",
            "KEY002",
            "--report-time",
            "2024-05-31T22:00:00Z",
        ],
        format!("{HEADER}\n{BOT}\n"),
    );
    let doc = stdout_json(&out);
    assert_eq!(doc["data_as_of"], "2024-05-31T22:00:00Z");
    assert_eq!(doc["data_source"]["age_seconds"], 7200);
}

#[test]
fn flags_override_the_config_file_which_overrides_the_preset() {
    // Bot's key is 152 days old. pingsafe keeps 90 days for rotation; the file says 200; the flag says 100.
    let config = scratch_file(
        "layers.toml",
        "preset = \"pingsafe\"\n[thresholds]\nmax_key_age_days = 200\n",
    );
    let config = config.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "audit", "--report", "-", "--now", NOW, "--format", "json", "--select", "KEY002",
            "--config", config,
        ];
        args.extend_from_slice(extra);
        keywarden_stdin(&args, format!("{HEADER}\n{BOT}\n"))
    };
    let from_file = run(&[]);
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "file's 200 days: {}",
        stderr(&from_file)
    );
    assert_eq!(stdout_json(&from_file)["preset"], "pingsafe");
    let from_flag = run(&["--max-key-age-days", "100"]);
    assert_eq!(
        from_flag.status.code(),
        Some(1),
        "flag's 100 days: {}",
        stderr(&from_flag)
    );
    let preset_flag = keywarden_stdin(
        &[
            "audit",
            "--report",
            "-",
            "--now",
            NOW,
            "--format",
            "json",
            "--select",
            "KEY001",
            "--preset",
            "cis",
            "--max-unused-days",
            "1",
        ],
        format!("{HEADER}\n{BOT}\n"),
    );
    assert_eq!(
        preset_flag.status.code(),
        Some(1),
        "used 2 days ago, limit 1 day"
    );
    assert_eq!(stdout_json(&preset_flag)["preset"], "cis");
}

#[test]
fn exemptions_from_the_config_file_are_reported_as_exempted() {
    let config = scratch_file(
        "exempt.toml",
        "[[exemption]]\nuser = \"b*\"\nrules = [\"KEY002\"]\nreason = \"vendor integration, rotation ticket SEC-42\"\nexpires = \"2024-12-31\"\n",
    );
    let out = keywarden_stdin(
        &[
            "audit",
            "--report",
            "-",
            "--now",
            NOW,
            "--format",
            "json",
            "--select",
            "KEY002",
            "--config",
            config.to_str().unwrap(),
        ],
        format!("{HEADER}\n{BOT}\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "an exempted finding does not fail: {}",
        stderr(&out)
    );
    let doc = stdout_json(&out);
    assert_eq!(finding_keys(&doc), ["KEY002 exempted bot"]);
    assert_eq!(
        doc["findings"][0]["exemption"]["reason"],
        "vendor integration, rotation ticket SEC-42"
    );
}

#[test]
fn bad_input_names_file_line_and_column_and_exits_2() {
    let cases = [
        (
            "not-a-report.csv",
            "name,age\nalice,3\n".to_owned(),
            vec!["not-a-report.csv:1", "not a credential report", "`user`"],
        ),
        (
            "bad-date.csv",
            format!(
                "{HEADER}\n{ROOT_CLEAN}\n{}\n",
                BOT.replace("2024-05-30T00:00:00+00:00", "2024-05-32T00:00:00+00:00")
            ),
            vec![
                "bad-date.csv:3",
                "column 11 (`access_key_1_last_used_date`)",
                "invalid date `2024-05-32T00:00:00+00:00`",
            ],
        ),
        (
            "bad-bool.csv",
            format!("{HEADER}\n{}\n", BOT.replacen(",false,", ",maybe,", 1)),
            vec![
                "bad-bool.csv:2",
                "column 4 (`password_enabled`)",
                "invalid boolean `maybe`",
            ],
        ),
        (
            "truncated.csv",
            format!("{HEADER}\n{ROOT_CLEAN}\n{}", &BOT[..80]),
            vec!["truncated.csv:3", "row has", "header has 22"],
        ),
        (
            "empty.csv",
            String::new(),
            vec!["empty.csv:1", "empty input"],
        ),
    ];
    for (name, content, expected) in cases {
        let path = scratch_file(name, &content);
        let out = keywarden(&[
            "audit",
            "--report",
            path.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            out.stdout.is_empty(),
            "{name}: nothing is printed from a half-read report"
        );
        let err = stderr(&out);
        for part in expected {
            assert!(err.contains(part), "{name}: `{part}` not in: {err}");
        }
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn usage_errors_are_clear() {
    let missing = keywarden(&["audit", "--report", "/nonexistent/report.csv"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot open credential report `/nonexistent/report.csv`"),
        "{}",
        stderr(&missing)
    );

    let bad_now = keywarden(&[
        "demo",
        "--format",
        "json",
        "--max-unused-days",
        "10",
        "--select",
        "KEY999",
    ]);
    assert_eq!(bad_now.status.code(), Some(2));
    assert!(
        stderr(&bad_now).contains("unknown rule code `KEY999`"),
        "{}",
        stderr(&bad_now)
    );

    let path = scratch_file("now.csv", &format!("{HEADER}\n{BOT}\n"));
    let out = keywarden(&[
        "audit",
        "--report",
        path.to_str().unwrap(),
        "--now",
        "last tuesday",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--now: `last tuesday` is not an RFC 3339 time"),
        "{}",
        stderr(&out)
    );

    let config = scratch_file("bad.toml", "[thresholds]\nmax_unused_dayz = 3\n");
    let out = keywarden(&["demo", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml") && err.contains("max_unused_dayz"),
        "{err}"
    );
}

#[test]
fn rules_lists_the_catalogue_and_rule_prints_its_documentation() {
    let out = keywarden(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for code in ["KEY001", "KEY005", "PWD003", "ROOT002", "TRAIL001"] {
        assert!(text.contains(code), "{code}");
    }
    let json = stdout_json(&keywarden(&["rules", "--format", "json"]));
    assert_eq!(
        json.as_array().unwrap().len(),
        20,
        "11 audit rules and 9 detections"
    );

    let doc = keywarden(&["rule", "key001"]);
    assert_eq!(doc.status.code(), Some(0));
    let doc = String::from_utf8(doc.stdout).unwrap();
    for section in [
        "## What it does",
        "## Why it matters",
        "## How it decides",
        "## How to fix",
        "## Standards",
    ] {
        assert!(doc.contains(section), "{section}");
    }
    assert!(doc.starts_with("# KEY001 unused-access-key (medium)"));

    let unknown = keywarden(&["rule", "KEY999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no rule `KEY999`"));
}

#[test]
fn the_readme_config_example_is_a_valid_config() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let start = readme.find("```toml\n").expect("README has a toml example") + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let config = scratch_file("readme.toml", &readme[start..end]);
    let out = keywarden(&[
        "demo",
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["preset"], "cis");
    assert!(!doc["summary"]["rules_run"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("TRAIL001")));
}
