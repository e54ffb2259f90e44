//! In-process throughput benchmark of the credential-report parser and the audit engine.
//!
//! ```text
//! cargo run --release -p keywarden-core --example gen_report -- --rows 100000 --seed 42 > bench-data/report-100k.csv
//! cargo run --release -p keywarden-core --example bench_audit -- bench-data/report-100k.csv
//! ```
//!
//! Options: `--reps N` (default 15), `--now RFC3339` (default 2026-11-20T12:00:00Z, the instant
//! the generator writes the report at), `--only csv|parse|audit` (time one stage alone, e.g.
//! under `perf record` or `valgrind --tool=callgrind`).
//!
//! The file is read into memory first, so only parsing and evaluation are timed, on this one
//! thread. Three stages are timed, each `--reps` times, and the best and the median reported:
//!
//! - `csv`: the csv crate splitting the bytes into records, nothing else: the floor any parser
//!   built on it pays;
//! - `parse`: [`ReportReader`] decoding every row into the model, no rules;
//! - `parse+audit`: [`audit_report`] (a [`ReportReader`] streamed into an `AuditRun`) with the
//!   default configuration, findings sorted: what `keywarden audit --report` does before
//!   printing.
//!
//! A last, untimed pass counts heap allocations per row and the heap's peak during parse+audit.

#![allow(
    clippy::disallowed_macros,
    clippy::disallowed_methods,
    reason = "an example program outside the core: it reads files, times and prints"
)]

use keywarden_core::report::ReportReader;
use keywarden_core::{audit_report, AccountExtras, AuditConfig};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

/// Splits the input into records with the csv crate, as ReportReader configures it.
fn csv_only(data: &[u8]) -> u64 {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    while reader.read_byte_record(&mut record).expect("csv") {
        rows += 1;
        black_box(&record);
    }
    rows.saturating_sub(1)
}

fn parse_only(data: &[u8]) -> u64 {
    let mut reader = ReportReader::new(data, "bench").expect("report header");
    let mut rows = 0u64;
    while let Some(user) = reader.next_user() {
        black_box(user.expect("report row"));
        rows += 1;
    }
    rows
}

/// [`audit_report`]: a [`ReportReader`] streamed into an `AuditRun`, exactly as the CLI runs it.
fn parse_and_audit(
    data: &[u8],
    config: &AuditConfig,
    now: keywarden_core::Timestamp,
) -> (u64, usize) {
    let reader = ReportReader::new(data, "bench").expect("report header");
    let outcome = audit_report(
        reader,
        config,
        now,
        AccountExtras::unknown_from_report_file(),
    )
    .expect("report rows");
    let findings = outcome.findings.len();
    let rows = outcome.users_evaluated;
    black_box(outcome);
    (rows, findings)
}

struct Stage {
    name: &'static str,
    times: Vec<Duration>,
    rows: u64,
}

impl Stage {
    fn best(&self) -> Duration {
        *self.times.iter().min().expect("timed at least once")
    }

    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        let n = t.len();
        if n % 2 == 1 {
            t[n / 2]
        } else {
            (t[n / 2 - 1] + t[n / 2]) / 2
        }
    }
}

fn time_stage(name: &'static str, reps: usize, mut f: impl FnMut() -> u64) -> Stage {
    // One untimed warm-up (page faults, caches, lazy statics).
    let rows = f();
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        let r = f();
        times.push(start.elapsed());
        assert_eq!(r, rows, "{name}: row count changed between repetitions");
    }
    Stage { name, times, rows }
}

fn main() {
    let mut path = None;
    let mut reps = 15usize;
    let mut now_text = "2026-11-20T12:00:00Z".to_owned();
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => {
                reps = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage())
            }
            "--now" => now_text = args.next().unwrap_or_else(|| usage()),
            "--only" => {
                only = Some(
                    args.next()
                        .filter(|s| ["csv", "parse", "audit"].contains(&s.as_str()))
                        .unwrap_or_else(|| usage()),
                )
            }
            "-h" | "--help" => usage(),
            _ if path.is_none() && !arg.starts_with('-') => path = Some(arg),
            _ => usage(),
        }
    }
    let path = path.unwrap_or_else(|| usage());
    let now = keywarden_core::time::parse_timestamp(&now_text).unwrap_or_else(|| {
        eprintln!("bench_audit: --now `{now_text}` is not an RFC 3339 instant");
        std::process::exit(2)
    });
    let data = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("bench_audit: cannot read {path}: {e}");
        std::process::exit(2)
    });
    let config = AuditConfig::default();
    let mb = data.len() as f64 / 1e6;

    let mut findings = 0;
    if let Some(stage) = only {
        let s = match stage.as_str() {
            "csv" => time_stage("csv", reps, || csv_only(&data)),
            "parse" => time_stage("parse", reps, || parse_only(&data)),
            _ => time_stage("parse+audit", reps, || {
                parse_and_audit(&data, &config, now).0
            }),
        };
        println!(
            "{}: best {:.2} ms, median {:.2} ms, {:.0} rows/s (median)",
            s.name,
            s.best().as_secs_f64() * 1e3,
            s.median().as_secs_f64() * 1e3,
            s.rows as f64 / s.median().as_secs_f64()
        );
        return;
    }
    let stages = [
        time_stage("csv", reps, || csv_only(&data)),
        time_stage("parse", reps, || parse_only(&data)),
        time_stage("parse+audit", reps, || {
            let (rows, f) = parse_and_audit(&data, &config, now);
            findings = f;
            rows
        }),
    ];

    let ((rows, _), allocs, heap_peak) =
        counting_alloc::measure(|| parse_and_audit(&data, &config, now));

    println!(
        "input: {path}: {rows} rows, {:.1} MB, {findings} findings, now {now_text}",
        mb
    );
    println!("one thread, {reps} timed repetitions after one warm-up");
    println!();
    println!(
        "{:<12} {:>10} {:>10} {:>14} {:>14} {:>10} {:>10}",
        "stage", "best ms", "median ms", "rows/s best", "rows/s median", "MB/s best", "ns/row"
    );
    for s in &stages {
        let best = s.best().as_secs_f64();
        let median = s.median().as_secs_f64();
        println!(
            "{:<12} {:>10.2} {:>10.2} {:>14.0} {:>14.0} {:>10.1} {:>10.0}",
            s.name,
            best * 1e3,
            median * 1e3,
            s.rows as f64 / best,
            s.rows as f64 / median,
            mb / best,
            best * 1e9 / s.rows.max(1) as f64,
        );
    }
    let parse = stages[1].best().as_secs_f64();
    let total = stages[2].best().as_secs_f64();
    println!();
    println!(
        "split (best): parse {:.1} ms ({:.0}%), rules+findings+sort {:.1} ms ({:.0}%)",
        parse * 1e3,
        100.0 * parse / total,
        (total - parse) * 1e3,
        100.0 * (total - parse) / total
    );
    println!(
        "heap during parse+audit: {allocs} allocations ({:.1} per row), peak {:.1} MiB above the input",
        allocs as f64 / rows.max(1) as f64,
        heap_peak as f64 / (1024.0 * 1024.0)
    );
    let target = 1_000_000.0;
    let rate = stages[2].rows as f64 / stages[2].median().as_secs_f64();
    println!(
        "target >= {target:.0} rows/s (parse+audit, median): {}",
        if rate >= target { "met" } else { "NOT met" }
    );
}

fn usage() -> ! {
    eprintln!("usage: bench_audit REPORT.csv [--reps N] [--now RFC3339] [--only csv|parse|audit]");
    std::process::exit(2)
}
