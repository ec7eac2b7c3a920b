//! Capture of an environment's output: a reader task splits the runtime's stdout+stderr pipe
//! into lines; every line (function output and the platform's START/END/REPORT) goes through
//! one [`Capture`], which writes it to the log stream and keeps the current invocation's tail.
//!
//! Output past `logs.max_bytes_per_invocation` is dropped: a marker line where it starts, and
//! just before END a line with the count of lines and bytes dropped (also counted per log
//! group for `GET /metrics`, [`LogWriter::truncated`]).
//!
//! Dropped output costs no allocation: a line over the cap (or below `ApplicationLogLevel`)
//! is counted from the read buffer where it lies. The reader task reads at most
//! [`READS_PER_WAKE`] buffers before it yields, and at most `logs.capture_bytes_per_second`
//! ([`super::capture_rate`]): past it the pipe fills and the function's writes block, so a
//! flooding function is slowed rather than taking the daemon's cores.
//!
//! Ordering rule: before writing END, the engine calls [`OutputReader::drain`], which reads
//! whatever the runtime wrote before it answered, so function lines always precede END. The
//! drain reads the pipe itself (non-blocking, at most [`DRAIN_READS`] buffers, ignoring the
//! rate: the function has answered, so the pipe holds at most its capacity) under the same lock
//! the reader task reads under, so a warm invoke pays no round trip to the reader task.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::Interest;

use super::capture_rate::{self, CaptureRate};
use super::logwriter::LogWriter;
use super::platform::{LogStyle, Platform};

/// Size of the log tail returned with `LogType: Tail`.
pub const TAIL_BYTES: usize = 4096;
const MAX_LINE: usize = 256 * 1024;
/// Size of one read from the pipe.
const READ_BUF: usize = 64 * 1024;
/// Reads the reader task makes before it lets other tasks run.
pub const READS_PER_WAKE: usize = 4;
/// Most reads one [`OutputReader::drain`] makes.
pub const DRAIN_READS: usize = 16;

#[derive(Default)]
struct State {
    /// Lines of the invocation in progress (or of init, before the first START).
    lines: VecDeque<String>,
    tail_bytes: usize,
    function_bytes: usize,
    dropped: bool,
    dropped_lines: u64,
    dropped_bytes: u64,
}

/// Where an environment's lines go.
pub struct Capture {
    log: LogWriter,
    group: String,
    stream: String,
    max_bytes: usize,
    /// `logs.capture_bytes_per_second` (0: no limit).
    rate: u64,
    style: LogStyle,
    state: Mutex<State>,
}

impl Capture {
    pub fn new(
        log: LogWriter,
        group: String,
        stream: String,
        max_bytes: usize,
        rate: u64,
        style: LogStyle,
    ) -> Capture {
        Capture {
            log,
            group,
            stream,
            max_bytes,
            rate,
            style,
            state: Mutex::new(State::default()),
        }
    }

    fn push(&self, st: &mut State, line: String) {
        st.tail_bytes += line.len() + 1;
        st.lines.push_back(line.clone());
        while st.tail_bytes > TAIL_BYTES * 2 && st.lines.len() > 1 {
            if let Some(old) = st.lines.pop_front() {
                st.tail_bytes -= old.len() + 1;
            }
        }
        self.log.event(&self.group, &self.stream, line);
    }

