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
        stderr(&out).contains("--since 2025-01-01T00:00:00Z is after --until 2024-01-01T00:00:00Z"),
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

// ----- point 5: the README and the binary agree (the README's commands: readme_cli.rs) -----

#[test]
fn the_default_preset_can_be_named() {
    let named = keywarden(&["demo", "--preset", "default", "--format", "json"]);
    let unnamed = keywarden(&["demo", "--format", "json"]);
    assert_eq!(named.status.code(), Some(1), "{}", stderr(&named));
    assert_eq!(stdout_json(&named)["preset"], "default");
    assert_eq!(named.stdout, unnamed.stdout);
    let bad = keywarden(&["demo", "--preset", "strict"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("default, cis, aws-config"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn evt001_points_at_contain_which_exists() {
    let out = keywarden(&["rule", "EVT001"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("once available"), "{}", stdout(&out));
    assert!(stdout(&out).contains("`keywarden contain NEW_KEY_ID`"));
}

#[test]
fn the_plan_command_has_a_read_only_policy() {
    let out = keywarden(&["permissions", "--command", "plan"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = stdout_json(&out);
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!(["iam:ListAccessKeys"])
    );
}

#[test]
fn resolve_key_ids_needs_a_saved_audit() {
    let out = keywarden(&["plan", "--resolve-key-ids"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from"), "{}", stderr(&out));
}

#[test]
fn a_report_file_plan_says_why_no_key_action_is_planned() {
    let dir = test_dir("report-plan");
    let report = repo_root().join("crates/keywarden-core/demo/credential-report.csv");
    let audit = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--report-time",
        "2026-11-20T12:00:00Z",
        "--now",
        "2026-11-20T12:00:00Z",
        "--format",
        "json",
    ]);
    let saved = dir.join("audit.json");
    std::fs::write(&saved, &audit.stdout).unwrap();
    let plan = keywarden(&[
        "plan",
        "--from",
        saved.to_str().unwrap(),
        "--now",
        "2026-11-20T12:00:00Z",
        "--format",
        "table",
    ]);
    // Findings left unplanned (here every key finding) make `plan` exit 2, as before.
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(!text.contains("deactivate-key"), "{text}");
    assert!(
        text.contains("key findings not planned: a credential report names a user's keys by slot (access_key_1, access_key_2), never by id"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "`keywarden plan --from {} --resolve-key-ids` reads the ids",
        saved.display()
    )));
    // A plan with every key id has no such paragraph: the demo's audit names none either, so
    // give one finding an id and check the count drops by one.
    let mut doc = stdout_json(&audit);
    let before = text
        .split(" key findings not planned")
        .next()
        .and_then(|t| t.rsplit('\n').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a count");
    let finding = doc["findings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["rule"] == "KEY001" && f["status"] == "fail")
        .unwrap();
    finding["access_key_id"] = serde_json::json!("AKIAEXAMPLEKEY000001");
    std::fs::write(&saved, doc.to_string()).unwrap();
    let plan = keywarden(&[
        "plan",
        "--from",
        saved.to_str().unwrap(),
        "--now",
        "2026-11-20T12:00:00Z",
        "--format",
        "table",
    ]);
    let text = stdout(&plan);
    assert!(text.contains("deactivate-key"), "{text}");
    assert!(
        text.contains(&format!("\n{} key finding", before - 1)),
        "{text}"
    );
}

// ----- point 8: terminal conventions -----

fn demo_table(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"));
    command
        .args(["demo", "--format", "table"])
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn colour_is_off_in_a_pipe_and_on_when_asked() {
    let piped = demo_table(&[], &[]);
    assert!(!piped.stdout.contains(&0x1b), "no colour in a pipe");
    let always = demo_table(&["--color", "always"], &[]);
    let text = stdout(&always);
    assert!(text.contains("\x1b[1;31mCRITICAL (2)\x1b[0m"), "{text}");
    assert!(
        text.contains("  \x1b[1;31mFAIL\x1b[0m      ROOT001"),
        "{text}"
    );
    // The same table once the codes are gone.
    let plain = text
        .replace("\x1b[0m", "")
        .replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[35m", "")
        .replace("\x1b[2m", "");
    assert_eq!(plain, stdout(&piped));
    // NO_COLOR turns `auto` off (here a pipe is off anyway; `never` is off everywhere).
    let never = demo_table(&["--color", "never"], &[("NO_COLOR", "1")]);
    assert_eq!(never.stdout, piped.stdout);
    let bad = demo_table(&["--color", "sometimes"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    // Other formats never carry colour.
    let json = |extra: &[&str]| {
        let mut args = vec!["demo", "--format", "json"];
        args.extend_from_slice(extra);
        keywarden(&args).stdout
    };
    assert_eq!(json(&["--color", "always"]), json(&[]));
}

#[test]
fn columns_wraps_the_table_and_loses_no_word() {
    let wide = demo_table(&[], &[]);
    let narrow = demo_table(&[], &[("COLUMNS", "80")]);
    let text = stdout(&narrow);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    assert!(stdout(&wide).lines().any(|l| l.chars().count() > 80));
    let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(&text), words(&stdout(&wide)));
}

#[test]
fn tables_write_instants_to_the_second_in_utc() {
    // No --now: the clock's time, which has nanoseconds; the table shows whole seconds.
    let report = repo_root().join("crates/keywarden-core/demo/credential-report.csv");
    let out = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--format",
        "table",
    ]);
    let text = stdout(&out);
    let header = text
        .lines()
        .find(|l| l.starts_with("audited at "))
        .unwrap_or_else(|| panic!("{text}"));
    let time = header.split(' ').nth(2).unwrap();
    assert_eq!(time.len(), "2026-11-20T12:00:00Z".len(), "{header}");
    assert!(time.ends_with('Z') && !time.contains('.'), "{header}");
    // The JSON keeps the clock's own precision.
    let json = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(stdout_json(&json)["generated_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
}

#[test]
fn key_counts_the_calls_read_for_the_key() {
    const KEY: &str = "AKIAAM80VXLJF8NPK4VC";
    let mut expected = 0;
    for entry in std::fs::read_dir(stratus()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let events: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        expected += events
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["userIdentity"]["accessKeyId"] == KEY)
            .count();
    }
    assert!(expected > 1);
    let out = keywarden(&["key", KEY, &stratus()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap().to_owned();
    assert!(first.starts_with(KEY), "{first}");
    assert!(first.contains("  account "), "{first}");
    assert!(
        first.ends_with(&format!("  {expected} calls read")),
        "{first}"
    );
    // The JSON document keeps its shape.
    let json = keywarden(&["key", KEY, &stratus(), "--format", "json"]);
    assert!(!stdout(&json).contains("calls"), "{}", stdout(&json));
}
