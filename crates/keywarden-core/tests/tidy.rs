//! Tidy checks in the rust-analyzer style: invariants of ARCHITECTURE.md that are about the
//! repository's files, checked by reading them as text, so that review does not have to.
//!
//! - every rule and detection file declares itself with `declare_rule!`, has the catalogue's
//!   documentation sections in order, and is in the catalogue (a file left out of `ALL_RULES`
//!   would escape the runtime checks);
//! - no crate but keywarden-aws depends on, or names, an `aws-*` crate;
//! - ARCHITECTURE.md's codemap names every source file, and every file it names exists.
//!
//! Each failure lists everything wrong at once, with the file and what to do.

#![allow(
    clippy::disallowed_methods,
    reason = "a tidy test reads the repository's files"
)]

use keywarden_core::rules::{catalogue, CATALOGUE_DOC_SECTIONS};
use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workspace's crates: (folder name, folder).
fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    let root = root().canonicalize().unwrap();
    let path = path.canonicalize().unwrap();
    path.strip_prefix(&root).unwrap().display().to_string()
}

fn report(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "{what}:\n  {}\n",
        problems.join("\n  ")
    );
}

// --- rule and detection files -------------------------------------------------------------

#[test]
fn every_rule_and_detection_file_is_documented_and_in_the_catalogue() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut rule_files = files(&src.join("rules"), ".rs");
    rule_files.extend(files(&src.join("cloudtrail/detect"), ".rs"));
    rule_files.retain(|p| p.file_name().unwrap() != "mod.rs");
    assert!(
        rule_files.len() >= 20,
        "rule files not found under {}",
        src.display()
    );
    let mut problems = Vec::new();
    for path in &rule_files {
        let name = relative(path);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = read(path);
        // The file's code is its name's prefix: `key001_unused_access_key.rs` is KEY001.
        let code = stem
            .split('_')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !text.contains("declare_rule!") {
            problems.push(format!("{name}: no `declare_rule!`"));
        }
        if !text.contains(&format!("code: \"{code}\"")) {
            problems.push(format!(
                "{name}: does not declare `code: \"{code}\"` (the file name starts with its code)"
            ));
        }
        if !catalogue().any(|m| m.code == code) {
            problems.push(format!(
                "{name}: {code} is not in the catalogue (ALL_RULES / ALL_DETECTORS)"
            ));
        }
        let mut last = 0;
        for title in CATALOGUE_DOC_SECTIONS {
            match text.find(&format!("/// ## {title}\n")) {
                None => problems.push(format!("{name}: no `/// ## {title}` section")),
                Some(at) if at < last => {
                    problems.push(format!("{name}: section `{title}` is out of order"))
                }
                Some(at) => last = at,
            }
        }
        for field in ["live_data:", "fix:"] {
            if !text.contains(field) {
                problems.push(format!("{name}: does not declare `{field}`"));
            }
        }
    }
    // And the other way: every catalogue entry has its file.
    for meta in catalogue() {
        let prefix = format!("{}_", meta.code.to_ascii_lowercase());
        if !rule_files.iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        }) {
            problems.push(format!("{}: no file `{prefix}*.rs`", meta.code));
        }
    }
    report(problems, "rule and detection files");
}

