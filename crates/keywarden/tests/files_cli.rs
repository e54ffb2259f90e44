//! The files keywarden writes and reads, through the real binary: plans are private whatever
//! the umask, the atomic writer cannot be redirected by a symlink planted at the destination or
//! at the temporary name, and `keywarden runs` only reads (it creates no state folder, and reads
//! a journal it cannot write). Incident reports and rotation plans go through the same writer
//! (`keywarden_app::files`) as `plan --out`.
//!
//! No AWS is involved: plans are made `--from` a saved audit document, which `keywarden audit
//! --report` writes from a small credential report.

/// In a module of its own, so `-E 'test(/files/)'` selects these tests.
mod files {
    use keywarden_app::journal::{Journal, NewRun, RunKind, RunStatus};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    const NOW: &str = "2024-06-01T00:00:00Z";
    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const ROOT: &str = "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    /// A key unused since 2024-01-10: KEY001, so the plan deactivates it.
    const STALE: &str = "stale,arn:aws:iam::123456789012:user/stale,2023-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-01-01T00:00:00+00:00,2024-01-10T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    /// The nobody user: a read-only journal is only read-only to a process that is not root.
    const NOBODY: u32 = 65534;

    /// A fresh folder for this test, readable and traversable by every user (the read-only test
    /// runs keywarden as another user when the tests run as root).
    fn scratch(name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("files-tests")
            .join(name);
        if dir.exists() {
            make_writable(&dir);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    /// Undoes a previous run's chmods so its folder can be removed.
    fn make_writable(dir: &Path) {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                make_writable(&entry.path());
            }
        }
    }

