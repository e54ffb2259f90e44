//! In-process throughput benchmark of the CloudTrail reader and analyzer, one thread.
//!
//! ```text
//! cargo run --release -p keywarden-core --example gen_events -- --size 100M --out bench-data/trail/100m
//! cargo run --release -p keywarden-core --example bench_trail -- bench-data/trail/100m
//! ```
//!
//! Options: `--reps N` (default 7), `--only scan|parse|analyze` (time one stage alone, e.g. under
//! `perf record` or `valgrind --tool=callgrind`), `--limit BYTES` (read at most this much of the
//! input, default 1 GiB: the files are held in memory).
//!
//! Arguments are files or folders (walked; uncompressed `.json` / `.jsonl` files). Every file is
//! read into memory first, so only parsing and analysis are timed, on this one thread. Stages,
//! each timed `--reps` times (best and median reported):
//!
//! - `scan`: serde_json validating each document without building anything (`IgnoredAny`): the
//!   floor of any serde_json-based reader;
//! - `parse`: [`read_document`], every event decoded into an [`Event`], nothing else;
//! - `parse+analyze`: the same, each event folded into a [`TrailAnalyzer`] running the nine
//!   detections with the default selection, then `finish` (lineage detections, findings sorted):
//!   what `keywarden trail` does per event before printing. Analyzed events are handed back to
//!   the reader by batches of 1,024 (`event::recycle`) as `trail` does.
//!
//! A last, untimed pass counts heap allocations per event and the heap's peak during
//! parse+analyze.
//!
//! [`Event`]: keywarden_core::cloudtrail::event::Event

#![allow(
    clippy::disallowed_macros,
    clippy::disallowed_methods,
    reason = "an example program outside the core: it reads files, times and prints"
)]

use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::event::recycle;
use keywarden_core::cloudtrail::reader::read_document;
use keywarden_core::config::AuditConfig;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

fn walk(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap_or_else(|e| fail(format!("{}: {e}", path.display())))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            walk(&entry, out);
        }
    } else if path
        .extension()
        .is_some_and(|e| e == "json" || e == "jsonl")
    {
        out.push(path.to_owned());
    }
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("bench_trail: {e}");
    std::process::exit(1);
}

fn scan(files: &[Vec<u8>]) -> u64 {
    let mut n = 0;
    for data in files {
        // A document, or one per line.
        let mut stream =
            serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>();
        for value in &mut stream {
            value.unwrap_or_else(|e| fail(e));
            n += 1;
        }
    }
    n
}

fn parse(files: &[Vec<u8>]) -> u64 {
    let mut n = 0u64;
    for data in files {
        read_document(data, "bench", &mut |record| {
            if let Ok(record) = record {
                black_box(&record.event);
                n += 1;
            }
        });
    }
    n
}

fn analyze(files: &[Vec<u8>]) -> (u64, usize) {
    let mut analyzer = TrailAnalyzer::new(&AuditConfig::default().selection);
    // As `keywarden trail` does: analyzed events go back, by batches, to be reused.
    let mut batch = Vec::with_capacity(1024);
    for data in files {
        read_document(data, "bench", &mut |record| {
            if let Ok(record) = record {
                analyzer.observe(&record.event);
                batch.push(record.event);
                if batch.len() == 1024 {
                    recycle(&mut batch);
                }
            }
        });
    }
    recycle(&mut batch);
    let outcome = analyzer.finish();
    (outcome.stats.events, outcome.findings.len())
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let out = black_box(f());
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (
        times[0],
        times[times.len() / 2],
        last.expect("at least one rep"),
    )
}

fn main() {
    let mut reps = 7usize;
    let mut only: Option<String> = None;
    let mut limit: u64 = 1 << 30;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(reps),
            "--only" => only = args.next(),
            "--limit" => limit = args.next().and_then(|v| v.parse().ok()).unwrap_or(limit),
            _ => walk(Path::new(&arg), &mut paths),
        }
    }
    if paths.is_empty() {
        fail("name the files or folders to read (uncompressed .json / .jsonl)");
    }
    let mut files = Vec::new();
    let mut bytes = 0u64;
    for path in &paths {
        if bytes >= limit {
            break;
        }
        let data = std::fs::read(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        bytes += data.len() as u64;
        files.push(data);
    }
    let events = parse(&files);
    println!(
        "input: {} files, {bytes} bytes, {events} events ({:.0} bytes per event; an Event is {} bytes)",
        files.len(),
        bytes as f64 / events.max(1) as f64,
        std::mem::size_of::<keywarden_core::cloudtrail::event::Event>()
    );
    println!(
        "{:<14} {:>10} {:>10} {:>12} {:>10}",
        "stage", "best", "median", "events/s", "MB/s"
    );
    let report = |stage: &str, best: Duration, median: Duration| {
        println!(
            "{stage:<14} {:>8.1}ms {:>8.1}ms {:>12.0} {:>10.0}",
            best.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            events as f64 / median.as_secs_f64(),
            bytes as f64 / 1e6 / median.as_secs_f64()
        );
    };
    let wants = |stage: &str| only.as_deref().is_none_or(|o| o == stage);
    if wants("scan") {
        let (best, median, _) = time(reps, || scan(&files));
        report("scan", best, median);
    }
    if wants("parse") {
        let (best, median, _) = time(reps, || parse(&files));
        report("parse", best, median);
    }
    if wants("analyze") {
        let (best, median, (seen, findings)) = time(reps, || analyze(&files));
        report("parse+analyze", best, median);
        println!("analyzed: {seen} events, {findings} findings");
        let (_, allocs, heap_peak) = counting_alloc::measure(|| black_box(analyze(&files)));
        println!(
            "heap during parse+analyze: {:.1} allocations per event, peak {:.1} MiB",
            allocs as f64 / events.max(1) as f64,
            heap_peak as f64 / (1 << 20) as f64
        );
    }
}
