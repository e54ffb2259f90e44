//! The README against the binary (issue 10, point 5): a README that lies fails CI.
//!
//! Every `keywarden` command in the README's `sh` code blocks is run with the built binary, in
//! README order, in one folder holding the files the README names (`report.csv`, `AWSLogs/`,
//! `sigma-rules/`, `audit.json`, ...), through `sh -c` so its redirections work. A command fails
//! the test when clap rejects it, when keywarden says `error:`, or when it exits above 2. A
//! command that needs AWS is not run: [`NEEDS_AWS`] lists the reasons, each a test on the
//! command's words, and a reason no README command has any more fails the test too. The AWS
//! environment points at a closed local port, so a command that reaches for AWS unlisted fails
//! with `ConnectionFailed` instead of calling anyone.
//!
//! The examples of output are checked too: the table's lines are the demo's, the JSON example's
//! fields are the demo's document's, the CSV example's rows are the demo's, and the config file
//! shown is one keywarden reads.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::cli::{described, keywarden, stdout, stdout_json};
use support::{fresh_dir, repo_root};

/// Why a README command is not run: the first reason whose test matches its words.
type NeedsAws = (&'static str, fn(&[&str]) -> bool);

const NEEDS_AWS: &[NeedsAws] = &[
    ("a live audit reads the account", |w| {
        w[0] == "audit" && !w.contains(&"--report")
    }),
    ("a live plan audits the account", |w| {
        w[0] == "plan" && !w.contains(&"--from")
    }),
    ("--resolve-key-ids reads ListAccessKeys", |w| {
        w[0] == "plan" && w.contains(&"--resolve-key-ids")
    }),
    ("apply writes to AWS", |w| w[0] == "apply"),
    ("undo writes to AWS", |w| w[0] == "undo"),
    ("rotate writes to AWS", |w| w[0] == "rotate"),
    ("contain writes to AWS", |w| w[0] == "contain"),
    ("an s3:// source reads S3", |w| {
        w.iter().any(|a| a.starts_with("s3://"))
    }),
    ("--lookup reads CloudTrail's event history", |w| {
        w.contains(&"--lookup")
    }),
];

/// Commands in the README's `sh` blocks that are not keywarden's.
const NOT_KEYWARDEN: &[(&str, &str)] = &[
    (
        "cargo install --locked --path crates/keywarden",
        "installs the binary this test runs",
    ),
    ("scripts/test.sh", "the test suite this test is part of"),
];

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("read README.md")
}

/// The code blocks of `text` whose info string is `lang`, each as its lines. Fences alternate:
/// a block of another language is skipped whole, so its closing fence never opens one.
fn blocks(text: &str, lang: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // Inside a block: Some(true) for one of `lang`, Some(false) for another.
    let mut inside: Option<bool> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            inside = match inside {
                None => {
                    let wanted = trimmed.trim_start_matches('`').trim() == lang;
                    if wanted {
                        found.push(Vec::new());
                    }
                    Some(wanted)
                }
                Some(_) => None,
            };
            continue;
        }
        if inside == Some(true) {
            found.last_mut().unwrap().push(line.to_owned());
        }
    }
    found
}

/// The commands of the README's `sh` blocks, comments removed, in order.
fn readme_commands() -> Vec<String> {
    let mut commands = Vec::new();
    for line in blocks(&readme(), "sh").concat() {
        let trimmed = line.trim();
        let command = match trimmed.find(" #") {
            Some(at) => &trimmed[..at],
            None => trimmed,
        };
        let command = command.trim();
        if command.is_empty() || command.starts_with('#') {
            continue;
        }
        commands.push(command.to_owned());
    }
    commands
}

/// `cargo run ... -- ARGS` is `keywarden ARGS`.
fn as_keywarden(command: &str) -> Option<String> {
    if let Some(rest) = command.strip_prefix("keywarden ") {
        return Some(rest.to_owned());
    }
    if command.starts_with("cargo run ") {
        return command.split_once(" -- ").map(|(_, args)| args.to_owned());
    }
    None
}

