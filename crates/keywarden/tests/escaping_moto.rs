//! Output that an attacker writes into, through the real binary against moto
//! (`tests/moto/launcher.py`): the commands that need AWS (`plan`, `apply`, `runs`, `undo`,
//! `contain`) print names that a hostile account holds and CloudTrail fields a hostile caller
//! wrote. Their terminal tables must show control and Bidi characters escaped, and the incident
//! report's Markdown must render them as text (no HTML, no link, no extra table cell).
//!
//! No `--now` on the commands that write: the scenarios' times are relative to the wall clock.

mod support;

/// In a module of its own, so `-E 'test(/escaping/)'` selects these tests.
mod escaping {
    use super::support;
    use serde_json::{json, Value};
    use std::path::Path;
    use std::process::Output;
    use support::cli::described;
    use support::{test_dir, Moto};

    /// An IAM user name as a hostile account (or a fake AWS endpoint) can return it: an 8-bit
    /// CSI (`U+009B`, "clear the screen" on terminals that read C1 controls) and a right-to-left
    /// override. Both are legal in the XML IAM answers in, unlike ESC itself.
    const HOSTILE_USER: &str = "stale\u{9b}2J\u{202e}gpj.exe";
    const SHOWN_USER: &str = "stale\\u{9b}2J\\u{202e}gpj.exe";

    fn run(moto: &Moto, state: &Path, args: &[&str]) -> Output {
        moto.keywarden(&moto.admin())
            .args(args)
            .arg("--state-dir")
            .arg(state)
            .output()
            .expect("run keywarden")
    }

