//! What a new user trips over in the first hour (issue 10), pinned: a run that read nothing is
//! not clean, instants accept plain dates and say which forms they take, errors say their cause
//! once and name the fix, and a plan file is not silently replaced.

mod support;

use support::cli::{keywarden, stderr, stdout, stdout_json};
use support::{repo_root, test_dir};

const NOW: &str = "2024-06-01T00:00:00Z";

fn stratus() -> String {
    repo_root()
        .join("crates/keywarden/tests/data/stratus-red-team")
        .display()
        .to_string()
}

#[test]
fn an_inverted_window_is_refused_before_reading() {
    let out = keywarden(&[
        "trail",
        "--since",
        "2025-01-01T00:00:00Z",
        "--until",
        "2024-01-01",
        &stratus(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--since 2025-01-01T00:00:00+00:00 is after --until 2024-01-01T00:00:00+00:00"
        ),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "nothing printed as a result");
}

#[test]
fn a_window_that_holds_no_event_is_not_a_clean_run() {
    // The Stratus Red Team detonations are from 2022-2024: none is after 2030.
    let out = keywarden(&[
        "trail",
        "--since",
        "2030-01-01",
        "--format",
        "table",
        "--now",
        NOW,
        &stratus(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No events were analysed"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("passed"), "{}", stdout(&out));
    assert!(stderr(&out)
        .contains("no event was analysed (every event read is outside --since/--until)"));
}

#[test]
fn a_csv_given_to_trail_is_not_reported_as_a_pass() {
    let csv = test_dir("csv").join("report.csv");
    std::fs::write(
        &csv,
        "user,arn\nalice,arn:aws:iam::123456789012:user/alice\n",
    )
    .unwrap();
    let out = keywarden(&[
        "trail",
        "--format",
        "table",
        "--now",
        NOW,
        csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stdout(&out).contains("passed"), "{}", stdout(&out));
}

#[test]
fn a_trail_table_shows_each_events_time_id_and_source_ip() {
    let file = repo_root().join(
        "crates/keywarden/tests/data/stratus-red-team/aws.persistence.iam-create-admin-user.json",
    );
    let json = keywarden(&[
        "trail",
        "--format",
        "json",
        "--now",
        NOW,
        file.to_str().unwrap(),
    ]);
    let doc = stdout_json(&json);
    let event = &doc["findings"][0];
    let table = keywarden(&[
        "trail",
        "--format",
        "table",
        "--now",
        NOW,
        file.to_str().unwrap(),
    ]);
    let text = stdout(&table);
    assert!(text.contains(event["event_id"].as_str().unwrap()), "{text}");
    assert!(
        text.contains(event["source_ip"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("By rule"), "{text}");
    assert!(text.contains("events analysed"), "{text}");
    assert!(!text.contains("preset"), "{text}");
}

#[test]
fn plain_dates_are_instants_and_a_bad_one_shows_the_accepted_forms() {
    let plain = keywarden(&[
        "trail",
        "--since",
        "2020-01-01",
        "--format",
        "json",
        "--now",
        NOW,
        &stratus(),
    ]);
    let full = keywarden(&[
        "trail",
        "--since",
        "2020-01-01T00:00:00Z",
        "--format",
        "json",
        "--now",
        NOW,
        &stratus(),
    ]);
    assert_eq!(plain.status.code(), full.status.code());
    assert_eq!(plain.stdout, full.stdout, "a date is its UTC midnight");

    let dated = keywarden(&[
        "trail",
        "--now",
        "2024-06-01",
        "--format",
        "json",
        &stratus(),
    ]);
    assert_eq!(stdout_json(&dated)["generated_at"], NOW);

    let bad = keywarden(&["trail", "--since", "01/05/2024", &stratus()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--since: `01/05/2024` is not an RFC 3339 time such as 2024-05-01T12:00:00Z, or a date such as 2024-05-01"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_folder_given_as_report_says_so() {
    let dir = test_dir("folder");
    let out = keywarden(&["audit", "--report", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is a folder: give the credential report's CSV file"),
        "{err}"
    );
    assert!(!err.contains("malformed CSV"), "{err}");
}

#[test]
fn a_missing_trail_source_says_its_cause_once() {
    let missing = test_dir("missing").join("nope.json");
    let out = keywarden(&["trail", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn plan_out_refuses_to_replace_a_plan_without_force_and_says_when_it_creates_a_folder() {
    let dir = test_dir("plan");
    let audit = dir.join("audit.json");
    let demo = keywarden(&["demo", "--format", "json"]);
    std::fs::write(&audit, &demo.stdout).unwrap();
    let plan = dir.join("new/plan.json");
    let state = dir.join("state");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            "--from",
            audit.to_str().unwrap(),
            "--out",
            plan.to_str().unwrap(),
            "--format",
            "json",
            "--state-dir",
            state.to_str().unwrap(),
            "--now",
            "2026-11-20T12:00:00Z",
        ];
        args.extend_from_slice(extra);
        keywarden(&args)
    };
    let first = run(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stderr(&first).contains(&format!("created folder {}", dir.join("new").display())));

    std::fs::write(&plan, "reviewed plan").unwrap();
    let second = run(&[]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("already exists"),
        "{}",
        stderr(&second)
    );
    assert!(stderr(&second).contains("--force"), "{}", stderr(&second));
    assert_eq!(
        std::fs::read_to_string(&plan).unwrap(),
        "reviewed plan",
        "left as it was"
    );

    let forced = run(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(!stderr(&forced).contains("created folder"));
    assert_ne!(std::fs::read_to_string(&plan).unwrap(), "reviewed plan");
}

/// `keywarden ARGS` with no AWS credentials anywhere: a HOME of its own (holding `aws_files`
/// as ~/.aws/config when given), no credential variables, instance metadata off.
fn without_credentials(
    args: &[&str],
    aws_config: Option<&str>,
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let home = test_dir("home");
    if let Some(text) = aws_config {
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(home.join(".aws/config"), text).unwrap();
    }
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"));
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// No debug dump of the SDK's error types: what a person reads is a line or two.
fn assert_readable(err: &str) {
    assert!(!err.contains("DispatchFailure("), "{err}");
    assert!(!err.contains("ConnectorError {"), "{err}");
    assert!(err.len() < 600, "{} bytes: {err}", err.len());
}

#[test]
fn no_credentials_says_how_to_give_them() {
    let out = without_credentials(&["audit"], None, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_readable(&err);
    assert!(err.contains("NoCredentials"), "{err}");
    assert!(err.contains("--profile"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
}

#[test]
fn a_connection_that_fails_is_said_in_words() {
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let out = without_credentials(
        &["audit", "--endpoint-url", "http://127.0.0.1:9"],
        None,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_readable(&err);
    assert!(
        err.contains("ConnectionFailed (cannot connect to AWS: Connection refused"),
        "{err}"
    );
}

#[test]
fn a_missing_profile_is_named_with_the_profiles_that_exist() {
    let config = "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n";
    let out = without_credentials(&["audit", "--profile", "prod"], Some(config), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("AWS profile `prod` does not exist"), "{err}");
    assert!(err.contains("profiles there: default, dev"), "{err}");

    let from_env = without_credentials(&["audit"], Some(config), &[("AWS_PROFILE", "prod")]);
    assert!(
        stderr(&from_env).contains("AWS profile `prod` does not exist"),
        "{}",
        stderr(&from_env)
    );
}

#[test]
fn verbose_shows_the_whole_chain() {
    let out = without_credentials(
        &["audit", "--verbose", "--endpoint-url", "http://127.0.0.1:9"],
        None,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    );
    let err = stderr(&out);
    assert!(err.contains("AWS call failed without an answer"), "{err}");
    assert!(err.contains("DispatchFailure"), "{err}");
}

/// A trail CSV carries each detection's event (time, name, id, source IP), as the JSON does;
/// an audit's CSV keeps its columns.
#[test]
fn a_trail_csv_carries_the_event_of_each_detection() {
    let file = repo_root().join(
        "crates/keywarden/tests/data/stratus-red-team/aws.persistence.iam-create-admin-user.json",
    );
    let json = keywarden(&[
        "trail",
        "--format",
        "json",
        "--now",
        NOW,
        file.to_str().unwrap(),
    ]);
    let finding = &stdout_json(&json)["findings"][0];
    let csv = keywarden(&[
        "trail",
        "--format",
        "csv",
        "--now",
        NOW,
        file.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header[header.len() - 4..],
        ["event_time", "event_name", "event_id", "source_ip"]
    );
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("event_id"), finding["event_id"].as_str().unwrap());
    assert_eq!(cell("event_time"), finding["event_time"].as_str().unwrap());
    assert_eq!(cell("event_name"), "CreateAccessKey");
    assert_eq!(cell("source_ip"), finding["source_ip"].as_str().unwrap());

    let audit = keywarden(&["demo", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(audit.stdout.as_slice());
    assert!(!reader.headers().unwrap().iter().any(|h| h == "event_id"));
}