/// The folder the README's commands run in, with the files they name.
fn workspace() -> PathBuf {
    let dir = fresh_dir("readme", "commands");
    let root = repo_root();
    std::fs::copy(
        root.join("crates/keywarden-core/demo/credential-report.csv"),
        dir.join("report.csv"),
    )
    .unwrap();
    let logs = dir.join("AWSLogs");
    std::fs::create_dir(&logs).unwrap();
    let stratus = root.join("crates/keywarden/tests/data/stratus-red-team");
    for entry in std::fs::read_dir(&stratus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, logs.join(path.file_name().unwrap())).unwrap();
        }
    }
    // The key the README's examples name, created on the day its window example reads.
    let event = serde_json::json!({"Records": [{
        "eventVersion": "1.09",
        "eventTime": "2024-08-01T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "awsRegion": "us-east-1",
        "eventID": "0f0e0d0c-0000-4000-8000-000000000001",
        "recipientAccountId": "111122223333",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.0",
        "userIdentity": {
            "type": "IAMUser",
            "userName": "admin",
            "accountId": "111122223333",
            "arn": "arn:aws:iam::111122223333:user/admin",
            "accessKeyId": "AKIAEXAMPLEKEY000009"
        },
        "requestParameters": {"userName": "alice"},
        "responseElements": {"accessKey": {
            "accessKeyId": "AKIAEXAMPLEKEY000001",
            "status": "Active",
            "userName": "alice"
        }}
    }]});
    std::fs::write(logs.join("example-key.json"), event.to_string()).unwrap();
    let mut lines = String::new();
    for record in event["Records"].as_array().unwrap() {
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    std::fs::write(dir.join("huge-export.jsonl"), lines).unwrap();
    let sigma = dir.join("sigma-rules");
    std::fs::create_dir(&sigma).unwrap();
    for entry in std::fs::read_dir(root.join("crates/keywarden-sigma/tests/data/sigma")).unwrap() {
        let path = entry.unwrap().path();
        // The rules are the folder's files; its subfolders hold other test data.
        if path.is_file() {
            std::fs::copy(&path, sigma.join(path.file_name().unwrap())).unwrap();
        }
    }
    // `plan --from audit.json`: the README makes it with a live audit; here from the report.
    let audit = keywarden(&[
        "audit",
        "--report",
        dir.join("report.csv").to_str().unwrap(),
        "--format",
        "json",
    ]);
    std::fs::write(dir.join("audit.json"), &audit.stdout).unwrap();
    dir
}

/// `keywarden ARGS` as the README writes it, run by `sh` in `dir` with only the built binary on
/// PATH and an AWS that cannot be reached.
fn run_in(dir: &Path, args: &str) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_keywarden"));
    let path = format!("{}:/usr/bin:/bin", bin.parent().unwrap().to_str().unwrap());
    Command::new("sh")
        .arg("-c")
        .arg(format!("keywarden {args}"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("KEYWARDEN_STATE_DIR", dir.join("state"))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAREADMETEST000000")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run sh")
}

