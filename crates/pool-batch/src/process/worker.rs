//! The worker side of the process pool: what the program does when re-executed as a worker.

use std::io::{self, BufRead, Write};

use nix::sys::signal::Signal;

use crate::task::Job;

/// The worker side: reads JSON lines of items from `input`, runs `job` on each item (a panic
/// becomes an `Err` for that item), and writes one JSON line of results per line read, until
/// end of input. `die_at` (a hidden test flag) makes the worker kill itself with SIGKILL when
/// it reaches that item, as the OOM killer would.
pub fn serve(
    job: Job,
    die_at: Option<u64>,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    for line in input.lines() {
        let items: Vec<u64> = serde_json::from_str(&line?).map_err(io::Error::other)?;
        let results: Vec<Result<u64, String>> = items
            .iter()
            .map(|&x| {
                if die_at == Some(x) {
                    // Only fails if signals are broken; then exit the hard way all the same.
                    let _ = nix::sys::signal::raise(Signal::SIGKILL);
                    std::process::abort();
                }
                crate::results::run_caught(&|x| job.run(x), x).map_err(|e| e.to_string())
            })
            .collect();
        serde_json::to_writer(&mut output, &results).map_err(io::Error::other)?;
        output.write_all(b"\n")?;
        // One flush per line: the parent is waiting for exactly this answer.
        output.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Task;

    #[test]
    fn serve_answers_each_line_in_order_and_survives_a_panic() {
        let job = Job {
            task: Task::Square,
            panic_at: Some(3),
        };
        let input = b"[1,2,3]\n[4]\n" as &[u8];
        let mut output = Vec::new();
        serve(job, None, input, &mut output).unwrap();
        let lines: Vec<Vec<Result<u64, String>>> = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0][..2], [Ok(1), Ok(4)]);
        assert!(lines[0][2].as_ref().unwrap_err().contains("injected panic"));
        assert_eq!(lines[1], [Ok(16)]);
    }

    #[test]
    fn serve_rejects_garbage() {
        let job = Job::new(Task::Square);
        assert!(serve(job, None, b"not json\n" as &[u8], Vec::new()).is_err());
    }
}
