//! `rotate` and `contain` hold secrets in memory: from their start, the process must not be
//! dumpable and its core-size limit must be 0, through the real binary.
//!
//! The test points the command at an AWS endpoint that accepts the connection and never
//! answers, so the process is caught waiting on its first AWS call (after the point where it
//! must have turned dumps off), and reads what the kernel says about it: the core-size limit in
//! `/proc/PID/limits`, and dumpability through the owner of `/proc/PID/status`, which the kernel
//! sets to root for a process that is not dumpable (proc(5)). keywarden runs as `nobody` when
//! the tests run as root, so the two owners differ; otherwise it runs as the test's own user.

/// In a module of its own, so `-E 'test(/core_dumps/)'` selects these tests.
mod core_dumps {
    use std::net::TcpListener;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    const NOBODY: u32 = 65534;

    /// What the kernel says about a process caught in its first AWS call.
    struct Seen {
        status_owner: u32,
        core_limit: String,
        runs_as: u32,
    }

    /// Runs `keywarden ARGS` against an endpoint that never answers, waits for its first
    /// connection, and reads `/proc/PID` while it waits.
    fn caught_in_first_call(name: &str, args: &[&str]) -> Seen {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("core-dumps-tests")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let as_root = std::fs::metadata(&dir).unwrap().uid() == 0;
        let runs_as = if as_root {
            std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
            NOBODY
        } else {
            std::fs::metadata(&dir).unwrap().uid()
        };

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());

        // A shell raises the core limit first (as a developer's `ulimit -c unlimited` would),
        // so a limit of 0 afterwards is keywarden's doing; `exec` keeps the pid.
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg("ulimit -c unlimited 2>/dev/null; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_keywarden"))
            .args(args)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args(["--endpoint-url", &endpoint])
            .current_dir(&dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &dir)
            .env("AWS_ACCESS_KEY_ID", "AKIAKEYWARDENTEST000")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "not-a-real-secret-not-a-real-secret-0000",
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if as_root {
            command.uid(NOBODY).gid(NOBODY);
        }
        let mut child = command.spawn().expect("spawn keywarden");

        let deadline = Instant::now() + Duration::from_secs(60);
        let connection = loop {
            match listener.accept() {
                Ok((connection, _)) => break connection,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Some(status) = child.try_wait().unwrap() {
                        let output = child.wait_with_output().unwrap();
                        panic!(
                            "keywarden {args:?} ended ({status}) before calling AWS: {}",
                            String::from_utf8_lossy(&output.stderr)
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "keywarden {args:?} never called AWS"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        let proc_dir = PathBuf::from(format!("/proc/{}", child.id()));
        let status_owner = std::fs::metadata(proc_dir.join("status")).unwrap().uid();
        let limits = std::fs::read_to_string(proc_dir.join("limits")).unwrap();
        let core_limit = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .expect("a core-size line in /proc/PID/limits")
            .to_owned();
        child.kill().unwrap();
        child.wait().unwrap();
        drop(connection);
        Seen {
            status_owner,
            core_limit,
            runs_as,
        }
    }

    fn assert_no_dumps(seen: &Seen) {
        let fields: Vec<&str> = seen.core_limit.split_whitespace().collect();
        // "Max core file size  SOFT  HARD  bytes"
        assert_eq!(
            &fields[4..6],
            ["0", "0"],
            "the core-size limit, soft and hard: {}",
            seen.core_limit
        );
        assert_ne!(
            seen.runs_as, 0,
            "the check needs keywarden to run as another user"
        );
        assert_eq!(
            seen.status_owner, 0,
            "/proc/PID is owned by root only when the process is not dumpable (it runs as uid {})",
            seen.runs_as
        );
    }

    /// `rotate` writes the new key's secret to a file: before the key exists, no core dump.
    #[test]
    fn rotate_runs_without_core_dumps() {
        let seen =
            caught_in_first_call("rotate", &["rotate", "alice", "--secret-file", "alice.key"]);
        assert_no_dumps(&seen);
    }

    /// `contain` of a leaked key: the same from its start.
    #[test]
    fn contain_runs_without_core_dumps() {
        let seen = caught_in_first_call("contain", &["contain", "AKIAEXAMPLEKEY000001"]);
        assert_no_dumps(&seen);
    }

    /// The check itself can tell: `runs` holds no secret and is left dumpable, so its
    /// `/proc/PID` belongs to the user it runs as. (`runs` makes no AWS call, so this looks at a
    /// `plan`, which starts with one.)
    #[test]
    fn a_command_without_secrets_is_left_dumpable() {
        let seen = caught_in_first_call("plan", &["plan"]);
        assert_eq!(seen.status_owner, seen.runs_as);
    }
}
