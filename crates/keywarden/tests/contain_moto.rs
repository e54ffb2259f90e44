//! `keywarden contain` end to end: the real binary against moto on 127.0.0.1
//! (`tests/moto/launcher.py`). The state is read back with boto3 from the launcher's venv.
//! moto does not evaluate the policies' conditions, so the documents are checked exactly as AWS
//! reads them: parsed JSON equal to what keywarden builds, times in `YYYY-MM-DDTHH:MM:SSZ`.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use support::cli::described;
use support::{repo_root, test_dir, Moto};

const NOW: &str = "2025-06-01T12:00:00Z";
/// NOW + 36 hours.
const LIFTS: &str = "2025-06-03T00:00:00Z";
/// The fixture's key, replaced by the scenario's.
const FIXTURE_KEY: &str = "AKIA6V1GNZTT65XQH36M";
const FIXTURE_SESSION: &str = "ASIASTJKC5GCM7ZE6LUP";

fn scenario() -> Value {
    json!({
        "now": NOW,
        "users": [
            {"name": "leaky", "created": "-100d",
             "access_keys": [{"created": "-90d", "last_used": "-1d"}]},
            {"name": "bystander", "created": "-100d",
             "access_keys": [{"created": "-90d", "last_used": "-1d"}]}
        ]
    })
}

/// `contain` or `undo` (commands that write, so at NOW through the test clock, not `--now`).
fn run(moto: &Moto, state: &Path, args: &[&str]) -> Output {
    let mut command = moto.keywarden_at(&moto.admin(), NOW);
    command.args(args).arg("--state-dir").arg(state);
    command.output().expect("run keywarden")
}

fn contain(moto: &Moto, state: &Path, key: &str, extra: &[&str]) -> Output {
    let mut args = vec!["contain", key];
    args.extend_from_slice(extra);
    run(moto, state, &args)
}

/// The user's keys and the two policies, read with boto3 (its IAM parser URL-decodes and parses
/// policy documents; the raw text is also returned to check it was URL-encoded on the wire).
fn read_back(moto: &Moto, user: &str) -> Value {
    let script = r#"
import json, sys, urllib.parse, boto3
endpoint, user = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIAKEYWARDENADMIN00", aws_secret_access_key="x")
raw = {}
def keep_raw(http_response, parsed, model, **kwargs):
    raw[parsed.get("PolicyName")] = http_response.text
iam.meta.events.register("after-call.iam.GetUserPolicy", keep_raw)
keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
policies = {}
for name in ["keywarden-revoke-sessions", "keywarden-quarantine"]:
    try:
        doc = iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"]
        policies[name] = doc if isinstance(doc, dict) else json.loads(urllib.parse.unquote(doc))
    except iam.exceptions.NoSuchEntityException:
        policies[name] = None
print(json.dumps({"keys": keys, "policies": policies, "encoded": any("%7B" in r for r in raw.values())}))
"#;
    let python = repo_root().join(".venv/bin/python");
    let out = Command::new(python)
        .args(["-c", script, moto.endpoint(), user])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", described(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn revocation(time: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "KeywardenRevokeOlderSessions", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": time}}}]})
}

fn quarantine(until: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "KeywardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": until}}}]})
}

fn is_aws_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The incident report's JSON, found by the run id in the stderr's paths, checked against
/// docs/schemas/incident-report.schema.json.
fn incident(out: &Output) -> (Value, String) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json_path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("keywarden: incident report (JSON): "))
        .unwrap_or_else(|| panic!("no report path:\n{}", described(out)));
    let md_path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("keywarden: incident report: "))
        .unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
    support::assert_matches_schema("incident-report", &report);
    (report, std::fs::read_to_string(md_path).unwrap())
}

