//! `keywarden rotate` end to end: the real binary and the real AWS SDK against moto's server on
//! 127.0.0.1 (`tests/moto/launcher.py`). The new key is created in moto's IAM, its secret lands
//! only where asked (a 0600 file, a Secrets Manager secret read back with boto3, stdout), never
//! in standard error, the journal or the plan; the plan applies later and deactivates the old
//! key only when it was not used after the rotation.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::cli::text;
use support::{repo_root, test_dir, Moto, TEST_CRASH_VAR};

const NOW: &str = "2025-06-01T12:00:00Z";
/// After the deactivation's grace period (7 days), before the deletion's (14 days).
const AFTER_GRACE: &str = "2025-06-09T12:00:00Z";

fn scenario(users: Value) -> Value {
    json!({"now": NOW, "users": users})
}

/// alice: one active key, 100 days old, last used two days ago.
fn alice() -> Value {
    json!({"name": "alice", "created": "-200d",
           "access_keys": [{"created": "-100d", "last_used": "-2d"}]})
}

fn run(moto: &Moto, args: &[&str]) -> Output {
    moto.keywarden(&moto.admin())
        .args(args)
        .output()
        .expect("run keywarden")
}

/// A command that writes, acting at `now` (the binary's test clock: writes refuse `--now`).
fn run_at(moto: &Moto, now: &str, args: &[&str]) -> Output {
    moto.keywarden_at(&moto.admin(), now)
        .args(args)
        .output()
        .expect("run keywarden")
}

/// Runs a Python snippet with boto3 against the server (admin credentials: they touch no
/// fixture key's last-used date) and parses the JSON it prints.
fn boto(moto: &Moto, code: &str) -> Value {
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .arg("-c")
        .arg(format!(
            "import boto3, json, os\n\
             def client(name):\n    return boto3.client(name, endpoint_url=os.environ['EP'], \
             region_name='us-east-1', aws_access_key_id=os.environ['AK'], \
             aws_secret_access_key=os.environ['SK'])\n{code}"
        ))
        .env("EP", moto.endpoint())
        .env("AK", moto.admin().access_key_id)
        .env("SK", moto.admin().secret_access_key)
        .output()
        .expect("run python");
    assert!(out.status.success(), "python failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// The user's keys as moto has them: `[(id, status)]`.
fn keys(moto: &Moto, user: &str) -> Vec<(String, String)> {
    let listed = boto(
        moto,
        &format!(
            "r = client('iam').list_access_keys(UserName='{user}')\n\
             print(json.dumps([[k['AccessKeyId'], k['Status']] for k in r['AccessKeyMetadata']]))"
        ),
    );
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k[0].as_str().unwrap().to_owned(),
                k[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every byte of the journal files in the state folder.
fn journal_bytes(state: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal", "-shm"] {
        if let Ok(bytes) = std::fs::read(state.join(format!("journal.sqlite3{suffix}"))) {
            all.extend(bytes);
        }
    }
    assert!(!all.is_empty(), "no journal in {}", state.display());
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The credentials file's `aws_access_key_id` and `aws_secret_access_key`.
fn parse_credentials(text: &str) -> (String, String) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_prefix('=')
                    .map(str::trim)
            })
            .unwrap_or_else(|| panic!("no {name} in the credentials"))
            .to_owned()
    };
    (field("aws_access_key_id"), field("aws_secret_access_key"))
}

/// The plan path the summary names.
fn plan_path(stdout: &str) -> PathBuf {
    let line = stdout
        .lines()
        .find_map(|l| {
            l.trim_start_matches("# ")
                .strip_prefix("plan for the old key: ")
        })
        .unwrap_or_else(|| panic!("no plan in the summary:\n{stdout}"));
    PathBuf::from(line.trim())
}

fn apply(moto: &Moto, state: &Path, plan: &Path, now: &str) -> (Value, Output) {
    let out = run_at(
        moto,
        now,
        &[
            "apply",
            plan.to_str().unwrap(),
            "--format",
            "json",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "apply printed no JSON ({e}):\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    (report, out)
}

fn result_of<'a>(report: &'a Value, action: &str) -> &'a str {
    report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action_id"] == action)
        .unwrap_or_else(|| panic!("no {action} in {report}"))["result"]
        .as_str()
        .unwrap()
}

