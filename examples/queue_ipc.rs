//! Messages from a child process through a pipe, as length-prefixed frames: the core of
//! `multiprocessing.Pipe`/`Queue` in Rust, standard library only (step 2 of `queue-ipc`).
//!
//! The program re-executes itself as the child (Python's "spawn" start method; `fork` in a
//! multithreaded program is a trap). The child's stdout is the pipe. It says "ready", then
//! writes frames (a 4-byte length, then the body: sequence number and payload) through a 64 KiB
//! `BufWriter`, so one system call carries many messages. The parent reads them back with
//! `read_exact`, checks their order and every payload byte, and reports messages/s. If the child
//! dies (try `kill -9` on the pid it prints), the parent sees end of file at once, reports how
//! many arrived, reaps the child and exits 1: a pipe cannot hang on a dead writer. A length
//! prefix is checked before the body it announces is read, so a damaged one is an error.
//!
//! ```sh
//! cargo run --release --example queue_ipc -- 1000000
//! ```
//!
//! ```toml
//! [dependencies]
//! ```
//!
//! Nothing is needed: this is the standard library only.

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
/// Bytes after each length prefix: the sequence number, then the payload.
const FRAME: usize = 8 + PAYLOAD;

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
    for seq in 0..n {
        out.write_all(&(FRAME as u32).to_le_bytes())?;
        out.write_all(&seq.to_le_bytes())?;
        out.write_all(&[seq as u8; PAYLOAD])?;
    }
    // Without this flush the last buffer would be lost when the process exits.
    out.flush()
}

/// Reads one frame into `body` and returns its sequence number, `None` at end of file (the
/// child is gone). The length prefix is checked before the body is read: trusted, a damaged one
/// could ask for up to 4 GiB, or for fewer bytes than the sequence number takes.
fn read_frame(input: &mut impl Read, body: &mut [u8; FRAME]) -> io::Result<Option<u64>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        result => result?,
    }
    let len = u32::from_le_bytes(len) as usize;
    if len != FRAME {
        let damaged = format!("a frame of {len} bytes, where every frame has {FRAME}");
        return Err(io::Error::new(io::ErrorKind::InvalidData, damaged));
    }
    input.read_exact(body)?; // end of file here: a frame cut short, the child died writing it
    let seq: [u8; 8] = body[..8].try_into().expect("FRAME is over 8 bytes");
    Ok(Some(u64::from_le_bytes(seq)))
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
    // The clock starts once the child is running and ready, not at its start-up. Not `?`: the
    // child must be reaped on every path, and a failed read shows again as the first frame's.
    let _ = input.read_line(&mut String::new());

    let started = Instant::now();
    let mut received = 0u64;
    let mut body = [0u8; FRAME];
    while received < n {
        let seq = match read_frame(&mut input, &mut body) {
            Ok(Some(seq)) => seq,
            Ok(None) => break, // the child is gone
            Err(err) => {
                eprintln!("frame {received}: {err}");
                break;
            }
        };
        if seq != received || body[8..].iter().any(|&b| b != seq as u8) {
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
    Ok(ExitCode::from(u8::from(received < n || !status.success())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_length_is_refused_before_the_body_is_read() {
        let mut body = [0u8; FRAME];
        for len in [0u32, 7, FRAME as u32 + 1, u32::MAX] {
            // The prefix, then more bytes than any frame has.
            let stream = [&len.to_le_bytes()[..], &[1; 2 * FRAME]].concat();
            let err = read_frame(&mut &stream[..], &mut body).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{len}: {err}");
        }
        let frame = [&(FRAME as u32).to_le_bytes()[..], &[7; FRAME]].concat();
        assert_eq!(
            read_frame(&mut &frame[..], &mut body).unwrap(),
            Some(0x0707070707070707)
        );
        assert_eq!(read_frame(&mut &frame[..2], &mut body).unwrap(), None);
    }
}
