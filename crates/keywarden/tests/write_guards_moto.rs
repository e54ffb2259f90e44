//! Commands that write to AWS take no clock override and no test hook from a release build.
//!
//! `--now` on `apply`, `undo`, `rotate` or `contain` would stamp real writes with a shifted time
//! and let grace periods pass early (a plan's `not_before`, a two-phase delete's
//! `delete_after_days`): those commands refuse it before anything is read or written, while
//! read-only commands (`plan`, `audit`, `runs`...) keep it. The crash hook and the test clock
//! (`KEYWARDEN_TEST_CRASH`, `KEYWARDEN_TEST_NOW`) are compiled only with the `test-hooks` cargo
//! feature, checked here in the source (a tidy test) and, in a build without the feature,
//! through the binary.

mod support;

/// In a module of its own, so `-E 'test(/write_guards/)'` selects these tests.
mod write_guards {
    use super::support;
    use serde_json::json;
    use std::path::Path;
    use std::process::{Command, Output};
    use support::cli::text;
    use support::scenario::{clean_account, stale_user, NOW};
    use support::{repo_root, rust_files, test_dir, Moto};

    /// A day later: what an operator would pass to act "after the grace period" today.
    const LATER: &str = "2025-06-02T12:00:00Z";

    /// keywarden with an empty environment and an endpoint nothing listens on: a refusal must
    /// come before any AWS call.
    fn offline(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_keywarden"))
            .env_clear()
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
            .env("AWS_MAX_ATTEMPTS", "1")
            .args(args)
            .output()
            .expect("run keywarden")
    }

    fn assert_refused(out: &Output, command: &str, state: &Path) {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("--now is refused on commands that write"),
            "{command}: {stderr}"
        );
        assert!(
            !state.exists(),
            "{command}: the state folder {} was created",
            state.display()
        );
    }

    #[test]
    fn apply_with_now_is_refused_and_writes_nothing() {
        // An operator wants the plan's deactivation "now, a day later": the key must stay.
        let moto = Moto::start(&clean_account(json!([stale_user()])));
        let dir = test_dir("apply");
        let plan = dir.join("plan.json");
        // `plan` only reads: it keeps --now.
        let planned = moto
            .keywarden(&moto.admin())
            .args(["plan", "--now", NOW, "--format", "json", "--out"])
            .arg(&plan)
            .arg("--state-dir")
            .arg(dir.join("plan-state"))
            .output()
            .unwrap();
        assert!(
            planned.status.code() == Some(0) || planned.status.code() == Some(1),
            "plan: {}",
            text(&planned.stderr)
        );
        let plan_text = std::fs::read_to_string(&plan).expect("the plan file");
        assert!(plan_text.contains("deactivate-key"), "{plan_text}");

        let state = dir.join("state");
        let out = moto
            .keywarden(&moto.admin())
            .args(["apply", plan.to_str().unwrap(), "--now", LATER])
            .args(["--format", "json", "--state-dir"])
            .arg(&state)
            .output()
            .unwrap();
        assert_refused(&out, "apply", &state);
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        // The key is still Active.
        let listed = Command::new(repo_root().join(".venv/bin/python"))
            .arg("-c")
            .arg(
                "import boto3, json, os\n\
                 c = boto3.client('iam', endpoint_url=os.environ['EP'], region_name='us-east-1', \
                 aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'])\n\
                 print(json.dumps([k['Status'] for k in \
                 c.list_access_keys(UserName='stale')['AccessKeyMetadata']]))",
            )
            .env("EP", moto.endpoint())
            .env("AK", moto.admin().access_key_id)
            .env("SK", moto.admin().secret_access_key)
            .output()
            .unwrap();
        assert_eq!(text(&listed.stdout).trim(), r#"["Active"]"#);
    }

    #[test]
    fn undo_rotate_and_contain_with_now_are_refused_before_any_call() {
        let dir = test_dir("others");
        let state = dir.join("state");
        let state_arg = state.to_str().unwrap();
        for args in [
            vec!["undo", "R-20250601-000000-0000", "--now", LATER],
            vec!["rotate", "alice", "--show-secret", "--now", LATER],
            vec!["contain", "AKIAIOSFODNN7EXAMPLE", "--now", LATER],
        ] {
            let mut all = args.clone();
            all.extend(["--state-dir", state_arg]);
            let out = offline(&all);
            assert_refused(&out, args[0], &state);
            assert!(out.stdout.is_empty(), "{}: {}", args[0], text(&out.stdout));
        }
    }

    #[test]
    fn read_only_commands_keep_now() {
        let dir = test_dir("read-only");
        let out = offline(&[
            "runs",
            "--now",
            NOW,
            "--format",
            "json",
            "--state-dir",
            dir.join("state").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }

    #[test]
    fn the_test_hooks_are_compiled_only_with_the_test_hooks_feature() {
        let root = repo_root();
        let hooks = root.join("crates/keywarden/src/test_hooks.rs");
        // No source file of any crate but the hooks module has a hook variable's name as a
        // string (what reading the variable takes; documentation may name it in backquotes).
        let mut files = Vec::new();
        for entry in std::fs::read_dir(root.join("crates")).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                rust_files(&src, &mut files);
            }
        }
        assert!(files.len() > 20, "{files:?}");
        for file in &files {
            let code = std::fs::read_to_string(file).unwrap();
            if *file != hooks {
                assert!(
                    !code.contains("\"KEYWARDEN_TEST_"),
                    "{} reads a test hook outside src/test_hooks.rs",
                    file.display()
                );
            }
        }
        assert!(std::fs::read_to_string(&hooks)
            .unwrap()
            .contains("\"KEYWARDEN_TEST_CRASH\""));
        // The module is compiled only with the feature, and the feature is never a default.
        let main = std::fs::read_to_string(root.join("crates/keywarden/src/main.rs")).unwrap();
        assert!(
            main.contains("#[cfg(feature = \"test-hooks\")]\nmod test_hooks;"),
            "main.rs must declare `mod test_hooks;` under #[cfg(feature = \"test-hooks\")]"
        );
        let manifest = std::fs::read_to_string(root.join("crates/keywarden/Cargo.toml")).unwrap();
        let features = manifest
            .split("[features]")
            .nth(1)
            .expect("crates/keywarden/Cargo.toml has a [features] table");
        let features = features.split("\n[").next().unwrap();
        assert!(features.contains("test-hooks = []"), "{features}");
        assert!(
            !features
                .lines()
                .any(|l| l.trim_start().starts_with("default")),
            "no default features: {features}"
        );
    }

    /// A binary built without the feature ignores the hooks: a malformed crash point is no
    /// error, and a fixed clock is not used (`rotate` refuses a missing destination first, so
    /// nothing reaches AWS). With the feature, the same run rejects the malformed crash point.
    #[test]
    fn the_hooks_follow_the_feature_of_the_binary_under_test() {
        let dir = test_dir("hooks");
        let state = dir.join("state");
        let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
            .env_clear()
            .env("KEYWARDEN_TEST_CRASH", "somewhere")
            .args(["rotate", "alice", "--state-dir"])
            .arg(&state)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        if cfg!(feature = "test-hooks") {
            assert!(stderr.contains("KEYWARDEN_TEST_CRASH"), "{stderr}");
        } else {
            assert!(!stderr.contains("KEYWARDEN_TEST_CRASH"), "{stderr}");
            assert!(stderr.contains("--secret-file"), "{stderr}");
        }
    }
}
