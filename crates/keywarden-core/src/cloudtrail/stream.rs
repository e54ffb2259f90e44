//! Reads CloudTrail events from a stream (a file, standard input, a gzip decoder) in bounded
//! memory and in time linear in its size, whatever the input holds.
//!
//! An input that fits in one chunk ([`CHUNK`], the usual CloudTrail file of a few MB) is read
//! whole by [`read_document_limited`], the fast path. A larger one is read chunk by chunk:
//!
//! - one event per line: at line boundaries; the search for the last newline only looks at bytes
//!   it has not looked at yet, and a line longer than [`Limits::max_event_bytes`] is a bad record
//!   whose bytes are dropped as they arrive, never buffered;
//! - anything else (`{"Records":[...]}` on one line or pretty-printed, an array, a stream of
//!   events): element by element. Whitespace between elements is skipped as it arrives, so
//!   `{"Records":[` followed by gigabytes of spaces (a few MB gzipped) holds one chunk; an
//!   element longer than the limit is a bad record, skipped by a scanner that keeps no bytes.
//!
//! So memory is one chunk (or the event limit, when it is larger) for any input, and every byte
//! is looked at a bounded number of times. Input that starts with a NUL byte (`/dev/zero`, UTF-16
//! text) is binary, not a log: refused at once.

use super::decode::Found;
use super::pool::spare_event;
use super::reader::{
    emit, finish_event, is_line_oriented, read_document_limited, read_lines_limited, BadRecord,
    Limits, Location, Record,
};
use serde::de::IgnoredAny;
use std::borrow::Cow;
use std::io::{self, Read};

/// Bytes read at a time: what a worker holds (more only when the event limit is larger).
pub const CHUNK: usize = 16 << 20;

/// Reading the input failed part way: what was decoded before is read, the rest is not.
#[derive(Debug)]
pub struct ReadFailure {
    /// Bytes the input gave before the failure.
    pub decoded: u64,
    /// Where the reader stood.
    pub location: Location,
    pub error: io::Error,
}