#[test]
fn every_readme_command_that_needs_no_aws_runs() {
    let commands = readme_commands();
    assert!(commands.len() > 40, "the README's commands: {commands:?}");
    let dir = workspace();
    let mut used_reasons = vec![false; NEEDS_AWS.len()];
    let mut used_others = vec![false; NOT_KEYWARDEN.len()];
    let mut problems = Vec::new();
    let mut ran = 0;
    for command in &commands {
        let Some(args) = as_keywarden(command) else {
            match NOT_KEYWARDEN.iter().position(|(c, _)| c == command) {
                Some(i) => used_others[i] = true,
                None => problems.push(format!(
                    "`{command}`: not a keywarden command and not listed in NOT_KEYWARDEN"
                )),
            }
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        if let Some(i) = NEEDS_AWS.iter().position(|(_, needs)| needs(&words)) {
            used_reasons[i] = true;
            continue;
        }
        ran += 1;
        let out = run_in(&dir, &args);
        let err = support::cli::stderr(&out);
        let rejected = err.lines().any(|l| l.starts_with("error:"))
            || err.contains("keywarden: error:")
            || !matches!(out.status.code(), Some(0..=2));
        if rejected {
            problems.push(format!("`{command}`: {}", described(&out)));
        }
    }
    for (used, (reason, _)) in used_reasons.iter().zip(NEEDS_AWS) {
        if !used {
            problems.push(format!("no README command is skipped because `{reason}`"));
        }
    }
    for (used, (command, _)) in used_others.iter().zip(NOT_KEYWARDEN) {
        if !used {
            problems.push(format!("`{command}` is no longer in the README"));
        }
    }
    assert!(ran > 25, "only {ran} README commands ran");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn a_rejected_or_failing_command_is_caught() {
    // The test's own check, on commands that must fail it: an unknown flag (clap), a missing
    // file (keywarden), and an AWS command run by mistake (no server at 127.0.0.1:9).
    let dir = fresh_dir("readme", "negative");
    for args in [
        "demo --no-such-flag",
        "audit --report missing.csv",
        "audit --max-attempts 1",
    ] {
        let out = run_in(&dir, args);
        let err = support::cli::stderr(&out);
        assert!(
            err.lines().any(|l| l.starts_with("error:")) || err.contains("keywarden: error:"),
            "`{args}`: {}",
            described(&out)
        );
    }
}

#[test]
fn the_readme_is_read_as_intended() {
    let commands = readme_commands();
    assert!(commands.contains(&"keywarden rules".to_owned()));
    assert!(commands.contains(&"keywarden rule KEY001".to_owned()));
    // Comments are cut, redirections kept.
    assert!(commands
        .iter()
        .any(|c| c == "keywarden audit --report - < report.csv"));
    assert!(!commands.iter().any(|c| c.contains(" # ")));
    assert_eq!(
        as_keywarden("cargo run --release -p keywarden -- demo").as_deref(),
        Some("demo")
    );
    // The skip reasons match what they say.
    let reason = |args: &str| {
        let words: Vec<&str> = args.split_whitespace().collect();
        NEEDS_AWS
            .iter()
            .find(|(_, needs)| needs(&words))
            .map(|(r, _)| *r)
    };
    assert_eq!(reason("audit --report report.csv"), None);
    assert_eq!(reason("plan --from audit.json --out plan.json"), None);
    assert_eq!(reason("trail AWSLogs/"), None);
    assert!(reason("audit --profile prod").is_some());
    assert!(reason("trail s3://b/AWSLogs/").is_some());
}

fn demo(format: &str) -> Output {
    let out = keywarden(&["demo", "--format", format]);
    assert_eq!(out.status.code(), Some(1), "{}", described(&out));
    out
}

/// The code blocks that follow a `### NAME` heading (the output examples).
fn example_after(heading: &str) -> Vec<String> {
    let text = readme();
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let rest = &text[start..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let close = body.find("\n```").unwrap();
    body[..close].lines().map(str::to_owned).collect()
}

#[test]
fn the_table_example_is_the_demos_table() {
    let table = stdout(&demo("table"));
    for line in example_after("### table") {
        if line == "..." {
            continue;
        }
        assert!(
            table.lines().any(|l| l == line),
            "README table line not in the demo's table:\n{line}\n---\n{table}"
        );
    }
}

#[test]
fn the_json_example_is_the_demos_document() {
    let example: Value = serde_json::from_str(&example_after("### json").join("\n"))
        .expect("the README's JSON example parses");
    let document = stdout_json(&demo("json"));
    let object = example.as_object().unwrap();
    for (key, value) in object {
        if key == "findings" {
            continue;
        }
        assert_eq!(&document[key], value, "README JSON example's `{key}`");
    }
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        document.as_object().unwrap().keys().collect::<Vec<_>>(),
        "the example shows every top-level field"
    );
    for finding in example["findings"].as_array().unwrap() {
        assert!(
            document["findings"].as_array().unwrap().contains(finding),
            "README JSON finding not in the demo's: {finding}"
        );
    }
}

#[test]
fn the_csv_example_is_the_demos_csv() {
    let csv = stdout(&demo("csv"));
    for line in example_after("### csv") {
        assert!(
            csv.lines().any(|l| l == line),
            "README CSV line not in the demo's CSV:\n{line}"
        );
    }
}

#[test]
fn the_config_file_shown_is_accepted() {
    let toml = blocks(&readme(), "toml");
    assert_eq!(toml.len(), 1, "one config example");
    let dir = fresh_dir("readme", "config");
    let path = dir.join("keywarden.toml");
    std::fs::write(&path, toml[0].join("\n")).unwrap();
    let out = keywarden(&[
        "demo",
        "--config",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", described(&out));
    let document = stdout_json(&out);
    assert_eq!(document["preset"], "cis");
    // Its `ignore = ["TRAIL001"]` took effect.
    let rules = document["summary"]["rules_run"].as_array().unwrap();
    assert!(!rules.iter().any(|r| r == "TRAIL001"), "{rules:?}");
}

#[test]
fn the_sarif_example_is_the_demos_log() {
    let example: Value = serde_json::from_str(&example_after("### sarif").join("\n"))
        .expect("the README's SARIF example parses");
    let log = stdout_json(&demo("sarif"));
    assert_eq!(example["version"], log["version"]);
    assert_eq!(example["$schema"], log["$schema"]);
    let (shown, run) = (&example["runs"][0], &log["runs"][0]);
    assert_eq!(shown["properties"], run["properties"]);
    let driver = &run["tool"]["driver"];
    for field in ["name", "version", "informationUri"] {
        assert_eq!(shown["tool"]["driver"][field], driver[field], "{field}");
    }
    // Each rule shown is the demo's, but for its documentation (written out in the log).
    for rule in shown["tool"]["driver"]["rules"].as_array().unwrap() {
        let mut actual = driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == rule["id"])
            .unwrap_or_else(|| panic!("no rule {} in the demo's log", rule["id"]))
            .clone();
        actual["help"] = rule["help"].clone();
        assert_eq!(&actual, rule);
    }
    for result in shown["results"].as_array().unwrap() {
        assert!(
            run["results"].as_array().unwrap().contains(result),
            "README SARIF result not in the demo's: {result}"
        );
    }
}

/// The rows of the README table under `heading`, each as its cells.
fn table_rows(heading: &str) -> Vec<Vec<String>> {
    let text = readme();
    let start = text.find(heading).unwrap();
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_rule_table_is_the_catalogue() {
    let out = keywarden(&["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", described(&out));
    let catalogue = stdout_json(&out);
    let text = catalogue.to_string();
    let rows = table_rows("### Rules");
    assert_eq!(rows.len(), 11, "{rows:?}");
    for row in rows {
        assert!(
            text.contains(&format!("\"{}\"", row[0])) && text.contains(&format!("\"{}\"", row[1])),
            "README rule {} {} is not in `keywarden rules`",
            row[0],
            row[1]
        );
    }
}

#[test]
fn every_preset_in_the_table_is_accepted() {
    let rows = table_rows("### Thresholds, presets, exemptions");
    assert_eq!(rows.len(), 5, "{rows:?}");
    for row in rows {
        let out = keywarden(&["demo", "--preset", &row[0], "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "--preset {}: {}",
            row[0],
            described(&out)
        );
        assert_eq!(stdout_json(&out)["preset"], row[0].as_str());
    }
}

#[test]
fn every_format_listed_is_accepted() {
    let text = readme();
    let start = text.find("## Output formats").unwrap();
    let line = &text[start..][..text[start..].find("Every format says").unwrap()];
    let formats: Vec<&str> = line
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|f| !f.starts_with("--"))
        .collect();
    // `--format table` is skipped by the filter: the eight others.
    assert_eq!(formats.len(), 8, "{formats:?}");
    for format in formats {
        let out = keywarden(&["demo", "--format", format]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "--format {format}: {}",
            described(&out)
        );
        assert!(!out.stdout.is_empty());
    }
}
