//! Capture of an environment's output: a reader task splits the runtime's stdout+stderr pipe
//! into lines; every line (function output and the platform's START/END/REPORT) goes through
//! one [`Capture`], which writes it to the log stream and keeps the current invocation's tail.
//!
//! Output past `logs.max_bytes_per_invocation` is dropped: a marker line where it starts, and
//! just before END a line with the count of lines and bytes dropped (also counted per log
//! group for `GET /metrics`, [`LogWriter::truncated`]).
//!
//! Ordering rule: before writing END, the engine calls [`OutputReader::drain`], which reads
//! whatever the runtime wrote before it answered, so function lines always precede END. The
//! drain reads the pipe itself (non-blocking) under the same lock the reader task reads under,
//! so a warm invoke pays no round trip to the reader task.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::Interest;

use super::logwriter::LogWriter;
use super::platform::{LogStyle, Platform};

/// Size of the log tail returned with `LogType: Tail`.
pub const TAIL_BYTES: usize = 4096;
const MAX_LINE: usize = 256 * 1024;

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
    style: LogStyle,
    state: Mutex<State>,
}

impl Capture {
    pub fn new(
        log: LogWriter,
        group: String,
        stream: String,
        max_bytes: usize,
        style: LogStyle,
    ) -> Capture {
        Capture {
            log,
            group,
            stream,
            max_bytes,
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

    /// A line the function printed.
    pub fn function_line(&self, line: String) {
        if !self.style.keeps_function_line(&line) {
            return;
        }
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.dropped {
            st.dropped_lines += 1;
            st.dropped_bytes += line.len() as u64;
            return;
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
            return;
        }
        self.push(&mut st, line);
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
/// split one read between them.
struct Pending {
    partial: Vec<u8>,
    buf: Vec<u8>,
    eof: bool,
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
            buf: vec![0u8; 64 * 1024],
            eof: false,
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

    /// Captures everything already written to the pipe, in the caller (a non-blocking read,
    /// no round trip to the reader task); text without a final newline becomes a line too.
    pub async fn drain(&self) {
        let Ok(mut p) = self.pending.lock() else {
            return;
        };
        let p = &mut *p;
        if !p.eof {
            p.eof = read_available(&self.pipe, &mut p.buf, &mut p.partial, &self.capture);
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
        if pipe.ready(Interest::READABLE).await.is_err() {
            break;
        }
        let Ok(mut p) = pending.lock() else { break };
        let p = &mut *p;
        if !p.eof {
            p.eof = read_available(&pipe, &mut p.buf, &mut p.partial, &capture);
        }
        if p.eof {
            flush_partial(&mut p.partial, &capture);
            break;
        }
    }
}

fn flush_partial(partial: &mut Vec<u8>, capture: &Capture) {
    if !partial.is_empty() {
        let line = String::from_utf8_lossy(partial).into_owned();
        partial.clear();
        capture.function_line(line);
    }
}

/// Reads until the pipe would block; returns true at end of file.
fn read_available(
    pipe: &tokio::net::unix::pipe::Receiver,
    buf: &mut [u8],
    partial: &mut Vec<u8>,
    capture: &Capture,
) -> bool {
    loop {
        match pipe.try_read(buf) {
            Ok(0) => return true,
            Ok(n) => split_lines(&buf[..n], partial, capture),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

fn split_lines(data: &[u8], partial: &mut Vec<u8>, capture: &Capture) {
    for chunk in data.split_inclusive(|b| *b == b'\n') {
        partial.extend_from_slice(chunk);
        let complete = partial.last() == Some(&b'\n');
        if complete || partial.len() >= MAX_LINE {
            if complete {
                partial.pop();
            }
            let line = String::from_utf8_lossy(partial).into_owned();
            partial.clear();
            capture.function_line(line);
        }
    }
}
