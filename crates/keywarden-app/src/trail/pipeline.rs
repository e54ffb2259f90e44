//! The parser every source feeds: units (files, standard input, fetched bytes) parsed on every
//! core, events folded into one analyzer through a bounded channel, an inspector (Sigma) run
//! on the workers; fetched units batched in while the next ones download.

use flate2::read::MultiGzDecoder;
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::event::{recycle, Event};
use keywarden_core::cloudtrail::reader::{BadRecord, Limits, Location, Record};
use keywarden_core::cloudtrail::stream;
use keywarden_core::finding::Finding;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use std::future::Future;
use tokio::sync::mpsc;

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

/// How units are parsed: on how many workers, within which limits.
#[derive(Debug, Clone, Copy)]
pub struct Parsing {
    pub threads: usize,
    pub limits: Limits,
}

impl Parsing {
    /// `threads` workers, the default limits.
    pub fn threads(threads: usize) -> Self {
        Parsing {
            threads,
            limits: Limits::default(),
        }
    }
}

/// Reads every unit on `parsing.threads` workers and folds the events into `analyzer`, in the
/// calling thread.
pub fn analyze_units(
    units: Vec<Unit>,
    parsing: Parsing,
    analyzer: &mut TrailAnalyzer,
) -> ReadReport {
    analyze_units_inspecting(units, parsing, analyzer, None)
}

/// [`analyze_units`], with `inspector` run by the workers on every record; its findings are in
/// [`ReadReport::findings`].
pub fn analyze_units_inspecting(
    units: Vec<Unit>,
    parsing: Parsing,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
) -> ReadReport {
    let threads = parsing.threads;
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
            scope.spawn(move || worker(&queue, &link, parsing.limits, inspector));
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
    limits: Limits,
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
        read_unit(&unit, sender, limits, inspector, &mut buffer);
        if sender.send(Batch::UnitDone).is_err() {
            return;
        }
    }
}

/// Reads one unit, sending events and bad records as they come.
fn read_unit(
    unit: &Unit,
    sender: &Link,
    limits: Limits,
    inspector: Option<Inspector<'_>>,
    buffer: &mut Vec<u8>,
) {
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
    read_stream(input, &origin, gzipped, limits, sender, inspector, buffer);
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

/// Reads a (decompressed) stream with the core's streaming reader: one chunk in memory at a
/// time, whatever the input's size or shape.
fn read_stream(
    mut input: Box<dyn Read>,
    origin: &str,
    gzipped: bool,
    limits: Limits,
    sender: &Link,
    inspector: Option<Inspector<'_>>,
    buffer: &mut Vec<u8>,
) {
    let mut batcher = Batcher::new(sender, inspector);
    let read = stream::read_stream(&mut input, origin, limits, buffer, &mut |item| {
        batcher.push(item)
    });
    if let Err(failure) = read {
        batcher.push(Err(bad(
            origin,
            failure.location,
            damage(gzipped, failure.decoded, &failure.error),
        )));
    }
    batcher.finish();
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

/// Gathers what a worker reads into batches for the analyzer: events (with the inspector's
/// findings) by [`BATCH`], bad records by [`BATCH`] too, so that an input of nothing but bad
/// records does not pile them up in memory.
struct Batcher<'l, 'i> {
    sender: &'l Link,
    inspector: Option<Inspector<'i>>,
    events: Vec<Event>,
    findings: Vec<(usize, Finding)>,
    found: Vec<Finding>,
    bad_records: Vec<BadRecord>,
}

impl<'l, 'i> Batcher<'l, 'i> {
    fn new(sender: &'l Link, inspector: Option<Inspector<'i>>) -> Self {
        Batcher {
            sender,
            inspector,
            events: sender.empty_batch(),
            findings: Vec::new(),
            found: Vec::new(),
            bad_records: Vec::new(),
        }
    }

    fn push(&mut self, item: Result<Record<'_>, BadRecord>) {
        match item {
            Ok(record) => {
                if let Some(inspect) = self.inspector {
                    inspect(&record, &mut self.found);
                    let at = self.events.len();
                    self.findings.extend(self.found.drain(..).map(|f| (at, f)));
                }
                self.events.push(record.event);
                if self.events.len() == BATCH {
                    let events = std::mem::replace(&mut self.events, self.sender.empty_batch());
                    self.send_events(events);
                }
            }
            Err(record) => {
                self.bad_records.push(record);
                if self.bad_records.len() == BATCH {
                    let _ = self
                        .sender
                        .send(Batch::Bad(std::mem::take(&mut self.bad_records)));
                }
            }
        }
    }

    fn send_events(&mut self, events: Vec<Event>) {
        let _ = self.sender.send(Batch::Events {
            worker: self.sender.worker,
            events,
            findings: std::mem::take(&mut self.findings),
        });
    }

    /// Sends what is left.
    fn finish(mut self) {
        if !self.events.is_empty() {
            let events = std::mem::take(&mut self.events);
            self.send_events(events);
        }
        if !self.bad_records.is_empty() {
            let _ = self.sender.send(Batch::Bad(self.bad_records));
        }
    }
}

/// Where fetched units go: the parser's side of the pipeline.
pub type UnitSink = mpsc::Sender<Unit>;

/// Units waiting for the parser. With S3 objects of a few hundred kB to a few MB, this bounds
/// the memory the downloads can run ahead with.
const CHANNEL_UNITS: usize = 64;
/// A parser batch: this many bytes or units, or whatever has arrived when the parser is free.
const BATCH_BYTES: usize = 64 << 20;
const BATCH_UNITS: usize = 256;

/// Runs `produce` on `runtime` while the calling thread parses what it sends into `analyzer`, in
/// batches (`analyze_units_inspecting` with `parsing` per batch, with `inspector` if any).
/// Returns the reading report and `produce`'s result. Call it from outside the runtime (it
/// blocks).
pub fn analyze_fetched<T, F, Fut>(
    runtime: &tokio::runtime::Handle,
    parsing: Parsing,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
    produce: F,
) -> (ReadReport, T)
where
    F: FnOnce(UnitSink) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (sink, mut receiver) = mpsc::channel::<Unit>(CHANNEL_UNITS);
    let task = runtime.spawn(produce(sink));
    let mut report = ReadReport::default();
    while let Some(first) = receiver.blocking_recv() {
        let mut size = unit_size(&first);
        let mut batch = vec![first];
        while size < BATCH_BYTES && batch.len() < BATCH_UNITS {
            match receiver.try_recv() {
                Ok(unit) => {
                    size += unit_size(&unit);
                    batch.push(unit);
                }
                Err(_) => break,
            }
        }
        merge(
            &mut report,
            analyze_units_inspecting(batch, parsing, analyzer, inspector),
        );
    }
    let output = match runtime.block_on(task) {
        Ok(output) => output,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    (report, output)
}

fn unit_size(unit: &Unit) -> usize {
    match unit {
        Unit::Bytes { data, .. } => data.len(),
        _ => 0,
    }
}

/// Adds one batch's reading report to the run's.
pub fn merge(into: &mut ReadReport, from: ReadReport) {
    into.units_read += from.units_read;
    into.findings.extend(from.findings);
    into.bad_records_not_kept += from.bad_records_not_kept;
    for record in from.bad_records {
        if into.bad_records.len() < KEEP_BAD_RECORDS {
            into.bad_records.push(record);
        } else {
            into.bad_records_not_kept += 1;
        }
    }
}
