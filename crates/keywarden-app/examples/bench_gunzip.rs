//! Decompression alone, as `keywarden trail` decompresses: flate2's `MultiGzDecoder` over a
//! 64 KiB `BufReader` of each file, on `--threads` workers taking files from one queue, the
//! output discarded. `scripts/bench-trail.sh` compares it with `trail` over the same files.
//!
//! ```text
//! cargo run --release -p keywarden-app --example bench_gunzip -- --threads 2 bench-data/trail/gz
//! ```
//!
//! Arguments are files or folders (walked for `*.gz`). Prints the compressed and decompressed
//! bytes and the wall time.

#![allow(
    clippy::disallowed_macros,
    reason = "a benchmark prints its measurements"
)]

use flate2::read::MultiGzDecoder;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

fn walk(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            walk(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "gz") {
        out.push(path.to_owned());
    }
}

fn main() {
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(threads);
        } else {
            walk(Path::new(&arg), &mut files);
        }
    }
    files.sort();
    let next = AtomicUsize::new(0);
    let compressed = AtomicU64::new(0);
    let decompressed = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut buffer = vec![0u8; 1 << 16];
                loop {
                    let i = next.fetch_add(1, Relaxed);
                    let Some(path) = files.get(i) else {
                        return;
                    };
                    let file = std::fs::File::open(path).expect("open");
                    compressed.fetch_add(file.metadata().map_or(0, |m| m.len()), Relaxed);
                    let mut input = MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
                    loop {
                        match input.read(&mut buffer) {
                            Ok(0) => break,
                            Ok(n) => {
                                decompressed.fetch_add(n as u64, Relaxed);
                            }
                            Err(e) => panic!("{}: {e}", path.display()),
                        }
                    }
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} files, {} compressed bytes, {} decompressed bytes, {threads} threads, {:.3} s, {:.0} MB/s decompressed",
        files.len(),
        compressed.load(Relaxed),
        decompressed.load(Relaxed),
        seconds,
        decompressed.load(Relaxed) as f64 / 1e6 / seconds
    );
}
