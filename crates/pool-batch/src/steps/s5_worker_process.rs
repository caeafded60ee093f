//! Step 5: one worker process: this program re-executed, items and results as lines of text over
//! its stdin and stdout.
//!
//! Since step 4: the worker is a process, not a thread, so nothing is shared: the task travels
//! by name in the worker's arguments (a closure cannot cross a process boundary; Python's
//! `Pool` pickles a reference to a module-level function for the same reason), and every chunk
//! is written down a pipe as text, parsed, computed, and its results make the same trip back.
//! A chunk is one line of numbers; the answer is one line per item: `= 42`, or `! message`
//! for an item whose task panicked. Text needs no serialisation library, and a reader can watch
//! it go by (`strace -e read,write`); Python pickles instead.
//!
//! Why re-execute (`current_exe` + [`WORKER_FLAG`]) and not `fork`: after `fork` in a
//! multithreaded process the child may only call async-signal-safe functions, and this parent
//! has pool threads; a fresh process has no such trap. It is Python's "spawn" start method.
//! The child is tracked by the `reaper` crate from its start until it is reaped, so Ctrl-C
//! leaves none behind; if the parent is killed outright its pipe ends close, and the worker
//! exits at its next read (end of input) or write (broken pipe).

// ANCHOR: pattern
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use super::{TaskError, run_caught};

/// The first argument that makes this program a worker rather than the lesson. A flag checked
/// before the command line is parsed, not a subcommand, so a stray word is still an error.
pub const WORKER_FLAG: &str = "--worker";

/// How to start one worker process: the program (normally `std::env::current_exe()`) and the
/// arguments that make it a worker for one task, [`WORKER_FLAG`] first.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments, e.g. `["--worker", "--task", "square"]`.
    pub args: Vec<String>,
}

/// The worker side: reads lines of items from `input`, runs `f` on each item (a panic becomes an
/// error for that item), and answers each line with one line per item, until end of input.
pub fn serve(
    f: impl Fn(u64) -> u64,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    for line in input.lines() {
        for word in line?.split_ascii_whitespace() {
            let x: u64 = word
                .parse()
                .map_err(|_| invalid(format!("not an item: {word:?}")))?;
            match run_caught(&f, x) {
                Ok(y) => writeln!(output, "= {y}")?,
                // One line per result: a panic message that spans lines is joined into one.
                Err(TaskError::Panicked(message)) => {
                    writeln!(output, "! {}", message.replace('\n', " "))?;
                }
                Err(other) => writeln!(output, "! {other}")?,
            }
        }
        // One flush per chunk: the parent is waiting for exactly these answers.
        output.flush()?;
    }
    Ok(())
}

/// One answer line, `= 42` or `! message`, as the item's result.
fn parse_answer(line: &str) -> io::Result<Result<u64, String>> {
    match line.strip_suffix('\n').and_then(|l| l.split_once(' ')) {
        Some(("=", value)) => value.parse().map(Ok).map_err(|_| invalid(line.into())),
        Some(("!", message)) => Ok(Err(message.to_string())),
        _ => Err(invalid(format!("not an answer: {line:?}"))),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The parent's side of one worker process: the child and the two pipe ends to it.
pub struct Worker {
    /// The process, kept to kill and reap it.
    child: Child,
    /// Its stdin, where requests go, and its stdout, where answers come from one line each;
    /// `None` once the worker is reaped.
    pipes: Option<(BufWriter<ChildStdin>, BufReader<ChildStdout>)>,
    /// The last answer line, reused rather than allocated per answer.
    line: String,
}

impl Worker {
    /// Starts one worker process, tracked by the reaper from this moment on.
    pub fn spawn(command: &WorkerCommand) -> io::Result<Self> {
        let mut child = reaper::spawn(
            Command::new(&command.program)
                .args(&command.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both were set to Stdio::piped()");
        };
        let pipes = Some((BufWriter::new(stdin), BufReader::new(stdout)));
        let line = String::new();
        Ok(Self { child, pipes, line })
    }

    /// Sends `items` as one line and reads one answer line per item. `Err` means the worker
    /// is dead or speaking nonsense: either way it must be replaced.
    pub fn call(&mut self, items: &[u64]) -> io::Result<Vec<Result<u64, String>>> {
        let (requests, answers) = self.pipes.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        for x in items {
            write!(requests, "{x} ")?;
        }
        requests.write_all(b"\n")?;
        requests.flush()?;
        let mut results = Vec::with_capacity(items.len());
        for _ in items {
            self.line.clear();
            if answers.read_line(&mut self.line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            results.push(parse_answer(&self.line)?);
        }
        Ok(results)
    }

    /// Ends (killing it if `force`) and reaps this worker; says how it ended.
    pub fn reap(&mut self, force: bool) -> String {
        // Both pipes close before the wait: end of input tells a healthy worker to exit, and a
        // worker blocked writing answers nobody read into a full pipe (64 KiB) gets EPIPE
        // instead of waiting, and us with it, forever. Rejected: draining its stdout first,
        // which waits on a worker that may never stop writing.
        drop(self.pipes.take());
        if force {
            // Through the reaper, not `Child::kill`: it signals only a child not yet reaped.
            reaper::kill(reaper::pid_of(&self.child));
        }
        match reaper::wait_child(&mut self.child) {
            Ok(status) => reaper::describe_exit(self.child.id(), status),
            Err(e) => format!("could not reap: {e}"),
        }
    }

    /// Reaps this dead worker and starts a fresh one in its place; says how the old one ended.
    pub fn replace(&mut self, command: &WorkerCommand) -> io::Result<String> {
        let ended = self.reap(true);
        // The old worker is reaped (its pipes are gone), so dropping it here does nothing more.
        *self = Worker::spawn(command)?;
        Ok(ended)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // `pipes` are taken exactly when the worker is reaped, so they mark one not yet reaped.
        if self.pipes.is_some() {
            self.reap(false);
        }
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_answers_each_item_in_order_and_survives_a_panic() {
        let f = |x: u64| {
            if x == 3 {
                panic!("three\nlines")
            } else {
                x * x
            }
        };
        let mut output = Vec::new();
        serve(f, b"1 2 3\n4\n" as &[u8], &mut output).unwrap();
        let text = String::from_utf8(output).unwrap();
        assert_eq!(text, "= 1\n= 4\n! three lines\n= 16\n");
        let answers: Vec<_> = text.split_inclusive('\n').map(parse_answer).collect();
        assert_eq!(answers[1].as_ref().unwrap(), &Ok(4));
        let panicked = Err("three lines".to_string());
        assert_eq!(answers[2].as_ref().unwrap(), &panicked);
    }

    #[test]
    fn a_worker_dropped_with_answers_unread_is_reaped() {
        // Answers past what a pipe holds (64 KiB on Linux), then it waits for the end of its
        // input as a worker does: dropped unread, it blocks writing until its stdout closes.
        let script = "yes '= 1' | head -n 100000; exec cat >/dev/null";
        let command = WorkerCommand {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        };
        let worker = Worker::spawn(&command).unwrap();
        let (done, dropped) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(worker);
            let _ = done.send(());
        });
        // A bound only so that a hang fails this test instead of stalling the suite.
        let waited = dropped.recv_timeout(std::time::Duration::from_secs(60));
        assert!(waited.is_ok(), "dropping the worker hangs in its wait");
    }

    #[test]
    fn garbage_is_refused_on_both_sides() {
        let err = serve(|x| x, b"1 two\n" as &[u8], Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        for line in ["= x\n", "?\n", "= 1"] {
            assert!(parse_answer(line).is_err(), "{line:?}");
        }
    }
}
