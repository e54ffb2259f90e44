//! `keywarden trail` over local sources: files, folders (walked), standard input; plain or
//! gzipped, in any of the formats the core's reader detects. Files are parsed on every core;
//! one analyzer folds the events in, so lineage sees all files as one log.
//!
//! Memory stays flat as the input grows: each worker holds one chunk at a time (a CloudTrail
//! file, or 16 MiB of a large line-oriented file), events go to the analyzer in batches of 1,024
//! through a bounded channel, and the analyzer keeps lineage and findings, not events.
//!
//! An [`Inspector`] (`keywarden trail --sigma`: Sigma rules over each event's JSON) runs in the
//! workers too, on every record as it is read, so its cost is spread over the cores like the
//! parsing; its findings travel with their events to the analyzer's thread, which keeps those of
//! events inside `--since`/`--until` that are not repeats of an event already analyzed.

use flate2::read::MultiGzDecoder;
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::event::{recycle, Event};
use keywarden_core::cloudtrail::reader::{
    is_line_oriented, read_document, read_lines_from, BadRecord, Location, Record,
};
use keywarden_core::finding::Finding;
use std::borrow::Cow;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

/// One thing to read.
#[derive(Debug, Clone)]
pub enum Unit {
    File(PathBuf),
    Stdin,
    /// Already fetched (an S3 object, a LookupEvents page): name and raw bytes.
    Bytes {
        origin: String,
        data: Arc<Vec<u8>>,
    },
}

impl Unit {
    pub fn origin(&self) -> String {
        match self {
            Unit::File(path) => path.display().to_string(),
            Unit::Stdin => "-".to_owned(),
            Unit::Bytes { origin, .. } => origin.clone(),
        }
    }
}