    /// A line the function printed (without its newline); returns what it cost the
    /// capture ([`capture_rate`]). A dropped line is counted without being copied.
    pub fn function_line(&self, line: &[u8]) -> u64 {
        if !self.style.keeps_function_bytes(line) {
            return capture_rate::discarded(line.len());
        }
        let Ok(mut st) = self.state.lock() else {
            return capture_rate::discarded(line.len());
        };
        if st.dropped {
            st.dropped_lines += 1;
            st.dropped_bytes += line.len() as u64;
            return capture_rate::discarded(line.len());
        }
        st.function_bytes += line.len();
        if st.function_bytes > self.max_bytes {
            st.dropped = true;
            st.dropped_lines += 1;
            st.dropped_bytes += line.len() as u64;
            let note = format!(
                "[lambdabox] this invocation's output exceeded {} bytes; the rest is dropped (config key logs.max_bytes_per_invocation)",
                self.max_bytes
            );
            self.push(&mut st, note);
            return capture_rate::discarded(line.len());
        }
        self.push(&mut st, String::from_utf8_lossy(line).into_owned());
        capture_rate::kept(line.len())
    }

    /// A platform record, in the function's log format (and dropped when its
    /// `SystemLogLevel` filters it out).
    pub fn platform(&self, record: Platform<'_>) {
        if matches!(record, Platform::End { .. }) {
            self.truncation_summary();
        }
        if let Some(line) = record.render(&self.style) {
            self.platform_line(line);
        }
    }

    /// The count of lines this invocation dropped over the cap, once, before its END.
    fn truncation_summary(&self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.dropped_lines == 0 {
            return;
        }
        let (lines, bytes) = (st.dropped_lines, st.dropped_bytes);
        st.dropped_lines = 0;
        st.dropped_bytes = 0;
        let note = format!(
            "[lambdabox] {lines} lines ({bytes} bytes) of this invocation's output were dropped: over logs.max_bytes_per_invocation ({} bytes)",
            self.max_bytes
        );
        self.push(&mut st, note);
        self.log.truncated(&self.group, lines);
    }

    /// A platform text line (the timeout and runtime-exit lines, written as AWS writes them
    /// in either format).
    pub fn platform_line(&self, line: String) {
        if let Ok(mut st) = self.state.lock() {
            self.push(&mut st, line);
        }
    }

    /// The `XRAY TraceId: …` line AWS writes after REPORT for a traced invocation; JSON
    /// logs carry no such line.
    pub fn xray_line(&self, line: String) {
        if !self.style.json {
            self.platform_line(line);
        }
    }

    /// Starts an invocation. Init output of a cold start stays in the tail.
    pub fn begin(&self, cold: bool) {
        if let Ok(mut st) = self.state.lock() {
            if !cold {
                st.lines.clear();
                st.tail_bytes = 0;
            }
            st.function_bytes = 0;
            st.dropped = false;
            st.dropped_lines = 0;
            st.dropped_bytes = 0;
        }
    }

    /// The last 4 KB of the invocation's log.
    pub fn tail(&self) -> String {
        let Ok(st) = self.state.lock() else {
            return String::new();
        };
        let mut text = String::with_capacity(st.tail_bytes);
        for l in &st.lines {
            text.push_str(l);
            text.push('\n');
        }
        if text.len() > TAIL_BYTES {
            let mut cut = text.len() - TAIL_BYTES;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text = text.split_off(cut);
        }
        text
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }
}

/// Bytes read from the pipe, serialised so the reader task and [`OutputReader::drain`] never
/// split one read between them, and the pipe's read budget.
struct Pending {
    partial: Vec<u8>,
    buf: Vec<u8>,
    eof: bool,
    rate: CaptureRate,
}

/// Handle to an environment's reader task.
pub struct OutputReader {
    pipe: Arc<tokio::net::unix::pipe::Receiver>,
    pending: Arc<Mutex<Pending>>,
    capture: Arc<Capture>,
    task: tokio::task::AbortHandle,
}

impl OutputReader {
    /// Starts reading `file` (the read end of the environment's output pipe).
    pub fn spawn(file: std::fs::File, capture: Arc<Capture>) -> std::io::Result<OutputReader> {
        let pipe = Arc::new(tokio::net::unix::pipe::Receiver::from_file(file)?);
        let pending = Arc::new(Mutex::new(Pending {
            partial: Vec::new(),
            buf: vec![0u8; READ_BUF],
            eof: false,
            rate: CaptureRate::new(capture.rate, Instant::now()),
        }));
        let task = tokio::spawn(read_loop(
            Arc::clone(&pipe),
            Arc::clone(&pending),
            Arc::clone(&capture),
        ))
        .abort_handle();
        Ok(OutputReader {
            pipe,
            pending,
            capture,
            task,
        })
    }

