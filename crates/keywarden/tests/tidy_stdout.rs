//! ARCHITECTURE.md's invariant "Only printers print findings", checked on the source (in the
//! rust-analyzer style): the binary formats nothing itself. It hands `stdout()` to a printer of
//! keywarden-output (or to the secret's hand-over `rotate --show-secret` asked for), writes its
//! diagnostics through `diag!` on standard error, and cannot build JSON (serde_json is not one of
//! its dependencies).

mod support;

use std::path::Path;
use support::rust_files;

/// Text that writes or formats output by hand.
const FORBIDDEN: [&str; 7] = [
    "println!",
    "print!(",
    "write!(",
    "writeln!(",
    ".write_all(",
    "serde_json",
    "to_writer",
];

/// The one place allowed: `diag!`'s escaped line on standard error (main.rs).
const ALLOWED: [&str; 1] = ["writeln!(std::io::stderr().lock(), \"{escaped}\")"];

#[test]
fn the_binary_writes_stdout_only_through_printers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 5, "the binary's sources were not found");
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let code = ALLOWED
                .iter()
                .fold(code.to_owned(), |c, a| c.replace(a, ""));
            for bad in FORBIDDEN {
                if code.contains(bad) {
                    offences.push(format!("{}:{}: {bad}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the binary formats output itself; give the document a wire type and a printer in \
         keywarden-output:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_binary_does_not_depend_on_serde_json() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    assert!(
        !dependencies.contains("serde_json"),
        "serde_json is a dev-dependency only: the binary prints JSON through keywarden-output"
    );
}