/// A source the user named that cannot be read at all (missing path, unreadable folder).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SourceError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Expands folders into the log files under them, sorted for a stable order. Digest files
/// (`CloudTrail-Digest/`) are not events and are skipped; so are hidden files.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Unit>, SourceError> {
    let mut units = Vec::new();
    for path in paths {
        if path == Path::new("-") {
            units.push(Unit::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|source| SourceError {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            units.extend(found.into_iter().map(Unit::File));
        } else {
            units.push(Unit::File(path.clone()));
        }
    }
    Ok(units)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let error = |source| SourceError {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "CloudTrail-Digest" {
            continue;
        }
        let kind = entry.file_type().map_err(error)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if is_log_name(&name) {
            out.push(path);
        }
    }
    Ok(())
}

/// Files a walked folder contributes; a file named on the command line is read whatever its name.
fn is_log_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Looks at every record on the worker that read it, before its event goes to the analyzer,
/// and adds findings about it to `out` (Sigma rules over the event's JSON text).
pub type Inspector<'i> = &'i (dyn Fn(&Record<'_>, &mut Vec<Finding>) + Sync);

/// What one reading pass produced besides the analysis.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub units_read: usize,
    pub bad_records: Vec<BadRecord>,
    /// Bad records beyond those kept in `bad_records` (the first 1,000 are kept).
    pub bad_records_not_kept: u64,
    /// The inspector's findings, in arrival order, for events the analyzer counted: inside the
    /// window and not a repeat it skipped. The analyzer only recognises repeats of the events
    /// its detections read, so a repeat of another event can still bring the same finding
    /// twice: deduplicate by event id and rule when merging them into the analysis's.
    pub findings: Vec<Finding>,
}

const KEEP_BAD_RECORDS: usize = 1000;
const CHUNK: usize = 16 << 20;

enum Batch {
    Events {
        /// The worker that read them, which gets the vector back once analyzed.
        worker: usize,
        events: Vec<Event>,
        /// The inspector's findings, each with the index of its event in `events`.
        findings: Vec<(usize, Finding)>,
    },
    Bad(Vec<BadRecord>),
    UnitDone,
}

/// Reads every unit on `threads` workers and folds the events into `analyzer`, in the calling
/// thread.
pub fn analyze_units(units: Vec<Unit>, threads: usize, analyzer: &mut TrailAnalyzer) -> ReadReport {
    analyze_units_inspecting(units, threads, analyzer, None)
}

/// [`analyze_units`], with `inspector` run by the workers on every record; its findings are in
/// [`ReadReport::findings`].
pub fn analyze_units_inspecting(
    units: Vec<Unit>,
    threads: usize,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
) -> ReadReport {
    let queue = Arc::new(Mutex::new(units.into_iter()));
    let (sender, receiver) = sync_channel::<Batch>(threads * 4);
    let mut report = ReadReport::default();
    let mut returns = Vec::new();
    std::thread::scope(|scope| {
        for worker_id in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let (give_back, returned) = channel();
            returns.push(give_back);
            let link = Link {
                worker: worker_id,
                sender: sender.clone(),
                returned,
            };
            scope.spawn(move || worker(&queue, &link, inspector));
        }
        drop(sender);
        fold(&receiver, &returns, analyzer, &mut report);
    });
    report
}

/// A worker's ends of the channels: batches to the analyzer, and its analyzed batches coming
/// back. The worker reuses the vector and hands the events to the reader's reuse pool
/// (`event::recycle`), so the next events it decodes reuse their strings: a batch holds some
/// fifteen allocations per event, and freeing memory another thread allocated is slow in the
/// system allocator (its arena's lock, no thread cache).
struct Link {
    worker: usize,
    sender: SyncSender<Batch>,
    returned: Receiver<Vec<Event>>,
}

impl Link {
    fn send(&self, batch: Batch) -> Result<(), std::sync::mpsc::SendError<Batch>> {
        self.sender.send(batch)
    }

    /// An empty vector for the next batch, a returned one if any (batches returned since the
    /// last call are dropped here, on the thread that allocated their events).
    fn empty_batch(&self) -> Vec<Event> {
        let mut reused: Option<Vec<Event>> = None;
        while let Ok(mut events) = self.returned.try_recv() {
            // Their allocations serve the next events this worker decodes.
            recycle(&mut events);
            reused.get_or_insert(events);
        }
        reused.unwrap_or_else(|| Vec::with_capacity(BATCH))
    }
}

fn fold(
    receiver: &Receiver<Batch>,
    returns: &[Sender<Vec<Event>>],
    analyzer: &mut TrailAnalyzer,
    report: &mut ReadReport,
) {
    for batch in receiver {
        match batch {
            Batch::Events {
                worker,
                events,
                findings,
            } if findings.is_empty() => {
                events.iter().for_each(|e| analyzer.observe(e));
                // If the worker is gone, the events are dropped here instead.
                let _ = returns[worker].send(events);
            }
            Batch::Events {
                worker,
                events,
                findings,
            } => {
                let mut findings = findings.into_iter().peekable();
                for (index, event) in events.iter().enumerate() {
                    let before = analyzer.stats;
                    analyzer.observe(event);
                    let after = analyzer.stats;
                    // As the analyzer does for its own findings: none about an event outside
                    // --since/--until, or about a repeat it skipped.
                    let counted = after.events > before.events
                        && after.outside_window == before.outside_window
                        && after.duplicates == before.duplicates;
                    while let Some((_, finding)) = findings.next_if(|(i, _)| *i == index) {
                        if counted {
                            report.findings.push(finding);
                        }
                    }
                }
                let _ = returns[worker].send(events);
            }
            Batch::Bad(bad) => {
                for record in bad {
                    analyzer.record_bad();
                    if report.bad_records.len() < KEEP_BAD_RECORDS {
                        report.bad_records.push(record);
                    } else {
                        report.bad_records_not_kept += 1;
                    }
                }
            }
            Batch::UnitDone => report.units_read += 1,
        }
    }
}

fn worker(
    queue: &Mutex<std::vec::IntoIter<Unit>>,
    sender: &Link,
    inspector: Option<Inspector<'_>>,
) {
    // One read buffer for all the worker's units: a fresh one per file would grow (and copy)
    // to the file's size, in fresh pages, every time.
    let mut buffer = Vec::new();
    loop {
        let unit = match queue.lock() {
            Ok(mut q) => q.next(),
            Err(_) => None,
        };
        let Some(unit) = unit else {
            return;
        };
        read_unit(&unit, sender, inspector, &mut buffer);
        if sender.send(Batch::UnitDone).is_err() {
            return;
        }
    }
}

/// Reads one unit, sending events and bad records as they come.
fn read_unit(unit: &Unit, sender: &Link, inspector: Option<Inspector<'_>>, buffer: &mut Vec<u8>) {
    let origin = unit.origin();
    let opened: io::Result<Box<dyn Read>> = match unit {
        Unit::File(path) => std::fs::File::open(path).map(|f| Box::new(f) as Box<dyn Read>),
        Unit::Stdin => Ok(Box::new(io::stdin().lock())),
        Unit::Bytes { data, .. } => Ok(Box::new(io::Cursor::new(SharedBytes(Arc::clone(data))))),
    };
    let mut input = match opened {
        Ok(input) => BufReader::with_capacity(1 << 16, input),
        Err(e) => {
            let _ = sender.send(Batch::Bad(vec![bad(
                &origin,
                Location::Record(0),
                format!("cannot open: {e}"),
            )]));
            return;
        }
    };
    // Gzip is recognised by its magic bytes, whatever the name says.
    let gzipped =
        matches!(io::BufRead::fill_buf(&mut input), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
    let input: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(input))
    } else {
        Box::new(input)
    };
    read_stream(input, &origin, gzipped, sender, inspector, buffer);
}

/// Fetched bytes shared with the queue, read without copying.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn bad(origin: &str, location: Location, reason: String) -> BadRecord {
    BadRecord {
        origin: origin.to_owned(),
        location,
        reason,
    }
}

