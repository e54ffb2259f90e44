//! The Sigma path's speed against rsigma-eval driven by a minimal program, over the same events
//! and the same rules, on one thread, everything in memory.
//!
//! ```sh
//! cargo run --release -p keywarden-sigma --example bench_sigma -- [--events DIR] [--rules DIR] [--reps N]
//! # one path alone, for an instruction count (valgrind --tool=callgrind ... --only minimal)
//! cargo run --release -p keywarden-sigma --example bench_sigma -- --only minimal|keywarden|none --reps N
//! # the workload for timing the whole `keywarden trail` process: N copies of the events, one
//! # per line, each copy with its own eventIDs, in K files (FILE-01.jsonl...) when K > 1
//! cargo run --release -p keywarden-sigma --example bench_sigma -- --write-jsonl FILE --copies N [--files K]
//! ```
//!
//! - minimal: for each event, `serde_json::from_str::<Value>`, unwrap an export wrapper
//!   (`event` / `detail`, as the shared awsdocs events have), `Engine::evaluate` with every rule
//!   loaded: what any program using the crate must do.
//! - keywarden: `SigmaRules::check` on the record the reader made (the same parse and
//!   evaluation, then the match mapped to its rule and turned into a `Finding` with the event's
//!   context): the cost `--sigma` adds to each event.
//! - for scale, keywarden's own event parse (`parse_event`), which every `trail` run pays.
//!
//! Both Sigma paths run the same rules: those keywarden loads (the minimal engine is given the
//! same files, without the ones keywarden refuses), and must find the same number of matches.

#![allow(
    clippy::disallowed_macros,
    reason = "a benchmark prints its measurements"
)]

use keywarden_core::cloudtrail::event::parse_event;
use keywarden_core::cloudtrail::reader::{read_document, Record};
use keywarden_sigma::{load_dir, unwrap_export};
use rsigma_eval::{Engine, JsonEvent};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut events_dir = manifest.join("tests/data/cloudtrail");
    let mut rules_dir = manifest.join("tests/data/sigma");
    let mut reps = 400usize;
    let mut write = None;
    let mut copies = 1000usize;
    let mut only = None;
    let mut parts = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&arg));
        match arg.as_str() {
            "--events" => events_dir = PathBuf::from(value()),
            "--rules" => rules_dir = PathBuf::from(value()),
            "--reps" => reps = value().parse().unwrap_or_else(|_| usage("--reps")),
            "--write-jsonl" => write = Some(PathBuf::from(value())),
            "--copies" => copies = value().parse().unwrap_or_else(|_| usage("--copies")),
            "--only" => only = Some(value()),
            "--files" => parts = value().parse().unwrap_or_else(|_| usage("--files")),
            _ => usage(&arg),
        }
    }
    let raws = read_events(&events_dir);
    if let Some(path) = write {
        write_jsonl(&raws, &path, copies, parts.max(1));
        return;
    }

    let loaded = load_dir(&rules_dir).expect("rules folder");
    let refused: HashSet<PathBuf> = loaded.not_loaded.iter().map(|n| n.file.clone()).collect();
    let mut minimal = Engine::new();
    let mut files = Vec::new();
    walk(&rules_dir, &mut files);
    for file in files {
        let relative = file.strip_prefix(&rules_dir).unwrap().to_path_buf();
        if refused.contains(&relative) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let collection = rsigma_parser::parse_sigma_yaml(&text).expect("rule parses");
        for rule in &collection.rules {
            minimal.add_rule(rule).expect("rule compiles");
        }
    }
    assert_eq!(minimal.rule_count(), loaded.rules.len());
    let records: Vec<_> = raws
        .iter()
        .map(|raw| (parse_event(raw).expect("usable event"), raw.as_str()))
        .collect();
    if let Some(path) = only {
        // Setup as above, then one path `reps` times: `none` counts the setup alone.
        let mut matches = 0;
        let mut findings = Vec::new();
        for _ in 0..reps {
            match path.as_str() {
                "minimal" => {
                    for raw in &raws {
                        let value: Value = serde_json::from_str(raw).unwrap();
                        matches += minimal
                            .evaluate(&JsonEvent::borrow(unwrap_export(&value)))
                            .len();
                    }
                }
                "keywarden" => {
                    for (event, raw) in &records {
                        let record = Record {
                            event: event.clone(),
                            raw,
                        };
                        loaded.rules.check(&record, &mut findings);
                        matches += findings.len();
                        findings.clear();
                    }
                }
                "clone" => {
                    for (event, _) in &records {
                        std::hint::black_box(event.clone());
                    }
                }
                "none" => {}
                other => usage(other),
            }
        }
        println!("{path}: {} events, {matches} matches", raws.len() * reps);
        return;
    }
    println!(
        "{} events x {reps} repetitions, {} rules ({}), one thread",
        raws.len(),
        loaded.rules.len(),
        keywarden_sigma::ENGINE
    );

    let total = (raws.len() * reps) as f64;
    let report = |name: &str, seconds: f64, matches: usize| {
        println!(
            "{name:<28} {:>10.0} events/s  {:>7.2} us/event  ({matches} matches)",
            total / seconds,
            seconds * 1e6 / total
        );
    };
    // Warm up both, then alternate so that load on the machine hits both alike.
    let mut minimal_time = 0.0;
    let mut keywarden_time = 0.0;
    let mut parse_time = 0.0;
    let (mut minimal_matches, mut keywarden_matches) = (0, 0);
    let rounds = 5;
    for round in 0..=rounds {
        let per_round = if round == 0 { 1 } else { reps / rounds };
        let start = Instant::now();
        let mut matches = 0;
        for _ in 0..per_round {
            for raw in &raws {
                let value: Value = serde_json::from_str(raw).unwrap();
                matches += minimal
                    .evaluate(&JsonEvent::borrow(unwrap_export(&value)))
                    .len();
            }
        }
        let minimal_elapsed = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let mut findings = Vec::new();
        let mut found = 0;
        for _ in 0..per_round {
            for (event, raw) in &records {
                // The reader hands the sink a record borrowing the event; cloning it here stands
                // in for that and is timed apart below, so it is not charged to Sigma.
                let record = Record {
                    event: event.clone(),
                    raw,
                };
                loaded.rules.check(&record, &mut findings);
                found += findings.len();
                findings.clear();
            }
        }
        let keywarden_elapsed = start.elapsed().as_secs_f64();

        let start = Instant::now();
        for _ in 0..per_round {
            for (event, _) in &records {
                std::hint::black_box(event.clone());
            }
        }
        let clone_elapsed = start.elapsed().as_secs_f64();

        let start = Instant::now();
        for _ in 0..per_round {
            for raw in &raws {
                std::hint::black_box(parse_event(raw).unwrap());
            }
        }
        let parse_elapsed = start.elapsed().as_secs_f64();

        if round > 0 {
            minimal_time += minimal_elapsed;
            keywarden_time += keywarden_elapsed - clone_elapsed;
            parse_time += parse_elapsed;
            minimal_matches += matches;
            keywarden_matches += found;
        }
    }
    report("minimal rsigma-eval", minimal_time, minimal_matches);
    report("keywarden Sigma path", keywarden_time, keywarden_matches);
    report("(keywarden's event parse)", parse_time, 0);
    println!(
        "keywarden adds {:+.1} % to the minimal program's time per event",
        (keywarden_time / minimal_time - 1.0) * 100.0
    );
    assert_eq!(
        minimal_matches, keywarden_matches,
        "both paths must find the same matches"
    );
}

