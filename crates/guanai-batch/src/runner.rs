//! The streaming runner behind `guanai eval`: a reader cuts the input into chunks of whole lines,
//! worker threads evaluate chunks on every core, and the writer puts the results back in input
//! order. A fixed number of chunk tokens circulates, so memory stays flat however large the input.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};

use crossbeam_channel::{Receiver, Sender, bounded};
use guanai_rules::Policy;

use crate::contract::{EvalSettings, Scratch, eval_line};

/// Lines are gathered into chunks of about this size.
const CHUNK_BYTES: usize = 256 * 1024;
/// A line longer than this is rejected without being held in memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalSummary {
    /// Physical lines read, blank ones included.
    pub lines: u64,
    pub evaluated: u64,
    pub rejected: u64,
}

struct Chunk {
    seq: u64,
    first_line: u64,
    /// Whole lines, each ending in `\n` (the last one may lack it at end of input).
    data: Vec<u8>,
    /// Line numbers (within this chunk's range) that were too long; their bytes are not in `data`
    /// but an empty line stands in their place.
    oversized: Vec<u64>,
}

struct Done {
    seq: u64,
    output: Vec<u8>,
    input: Vec<u8>,
    evaluated: u64,
    rejected: u64,
}

/// Evaluates every line of `input` and writes the output lines to `output` in input order.
/// `threads` workers (at least one) evaluate in parallel.
pub fn run_eval<R: Read + Send, W: Write>(
    input: R,
    mut output: W,
    policy: &Policy,
    settings: &EvalSettings,
    threads: usize,
) -> io::Result<EvalSummary> {
    let workers = threads.max(1);
    let tokens = workers * 3;
    let (free_tx, free_rx) = bounded::<Vec<u8>>(tokens);
    for _ in 0..tokens {
        // Sending into a fresh channel with room for every token cannot fail.
        let _ = free_tx.send(Vec::with_capacity(CHUNK_BYTES + 4096));
    }
    let (work_tx, work_rx) = bounded::<Chunk>(tokens);
    let (done_tx, done_rx) = bounded::<Done>(tokens);

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, &free_rx, &work_tx));
        for _ in 0..workers {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || work(policy, settings, &work_rx, &done_tx));
        }
        drop(done_tx);
        drop(work_rx);
        let written = write_in_order(&mut output, &done_rx, &free_tx);
        // If writing failed, stop the reader by closing the token channel and draining results.
        drop(free_tx);
        for _ in done_rx.iter() {}
        let lines = reader
            .join()
            .map_err(|_| io::Error::other("input reader panicked"))??;
        let (evaluated, rejected) = written?;
        output.flush()?;
        Ok(EvalSummary {
            lines,
            evaluated,
            rejected,
        })
    })
}

/// Reads whole lines into chunks; returns the number of physical lines.
fn read_chunks<R: Read>(
    input: R,
    free: &Receiver<Vec<u8>>,
    work: &Sender<Chunk>,
) -> io::Result<u64> {
    let mut reader = io::BufReader::with_capacity(256 * 1024, input);
    let mut line_no: u64 = 0;
    let mut seq = 0;
    loop {
        let Ok(mut data) = free.recv() else {
            return Ok(line_no);
        };
        data.clear();
        let first_line = line_no + 1;
        let mut oversized = Vec::new();
        while data.len() < CHUNK_BYTES {
            let before = data.len();
            let limit = (MAX_LINE_BYTES + 1) as u64;
            let n = (&mut reader).take(limit).read_until(b'\n', &mut data)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if data.last() != Some(&b'\n') && n as u64 == limit {
                // Too long: drop what was read, skip to the end of the line, keep a placeholder.
                data.truncate(before);
                data.push(b'\n');
                oversized.push(line_no);
                skip_line(&mut reader)?;
            }
        }
        if data.is_empty() {
            return Ok(line_no);
        }
        if work
            .send(Chunk {
                seq,
                first_line,
                data,
                oversized,
            })
            .is_err()
        {
            return Ok(line_no);
        }
        seq += 1;
    }
}

fn skip_line<R: BufRead>(reader: &mut R) -> io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        reader.consume(n);
    }
}

fn work(policy: &Policy, settings: &EvalSettings, chunks: &Receiver<Chunk>, done: &Sender<Done>) {
    let mut scratch = Scratch::default();
    for chunk in chunks.iter() {
        let mut output = Vec::with_capacity(chunk.data.len() * 4);
        let (mut evaluated, mut rejected) = (0, 0);
        let lines = chunk.data.split_inclusive(|&b| b == b'\n');
        for (line_no, line) in (chunk.first_line..).zip(lines) {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if chunk.oversized.contains(&line_no) {
                let message = format!("line: longer than {MAX_LINE_BYTES} bytes");
                let _ = writeln!(output, "{{\"line\":{line_no},\"error\":\"{message}\"}}");
                rejected += 1;
            } else if !line.iter().all(u8::is_ascii_whitespace) {
                if eval_line(line_no, line, policy, settings, &mut scratch, &mut output) {
                    evaluated += 1;
                } else {
                    rejected += 1;
                }
            }
        }
        let done_chunk = Done {
            seq: chunk.seq,
            output,
            input: chunk.data,
            evaluated,
            rejected,
        };
        if done.send(done_chunk).is_err() {
            return;
        }
    }
}

/// Writes results in sequence order and hands each chunk's buffer back to the reader.
fn write_in_order<W: Write>(
    output: &mut W,
    done: &Receiver<Done>,
    free: &Sender<Vec<u8>>,
) -> io::Result<(u64, u64)> {
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0;
    let (mut evaluated, mut rejected) = (0, 0);
    for d in done.iter() {
        pending.insert(d.seq, d);
        while let Some(d) = pending.remove(&next) {
            output.write_all(&d.output)?;
            evaluated += d.evaluated;
            rejected += d.rejected;
            next += 1;
            let _ = free.send(d.input);
        }
    }
    Ok((evaluated, rejected))
}
