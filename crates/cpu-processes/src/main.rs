//! The `cpu-processes` binary: parses flags, runs the variants, prints the table or JSON lines.
//! Started with `--worker` as its first argument, it is one task of the `spawn` variant.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use cpu_processes::measure::{self, N_MAX, Sizes, Variant, expected_total, max_n};
use cpu_processes::steps::{Error, s4_spawn};
use cpu_processes::{LESSON, fault, verdict};
use timing::{CommonArgs, Report, between, usage_error};

/// Sums per worker by default: 50 to 150 ms of work per task on a small machine, so three
/// rounds of the four variants take one to two seconds on two cores.
const DEFAULT_N: u64 = 150_000_000;

/// CPU-bound work on threads and processes: the tutorials' `cpu_intensive_task(n)` (a sum of
/// 0..n the optimiser cannot fold away) run once per worker, four ways, checked against the
/// closed form and timed. Rust has no GIL, so threads scale like processes; processes show what
/// they cost instead: a copied (fork) or fresh (spawn) address space per worker. Variants:
/// sequential (the tasks one after another: the baseline), threads (one thread per task), fork
/// (one forked child per task, results through a pipe, reaped with waitpid), spawn (this program
/// re-executed per task as a worker). The table shows speedup over sequential, efficiency
/// (speedup / workers) and peak resident memory (VmHWM) of the parent and of each child; each
/// figure is the median of --rounds interleaved runs, and a run that falls short is explained
/// by the CPUs it had.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: without it clap reads `--n -1` as a flag named `-1` and says
// "unexpected argument"; with it "-1" reaches `between`, whose error names the range.
#[command(name = "cpu-processes", version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Each worker sums 0..n; the total over all workers must fit in 64 bits.
    #[arg(long, default_value_t = DEFAULT_N, value_parser = between(1, N_MAX))]
    n: u64,

    /// Run every variant this many times, interleaved, and report each one's median.
    #[arg(long, default_value_t = 3, value_parser = between(1, 100))]
    rounds: u64,
}

/// A worker's command line, as step 4 writes it; never typed by people.
#[derive(Debug, Parser)]
#[command(name = "cpu-processes --worker")]
struct WorkerCli {
    /// Always set: it is how this command line was recognised.
    #[arg(long)]
    worker: bool,
    /// The task's size.
    #[arg(long, value_parser = between(1, N_MAX))]
    n: u64,
    /// Which task this is, counting from 0.
    #[arg(long, default_value_t = 0)]
    index: usize,
    /// The pid of the process that started this worker.
    #[arg(long)]
    parent: Option<u32>,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // Checked before clap parses, so `cpu-processes worker` or any stray word is still an error.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == s4_spawn::WORKER_FLAG)
    {
        return work_as_worker(&WorkerCli::parse());
    }
    // Ctrl-C, SIGTERM or an error: every child is killed and reaped (exit 130 on a signal).
    // Declared first, so it is dropped last, at the end of `run`.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let cli = Cli::parse();
    fault::load().map_err(usage_error)?;
    let sizes = sizes(&cli)?;
    let variants = timing::selected(&cli.variant);
    measure::estimate::refuse_long_runs(sizes, &variants)?;
    let measured = match measure::run_all(&variants, sizes) {
        Err(Error::Interrupted) => return Ok(interrupted()),
        measured => measured?,
    };
    let mut report = Report::new(LESSON);
    measure::LEGEND.iter().for_each(|line| report.legend(*line));
    for line in verdict::verdicts(&measured, sizes.workers) {
        report.verdict(line);
    }
    for m in measured {
        for failed in m.summary.failures.iter().flatten() {
            eprintln!("error: {}: {failed}", m.row.variant);
        }
        report.push(m.row);
    }
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// The sizes the flags ask for, refused when the total would overflow 64 bits.
fn sizes(cli: &Cli) -> anyhow::Result<Sizes> {
    let sizes = Sizes {
        n: cli.n,
        workers: cli.common.workers(),
        rounds: cli.rounds,
    };
    if expected_total(sizes.n, sizes.workers).is_none() {
        return Err(usage_error(format!(
            "--n {} with {} workers: the total overflows 64 bits; use --n {} or less",
            sizes.n,
            sizes.workers,
            max_n(sizes.workers)
        )));
    }
    Ok(sizes)
}

/// One task of the `spawn` variant, in this re-executed process.
fn work_as_worker(args: &WorkerCli) -> anyhow::Result<ExitCode> {
    fault::load().map_err(usage_error)?;
    fault::strike(args.index);
    Ok(s4_spawn::worker(args.n, args.parent))
}

fn interrupted() -> ExitCode {
    eprintln!("{}", reaper::INTERRUPTED);
    ExitCode::from(130)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_word_is_an_error_not_a_worker() {
        for word in ["worker", "foo"] {
            assert!(
                Cli::try_parse_from(["cpu-processes", word]).is_err(),
                "{word}"
            );
        }
    }

    #[test]
    fn sizes_are_refused_in_words() {
        let cases = [
            ["--n", "0"],
            ["--rounds", "101"],
            ["--n", "6074001001"],
            ["--n", "-1"],
            ["--rounds", "-1"],
            ["--workers", "-2"],
        ];
        for args in cases {
            let err = Cli::try_parse_from(["cpu-processes", args[0], args[1]]).unwrap_err();
            assert!(
                err.to_string().contains("must be a whole number from 1 to"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_worker_command_line_parses() {
        let args = [
            "x", "--worker", "--n", "5", "--index", "1", "--parent", "42",
        ];
        let worker = WorkerCli::try_parse_from(args).unwrap();
        assert_eq!((worker.n, worker.index, worker.parent), (5, 1, Some(42)));
    }
}
