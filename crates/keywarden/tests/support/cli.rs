//! Running the `keywarden` binary on local input and reading what it printed: the helpers the
//! binary's test files share instead of each keeping its own copy.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `keywarden ARGS` with the test's environment, its output captured.
pub fn keywarden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(args)
        .output()
        .expect("run keywarden")
}

/// `keywarden ARGS` reading `input` on standard input.
pub fn keywarden_stdin(args: &[&str], input: impl AsRef<[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keywarden");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.as_ref().to_vec();
    // Write from another thread: keywarden may answer before it has read everything.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Standard output parsed as one JSON document (a failure shows both streams).
pub fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            text(&output.stdout),
            stderr(output)
        )
    })
}

pub fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

pub fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A run's exit status and both streams, for a failing assertion's message.
pub fn described(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// A path as a command-line argument (the tests' paths are UTF-8).
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}