/// Whether `line` holds a rule code as a string literal (`"KEY001"`), outside a comment.
fn quotes_a_rule_code(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.split('"').skip(1).step_by(2).any(|literal| {
        let digits = literal.trim_start_matches(|c: char| c.is_ascii_uppercase());
        let prefix = &literal[..literal.len() - digits.len()];
        ["KEY", "PWD", "ROOT", "TRAIL", "EVT"].contains(&prefix)
            && digits.len() == 3
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A rule owns its inputs and its fix: code outside the rule files derives what to read and do
/// from the registry (`live_data`, `fix`), never from a rule's code written out.
#[test]
fn no_source_outside_the_rule_files_names_a_rule_by_its_code() {
    let mut problems = Vec::new();
    for (_, dir) in crates() {
        for file in files(&dir.join("src"), ".rs") {
            let path = file.to_string_lossy().replace('\\', "/");
            if path.contains("/src/rules/") || path.contains("/cloudtrail/detect/") {
                continue;
            }
            for (number, line) in read(&file).lines().enumerate() {
                if quotes_a_rule_code(line) {
                    problems.push(format!(
                        "{}:{}: a rule's code as a string; declare what it needs in the rule's \
                         file (`live_data`, `fix`) and derive it from the registry",
                        relative(&file),
                        number + 1
                    ));
                }
            }
        }
    }
    report(problems, "rule codes written out outside the rule files");
}

#[test]
fn a_rule_code_is_recognised_in_a_literal_only() {
    assert!(quotes_a_rule_code(r#"if code == "KEY001" {"#));
    assert!(quotes_a_rule_code(
        r#"const R: [&str; 2] = ["PWD001", "TRAIL001"];"#
    ));
    assert!(!quotes_a_rule_code(r#"// KEY001 proves the key idle"#));
    assert!(!quotes_a_rule_code(r#"let x = "KEY"; // "KEY001""#));
    assert!(!quotes_a_rule_code(
        r#"format!("see `keywarden rule {rule}`")"#
    ));
    assert!(!quotes_a_rule_code(r#"let s = "KEY0001";"#));
}

// --- the AWS boundary ---------------------------------------------------------------------

/// Whether a dependency key (or its `package =`) names an AWS SDK crate.
fn is_aws(name: &str) -> bool {
    name.starts_with("aws-") || name.starts_with("aws_")
}

/// The dependency names of a manifest, every kind and target, with their `package` renames.
fn dependencies(manifest: &toml::Table) -> Vec<String> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        if let Some(t) = manifest.get(kind).and_then(|v| v.as_table()) {
            tables.push(t);
        }
    }
    if let Some(targets) = manifest.get("target").and_then(|v| v.as_table()) {
        for target in targets.values().filter_map(|v| v.as_table()) {
            for kind in kinds {
                if let Some(t) = target.get(kind).and_then(|v| v.as_table()) {
                    tables.push(t);
                }
            }
        }
    }
    let mut names = Vec::new();
    for table in tables {
        for (key, spec) in table {
            names.push(key.clone());
            if let Some(package) = spec.get("package").and_then(|p| p.as_str()) {
                names.push(package.to_owned());
            }
        }
    }
    names
}

#[test]
fn no_crate_but_keywarden_aws_depends_on_or_names_the_aws_sdk() {
    let mut problems = Vec::new();
    let mut manifests: Vec<(String, PathBuf)> = crates();
    manifests.push(("fuzz".to_owned(), root().join("fuzz")));
    for (name, dir) in manifests {
        if name == "keywarden-aws" {
            continue;
        }
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.is_file() {
            continue;
        }
        let manifest: toml::Table = toml::from_str(&read(&manifest_path))
            .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
        for dependency in dependencies(&manifest).into_iter().filter(|d| is_aws(d)) {
            problems.push(format!(
                "{}: depends on `{dependency}`; only keywarden-aws knows the AWS SDK",
                relative(&manifest_path)
            ));
        }
        for file in files(&dir, ".rs") {
            if file.components().any(|c| c.as_os_str() == "target") {
                continue;
            }
            for (number, line) in read(&file).lines().enumerate() {
                // Spelt in two halves, so this file does not name them itself.
                let names_sdk = ["_sdk_", "_smithy_", "_config::", "_types::"]
                    .iter()
                    .any(|p| line.contains(&format!("aws{p}")));
                if names_sdk {
                    problems.push(format!(
                        "{}:{}: names an AWS SDK crate; only keywarden-aws does",
                        relative(&file),
                        number + 1
                    ));
                }
            }
        }
    }
    report(problems, "the AWS SDK outside keywarden-aws");
}

// --- the codemap --------------------------------------------------------------------------

/// ARCHITECTURE.md's codemap: the text of each crate's block (`  keywarden-core/` and the more
/// indented lines under it), by crate folder name.
fn codemap_blocks() -> Vec<(String, String)> {
    let text = read(&root().join("ARCHITECTURE.md"));
    let start = text
        .find("## Codemap")
        .expect("ARCHITECTURE.md has a `## Codemap`");
    let codemap = &text[start..];
    let open = codemap.find("```").expect("the codemap is a code block") + 3;
    let close = open + codemap[open..].find("```").expect("the code block ends");
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in codemap[open..close].lines() {
        let indent = line.len() - line.trim_start().len();
        let first = line.split_whitespace().next().unwrap_or_default();
        if indent == 2 && first.ends_with('/') {
            blocks.push((first.trim_end_matches('/').to_owned(), String::new()));
        } else if indent <= 2 {
            // `crates/`, `fuzz/`, `scripts/`...: outside any crate.
            blocks.push((String::new(), String::new()));
        }
        if let Some((_, block)) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// The file names a codemap block mentions: words ending in `.rs`, with `NNN`, `*` and `<...>`
/// as wildcards (`detect/evtNNN_*.rs`, `rules/<code>_<name>.rs`).
fn named_files(block: &str) -> Vec<String> {
    block
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '`' | ':'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.ends_with(".rs"))
        .map(str::to_owned)
        .collect()
}

/// Whether `pattern` (a codemap word) names `path` (relative to the crate's `src/`): the
/// pattern's components match the path's last components.
fn names(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix("src/").unwrap_or(pattern);
    let wanted: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    wanted.len() <= parts.len()
        && wanted
            .iter()
            .rev()
            .zip(parts.iter().rev())
            .all(|(w, p)| component_matches(w, p))
}

/// `*` and `<...>` match any run of characters, `NNN` three digits.
fn component_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.replace("NNN", "\u{1}");
    let mut tokens: Vec<String> = Vec::new();
    let mut rest = pattern.as_str();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('*') {
            tokens.push("*".into());
            rest = after;
        } else if rest.starts_with('<') && rest.contains('>') {
            tokens.push("*".into());
            rest = &rest[rest.find('>').unwrap() + 1..];
        } else {
            let c = rest.chars().next().unwrap();
            tokens.push(c.to_string());
            rest = &rest[c.len_utf8()..];
        }
    }
    glob(&tokens, name)
}

fn glob(tokens: &[String], name: &str) -> bool {
    match tokens.split_first() {
        None => name.is_empty(),
        Some((t, rest)) if t == "*" => (0..=name.len())
            .filter(|&i| name.is_char_boundary(i))
            .any(|i| glob(rest, &name[i..])),
        Some((t, rest)) if t == "\u{1}" => {
            name.len() >= 3
                && name.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                && glob(rest, &name[3..])
        }
        Some((t, rest)) => name.strip_prefix(t.as_str()).is_some_and(|n| glob(rest, n)),
    }
}

/// Each crate's source files, relative to its `src/`; crate roots (`lib.rs`, `main.rs`) are
/// the crate's own line, and a `mod.rs` is named by its folder (`cloudtrail/`).
fn source_files(dir: &Path) -> Vec<String> {
    let src = dir.join("src");
    files(&src, ".rs")
        .iter()
        .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
        .filter(|p| p != "lib.rs" && p != "main.rs")
        .collect()
}

#[test]
fn the_codemap_names_every_source_file() {
    let blocks = codemap_blocks();
    let mut missing = Vec::new();
    for (name, dir) in crates() {
        let Some((_, block)) = blocks.iter().find(|(crate_name, _)| *crate_name == name) else {
            missing.push(format!(
                "crates/{name}/: the crate has no block in the codemap"
            ));
            continue;
        };
        let patterns = named_files(block);
        for file in source_files(&dir) {
            let named = match file.strip_suffix("mod.rs") {
                Some(folder) => block.contains(folder) || patterns.iter().any(|p| names(p, &file)),
                None => patterns.iter().any(|p| names(p, &file)),
            };
            if !named {
                missing.push(format!(
                    "crates/{name}/src/{file}: add it to the `{name}/` block, with what it is for"
                ));
            }
        }
    }
    report(
        missing,
        "ARCHITECTURE.md's codemap does not name these source files",
    );
}

#[test]
fn every_file_the_codemap_names_exists() {
    let mut stale = Vec::new();
    for (name, block) in codemap_blocks() {
        if name.is_empty() {
            continue;
        }
        let dir = root().join("crates").join(&name);
        if !dir.is_dir() {
            stale.push(format!("`{name}/`: no such crate folder under crates/"));
            continue;
        }
        // A block may also name a test or an example (`tidy.rs`).
        let sources: Vec<String> = files(&dir, ".rs")
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        for pattern in named_files(&block) {
            if !sources.iter().any(|file| names(&pattern, file)) {
                stale.push(format!(
                    "`{name}/` names `{pattern}`, which matches no file in it"
                ));
            }
        }
    }
    report(
        stale,
        "ARCHITECTURE.md's codemap names files that do not exist",
    );
}

#[test]
fn the_codemap_patterns_match_as_intended() {
    assert!(names("src/time.rs", "time.rs"));
    assert!(names("event.rs", "cloudtrail/event.rs"));
    assert!(names(
        "detect/evtNNN_*.rs",
        "cloudtrail/detect/evt001_a_b.rs"
    ));
    assert!(!names("detect/evtNNN_*.rs", "cloudtrail/detect/mod.rs"));
    assert!(names("rules/<code>_<name>.rs", "rules/key001_unused.rs"));
    assert!(!names("trail.rs", "trail_remote.rs"));
    assert!(!names("remote.rs", "trail_cmd.rs"));
}