    /// What a terminal acts on or hides (listed independently of the code under test): control
    /// characters other than the line feeds between lines, and Bidi and zero-width characters.
    fn assert_terminal_safe(what: &str, out: &Output) {
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let shown = String::from_utf8_lossy(bytes);
            let raw: Vec<char> = shown
                .chars()
                .filter(|&c| {
                    (c.is_control() && c != '\n')
                        || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
                })
                .collect();
            assert!(
                raw.is_empty(),
                "{what}: {stream} lets {raw:?} reach the terminal\n{}",
                described(out)
            );
        }
    }

    #[test]
    fn plan_apply_runs_and_undo_tables_escape_a_hostile_user_name() {
        // Last used 100 days ago: KEY001, a `safe` deactivation apply runs by default.
        let moto = Moto::start(&json!({
            "users": [{"name": HOSTILE_USER, "created": "-400d",
                       "access_keys": [{"created": "-400d", "last_used": "-100d"}]}],
            "root": {"mfa": true, "password_last_used": "-5d"},
            "trails": [{"name": "org-trail"}],
            "credential_report": {"aws_shape": true, "generated": "-2h"}
        }));
        let state = test_dir("tables");
        let plan = state.join("plan.json");
        let out = run(
            &moto,
            &state,
            &["plan", "--out", plan.to_str().unwrap(), "--format", "table"],
        );
        assert_terminal_safe("plan", &out);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(stdout.contains(SHOWN_USER), "{}", described(&out));

        let out = run(
            &moto,
            &state,
            &["apply", plan.to_str().unwrap(), "--format", "table"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", described(&out));
        assert_terminal_safe("apply", &out);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(stdout.contains(SHOWN_USER), "{}", described(&out));
        let run_id = stdout
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Run "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no run id\n{}", described(&out)))
            .to_owned();

        let out = run(&moto, &state, &["runs", &run_id, "--format", "table"]);
        assert_eq!(out.status.code(), Some(0), "{}", described(&out));
        assert_terminal_safe("runs RUN_ID", &out);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(SHOWN_USER),
            "{}",
            described(&out)
        );

        let out = run(&moto, &state, &["undo", &run_id, "--format", "table"]);
        assert_eq!(out.status.code(), Some(0), "{}", described(&out));
        assert_terminal_safe("undo", &out);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(SHOWN_USER),
            "{}",
            described(&out)
        );

        let out = run(&moto, &state, &["runs", "--format", "table"]);
        assert_eq!(out.status.code(), Some(0), "{}", described(&out));
        assert_terminal_safe("runs", &out);
    }

    /// The CloudTrail fixture of contain's tests (a key mints a federation session, which calls
    /// GetCallerIdentity), with the fields an attacker controls rewritten: the source IP of the
    /// minting call, and the name of the call the session made.
    const FIXTURE_KEY: &str = "AKIA6V1GNZTT65XQH36M";
    const FIXTURE_IP: &str = "255.090.254.5";
    const HOSTILE_IP: &str = "<img src=x onerror=alert(1)>\u{1b}[2J";
    const HOSTILE_EVENT: &str = "Get|[click](javascript:alert(1))";

    #[test]
    fn contain_incident_report_markdown_renders_hostile_fields_as_text() {
        // The owner's name closes the code span it used to sit in and opens a link.
        let owner = "leaky`|[x](javascript:alert(1))";
        let moto = Moto::start(&json!({
            "users": [{"name": owner, "created": "-100d",
                       "access_keys": [{"created": "-90d", "last_used": "-1d"}]}]
        }));
        let state = test_dir("contain");
        let key = moto.key_id(owner, 0);
        let logs = state.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/contain/aws.persistence.sts-federation-token.json");
        let mut events: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        for event in events.as_array_mut().expect("an array of records") {
            if event["sourceIPAddress"] == FIXTURE_IP {
                event["sourceIPAddress"] = json!(HOSTILE_IP);
            }
            if event["eventName"] == "GetCallerIdentity" {
                event["eventName"] = json!(HOSTILE_EVENT);
            }
        }
        let events = serde_json::to_string(&events)
            .unwrap()
            .replace(FIXTURE_KEY, &key);
        std::fs::write(logs.join("events.json"), events).unwrap();
        let reports = state.join("reports");
        let out = run(
            &moto,
            &state,
            &[
                "contain",
                &key,
                "--trail",
                logs.to_str().unwrap(),
                "--report-dir",
                reports.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", described(&out));
        assert_terminal_safe("contain", &out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let read = |prefix: &str| {
            let path = stderr
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}`\n{}", described(&out)));
            std::fs::read_to_string(path).unwrap()
        };
        let markdown = read("keywarden: incident report: ");
        let report: Value = serde_json::from_str(&read("keywarden: incident report (JSON): "))
            .expect("the JSON report");

        // The JSON report keeps the exact values.
        assert_eq!(report["owner"], owner);
        assert_eq!(report["trail"]["sessions"][0]["source_ip"], HOSTILE_IP);

        // The Markdown renders them as text: no tag, no link, no control character, and the
        // table rows keep their cell count.
        // An occurrence counts when the character before it is not the escaping backslash.
        let unescaped = |needle: &str| {
            markdown
                .match_indices(needle)
                .any(|(i, _)| !markdown[..i].ends_with('\\'))
        };
        for raw in ["<img", "[x](", "[click](", "`|", "\u{1b}"] {
            assert!(!unescaped(raw), "`{raw}` unescaped in:\n{markdown}");
        }
        for shown in [
            "\\<img src=x onerror=alert(1)\\>\\\\u{1b}\\[2J",
            "Get\\|\\[click\\](javascript:alert(1))",
            "leaky\\`\\|\\[x\\](javascript:alert(1))",
        ] {
            assert!(markdown.contains(shown), "`{shown}` not in:\n{markdown}");
        }
        let unescaped_pipes = |line: &str| {
            let mut count = 0;
            let mut escaped = false;
            for c in line.chars() {
                if c == '|' && !escaped {
                    count += 1;
                }
                escaped = !escaped && c == '\\';
            }
            count
        };
        let session_rows: Vec<&str> = markdown
            .lines()
            .skip_while(|l| !l.starts_with("### Sessions the key minted"))
            .filter(|l| l.starts_with('|'))
            .collect();
        assert_eq!(
            session_rows.len(),
            3,
            "header, rule, one session:\n{markdown}"
        );
        for row in &session_rows {
            assert_eq!(unescaped_pipes(row), 10, "nine cells in `{row}`");
        }
        let owner_row = markdown
            .lines()
            .find(|l| l.starts_with("| Owner |"))
            .expect("the owner row");
        assert_eq!(unescaped_pipes(owner_row), 3, "two cells in `{owner_row}`");
    }
}
