//! Helpers for tests that run the real `keywarden` binary against moto's server on 127.0.0.1,
//! seeded by the project's launcher (`tests/moto/launcher.py`, documented in
//! `tests/moto/README.md`).
//!
//! [`Moto::start`] runs `scripts/ensure-moto.sh` (once per test binary; a failure fails the test,
//! it never skips), starts one launcher with a scenario and keeps its stdin pipe open: dropping the
//! [`Moto`] closes the pipe, so the server stops by itself even when the test panics.
//! [`Moto::audit`] runs `keywarden audit` with a cleared environment that reaches only that
//! server, and [`Audit`] gives the parsed JSON document, the exit status and the `--stats` counts.

// Each test binary that declares `mod support;` uses its own subset of these helpers.
#![allow(dead_code)]

pub mod both;
pub mod cli;
#[path = "../../../keywarden-app/tests/support/outcome.rs"]
pub mod outcome;
pub mod scenario;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long the launcher may take to print its JSON line (importing moto takes about 1 s; a
/// loaded CI machine running every test at once is slower).
const LAUNCHER_READY_TIMEOUT: Duration = Duration::from_secs(90);
/// A keywarden run against a local server takes well under a second; anything near this is a hang.
const KEYWARDEN_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary's test clock (`crates/keywarden/src/test_hooks.rs`): the time `apply`, `undo`,
/// `rotate` and `contain` act at, which refuse `--now`. Read only by a build with the
/// `test-hooks` feature.
pub const TEST_NOW_VAR: &str = "KEYWARDEN_TEST_NOW";
/// The binary's crash hook: `after-intent:ACTION_ID` or `after-call:ACTION_ID`.
pub const TEST_CRASH_VAR: &str = "KEYWARDEN_TEST_CRASH";

/// Fails the test, saying how to run it, when the binary under test was built without the
/// `test-hooks` feature (it would ignore [`TEST_NOW_VAR`] and [`TEST_CRASH_VAR`] and the test
/// would check the wrong thing). The test binary and the `keywarden` binary are built by the same
/// cargo command, with the same features.
pub fn require_test_hooks() {
    if !cfg!(feature = "test-hooks") {
        panic!(
            "this test needs the binary's test hooks: run it with `--features \
             keywarden/test-hooks` (scripts/test.sh does)"
        );
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, for the tests that read the sources.
pub fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// A fresh, empty scratch folder for one test: `group/test` under cargo's test temporary folder,
/// emptied first (left behind after the test, to look at).
/// The Python of the OCSF validator's venv (`scripts/ensure-ocsf.sh`, which installs it): a
/// missing validator fails the test, never skips it.
pub fn ocsf_python() -> PathBuf {
    let root = repo_root();
    let out = Command::new(root.join("scripts/ensure-ocsf.sh"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/ensure-ocsf.sh");
    assert!(
        out.status.success(),
        "scripts/ensure-ocsf.sh failed; the OCSF validator is required, this test does not skip:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub fn fresh_dir(group: &str, test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// The scratch directory for this binary's files (configs, launcher logs).
pub fn scratch_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("live-moto");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// A file in the scratch directory, named after the running test so parallel tests never share one.
pub fn scratch_file(name: &str, content: &str) -> PathBuf {
    let path = scratch_dir().join(format!("{}-{name}", test_name()));
    std::fs::write(&path, content).expect("write a scratch file");
    path
}

/// A fresh, empty folder in the scratch directory, named after the running test and `name`
/// (a state folder, a plan's folder).
pub fn test_dir(name: &str) -> PathBuf {
    let dir = test_path(name);
    std::fs::create_dir_all(&dir).expect("create a test folder");
    dir
}

/// As [`test_dir`], but not created: for a state folder the command under test must create.
pub fn test_path(name: &str) -> PathBuf {
    let dir = scratch_dir().join(format!("{}-{name}", test_name()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// libtest names each test's thread after the test.
fn test_name() -> String {
    thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-")
}

/// The venv python from `scripts/ensure-moto.sh`. Run once per binary: the script is idempotent
/// and locked, but each run costs a Python start-up.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = PYTHON.get_or_init(|| {
        let root = repo_root();
        let out = Command::new(root.join("scripts/ensure-moto.sh"))
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run scripts/ensure-moto.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/ensure-moto.sh failed ({}); moto is required, this test does not skip:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if path.as_os_str().is_empty() {
            return Err("scripts/ensure-moto.sh printed no python path".into());
        }
        Ok(path)
    });
    match result {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// Whether `doc` is valid against `docs/schemas/<kind>.schema.json` (the schema generated from
/// keywarden-output's wire types), checked by the `jsonschema` package of moto's venv: `Err`
/// holds the validator's message.
pub fn schema_check(kind: &str, doc: &Value) -> Result<(), String> {
    let schema = repo_root().join(format!("docs/schemas/{kind}.schema.json"));
    assert!(schema.is_file(), "no schema {}", schema.display());
    let mut child = Command::new(python())
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.validators.validator_for(schema).check_schema(schema)\n\
             jsonschema.validate(json.load(sys.stdin), schema)",
        ])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Fails the test unless `doc` is valid against the schema of `kind` (see [`schema_check`]).
pub fn assert_matches_schema(kind: &str, doc: &Value) {
    if let Err(message) = schema_check(kind, doc) {
        panic!("the {kind} document does not match docs/schemas/{kind}.schema.json:\n{message}\n{doc:#}");
    }
}

/// AWS credentials for the tool under test.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// One running launcher. Dropping it closes the launcher's stdin, which stops the server.
pub struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    /// The launcher's JSON line.
    pub info: Value,
}

impl Moto {
    /// Starts a launcher for `scenario` (the scenario goes through stdin, which then stays open as
    /// the launcher's lifeline) and waits for its JSON line.
    pub fn start(scenario: &Value) -> Moto {
        static LAUNCHES: AtomicUsize = AtomicUsize::new(0);
        let python = python();
        let log = scratch_dir().join(format!(
            "{}-launcher-{}.log",
            test_name(),
            LAUNCHES.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = Command::new(python)
            .arg(repo_root().join("tests/moto/launcher.py"))
            .arg("-")
            // A safety net only: the closed pipe is what stops it.
            .args(["--max-seconds", "300"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("create the launcher log"))
            .spawn()
            .expect("spawn tests/moto/launcher.py");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // From here on the guard owns the child, so a failure below still stops it.
        let mut moto = Moto {
            child,
            stdin: None,
            log,
            info: Value::Null,
        };
        writeln!(stdin, "{scenario}").expect("write the scenario to the launcher");
        stdin.flush().expect("flush the scenario");
        moto.stdin = Some(stdin);

        // read_line has no timeout: read on a thread so a stuck launcher fails the test.
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let result = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = sender.send(result);
        });
        let line = match receiver.recv_timeout(LAUNCHER_READY_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => panic!("reading the launcher's JSON line: {e}\n{}", moto.log_text()),
            Err(_) => panic!(
                "the launcher printed no JSON line within {LAUNCHER_READY_TIMEOUT:?}\n{}",
                moto.log_text()
            ),
        };
        moto.info = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "the launcher's line is not JSON ({e}): {line:?}\n{}",
                moto.log_text()
            )
        });
        if let Some(error) = moto.info.get("error") {
            panic!(
                "the launcher refused the scenario: {error}\n{}",
                moto.log_text()
            );
        }
        moto
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("---- launcher stderr ({}) ----\n{text}", self.log.display())
    }

    pub fn endpoint(&self) -> &str {
        self.info["endpoint"].as_str().expect("endpoint")
    }

    /// The scenario's fixed time, for `--now`.
    pub fn now(&self) -> &str {
        self.info["now"].as_str().expect("now")
    }

    /// The real id of a fixture user's key, in scenario order.
    pub fn key_id(&self, user: &str, index: usize) -> String {
        self.info["users"][user][index]["access_key_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no key {index} for {user} in the launcher's line"))
            .to_owned()
    }

    /// The launcher's admin credentials: not an IAM key in moto, so using them leaves every
    /// fixture key's last-used date alone (moto rewrites it for any request a key signs).
    pub fn admin(&self) -> Credentials {
        Credentials {
            access_key_id: self.info["access_key_id"].as_str().unwrap().to_owned(),
            secret_access_key: self.info["secret_access_key"].as_str().unwrap().to_owned(),
        }
    }

    /// The scenario's `auth.principal`: a real IAM user with an inline policy.
    pub fn principal(&self) -> Credentials {
        let principal = &self.info["principal"];
        Credentials {
            access_key_id: principal["access_key_id"]
                .as_str()
                .expect("the scenario has an auth section")
                .to_owned(),
            secret_access_key: principal["secret_access_key"].as_str().unwrap().to_owned(),
        }
    }

    /// `keywarden` with no inherited environment (no developer profile, SSO or region can leak
    /// in), reaching this server through `AWS_ENDPOINT_URL` with `credentials`.
    pub fn keywarden(&self, credentials: &Credentials) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keywarden"));
        command
            .env_clear()
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    /// Runs Python with boto3 against this server, with the admin credentials: what a person (or
    /// another tool) changes in the account behind keywarden's back. `code` sees an IAM client
    /// as `iam`; its stdout is returned.
    pub fn outside_change(&self, code: &str) -> String {
        let admin = self.admin();
        let prelude = "import boto3, os\n\
            iam = boto3.client('iam', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',\n\
                aws_access_key_id=os.environ['KEY'], aws_secret_access_key=os.environ['SECRET'])\n";
        let out = Command::new(python())
            .arg("-c")
            .arg(format!("{prelude}{code}"))
            .env("ENDPOINT", self.endpoint())
            .env("KEY", &admin.access_key_id)
            .env("SECRET", &admin.secret_access_key)
            .stdin(Stdio::null())
            .output()
            .expect("run python with boto3");
        assert!(
            out.status.success(),
            "the outside change failed: {}\n{code}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The status of every key of `user` (`Active`/`Inactive`), read outside keywarden.
    pub fn key_statuses(&self, user: &str) -> Vec<(String, String)> {
        self.outside_change(&format!(
            "for k in iam.list_access_keys(UserName={user:?})['AccessKeyMetadata']:\n\
             \x20   print(k['AccessKeyId'], k['Status'])"
        ))
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, status)| (id.to_owned(), status.to_owned()))
        .collect()
    }

    /// [`Moto::keywarden`] for a command that writes, acting at `now` through the test clock
    /// ([`TEST_NOW_VAR`]). Add [`TEST_CRASH_VAR`] to make it die at a chosen point.
    pub fn keywarden_at(&self, credentials: &Credentials, now: &str) -> Command {
        require_test_hooks();
        let mut command = self.keywarden(credentials);
        command.env(TEST_NOW_VAR, now);
        command
    }

    /// `keywarden audit --now <scenario now> --format json --stats ARGS` with the admin credentials.
    pub fn audit(&self, args: &[&str]) -> Audit {
        self.audit_as(&self.admin(), args)
    }

    /// The same audit with other credentials.
    pub fn audit_as(&self, credentials: &Credentials, args: &[&str]) -> Audit {
        let mut command = self.keywarden(credentials);
        command
            .args(["audit", "--now", self.now(), "--format", "json", "--stats"])
            .args(args);
        Audit::run(command)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // EOF on stdin is the launcher's signal to stop; it exits within a fraction of a second.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        if thread::panicking() {
            // Shown with the failing test's output: the launcher's side of the story.
            eprintln!("{}", self.log_text());
        }
    }
}

/// One finished `keywarden` run.
pub struct Audit {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// stdout parsed as JSON (`Null` when it is not JSON).
    pub doc: Value,
}

/// A finding as the tests compare them: rule, status, user (`-` for account-wide findings),
/// credential, access key id.
pub type Row = (String, String, String, String, Option<String>);

/// Builds a [`Row`] for an expectation.
pub fn row(rule: &str, status: &str, user: &str, credential: &str, key: Option<&str>) -> Row {
    (
        rule.to_owned(),
        status.to_owned(),
        user.to_owned(),
        credential.to_owned(),
        key.map(str::to_owned),
    )
}

impl Audit {
    /// Runs `command` to completion within [`KEYWARDEN_TIMEOUT`].
    pub fn run(command: Command) -> Audit {
        Audit::run_within(command, KEYWARDEN_TIMEOUT)
    }

    /// Runs `command` to completion within `timeout`, killing it and failing the test after:
    /// for a test whose bug is a hang, so that it fails in seconds.
    pub fn run_within(mut command: Command, timeout: Duration) -> Audit {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keywarden");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for keywarden") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "keywarden did not finish within {timeout:?}; stderr:\n{}",
                    stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        let doc = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        Audit {
            status,
            stdout,
            stderr,
            doc,
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Everything a failure message needs to be understood without re-running.
    pub fn context(&self) -> String {
        format!(
            "exit status {:?}\n---- stderr ----\n{}\n---- stdout ----\n{}",
            self.code(),
            self.stderr,
            self.stdout
        )
    }

    pub fn findings(&self) -> &Vec<Value> {
        self.doc["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no JSON findings\n{}", self.context()))
    }

    /// Every finding as a [`Row`], sorted.
    pub fn rows(&self) -> Vec<Row> {
        let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
        let mut rows: Vec<Row> = self
            .findings()
            .iter()
            .map(|f| {
                (
                    text(&f["rule"]),
                    text(&f["status"]),
                    text(&f["user"]),
                    text(&f["credential"]),
                    f["access_key_id"].as_str().map(str::to_owned),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Asserts the exit status and that the findings are exactly `expected` (in any order).
    pub fn assert_exactly(&self, exit: i32, expected: Vec<Row>) {
        let mut expected = expected;
        expected.sort();
        assert_eq!(self.rows(), expected, "findings\n{}", self.context());
        assert_eq!(self.code(), Some(exit), "exit status\n{}", self.context());
    }

    /// The one finding of `rule` on `user` (`-` for account-wide) and `credential`.
    pub fn finding(&self, rule: &str, user: &str, credential: &str) -> &Value {
        let matching: Vec<&Value> = self
            .findings()
            .iter()
            .filter(|f| {
                f["rule"] == rule
                    && f["user"].as_str().unwrap_or("-") == user
                    && f["credential"] == credential
            })
            .collect();
        match matching.as_slice() {
            [one] => one,
            _ => panic!(
                "expected one {rule} finding for {user} {credential}, found {}\n{}",
                matching.len(),
                self.context()
            ),
        }
    }

    /// The `--stats` counts on stderr: requests per action (`iam:ListAccessKeys`), retries included.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for line in self.stderr.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(n), Some(action), None) = (parts.next(), parts.next(), parts.next()) {
                if let (Ok(n), true) = (n.parse::<u64>(), action.contains(':')) {
                    counts.insert(action.to_owned(), n);
                }
            }
        }
        assert!(
            !counts.is_empty(),
            "no --stats lines on stderr\n{}",
            self.context()
        );
        counts
    }

    /// Requests made for one action (0 when it was never called).
    pub fn requests(&self, action: &str) -> u64 {
        self.stats().get(action).copied().unwrap_or(0)
    }
}