#[test]
fn rotate_to_a_secret_file_then_apply_deactivates_the_unused_old_key() {
    let moto = Moto::start(&scenario(json!([alice()])));
    let old = moto.key_id("alice", 0);
    let dir = test_dir("state");
    let state = dir.join("state");
    let file = dir.join("alice.credentials");
    let out = run_at(
        &moto,
        NOW,
        &[
            "rotate",
            "alice",
            "--secret-file",
            file.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    // The file: mode 0600, the new key and its secret.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let (new_key, secret) = parse_credentials(&std::fs::read_to_string(&file).unwrap());
    assert_ne!(new_key, old);
    assert!(secret.len() >= 20, "{secret}");
    let now_keys = keys(&moto, "alice");
    assert_eq!(
        now_keys,
        [
            (old.clone(), "Active".to_owned()),
            (new_key.clone(), "Active".to_owned())
        ]
    );

    // The secret is nowhere else.
    assert!(stdout.contains(&new_key), "{stdout}");
    assert!(!stdout.contains(&secret), "the secret is on stdout");
    assert!(!stderr.contains(&secret), "the secret is on stderr");
    assert!(
        !contains(&journal_bytes(&state), &secret),
        "the secret is in the journal"
    );
    let plan = plan_path(&stdout);
    assert!(plan.starts_with(state.join("plans")), "{}", plan.display());
    let plan_text = std::fs::read_to_string(&plan).unwrap();
    assert!(!plan_text.contains(&secret), "the secret is in the plan");
    let plan_json: Value = serde_json::from_str(&plan_text).unwrap();
    assert_eq!(plan_json["source"]["kind"], "rotation");
    assert_eq!(plan_json["actions"][0]["access_key_id"], old.as_str());
    assert_eq!(
        plan_json["actions"][0]["not_before"],
        "2025-06-08T12:00:00Z"
    );
    assert_eq!(
        plan_json["actions"][1]["not_before"],
        "2025-06-15T12:00:00Z"
    );

    // Before the grace period: nothing happens.
    let (report, out) = apply(&moto, &state, &plan, "2025-06-02T12:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(result_of(&report, "A001"), "not-due");
    // After it: the old key, unused since the rotation, is deactivated; its deletion waits.
    let (report, out) = apply(&moto, &state, &plan, AFTER_GRACE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}\n{}",
        text(&out.stderr)
    );
    assert_eq!(result_of(&report, "A001"), "done", "{report}");
    assert_eq!(result_of(&report, "A002"), "not-attempted", "{report}");
    assert_eq!(
        keys(&moto, "alice"),
        [(old, "Inactive".to_owned()), (new_key, "Active".to_owned())]
    );
}

#[test]
fn rotate_plan_skips_the_deactivation_when_the_old_key_was_used_after_the_rotation() {
    let moto = Moto::start(&scenario(json!([alice()])));
    let old = moto.key_id("alice", 0);
    let old_secret = moto.info["users"]["alice"][0]["secret_access_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = test_dir("state");
    let state = dir.join("state");
    let plan = dir.join("rotation-plan.json");
    let out = run_at(
        &moto,
        NOW,
        &[
            "rotate",
            "alice",
            "--show-secret",
            "--state-dir",
            state.to_str().unwrap(),
            "--plan-out",
            plan.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let (new_key, secret) = parse_credentials(&stdout);
    assert!(stdout.contains("[default]"), "{stdout}");
    // The summary after the credentials is made of comments: stdout stays a credentials file.
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with('#') || l.starts_with('[') || l.starts_with("aws_")),
        "{stdout}"
    );
    assert!(!stderr.contains(&secret));
    assert!(!contains(&journal_bytes(&state), &secret));
    assert_eq!(plan_path(&stdout), plan);

    // A workload still signs with the old key: moto dates its last use now (after NOW).
    let signed = boto(
        &moto,
        &format!(
            "s = boto3.client('sts', endpoint_url=os.environ['EP'], region_name='us-east-1', \
             aws_access_key_id='{old}', aws_secret_access_key='{old_secret}')\n\
             s.get_caller_identity()\n\
             r = client('iam').get_access_key_last_used(AccessKeyId='{old}')\n\
             print(json.dumps(str(r['AccessKeyLastUsed'].get('LastUsedDate'))))"
        ),
    );
    assert!(!signed.as_str().unwrap().starts_with("2025-05"), "{signed}");

    let (report, out) = apply(&moto, &state, &plan, AFTER_GRACE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}\n{}",
        text(&out.stderr)
    );
    assert_eq!(result_of(&report, "A001"), "skipped", "{report}");
    assert_eq!(
        keys(&moto, "alice"),
        [(old, "Active".to_owned()), (new_key, "Active".to_owned())]
    );
}

#[test]
fn rotate_to_secrets_manager_stores_the_key_and_a_taken_name_removes_it() {
    let moto = Moto::start(&scenario(json!([
        alice(),
        {"name": "bob", "created": "-50d", "access_keys": [{"created": "-40d"}]}
    ])));
    let dir = test_dir("state");
    let state = dir.join("state");
    let state_arg = state.to_str().unwrap();
    let out = run_at(
        &moto,
        NOW,
        &[
            "rotate",
            "alice",
            "--secrets-manager",
            "prod/alice/aws",
            "--state-dir",
            state_arg,
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let stored = boto(
        &moto,
        "r = client('secretsmanager').get_secret_value(SecretId='prod/alice/aws')\n\
         print(r['SecretString'])",
    );
    let new_key = stored["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = stored["SecretAccessKey"].as_str().unwrap().to_owned();
    assert!(keys(&moto, "alice").iter().any(|(id, _)| *id == new_key));
    assert!(
        stdout.contains(&new_key) && stdout.contains("prod/alice/aws"),
        "{stdout}"
    );
    for (what, bytes) in [
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("journal", journal_bytes(&state)),
    ] {
        assert!(!contains(&bytes, &secret), "the secret is in {what}");
    }

    // bob's new key cannot be handed over (the name is taken): it is removed, exit 2.
    let bob_old = moto.key_id("bob", 0);
    let out = run_at(
        &moto,
        NOW,
        &[
            "rotate",
            "bob",
            "--secrets-manager",
            "prod/alice/aws",
            "--state-dir",
            state_arg,
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ResourceExistsException"), "{stderr}");
    assert!(stderr.contains("removed"), "{stderr}");
    assert_eq!(keys(&moto, "bob"), [(bob_old, "Active".to_owned())]);
    // alice's secret is untouched.
    let again = boto(
        &moto,
        "r = client('secretsmanager').get_secret_value(SecretId='prod/alice/aws')\n\
         print(r['SecretString'])",
    );
    assert_eq!(again["AccessKeyId"], new_key.as_str());
}

#[test]
fn rotate_refuses_a_user_with_two_keys_and_a_missing_destination() {
    let moto = Moto::start(&scenario(json!([
        {"name": "pair", "created": "-50d",
         "access_keys": [{"created": "-40d"}, {"created": "-30d", "status": "Inactive"}]}
    ])));
    let dir = test_dir("state");
    let state = dir.join("state");
    let state_arg = state.to_str().unwrap();
    let out = run(
        &moto,
        &["rotate", "pair", "--show-secret", "--state-dir", state_arg],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("two access keys"), "{stderr}");
    assert!(text(&out.stdout).is_empty());
    assert_eq!(keys(&moto, "pair").len(), 2);

    let out = run(&moto, &["rotate", "pair", "--state-dir", state_arg]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--secret-file"), "{stderr}");

    // An existing secret file is refused before anything is created.
    let file = dir.join("exists");
    std::fs::write(&file, "keep").unwrap();
    let moto2 = Moto::start(&scenario(json!([alice()])));
    let out = run(
        &moto2,
        &[
            "rotate",
            "alice",
            "--secret-file",
            file.to_str().unwrap(),
            "--state-dir",
            state_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("exists"));
    assert_eq!(keys(&moto2, "alice").len(), 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}

#[test]
fn rotate_after_a_crash_past_create_access_key_removes_the_orphan_key() {
    let moto = Moto::start(&scenario(json!([alice()])));
    let old = moto.key_id("alice", 0);
    let dir = test_dir("state");
    let state = dir.join("state");
    let state_arg = state.to_str().unwrap();
    // Killed after AWS created the key, before the outcome was journaled: the secret is lost.
    let crashed = moto
        .keywarden_at(&moto.admin(), NOW)
        .env(TEST_CRASH_VAR, "after-call:create-key")
        .args(["rotate", "alice", "--show-secret"])
        .args(["--state-dir", state_arg])
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    assert!(crashed.stdout.is_empty(), "{}", text(&crashed.stdout));
    let after_crash = keys(&moto, "alice");
    assert_eq!(after_crash.len(), 2, "{after_crash:?}");
    let orphan = after_crash[1].0.clone();

    let file = dir.join("alice.credentials");
    let out = run_at(
        &moto,
        NOW,
        &[
            "rotate",
            "alice",
            "--secret-file",
            file.to_str().unwrap(),
            "--state-dir",
            state_arg,
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("earlier rotation") && stderr.contains(&orphan),
        "{stderr}"
    );
    let (new_key, _) = parse_credentials(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        keys(&moto, "alice"),
        [
            (old.clone(), "Active".to_owned()),
            (new_key, "Active".to_owned())
        ]
    );
    // The plan is for the old key, never the orphan.
    let plan = std::fs::read_to_string(plan_path(&stdout)).unwrap();
    assert!(plan.contains(&old) && !plan.contains(&orphan), "{plan}");
}

/// `keywarden rotate alice --secrets-manager NAME` as the admin at NOW, killed at `crash` (a
/// `KEYWARDEN_TEST_CRASH` point) when one is given.
fn rotate_to_secret(moto: &Moto, state: &Path, name: &str, crash: Option<&str>) -> Output {
    let mut command = moto.keywarden_at(&moto.admin(), NOW);
    if let Some(point) = crash {
        command.env(TEST_CRASH_VAR, point);
    }
    command
        .args(["rotate", "alice", "--secrets-manager", name, "--state-dir"])
        .arg(state)
        .output()
        .expect("run keywarden")
}

/// The secret stored under `name`, as boto3 reads it: `{"AccessKeyId", "SecretAccessKey"}`.
fn stored_secret(moto: &Moto, name: &str) -> Value {
    boto(
        moto,
        &format!(
            "r = client('secretsmanager').get_secret_value(SecretId='{name}')\n\
             print(r['SecretString'])"
        ),
    )
}

/// The journal's step `action_id` of the rotation that was interrupted (settled since).
fn interrupted_step(moto: &Moto, state: &Path, action_id: &str) -> Value {
    let runs = runs_json(moto, state, None);
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "interrupted")
        .unwrap_or_else(|| panic!("no interrupted run in {runs:#}"));
    let journal = runs_json(moto, state, Some(run["run_id"].as_str().unwrap()));
    journal["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action_id"] == action_id)
        .unwrap_or_else(|| panic!("no {action_id} in {journal:#}"))
        .clone()
}

#[test]
fn rotate_killed_around_its_hand_over_is_settled_by_reading_secrets_manager() {
    // Killed after CreateSecret: the secret is stored, so the next rotation finds it (already
    // done), keeps the key and refuses a third. Killed before: the key's secret died with the
    // process, so the next rotation removes that key, then rotates.
    for (point, stored) in [
        ("after-call:hand-over", true),
        ("after-intent:hand-over", false),
    ] {
        let moto = Moto::start(&scenario(json!([alice()])));
        let old = moto.key_id("alice", 0);
        let state = test_dir(&point.replace(':', "-")).join("state");
        let crashed = rotate_to_secret(&moto, &state, "prod/alice", Some(point));
        assert!(!crashed.status.success(), "{point}");
        assert!(crashed.stdout.is_empty(), "{}", text(&crashed.stdout));
        let after_crash = keys(&moto, "alice");
        assert_eq!(after_crash.len(), 2, "{point}: {after_crash:?}");
        let created = after_crash
            .iter()
            .find(|(id, _)| *id != old)
            .unwrap()
            .0
            .clone();

        let out = rotate_to_secret(&moto, &state, "prod/alice-2", None);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let step = interrupted_step(&moto, &state, "hand-over");
        if stored {
            assert_eq!(out.status.code(), Some(2), "{point}\n{stderr}");
            assert!(stderr.contains("two access keys"), "{stderr}");
            assert_eq!(step["outcome"], "already_done", "{step:#}");
            let secret = stored_secret(&moto, "prod/alice");
            assert_eq!(secret["AccessKeyId"], created.as_str());
            let value = secret["SecretAccessKey"].as_str().unwrap();
            assert!(
                !contains(&journal_bytes(&state), value),
                "the secret is in the journal"
            );
            assert!(keys(&moto, "alice").iter().any(|(id, _)| *id == created));
        } else {
            assert_eq!(out.status.code(), Some(0), "{point}\n{stdout}\n{stderr}");
            assert_eq!(step["outcome"], "abandoned", "{step:#}");
            assert!(
                stderr.contains(&created) && stderr.contains("removed"),
                "{stderr}"
            );
            let now = keys(&moto, "alice");
            assert_eq!(now.len(), 2, "{now:?}");
            assert!(now.iter().all(|(id, _)| *id != created), "{now:?}");
            let secret = stored_secret(&moto, "prod/alice-2");
            let new_key = secret["AccessKeyId"].as_str().unwrap();
            assert!(now.iter().any(|(id, _)| id == new_key), "{now:?}");
        }
    }
}

#[test]
fn rotate_whose_create_access_key_reply_is_lost_removes_the_key_and_says_so() {
    // AWS creates the key, its reply (the only copy of the secret) is lost: a 500 after the
    // write. The key is found by listing (a key not among the old ones); it is useless without
    // its secret, so it is removed, and no second key is created (no SDK retry, no new call).
    let mut scenario = scenario(json!([alice()]));
    scenario["faults"] = json!([
        {"action": "CreateAccessKey", "status": 500, "code": "InternalFailure",
         "message": "the reply was lost", "after": true}
    ]);
    let moto = Moto::start(&scenario);
    let old = moto.key_id("alice", 0);
    let state = test_dir("state").join("state");
    let out = rotate_to_secret(&moto, &state, "prod/alice", None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for words in [
        "reply was lost",
        "cannot show it again",
        "was removed",
        "rotate alice` again",
    ] {
        assert!(stderr.contains(words), "{words:?} in {stderr}");
    }
    assert_eq!(keys(&moto, "alice"), [(old.clone(), "Active".to_owned())]);
    let secrets = boto(
        &moto,
        "print(json.dumps([s['Name'] for s in client('secretsmanager').list_secrets()['SecretList']]))",
    );
    assert_eq!(secrets, json!([]), "nothing was handed over");
    let runs = runs_json(&moto, &state, None);
    let run = runs[0]["run_id"].as_str().unwrap().to_owned();
    let journal = runs_json(&moto, &state, Some(&run));
    let outcome = |id: &str| {
        journal["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["action_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {journal:#}"))["outcome"]
            .clone()
    };
    assert_eq!(outcome("create-key"), "succeeded", "{journal:#}");
    assert_eq!(outcome("lost-reply/deactivate"), "succeeded", "{journal:#}");
    assert_eq!(outcome("lost-reply/delete"), "succeeded", "{journal:#}");

    // The fault fired once: the next rotation creates one key and hands it over.
    let out = rotate_to_secret(&moto, &state, "prod/alice", None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(keys(&moto, "alice").len(), 2);
}

// ----- Under moto's authorization, with exactly `keywarden permissions --command rotate` -----

/// `keywarden permissions --command rotate`, parsed.
fn rotate_policy() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["permissions", "--command", "rotate"])
        .env_clear()
        .output()
        .expect("run keywarden");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the policy is JSON")
}

/// alice (one key) in an account where the tool runs as `rotator`, whose only permissions are the
/// rotate policy; `faults` as the launcher takes them.
fn rotate_under_auth(faults: Value) -> Moto {
    let mut scenario = scenario(json!([alice()]));
    scenario["auth"] = json!({"principal": {"name": "rotator", "policy": rotate_policy()}});
    scenario["faults"] = faults;
    let moto = Moto::start(&scenario);
    assert_eq!(moto.info["auth_enforced"], true);
    moto
}

/// As [`boto`], signed with the principal's key (the admin credentials are refused once moto
/// enforces authorization).
fn boto_as_principal(moto: &Moto, code: &str) -> Value {
    let principal = moto.principal();
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .arg("-c")
        .arg(format!(
            "import boto3, json, os\n\
             def client(name):\n    return boto3.client(name, endpoint_url=os.environ['EP'], \
             region_name='us-east-1', aws_access_key_id=os.environ['AK'], \
             aws_secret_access_key=os.environ['SK'])\n{code}"
        ))
        .env("EP", moto.endpoint())
        .env("AK", &principal.access_key_id)
        .env("SK", &principal.secret_access_key)
        .output()
        .expect("run python");
    assert!(out.status.success(), "python failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// alice's keys, read with the principal's permissions: `[(id, status)]`.
fn alice_keys_as_principal(moto: &Moto) -> Vec<(String, String)> {
    let listed = boto_as_principal(
        moto,
        "r = client('iam').list_access_keys(UserName='alice')\n\
         print(json.dumps([[k['AccessKeyId'], k['Status']] for k in r['AccessKeyMetadata']]))",
    );
    serde_json::from_value(listed).unwrap()
}

/// Someone already stored a secret under `name`, so the hand-over to it fails.
fn take_secret_name(moto: &Moto, name: &str) {
    boto_as_principal(
        moto,
        &format!(
            "client('secretsmanager').create_secret(Name='{name}', SecretString='taken')\n\
             print('{{}}')"
        ),
    );
}

/// `keywarden rotate alice --secrets-manager NAME` as the principal, at NOW.
fn rotate_alice_to(moto: &Moto, state: &Path, name: &str) -> Output {
    moto.keywarden_at(&moto.principal(), NOW)
        .args(["rotate", "alice", "--secrets-manager", name, "--state-dir"])
        .arg(state)
        .output()
        .expect("run keywarden")
}

/// `keywarden runs [RUN] --format json` (read-only: no credentials needed).
fn runs_json(moto: &Moto, state: &Path, run: Option<&str>) -> Value {
    let out = moto
        .keywarden(&moto.admin())
        .arg("runs")
        .args(run)
        .args(["--format", "json", "--state-dir"])
        .arg(state)
        .output()
        .expect("run keywarden");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("runs printed JSON")
}

#[test]
fn rotate_under_its_own_policy_removes_the_key_it_could_not_hand_over() {
    // The Secrets Manager name is taken, so the new key's secret reaches nobody. With only the
    // policy `keywarden permissions --command rotate` prints, the key must still be removed.
    let moto = rotate_under_auth(json!([]));
    let old = moto.key_id("alice", 0);
    take_secret_name(&moto, "prod/alice/aws");
    let state = test_dir("state").join("state");
    let out = rotate_alice_to(&moto, &state, "prod/alice/aws");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ResourceExistsException"), "{stderr}");
    assert!(!stderr.contains("AccessDenied"), "{stderr}");
    assert!(stderr.contains("was removed"), "{stderr}");
    assert_eq!(
        alice_keys_as_principal(&moto),
        [(old, "Active".to_owned())],
        "only the old key is left\n{stderr}"
    );
}

#[test]
fn rotate_says_truthfully_when_the_new_key_stays_and_the_next_rotate_removes_it() {
    // The hand-over fails, then so does the removal of the new key (UpdateAccessKey denied once,
    // as a permissions boundary or an SCP would): the key stays Active, nobody has its secret.
    let moto = rotate_under_auth(json!([
        {"action": "UpdateAccessKey", "status": 403, "code": "AccessDenied",
         "message": "denied by a permissions boundary", "times": 1}
    ]));
    let old = moto.key_id("alice", 0);
    take_secret_name(&moto, "prod/alice/aws");
    let state = test_dir("state").join("state");
    let out = rotate_alice_to(&moto, &state, "prod/alice/aws");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let keys = alice_keys_as_principal(&moto);
    assert_eq!(keys.len(), 2, "{keys:?}");
    let (left, status) = keys.iter().find(|(id, _)| *id != old).unwrap().clone();
    assert_eq!(status, "Active");
    // The truth: which key, its status, and the command that removes it; never "removed".
    assert!(!stderr.contains("removed"), "{stderr}");
    assert!(
        stderr.contains(&format!("{left} of alice is still Active")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "aws iam delete-access-key --user-name alice --access-key-id {left}"
        )),
        "{stderr}"
    );
    // Journaled: the failed deactivation, and the deletion not attempted, naming the key.
    let runs = runs_json(&moto, &state, None);
    let run = runs[0]["run_id"].as_str().unwrap().to_owned();
    let journal = runs_json(&moto, &state, Some(&run));
    let steps = journal["steps"].as_array().unwrap();
    let step = |id: &str| {
        steps
            .iter()
            .find(|s| s["action_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {journal:#}"))
            .clone()
    };
    assert_eq!(step("cleanup/deactivate")["outcome"], "failed");
    assert_eq!(step("cleanup/deactivate")["code"], "AccessDenied");
    let skipped = step("cleanup/delete")["skipped"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        skipped.contains(&left) && skipped.contains("Active"),
        "{skipped}"
    );

    // The next rotation of alice removes the left-over key first, then rotates.
    let out = rotate_alice_to(&moto, &state, "prod/alice/aws-2");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("earlier rotation") && stderr.contains(&left),
        "{stderr}"
    );
    let keys = alice_keys_as_principal(&moto);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.contains(&(old.clone(), "Active".to_owned())),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|(id, _)| *id == left), "{keys:?}");

    // And a third rotation has nothing left to settle (the old key and the new one: refused).
    let out = rotate_alice_to(&moto, &state, "prod/alice/aws-3");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("two access keys"), "{stderr}");
    assert!(!stderr.contains("earlier rotation"), "{stderr}");
}