type Sink<'s> = &'s mut dyn FnMut(Result<Record<'_>, BadRecord>);

/// Reads every event of `input` into `sink`, in bounded memory; `origin` names it in bad-record
/// reports and `buffer` is reused from one input to the next. A read error ends the input: the
/// events before it are read, and the error is returned.
pub fn read_stream(
    input: &mut dyn Read,
    origin: &str,
    limits: Limits,
    buffer: &mut Vec<u8>,
    sink: Sink<'_>,
) -> Result<(), ReadFailure> {
    let chunk = CHUNK.max(limits.max_event_bytes.saturating_add(1 << 20));
    buffer.clear();
    // A worker's buffer serves every unit it reads: do not keep an exceptional size.
    if buffer.capacity() > 2 * chunk {
        *buffer = Vec::new();
    }
    let mut chunks = Chunks {
        input,
        buf: buffer,
        pos: 0,
        chunk,
        eof: false,
        error: None,
        decoded: 0,
        line: 1,
        column: 1,
        positions: true,
    };
    chunks.fill();
    let text_start = start_of_text(chunks.buf);
    let mut line = 1;
    if chunks.buf.get(text_start) == Some(&0) {
        sink(Err(bad(
            origin,
            Location::Position {
                line: 1,
                column: text_start as u64 + 1,
            },
            "NUL bytes: binary data (a device, UTF-16 text?), not a CloudTrail log; the input is skipped".into(),
        )));
    } else if chunks.eof {
        read_document_limited(chunks.buf, origin, limits, sink);
    } else if is_line_oriented(chunks.buf) {
        // Lines count themselves; the buffer need not.
        chunks.positions = false;
        line = read_lines(&mut chunks, origin, limits, sink);
    } else {
        Elements {
            chunks: &mut chunks,
            origin,
            limits,
            sink,
            counter: 0,
        }
        .read();
        line = chunks.line_at(chunks.pos);
    }
    match chunks.error.take() {
        Some(error) => Err(ReadFailure {
            decoded: chunks.decoded,
            location: Location::Line(line),
            error,
        }),
        None => Ok(()),
    }
}

fn bad(origin: &str, location: Location, reason: String) -> BadRecord {
    BadRecord {
        origin: origin.to_owned(),
        location,
        reason,
    }
}

/// Where the text starts: after a UTF-8 byte order mark and whitespace.
fn start_of_text(bytes: &[u8]) -> usize {
    let at = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    skip_whitespace(bytes, at)
}

/// JSON's whitespace, as serde_json skips it.
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The input and the bytes of it in memory: `buf[pos..]` are not consumed yet.
struct Chunks<'i, 'b> {
    input: &'i mut dyn Read,
    buf: &'b mut Vec<u8>,
    pos: usize,
    chunk: usize,
    /// No more input: its end, or a read error (in `error`).
    eof: bool,
    error: Option<io::Error>,
    decoded: u64,
    /// Line (1-based) and column (1-based, in bytes) of `buf[0]`, for error positions, kept
    /// while `positions` is set.
    line: u64,
    column: u64,
    positions: bool,
}

impl Chunks<'_, '_> {
    /// Drops the consumed bytes and reads until a chunk is buffered or the input ends. Returns
    /// whether anything was read.
    fn fill(&mut self) -> bool {
        self.compact();
        let before = self.buf.len();
        while self.buf.len() < self.chunk && !self.eof {
            let start = self.buf.len();
            let want = (self.chunk - start) as u64;
            match (&mut *self.input).take(want).read_to_end(self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.decoded += n as u64,
                Err(e) => {
                    // What the failed read gave before the damage is in the buffer, and counts.
                    self.decoded += (self.buf.len() - start) as u64;
                    self.error = Some(e);
                    self.eof = true;
                }
            }
        }
        self.buf.len() > before
    }

    /// Drops the consumed bytes, keeping the position of what follows them.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        let gone = &self.buf[..self.pos];
        if self.positions {
            match memchr::memrchr(b'\n', gone) {
                Some(last) => {
                    self.line += count_newlines(gone);
                    self.column = (self.pos - last) as u64;
                }
                None => self.column += self.pos as u64,
            }
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
    }

    /// The line of `buf[at]`.
    fn line_at(&self, at: usize) -> u64 {
        self.line + count_newlines(&self.buf[..at.min(self.buf.len())])
    }

    /// The column of `buf[at]`.
    fn column_at(&self, at: usize) -> u64 {
        match memchr::memrchr(b'\n', &self.buf[..at]) {
            Some(last) => (at - last) as u64,
            None => self.column + at as u64,
        }
    }

    /// Skips whitespace, reading more as needed: the next significant byte, `None` at the end.
    fn next_significant(&mut self) -> Option<u8> {
        loop {
            self.pos = skip_whitespace(self.buf, self.pos);
            if let Some(&b) = self.buf.get(self.pos) {
                return Some(b);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Consumes one value (or, with `depth` 1, the rest of an object or array) without keeping
    /// it: the bytes go as they are scanned. Returns the bytes consumed.
    fn skip_value(&mut self, depth: u32) -> u64 {
        let mut scan = Skip {
            depth,
            in_string: false,
            escaped: false,
            started: depth > 0,
        };
        let mut skipped = 0u64;
        loop {
            if let Some(end) = scan.feed(&self.buf[self.pos..]) {
                self.pos += end;
                return skipped + end as u64;
            }
            skipped += (self.buf.len() - self.pos) as u64;
            self.pos = self.buf.len();
            if !self.fill() {
                return skipped;
            }
        }
    }
}

/// A JSON value's extent, found byte by byte across chunks: nesting depth and string state.
/// Used only for what is not parsed (events over the limit), so it checks no syntax.
struct Skip {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The value's first byte was seen.
    started: bool,
}

impl Skip {
    /// The offset just past the value's end in `bytes`, if it ends there.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            if self.in_string {
                // Strings are most of an event: jump to the next quote or backslash.
                if self.escaped {
                    self.escaped = false;
                    at += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
                    None => return None,
                    Some(k) => {
                        at += k;
                        if bytes[at] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                            if self.depth == 0 {
                                return Some(at + 1);
                            }
                        }
                        at += 1;
                    }
                }
                continue;
            }
            let b = bytes[at];
            if !self.started && matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                at += 1;
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth > 0 => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Some(at + 1);
                    }
                }
                // A scalar (number, literal) ends at the first byte that cannot be in it.
                b'}' | b']' | b',' | b' ' | b'\n' | b'\t' | b'\r'
                    if self.depth == 0 && self.started =>
                {
                    return Some(at);
                }
                _ => {}
            }
            self.started = true;
            at += 1;
        }
        None
    }
}