/// Reads a (decompressed) stream. A document that fits in one chunk is read whole; a larger
/// one-event-per-line input is read chunk by chunk at line boundaries.
fn read_stream(
    mut input: Box<dyn Read>,
    origin: &str,
    gzipped: bool,
    sender: &Link,
    inspector: Option<Inspector<'_>>,
    buffer: &mut Vec<u8>,
) {
    buffer.clear();
    // A document larger than a chunk is read whole; do not keep its size for the next unit.
    if buffer.capacity() > 2 * CHUNK {
        *buffer = Vec::new();
    }
    buffer.reserve(1 << 20);
    let mut failure = None;
    let mut first_line = 1u64;
    let mut line_mode: Option<bool> = None;
    let mut decoded = 0u64;
    loop {
        // Always ask for at least 1 MiB, so a line longer than a chunk still makes progress.
        let want = CHUNK.saturating_sub(buffer.len()).max(1 << 20) as u64;
        let before = buffer.len();
        let at_end = match (&mut input).take(want).read_to_end(buffer) {
            Ok(0) => true,
            Ok(n) => {
                decoded += n as u64;
                false
            }
            Err(e) => {
                // What the failed read decoded before the damage is in the buffer, and counts.
                decoded += (buffer.len() - before) as u64;
                failure = Some(damage(gzipped, decoded, &e));
                true
            }
        };
        if !at_end && buffer.len() < CHUNK {
            continue;
        }
        let lines = *line_mode.get_or_insert_with(|| !at_end && is_line_oriented(buffer));
        if !lines {
            // One document (a CloudTrail file, an array): it must be read whole.
            if !at_end {
                if let Err(e) = input.read_to_end(buffer) {
                    failure = Some(damage(gzipped, buffer.len() as u64, &e));
                }
            }
            send_document(buffer, sender, inspector, |text, sink| {
                read_document(text, origin, sink)
            });
            break;
        }
        let cut = if at_end {
            buffer.len()
        } else {
            match buffer.iter().rposition(|&b| b == b'\n') {
                Some(p) => p + 1,
                None => continue,
            }
        };
        // Read in place; only the bytes after the cut (a partial line) move afterwards.
        let chunk = &buffer[..cut];
        // `from_utf8_lossy` validates byte by byte; the standard validator is several times
        // faster on the usual, valid, chunk.
        let text = match std::str::from_utf8(chunk) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(chunk),
        };
        let line_count = count_newlines(chunk);
        send_document(text.as_bytes(), sender, inspector, |_, sink| {
            read_lines_from(&text, origin, first_line, sink)
        });
        drop(text);
        buffer.drain(..cut);
        first_line += line_count;
        if at_end {
            break;
        }
    }
    if let Some(reason) = failure {
        let _ = sender.send(Batch::Bad(vec![bad(
            origin,
            Location::Line(first_line),
            reason,
        )]));
    }
}

/// The number of `\n` in `bytes`, counted in blocks of 255 so that the count vectorizes in
/// bytes (a `filter().count()` widens every byte to 64 bits: a sixth of the time of reading a
/// line file went there).
fn count_newlines(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| {
            u64::from(
                block
                    .iter()
                    .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n'))),
            )
        })
        .sum()
}

fn damage(gzipped: bool, decoded: u64, e: &io::Error) -> String {
    if gzipped {
        format!("gzip stream damaged after {decoded} decompressed bytes, the rest is skipped: {e}")
    } else {
        format!("read failed after {decoded} bytes, the rest is skipped: {e}")
    }
}

/// Events per batch sent to the analyzer: what a worker holds while it parses, and what waits
/// in the channel, stays this size however large a document or chunk is.
const BATCH: usize = 1024;

fn send_document(
    document: &[u8],
    sender: &Link,
    inspector: Option<Inspector<'_>>,
    read: impl FnOnce(&[u8], &mut dyn FnMut(Result<Record<'_>, BadRecord>)),
) {
    let mut events = sender.empty_batch();
    let mut findings = Vec::new();
    let mut found = Vec::new();
    let mut bad_records = Vec::new();
    read(document, &mut |item| match item {
        Ok(record) => {
            if let Some(inspect) = inspector {
                inspect(&record, &mut found);
                findings.extend(found.drain(..).map(|f| (events.len(), f)));
            }
            events.push(record.event);
            if events.len() == BATCH {
                let _ = sender.send(Batch::Events {
                    worker: sender.worker,
                    events: std::mem::replace(&mut events, sender.empty_batch()),
                    findings: std::mem::take(&mut findings),
                });
            }
        }
        Err(record) => bad_records.push(record),
    });
    if !events.is_empty() {
        let _ = sender.send(Batch::Events {
            worker: sender.worker,
            events,
            findings,
        });
    }
    if !bad_records.is_empty() {
        let _ = sender.send(Batch::Bad(bad_records));
    }
}

#[cfg(test)]
mod tests {
    use super::count_newlines;

    #[test]
    fn newlines_are_counted_across_blocks() {
        for len in [0, 1, 254, 255, 256, 1000, 70_000] {
            let bytes: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
                .collect();
            let expected = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(&bytes), expected, "{len} bytes");
            assert_eq!(count_newlines(&vec![b'\n'; len]), len as u64);
        }
    }
}
