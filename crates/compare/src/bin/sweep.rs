//! `sweep`: each lesson over the size that matters, Rust beside its Python twin at the same
//! points; see [`compare::sweep`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Parser;
use compare::lessons::TwinArgs;
use compare::sweep::kept::Kept;
use compare::sweep::pages::{self, Origin};
use compare::sweep::run::{self, Setup};
use compare::sweep::specs::SPECS;
use compare::sweep::{Spec, record, stops};
use compare::{lessons, machine};
use timing::usage_error;

/// Runs each lesson's Rust binary and its Python twin at the same points of the size that matters
/// (threads, chunk size, message size, tasks), three runs a point (one with --quick), and writes
/// each series' median with its range, one JSON object a point, to sweep.jsonl under --out. A
/// full run with every row right also replaces its charts' points in the record kept beside the
/// charts, and draws every chart of that record with its tables and sentences (where each curve
/// bends) into docs/results.md and the book. Exit status 1 when a row is wrong (and not broken on
/// purpose) or a side fails to run; 2 for a run estimated past ten minutes, or a debug build.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    twins: TwinArgs,

    /// Where sweep.jsonl goes.
    #[arg(long, default_value = "target/compare")]
    out: PathBuf,

    /// On a full run, where each chart goes as `<chart>.svg`, beside the record of every chart's
    /// latest full run (`sweep.jsonl`, `origins.json`) that the charts are drawn from.
    #[arg(long, default_value = "docs/sweeps")]
    svg_into: PathBuf,

    /// On a full run, the Markdown file whose `sweep` markers get the tables and sentences.
    #[arg(long, default_value = "docs/results.md")]
    write_into: PathBuf,

    /// On a full run, where the book's `sweep-<chart>.md` and `.svg` go.
    #[arg(long, default_value = "book/src/generated")]
    book_into: PathBuf,

    /// Run nothing: draw the charts and write the pages again from the record of full runs kept
    /// beside the charts (after a change to how they are drawn or worded).
    #[arg(long, conflicts_with = "quick")]
    redraw: bool,
}

/// A run longer than this is refused before it starts: the machine is shared.
const MAX_SECONDS: f64 = 600.0;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    // A launcher checks its first argument before anything else, so it stays a few MiB.
    if args.next().as_deref() == Some(compare::sweep::child::LAUNCH) {
        return compare::sweep::child::launch(args);
    }
    timing::main_with(run)
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    if cli.redraw {
        redraw(&cli)?;
        return Ok(ExitCode::SUCCESS);
    }
    let specs = chosen(&cli.twins.lessons)?;
    let bin_dir = bin_dir(&specs)?;
    // Read before the run, so a record it cannot extend stops it before, not after, minutes.
    let kept = match cli.twins.quick {
        true => None,
        false => Some(Kept::load(&cli.svg_into).map_err(|e| usage_error(format!("{e:#}")))?),
    };
    let runs = if cli.twins.quick { 1 } else { 3 };
    let estimate: f64 = specs
        .iter()
        .map(|s| s.estimate(cli.twins.quick, runs))
        .sum();
    if estimate > MAX_SECONDS {
        return Err(usage_error(format!(
            "refused: this sweep is estimated at {:.1} min, past the {:.0} min limit; choose fewer \
             lessons with --lesson, or --quick",
            estimate / 60.0,
            MAX_SECONDS / 60.0
        )));
    }
    let mut lessons: Vec<&str> = specs.iter().map(|s| s.lesson).collect();
    lessons.dedup();
    eprintln!(
        "sweep: {} sweeps of {} lessons, estimated {:.1} min",
        specs.len(),
        lessons.len(),
        estimate / 60.0
    );
    let setup = Setup {
        bin_dir,
        python: cli.twins.python.clone(),
        celery_python: cli.twins.celery_python.clone(),
        scripts: run::scripts_dir(),
        runs,
        machine: machine::describe(&cli.twins.python.to_string_lossy()),
    };
    let started = Instant::now();
    let mut points = Vec::new();
    let mut wrong = Vec::new();
    for spec in &specs {
        let (found, bad) = run::sweep(spec, &setup, cli.twins.quick)?;
        points.extend(found);
        wrong.extend(bad);
    }
    let seconds = started.elapsed().as_secs_f64();
    write_points(&cli.out, &points)?;
    eprintln!(
        "sweep: {} points in {:.1} min",
        points.len(),
        seconds / 60.0
    );
    for line in &wrong {
        eprintln!("wrong: {line}");
    }
    match kept {
        // A run with a wrong row is no record to draw from: the charts keep their last one.
        Some(_) if !wrong.is_empty() => {
            eprintln!("sweep: the charts and pages were left as they were")
        }
        Some(kept) => {
            let origin = Origin {
                date: machine::today(),
                command: command(&cli.twins.lessons),
                machine: setup.machine.clone(),
                seconds,
                cores: timing::cores(),
                threads: stops::thread_limits(),
            };
            let kept = kept.merge(&points, &origin);
            kept.save(&cli.svg_into)?;
            draw(&cli, &kept)?;
        }
        None => {}
    }
    Ok(if wrong.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes the run's points into `out`/sweep.jsonl.
fn write_points(out: &std::path::Path, points: &[record::Point]) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| usage_error(format!("cannot create {}: {e}", out.display())))?;
    let jsonl = out.join("sweep.jsonl");
    std::fs::write(&jsonl, record::jsonl(points))
        .with_context(|| format!("writing {}", jsonl.display()))?;
    eprintln!("sweep: wrote {}", jsonl.display());
    Ok(())
}

/// The command that reproduces a run: the lessons it was limited to, if any.
fn command(lessons: &[String]) -> String {
    ["just sweep".to_string()]
        .into_iter()
        .chain(lessons.iter().map(|l| format!("--lesson {l}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Draws every chart of the record and writes the pages.
fn draw(cli: &Cli, kept: &Kept) -> Result<()> {
    pages::write_all(
        &kept.points,
        &kept.origins,
        &cli.svg_into,
        &cli.book_into,
        &cli.write_into,
    )
}

/// Writes the charts and pages again from the record of full runs beside the charts.
fn redraw(cli: &Cli) -> Result<()> {
    let kept = Kept::load(&cli.svg_into).map_err(|e| usage_error(format!("{e:#}")))?;
    if kept.points.is_empty() {
        return Err(usage_error(format!(
            "{} holds no full run to draw from: run `just sweep` first",
            cli.svg_into.display()
        )));
    }
    draw(cli, &kept)
}

/// The specs named with `--lesson`, or all of them.
fn chosen(names: &[String]) -> Result<Vec<Spec>> {
    lessons::pick(SPECS, |s| s.lesson, names, "sweep of")
}

/// The release lesson binaries beside this program; a debug build or a missing lesson refused.
fn bin_dir(specs: &[Spec]) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding this program's own path")?;
    let dir = exe
        .parent()
        .context("this program has no directory")?
        .to_path_buf();
    if lessons::is_debug_dir(&dir) {
        return Err(usage_error(format!(
            "{} holds debug builds, whose timings say nothing: run `just sweep`",
            dir.display()
        )));
    }
    if let Some(missing) = specs.iter().find(|s| !dir.join(s.lesson).exists()) {
        return Err(usage_error(format!(
            "{} is missing from {}: run `cargo build --release --workspace` first",
            missing.lesson,
            dir.display()
        )));
    }
    Ok(dir)
}