/// The number of `\n` in `bytes` (memchr's vectorized count).
pub fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// One event per line, chunk by chunk. Returns the line reading stopped at.
fn read_lines(chunks: &mut Chunks<'_, '_>, origin: &str, limits: Limits, sink: Sink<'_>) -> u64 {
    let mut first_line = 1u64;
    // `buf[pos..scanned]` holds no newline: those bytes are never searched again, so a long
    // line costs one pass however many chunks it spans.
    let mut scanned = chunks.pos;
    loop {
        match memchr::memrchr(b'\n', &chunks.buf[scanned..]) {
            Some(at) => {
                let cut = scanned + at + 1;
                let lines = &chunks.buf[chunks.pos..cut];
                // `from_utf8_lossy` validates byte by byte; the standard validator is several
                // times faster on the usual, valid, chunk.
                let text = match std::str::from_utf8(lines) {
                    Ok(text) => Cow::Borrowed(text),
                    Err(_) => String::from_utf8_lossy(lines),
                };
                read_lines_limited(&text, origin, first_line, limits, sink);
                first_line += count_newlines(lines);
                chunks.pos = cut;
            }
            None if chunks.eof => {
                // The last line, without a newline.
                let rest = String::from_utf8_lossy(&chunks.buf[chunks.pos..]);
                read_lines_limited(&rest, origin, first_line, limits, sink);
                chunks.pos = chunks.buf.len();
                return first_line;
            }
            None if limits
                .refuse((chunks.buf.len() - chunks.pos) as u64)
                .is_some() =>
            {
                let length = skip_line(chunks);
                let reason = limits.refuse(length).unwrap_or_default();
                sink(Err(bad(origin, Location::Line(first_line), reason)));
                first_line += 1;
                // What follows the newline has not been searched.
                scanned = chunks.pos;
                continue;
            }
            None => {}
        }
        if chunks.eof && chunks.pos == chunks.buf.len() {
            return first_line;
        }
        // What is left has no newline: after the refill it starts the buffer.
        let kept = chunks.buf.len() - chunks.pos;
        chunks.fill();
        scanned = kept;
    }
}

/// Drops the line starting at `chunks.pos` up to and including its newline, as the bytes
/// arrive. Returns its length.
fn skip_line(chunks: &mut Chunks<'_, '_>) -> u64 {
    let mut length = 0u64;
    loop {
        match memchr::memchr(b'\n', &chunks.buf[chunks.pos..]) {
            Some(at) => {
                chunks.pos += at + 1;
                return length + at as u64;
            }
            None => {
                length += (chunks.buf.len() - chunks.pos) as u64;
                chunks.pos = chunks.buf.len();
                if !chunks.fill() {
                    return length;
                }
            }
        }
    }
}

/// A document read element by element: `{"Records":[...]}` objects, arrays of events, and
/// events, one after the other.
struct Elements<'c, 'i, 'b, 'o, 's> {
    chunks: &'c mut Chunks<'i, 'b>,
    origin: &'o str,
    limits: Limits,
    sink: Sink<'s>,
    /// Records read, for their locations.
    counter: u64,
}

/// What reading one element did.
enum Step {
    Read,
    /// The document is not valid JSON here: reported, and the rest is not read.
    Stop,
}