    /// `dir` and everything under it, sorted.
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![dir.to_path_buf()];
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out.sort();
        out
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    fn keywarden() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keywarden"));
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent");
        command
    }

    fn run(mut command: Command) -> Output {
        command.output().expect("run keywarden")
    }

    fn context(output: &Output) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    /// `keywarden audit --format json` of a small report, saved in `dir`: what `plan --from` reads.
    fn audit_document(dir: &Path) -> PathBuf {
        let report = dir.join("report.csv");
        std::fs::write(&report, format!("{HEADER}\n{ROOT}\n{STALE}\n")).unwrap();
        let mut command = keywarden();
        command.args(["audit", "--report"]).arg(&report).args([
            "--now",
            NOW,
            "--report-time",
            NOW,
            "--format",
            "json",
        ]);
        let output = run(command);
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("audit output is not JSON ({e})\n{}", context(&output)));
        assert!(doc["findings"].as_array().is_some(), "{}", context(&output));
        let path = dir.join("audit.json");
        std::fs::write(&path, &output.stdout).unwrap();
        path
    }

    /// `keywarden plan --from AUDIT --out OUT` run by `sh -c SCRIPT`, where the script's last
    /// line `exec`s keywarden: so keywarden runs with the script's umask and process id.
    fn plan_via_shell(dir: &Path, out: &Path, script: &str) -> Output {
        let output = plan_via_shell_with(dir, out, script, &[]);
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("plan written to"),
            "{}",
            context(&output)
        );
        output
    }

    /// As [`plan_via_shell`], with `extra` arguments and whatever the outcome.
    fn plan_via_shell_with(dir: &Path, out: &Path, script: &str, extra: &[&str]) -> Output {
        let audit = audit_document(dir);
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(format!("{script}\nexec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_keywarden"))
            .args(["plan", "--from"])
            .arg(&audit)
            .arg("--out")
            .arg(out)
            .args(["--now", NOW, "--format", "json", "--state-dir"])
            .arg(dir.join("state"))
            .args(extra)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent");
        command.output().expect("run keywarden through sh")
    }

    fn assert_is_the_plan(path: &Path, output: &Output) {
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert!(
            meta.file_type().is_file(),
            "{} is a regular file",
            path.display()
        );
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let stdout: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(file, stdout, "the file holds the plan printed");
    }

    /// An operator with `umask 000` (a shared CI runner, a container's default) writes a plan
    /// into a new folder: the plan names every weak key of the account, so it is 0600 and the
    /// folders keywarden creates for it 0700; the existing folder above is left as it was.
    #[test]
    fn plan_out_is_private_whatever_the_umask() {
        let dir = scratch("umask");
        let out = dir.join("plans/june/plan.json");
        let output = plan_via_shell(&dir, &out, "umask 000");
        assert_is_the_plan(&out, &output);
        assert_eq!(mode(&out), 0o600, "the plan file");
        assert_eq!(
            mode(&dir.join("plans")),
            0o700,
            "a folder keywarden created"
        );
        assert_eq!(
            mode(&dir.join("plans/june")),
            0o700,
            "a folder keywarden created"
        );
        assert_eq!(mode(&dir), 0o755, "an existing folder is left alone");

        // Replacing an existing, world-readable plan (with --force) gives a private one too.
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
        let output = plan_via_shell(&dir, &out, "umask 000\nset -- \"$@\" --force");
        assert_is_the_plan(&out, &output);
        assert_eq!(mode(&out), 0o600, "the replaced plan file");
    }

    /// The file a planted symlink points at: what an attacker wants overwritten.
    struct Victim {
        path: PathBuf,
        mode: u32,
    }

    impl Victim {
        fn new(dir: &Path) -> Victim {
            let path = dir.join("victim");
            std::fs::write(&path, "precious\n").unwrap();
            let mode = mode(&path);
            Victim { path, mode }
        }

        fn assert_untouched(&self) {
            assert_eq!(
                std::fs::read_to_string(&self.path).unwrap(),
                "precious\n",
                "the link's target was written"
            );
            assert_eq!(
                mode(&self.path),
                self.mode,
                "the link's target changed mode"
            );
        }
    }

    /// Another local user plants `plan.json -> victim` where the operator will write the plan:
    /// without --force the plan is refused (something is there), with it the link is replaced
    /// by the plan; the file it pointed at is never written.
    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = scratch("symlink-destination");
        let victim = Victim::new(&dir);
        let out = dir.join("plan.json");
        std::os::unix::fs::symlink(&victim.path, &out).unwrap();
        let refused = plan_via_shell_with(&dir, &out, ":", &[]);
        assert_eq!(refused.status.code(), Some(2), "{}", context(&refused));
        victim.assert_untouched();
        assert!(std::fs::symlink_metadata(&out)
            .unwrap()
            .file_type()
            .is_symlink());
        let output = plan_via_shell(&dir, &out, "set -- \"$@\" --force");
        victim.assert_untouched();
        assert_is_the_plan(&out, &output);
    }

    /// The temporary name the writer used to derive from the process id
    /// (`.plan.json.<pid>.tmp`) can be guessed: a link planted there must not receive the plan.
    /// `exec` keeps the shell's pid, so `$$` is the pid keywarden runs with.
    #[test]
    fn a_symlink_at_a_predictable_temporary_name_is_not_followed() {
        let dir = scratch("symlink-temporary");
        let victim = Victim::new(&dir);
        let out = dir.join("plan.json");
        let plant = format!(
            "ln -s '{}' '{}/.plan.json.'$$'.tmp'",
            victim.path.display(),
            dir.display()
        );
        let output = plan_via_shell(&dir, &out, &plant);
        victim.assert_untouched();
        assert_is_the_plan(&out, &output);
    }

    /// `keywarden runs` on a machine where nothing was ever applied: it says there are no runs
    /// (exit 0) and leaves no state folder behind, neither the one named nor the default one.
    #[test]
    fn runs_without_a_state_folder_creates_nothing() {
        let dir = scratch("runs-nothing");
        let state = dir.join("absent/state");
        for format in ["table", "json"] {
            let mut command = keywarden();
            command
                .args(["runs", "--format", format, "--state-dir"])
                .arg(&state);
            let output = run(command);
            assert_eq!(output.status.code(), Some(0), "{}", context(&output));
            let stdout = String::from_utf8_lossy(&output.stdout);
            match format {
                "json" => assert_eq!(stdout.trim(), "[]"),
                _ => assert!(stdout.starts_with("no runs"), "{}", context(&output)),
            }
            assert!(
                !dir.join("absent").exists(),
                "runs created {}",
                state.display()
            );
        }

        // The default state folder, under $HOME.
        let home = dir.join("home");
        std::fs::create_dir(&home).unwrap();
        let mut command = keywarden();
        command.arg("runs").env("HOME", &home);
        let output = run(command);
        assert_eq!(output.status.code(), Some(0), "{}", context(&output));
        assert_eq!(
            std::fs::read_dir(&home).unwrap().count(),
            0,
            "runs created something under $HOME"
        );

        // Asking for one run without a journal: there is no such run.
        let mut command = keywarden();
        command
            .args(["runs", "20240601T000000Z-abcd", "--state-dir"])
            .arg(&state);
        let output = run(command);
        assert_eq!(output.status.code(), Some(2), "{}", context(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("no run 20240601T000000Z-abcd"),
            "{}",
            context(&output)
        );
        assert!(!dir.join("absent").exists());
    }

    /// An auditor reads the journal of a past run without the right to change it: the folder
    /// 0500 and the file 0400 (as a backup, or another user's state folder, would be). `runs`
    /// lists the run and shows its steps, and writes nothing. Root ignores file modes, so when
    /// the tests run as root the files are given to `nobody`, and keywarden runs as `nobody`.
    #[test]
    fn runs_reads_a_read_only_journal() {
        let dir = scratch("runs-read-only");
        let state = dir.join("state");
        let run_id = {
            let mut journal = Journal::open(&state).unwrap();
            let run = journal
                .start_run(NewRun {
                    kind: RunKind::Apply,
                    started_at: NOW.parse().unwrap(),
                    plan_json: r#"{"actions":[]}"#.into(),
                    options_json: "{}".into(),
                    parent_run: None,
                })
                .unwrap();
            journal
                .finish_run(&run, RunStatus::Completed, NOW.parse().unwrap())
                .unwrap();
            run
        };
        let journal_file = state.join(keywarden_app::journal::JOURNAL_FILE_NAME);
        let before = std::fs::read(&journal_file).unwrap();
        let as_root = std::fs::metadata(&dir).unwrap().uid() == 0;
        for path in walk(&state) {
            if as_root {
                std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
            }
            let mode = if path.is_dir() { 0o500 } else { 0o400 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let files_before = walk(&state);
        // `keywarden runs ARGS --state-dir STATE`, as the journal's reader.
        let runs = |args: &[&str]| {
            let mut command = keywarden();
            if as_root {
                command.uid(NOBODY).gid(NOBODY);
            }
            command
                .arg("runs")
                .args(args)
                .args(["--format", "json", "--state-dir"])
                .arg(&state);
            run(command)
        };

        let output = runs(&[]);
        assert_eq!(output.status.code(), Some(0), "{}", context(&output));
        let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(listed[0]["run_id"], run_id.as_str(), "{}", context(&output));
        assert_eq!(listed[0]["status"], "completed", "{}", context(&output));

        let output = runs(&[run_id.as_str()]);
        assert_eq!(output.status.code(), Some(0), "{}", context(&output));
        let one: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            one["run"]["run_id"],
            run_id.as_str(),
            "{}",
            context(&output)
        );

        assert_eq!(
            std::fs::read(&journal_file).unwrap(),
            before,
            "the journal is unchanged"
        );
        assert_eq!(
            walk(&state),
            files_before,
            "no file was added to the state folder"
        );
        make_writable(&dir);
    }
}
