//! The `queue-ipc` binary: parses flags, runs the variants, prints the table or JSON lines.
//! Started with `--worker` as its first argument, it is one step's child instead.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use queue_ipc::measure::{self, Measured, Sizes, Variant};
use queue_ipc::process::{WORKER_FLAG, Worker};
use queue_ipc::{LESSON, verdict};
use timing::{Report, between};

/// Passing data between processes, measured: a child streams messages of --bytes each, typed,
/// through ipc-channel (Python's multiprocessing.Queue), as length-prefixed frames through a
/// pipe, 64 KiB buffered (pipe), one write per message as Python's Pipe does
/// (pipe-per-message), or with hand-tuned buffers (pipe-tuned), or through a ring of slots in
/// shared memory (shm-ring); children add to a counter in POSIX shared memory under a lock, as
/// a shared Value does (shm-counter-locked), or with fetch_add and no lock (shm-counter); a
/// child fills an array in shared memory that the parent checks (shm-array). Reports
/// messages/s, MB/s, latency percentiles and the array read beside memcpy. A child that dies is
/// reported (received M of N, exit 1); Ctrl-C ends the children; a segment never has a name, so
/// nothing is ever left in /dev/shm. Variants: ipc-channel, pipe, pipe-per-message, pipe-tuned,
/// shm-counter-locked, shm-counter, shm-array, shm-ring.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: "-1" reaches the sizes' parser, whose error gives the range, instead
// of clap taking it for an unknown flag.
#[command(name = "queue-ipc", version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Messages the child sends (ipc-channel, pipes, shm-ring).
    #[arg(long, default_value_t = 100_000, value_parser = between(1, 100_000_000))]
    messages: u64,

    /// Payload bytes per message (ipc-channel, pipes, shm-ring).
    #[arg(long, default_value_t = 256, value_parser = between(1, 16 << 20))]
    bytes: u64,

    /// Increments per child (counters; --workers children).
    #[arg(long, default_value_t = 1_000_000, value_parser = between(1, 1_000_000_000))]
    increments: u64,

    /// 64-bit elements in the shared array (shm-array; the default is 64 MiB).
    #[arg(long, default_value_t = 1 << 23, value_parser = between(1, 1 << 27))]
    elements: u64,
}

/// Everything a pipe run may move, at most: beyond this a run takes minutes, not seconds.
const MAX_PIPE_BYTES: u64 = 64 << 30;

fn main() -> ExitCode {
    // Checked before clap parses, so a stray word (`queue-ipc worker`) is still an error.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == WORKER_FLAG)
    {
        return timing::main_with(|| queue_ipc::worker::main().map(|()| ExitCode::SUCCESS));
    }
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // First, so it is dropped last: Ctrl-C, SIGTERM or an error kills and reaps every child.
    // No shared-memory cleanup is needed on the way out: a segment has no name to remove.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let cli = Cli::parse();
    if cli.messages.saturating_mul(cli.bytes) > MAX_PIPE_BYTES {
        return Err(timing::usage_error(format!(
            "--messages {} x --bytes {} is over 64 GiB: lower one of them",
            cli.messages, cli.bytes
        )));
    }
    let variants = timing::selected(&cli.variant);
    let sizes = Sizes {
        messages: cli.messages,
        // At most 16 MiB (the flag's range), so it fits.
        bytes: usize::try_from(cli.bytes).context("--bytes")?,
        increments: cli.increments,
        children: cli.common.workers(),
        elements: cli.elements,
    };
    if variants.contains(&Variant::IpcChannel) {
        measure::check_temp_dir()?;
    }
    measure::check_lengths(&variants, sizes)?;
    let worker = Worker::current().context("finding this program to re-execute")?;
    let mut measured = Vec::with_capacity(variants.len());
    for variant in variants {
        measured.push(measure::run(variant, &worker, sizes)?);
    }
    Ok(report(measured, cli.common.json))
}

/// Prints the table (or JSON lines), its legend and the verdicts, and one line on stderr per
/// failure, where it is seen even with `--json`; returns the exit status the rows call for.
fn report(measured: Vec<Measured>, json: bool) -> ExitCode {
    let mut report = Report::new(LESSON);
    measure::LEGEND.into_iter().for_each(|l| report.legend(l));
    for line in verdict::verdicts(&measured) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(json);
    for row in report.rows().iter().filter(|row| !row.as_expected()) {
        eprintln!("error: {}: {}", row.variant, row.note);
    }
    report.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_rejects_zero_absurd_and_stray_words() {
        for args in [
            &["queue-ipc", "--messages", "0"][..],
            &["queue-ipc", "--elements", "999999999999"],
            &["queue-ipc", "worker"],
            &["queue-ipc", "--variant", "queue"],
            &["queue-ipc", "--increments", "-1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["queue-ipc", "--variant", "pipe-tuned"]).unwrap();
        assert_eq!(cli.variant, [Variant::PipeTuned]);
    }
}