impl Elements<'_, '_, '_, '_, '_> {
    fn read(&mut self) {
        if self.chunks.buf.starts_with(b"\xEF\xBB\xBF") {
            self.chunks.pos = 3;
        }
        while let Some(b) = self.chunks.next_significant() {
            let step = match b {
                b'[' => {
                    self.chunks.pos += 1;
                    self.array()
                }
                b'{' => match self.records_key() {
                    Some(true) => self.records(),
                    Some(false) => self.element(),
                    None => Step::Stop,
                },
                _ => self.element(),
            };
            if let Step::Stop = step {
                return;
            }
        }
    }

    /// At a `{`: whether the object is a `Records` wrapper (then its `{"Records":[` is
    /// consumed) or something else, an event (then `pos` is at its `{`). `None`: malformed,
    /// reported.
    fn records_key(&mut self) -> Option<bool> {
        const KEY: &[u8] = b"\"Records\"";
        self.chunks.pos += 1;
        self.chunks.next_significant();
        while self.chunks.buf.len() - self.chunks.pos < KEY.len() && !self.chunks.eof {
            self.chunks.fill();
        }
        if !self.chunks.buf[self.chunks.pos..].starts_with(KEY) {
            // Put the brace back in front of what follows it: whitespace between them may have
            // gone with a refill, and is not needed to read the event.
            match self.chunks.pos {
                0 => self.chunks.buf.insert(0, b'{'),
                at => {
                    self.chunks.pos = at - 1;
                    self.chunks.buf[at - 1] = b'{';
                }
            }
            return Some(false);
        }
        self.chunks.pos += KEY.len();
        for expected in [b':', b'['] {
            match self.chunks.next_significant() {
                Some(b) if b == expected => self.chunks.pos += 1,
                _ => {
                    self.malformed_at(
                        self.chunks.pos,
                        "`Records` must be an array of CloudTrail events",
                    );
                    return None;
                }
            }
        }
        Some(true)
    }

    /// The elements of a `Records` array, then the rest of its object.
    fn records(&mut self) -> Step {
        if let Step::Stop = self.array() {
            return Step::Stop;
        }
        match self.chunks.next_significant() {
            Some(b'}') => {
                self.chunks.pos += 1;
                Step::Read
            }
            // More members after `Records`: not events, skipped as the general reader does.
            Some(b',') => {
                self.chunks.pos += 1;
                self.chunks.skip_value(1);
                Step::Read
            }
            _ => {
                self.malformed_at(self.chunks.pos, "expected `,` or `}` after `Records`");
                Step::Stop
            }
        }
    }

    /// The elements of an array whose `[` is consumed, and its `]`.
    fn array(&mut self) -> Step {
        if self.chunks.next_significant() == Some(b']') {
            self.chunks.pos += 1;
            return Step::Read;
        }
        loop {
            if let Step::Stop = self.element() {
                return Step::Stop;
            }
            match self.chunks.next_significant() {
                Some(b',') => self.chunks.pos += 1,
                Some(b']') => {
                    self.chunks.pos += 1;
                    return Step::Read;
                }
                _ => {
                    self.malformed_at(self.chunks.pos, "expected `,` or `]` in an array");
                    return Step::Stop;
                }
            }
        }
    }

    /// One event at `pos`: decoded, or reported with why it is not one.
    fn element(&mut self) -> Step {
        // The record's text starts at its first byte, not at the whitespace before it.
        if self.chunks.next_significant().is_none() {
            self.malformed_at(self.chunks.pos, "EOF while parsing a value");
            return Step::Stop;
        }
        loop {
            let at = self.chunks.pos;
            let slice = &self.chunks.buf[at..];
            let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Found<'_>>();
            let parsed = stream.next();
            let end = stream.byte_offset();
            // A value that ends where the buffered bytes do may go on (a number) or be followed
            // by what decides it: read on before judging, unless the input has ended.
            let incomplete = match &parsed {
                Some(Err(e)) => e.is_eof(),
                Some(Ok(_)) => end == slice.len(),
                None => true,
            };
            if incomplete && !self.chunks.eof {
                if slice.len() > self.limits.max_event_bytes {
                    drop(parsed);
                    return self.skip_too_long();
                }
                self.chunks.fill();
                continue;
            }
            match parsed {
                Some(Ok(found)) => {
                    self.counter += 1;
                    let location = Location::Record(self.counter);
                    let mut event = spare_event();
                    // serde_json checked the strings' UTF-8 and the rest is ASCII.
                    let Ok(raw) = std::str::from_utf8(&slice[..end]) else {
                        (self.sink)(Err(bad(self.origin, location, "invalid UTF-8".into())));
                        self.chunks.pos += end;
                        return Step::Read;
                    };
                    let decoded = finish_event(found, raw, self.limits, &mut event);
                    emit(decoded, event, raw, self.origin, location, self.sink);
                    self.chunks.pos += end;
                    return Step::Read;
                }
                // Valid JSON so far, but not an event object: say why as the general reader does.
                Some(Err(e)) if e.is_data() => return self.not_an_event(),
                Some(Err(e)) => {
                    let (line, column) = (e.line(), e.column());
                    self.malformed(at, line as u64, column as u64, &e.to_string());
                    return Step::Stop;
                }
                None => return Step::Read,
            }
        }
    }

    /// The value at `pos` is JSON but not an event object (a number, a string, an array):
    /// a bad record, as the in-memory reader reports it.
    fn not_an_event(&mut self) -> Step {
        loop {
            let at = self.chunks.pos;
            let slice = &self.chunks.buf[at..];
            let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<IgnoredAny>();
            let parsed = stream.next();
            let end = stream.byte_offset();
            match parsed {
                Some(Err(e)) if e.is_eof() && !self.chunks.eof => {
                    if slice.len() > self.limits.max_event_bytes {
                        return self.skip_too_long();
                    }
                    self.chunks.fill();
                }
                Some(Ok(_)) => {
                    self.counter += 1;
                    let location = Location::Record(self.counter);
                    let reason = match self.limits.refuse(end as u64) {
                        Some(reason) => reason,
                        None => {
                            match super::event::parse_event(&String::from_utf8_lossy(&slice[..end]))
                            {
                                Err(e) => e.to_string(),
                                Ok(_) => "not a CloudTrail event object".to_owned(),
                            }
                        }
                    };
                    (self.sink)(Err(bad(self.origin, location, reason)));
                    self.chunks.pos += end;
                    return Step::Read;
                }
                Some(Err(e)) => {
                    let (line, column) = (e.line(), e.column());
                    self.malformed(at, line as u64, column as u64, &e.to_string());
                    return Step::Stop;
                }
                None => return Step::Read,
            }
        }
    }

    /// The element at `pos` goes on past the event limit: a bad record, skipped unread.
    fn skip_too_long(&mut self) -> Step {
        self.counter += 1;
        let location = Location::Record(self.counter);
        let length = self.chunks.skip_value(0);
        let reason = self
            .limits
            .refuse(length)
            .unwrap_or_else(|| format!("event of {length} bytes: skipped"));
        (self.sink)(Err(bad(self.origin, location, reason)));
        if self.chunks.pos == self.chunks.buf.len() && self.chunks.eof {
            // The input ended inside the element.
            return Step::Stop;
        }
        Step::Read
    }

    /// Reports malformed JSON found by serde_json at `line`, `column` of the text from `at`.
    fn malformed(&mut self, at: usize, line: u64, column: u64, message: &str) {
        let start_line = self.chunks.line_at(at);
        let (line, column) = if line <= 1 {
            (
                start_line,
                self.chunks.column_at(at) + column.saturating_sub(1),
            )
        } else {
            (start_line + line - 1, column)
        };
        (self.sink)(Err(bad(
            self.origin,
            Location::Position { line, column },
            format!("malformed JSON, the rest of the document is skipped: {message}"),
        )));
    }

    /// Reports malformed JSON at `buf[at]`.
    fn malformed_at(&mut self, at: usize, message: &str) {
        let location = Location::Position {
            line: self.chunks.line_at(at),
            column: self.chunks.column_at(at),
        };
        (self.sink)(Err(bad(
            self.origin,
            location,
            format!("malformed JSON, the rest of the document is skipped: {message}"),
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::{count_newlines, Skip};

    #[test]
    fn newlines_are_counted() {
        for len in [0, 1, 31, 32, 33, 255, 256, 1000, 70_000] {
            let bytes: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
                .collect();
            let expected = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(&bytes), expected, "{len} bytes");
            assert_eq!(count_newlines(&vec![b'\n'; len]), len as u64);
        }
    }

    #[test]
    fn a_skipped_value_ends_where_json_says_whatever_the_pieces() {
        let cases: [(&str, usize); 5] = [
            (r#"{"a":"}\"]","b":[1,{"c":2}]} ,"#, 28),
            (r#"[1,[2,[3]]],"#, 11),
            (r#""x\\"y"#, 5),
            ("12345,", 5),
            (r#"{"s":"\\\\"}]"#, 12),
        ];
        for (text, end) in cases {
            for piece in [1, 2, 3, 7, 100] {
                let mut skip = Skip {
                    depth: 0,
                    in_string: false,
                    escaped: false,
                    started: false,
                };
                let mut found = None;
                for (i, part) in text.as_bytes().chunks(piece).enumerate() {
                    if let Some(at) = skip.feed(part) {
                        found = Some(i * piece + at);
                        break;
                    }
                }
                assert_eq!(found, Some(end), "{text} in pieces of {piece}");
            }
        }
    }
}