fn usage(arg: &str) -> ! {
    eprintln!("bench_sigma: bad argument {arg}; usage: bench_sigma [--events DIR] [--rules DIR] [--reps N] | --write-jsonl FILE [--copies N]");
    std::process::exit(2)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else if [".json", ".jsonl", ".yml", ".yaml"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// Every event under `dir`, as keywarden's reader reads them: the JSON text of each.
fn read_events(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut raws = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json" || e == "jsonl"))
    {
        let bytes = std::fs::read(file).unwrap();
        read_document(&bytes, &file.display().to_string(), &mut |item| {
            if let Ok(record) = item {
                raws.push(record.raw.to_owned());
            }
        });
    }
    raws
}

/// `copies` copies of the events, one per line, unwrapped from export wrappers; copy N's events
/// get `-N` after their eventID (`no-id-I` for the I-th event when it has none), so that every
/// line is its own event. With `parts` > 1, copies go round-robin to `path-01.jsonl`...
fn write_jsonl(raws: &[String], path: &Path, copies: usize, parts: usize) {
    use std::io::Write;
    let name = |part: usize| {
        if parts == 1 {
            path.to_path_buf()
        } else {
            PathBuf::from(format!("{}-{:02}.jsonl", path.display(), part + 1))
        }
    };
    if let Some(parent) = name(0).parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut outs: Vec<_> = (0..parts)
        .map(|part| std::io::BufWriter::new(std::fs::File::create(name(part)).unwrap()))
        .collect();
    let values: Vec<Value> = raws
        .iter()
        .map(|r| unwrap_export(&serde_json::from_str(r).unwrap()).clone())
        .collect();
    for copy in 0..copies {
        let out = &mut outs[copy % parts];
        for (index, value) in values.iter().enumerate() {
            let mut value = value.clone();
            let id = value
                .get("eventID")
                .and_then(Value::as_str)
                .map_or_else(|| format!("no-id-{index}"), str::to_owned);
            value["eventID"] = Value::from(format!("{id}-{copy}"));
            serde_json::to_writer(&mut *out, &value).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    for out in &mut outs {
        out.flush().unwrap();
    }
    eprintln!(
        "{}: {} events ({copies} copies of {}) in {parts} file(s)",
        path.display(),
        copies * raws.len(),
        raws.len()
    );
}
