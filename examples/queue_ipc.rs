//! Messages from a child process through a pipe, as length-prefixed frames: the core of
//! `multiprocessing.Pipe`/`Queue` in Rust, standard library only (step 2 of `queue-ipc`).
//!
//! The program re-executes itself as the child (Python's "spawn" start method; `fork` in a
//! multithreaded program is a trap). The child's stdout is the pipe. It says "ready", then
//! writes frames (a 4-byte length, then the body: sequence number and payload) through a 64 KiB
//! `BufWriter`, so one system call carries many messages. The parent reads them back with
//! `read_exact`, checks their order and every payload byte, and reports messages/s. If the child
//! dies (try `kill -9` on the pid it prints), the parent sees end of file at once, reports how
//! many arrived, reaps the child and exits 1: a pipe cannot hang on a dead writer.
//!
//! ```sh
//! cargo run --release --example queue_ipc -- 1000000
//! ```
//!
//! No `[dependencies]` needed: this is the standard library only.

use std::env;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The argument that tells the re-executed program it is the child.
const CHILD: &str = "--child";
/// Payload bytes per message; every one is the sequence number's low byte, to be checked.
const PAYLOAD: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some(CHILD) {
        child(count(args.get(2))).map(|()| ExitCode::SUCCESS)
    } else {
        parent(count(args.get(1)))
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}

/// The message count argument, 1 000 000 when absent or unreadable.
fn count(arg: Option<&String>) -> u64 {
    arg.and_then(|a| a.parse().ok()).unwrap_or(1_000_000)
}

/// Writes "ready", then `n` frames `[len: u32][seq: u64][payload]` to stdout, buffered.
fn child(n: u64) -> io::Result<()> {
    // fd 1 as a plain `File`: `io::stdout()` is line-buffered, and would flush at every newline
    // byte in the binary stream.
    let mut stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    writeln!(stdout, "ready")?;
    let mut out = BufWriter::with_capacity(64 * 1024, stdout);
    let len = (8 + PAYLOAD) as u32;
    for seq in 0..n {
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&seq.to_le_bytes())?;
        out.write_all(&[seq as u8; PAYLOAD])?;
    }
    // Without this flush the last buffer would be lost when the process exits.
    out.flush()
}

/// Starts the child, reads its frames until `n` arrived or the pipe closed, and reaps it.
fn parent(n: u64) -> io::Result<ExitCode> {
    let mut child = Command::new(env::current_exe()?)
        .args([CHILD, &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()?;
    eprintln!("child pid {}", child.id());
    // `take` moves the read end out of `child`, so dropping `input` closes it.
    let mut input = BufReader::with_capacity(64 * 1024, child.stdout.take().expect("piped"));
    // The clock starts once the child is running and ready, not at its start-up.
    let mut ready = String::new();
    input.read_line(&mut ready)?;

    let started = Instant::now();
    let mut received = 0u64;
    let mut body = Vec::new();
    while received < n {
        let mut len = [0u8; 4];
        // End of file here (or inside a frame, below) means the child is gone.
        if input.read_exact(&mut len).is_err() {
            break;
        }
        body.resize(u32::from_le_bytes(len) as usize, 0);
        if input.read_exact(&mut body).is_err() {
            break;
        }
        let seq = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let whole = body.len() == 8 + PAYLOAD && body[8..].iter().all(|&b| b == seq as u8);
        if seq != received || !whole {
            eprintln!("frame {received} out of order or damaged (got {seq})");
            break;
        }
        received += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    // Close our end first: a child still writing then gets EPIPE instead of blocking forever.
    drop(input);
    // Always reap the child, even on failure: an unreaped child stays a zombie.
    let status = child.wait()?;

    println!(
        "{received} of {n} messages in {wall:.3} s: {:.0} messages/s; child {status}",
        received as f64 / wall.max(1e-9)
    );
    Ok(if received == n && status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