    /// Captures what is already written to the pipe, in the caller (a non-blocking read,
    /// no round trip to the reader task); text without a final newline becomes a line too.
    pub async fn drain(&self) {
        let Ok(mut p) = self.pending.lock() else {
            return;
        };
        let p = &mut *p;
        if !p.eof {
            let (eof, cost) = read_available(
                &self.pipe,
                &mut p.buf,
                &mut p.partial,
                &self.capture,
                DRAIN_READS,
            );
            p.eof = eof;
            p.rate.charge(cost);
        }
        flush_partial(&mut p.partial, &self.capture);
    }
}

impl Drop for OutputReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_loop(
    pipe: Arc<tokio::net::unix::pipe::Receiver>,
    pending: Arc<Mutex<Pending>>,
    capture: Arc<Capture>,
) {
    loop {
        // Over the budget: leave the pipe full (the function's writes block) until it refills.
        let wait = match pending.lock() {
            Ok(mut p) => p.rate.delay(Instant::now()),
            Err(_) => break,
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        if pipe.ready(Interest::READABLE).await.is_err() {
            break;
        }
        let more = {
            let Ok(mut p) = pending.lock() else { break };
            let p = &mut *p;
            if !p.eof {
                let (eof, cost) =
                    read_available(&pipe, &mut p.buf, &mut p.partial, &capture, READS_PER_WAKE);
                p.eof = eof;
                p.rate.charge(cost);
            }
            if p.eof {
                flush_partial(&mut p.partial, &capture);
                break;
            }
            true
        };
        if more {
            tokio::task::yield_now().await;
        }
    }
}

fn flush_partial(partial: &mut Vec<u8>, capture: &Capture) {
    if !partial.is_empty() {
        capture.function_line(partial);
        partial.clear();
    }
}

/// Reads until the pipe would block or `reads` reads were made; returns whether the pipe is
/// at its end and what the reads cost.
fn read_available(
    pipe: &tokio::net::unix::pipe::Receiver,
    buf: &mut [u8],
    partial: &mut Vec<u8>,
    capture: &Capture,
    reads: usize,
) -> (bool, u64) {
    let mut cost = 0;
    let mut made = 0;
    while made < reads {
        match pipe.try_read(buf) {
            Ok(0) => return (true, cost),
            Ok(n) => {
                made += 1;
                cost += split_lines(&buf[..n], partial, capture);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (false, cost),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return (true, cost),
        }
    }
    (false, cost)
}

/// Hands each complete line of `data` to the capture (a line longer than [`MAX_LINE`] is cut
/// into pieces at read boundaries); an unfinished line stays in `partial`. Lines that lie whole
/// in `data` are passed without a copy. Returns their cost.
fn split_lines(data: &[u8], partial: &mut Vec<u8>, capture: &Capture) -> u64 {
    let mut cost = 0;
    let mut rest = data;
    while !rest.is_empty() {
        let (chunk, tail) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => rest.split_at(i + 1),
            None => (rest, &rest[rest.len()..]),
        };
        rest = tail;
        let complete = chunk.last() == Some(&b'\n');
        if !complete && partial.len() + chunk.len() < MAX_LINE {
            partial.extend_from_slice(chunk);
            break;
        }
        let body = if complete {
            &chunk[..chunk.len() - 1]
        } else {
            chunk
        };
        if partial.is_empty() {
            cost += capture.function_line(body);
        } else {
            partial.extend_from_slice(body);
            cost += capture.function_line(partial);
            partial.clear();
        }
    }
    cost
}