#[test]
fn contain_deactivates_revokes_quarantines_reports_and_undoes() {
    let moto = Moto::start(&scenario());
    let state = test_dir("main");
    let key = moto.key_id("leaky", 0);
    let out = contain(&moto, &state, &key, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", described(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("A001") && stdout.contains("deactivate-key"),
        "{stdout}"
    );

    let state_now = read_back(&moto, "leaky");
    assert_eq!(state_now["keys"][&key], "Inactive", "{state_now}");
    assert_eq!(
        state_now["encoded"], true,
        "moto sends policy documents URL-encoded"
    );
    let revoke = &state_now["policies"]["keywarden-revoke-sessions"];
    let quarantined = &state_now["policies"]["keywarden-quarantine"];
    assert_eq!(revoke, &revocation(NOW));
    assert_eq!(quarantined, &quarantine(LIFTS));
    for time in [
        &revoke["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
        &quarantined["Statement"][0]["Condition"]["DateLessThan"]["aws:CurrentTime"],
    ] {
        assert!(is_aws_time(time.as_str().unwrap()), "{time}");
    }
    // The other user is untouched.
    let other = read_back(&moto, "bystander");
    assert_eq!(other["policies"]["keywarden-quarantine"], Value::Null);

    // The incident report: in <state>/incidents/, named by the run id, every step.
    let (report, markdown) = incident(&out);
    let run_id = report["run_id"].as_str().unwrap().to_owned();
    assert!(state
        .join("incidents")
        .join(format!("{run_id}.json"))
        .exists());
    assert!(state
        .join("incidents")
        .join(format!("{run_id}.md"))
        .exists());
    assert_eq!(report["access_key_id"], key);
    assert_eq!(report["owner"], "leaky");
    assert_eq!(report["status"], "contained");
    assert_eq!(report["quarantine_until"], LIFTS);
    assert_eq!(report["undo"], format!("keywarden undo {run_id}"));
    let steps: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("deactivate-key", "done"),
            ("revoke-sessions", "done"),
            ("quarantine", "done")
        ]
    );
    let sent: Value =
        serde_json::from_str(report["policies"][0]["document"].as_str().unwrap()).unwrap();
    assert_eq!(sent, revocation(NOW));
    assert!(
        markdown.contains(&format!("keywarden undo {run_id}")),
        "{markdown}"
    );

    // Twice: no harm, exit 0; the key was already inactive.
    let again = contain(&moto, &state, &key, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", described(&again));
    let (second, _) = incident(&again);
    assert_eq!(second["steps"][0]["outcome"], "already-done");

    // Undo the first run: the key is active again and both policies are gone.
    let undo = run(&moto, &state, &["undo", &run_id]);
    assert_eq!(undo.status.code(), Some(0), "{}", described(&undo));
    let after = read_back(&moto, "leaky");
    assert_eq!(after["keys"][&key], "Active", "{after}");
    assert_eq!(
        after["policies"]["keywarden-revoke-sessions"],
        Value::Null,
        "{after}"
    );
    assert_eq!(
        after["policies"]["keywarden-quarantine"],
        Value::Null,
        "{after}"
    );
}

#[test]
fn contain_with_trail_lists_the_sessions_the_key_minted() {
    let moto = Moto::start(&scenario());
    let state = test_dir("trail");
    let key = moto.key_id("leaky", 0);
    let logs = state.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/contain/aws.persistence.sts-federation-token.json");
    let events = std::fs::read_to_string(fixture)
        .unwrap()
        .replace(FIXTURE_KEY, &key);
    std::fs::write(logs.join("events.json"), events).unwrap();
    let reports = state.join("reports");
    let out = contain(
        &moto,
        &state,
        &key,
        &[
            "--trail",
            logs.to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", described(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(FIXTURE_SESSION), "{stdout}");
    let (report, markdown) = incident(&out);
    assert!(std::fs::read_dir(&reports).unwrap().count() == 2);
    let sessions = report["trail"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{report}");
    let s = &sessions[0];
    assert_eq!(s["access_key_id"], FIXTURE_SESSION);
    assert_eq!(s["minted_with"], "GetFederationToken");
    assert_eq!(s["minted_at"], "2024-11-30T08:43:17Z");
    assert_eq!(s["source_ip"], "255.090.254.5");
    assert_eq!(
        s["events"],
        json!([{"event_name": "GetCallerIdentity", "count": 1}])
    );
    assert!(markdown.contains(FIXTURE_SESSION), "{markdown}");
}

#[test]
fn contain_refuses_a_session_key_and_an_unknown_key() {
    let moto = Moto::start(&scenario());
    let state = test_dir("refusals");
    let session = contain(&moto, &state, FIXTURE_SESSION, &[]);
    assert_eq!(session.status.code(), Some(2), "{}", described(&session));
    assert!(
        described(&session).contains("long-term key"),
        "{}",
        described(&session)
    );
    let unknown = contain(&moto, &state, "AKIAIOSFODNN7UNKNOWN", &[]);
    assert_eq!(unknown.status.code(), Some(2), "{}", described(&unknown));
    assert!(
        described(&unknown).contains("nothing was changed"),
        "{}",
        described(&unknown)
    );
    assert!(!state.join("incidents").exists());
}
