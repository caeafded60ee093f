//! `compare`: every Python twin beside its Rust lesson, same sizes, one run, one table.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result};
use clap::Parser;
use compare::broker::Broker;
use compare::lessons::TwinArgs;
use compare::plan::Plan;
use compare::{Pair, chart, lessons, machine, pair_rows, parse_rows, prose, record, text_table};
use indicatif::{ProgressBar, ProgressStyle};
use timing::usage_error;

/// Runs every Python twin in examples/python/ and its Rust lesson on the same sizes, one after
/// the other on this machine, pairs their rows by the Rust variant each Python row answers, and
/// prints one table: both wall times and rates, the Rust speedup, and both results checked; then
/// sentences about it, every figure taken from this run. A pair must compare like with like
/// (the same mechanism, the same items) unless the plan marks it cross-mechanism on purpose;
/// such rows are listed apart. It writes the table as Markdown, one JSON object per pair
/// (compare.jsonl) and a chart as SVG under --out. Build the binaries first: `cargo build
/// --release --workspace` (`just compare` does both); debug builds are refused (exit status 2).
/// Exit status 1 when a result on either side is wrong, a pair is refused, or a twin could not
/// run (unless --allow-skip).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    twins: TwinArgs,

    /// Where the Markdown table, `compare.jsonl` and the SVG chart go.
    #[arg(long, default_value = "target/compare")]
    out: PathBuf,

    /// Count a twin that could not run (no Redis, no Celery environment) as a pass; without
    /// it a skipped twin fails the run.
    #[arg(long)]
    allow_skip: bool,

    /// Also write the table and its sentences between `<!-- compare:begin -->` and
    /// `<!-- compare:end -->` in these Markdown files, on a full run only.
    #[arg(long = "write-into")]
    write_into: Vec<PathBuf>,

    /// Also write the chart to this file, on a full run only (the one the `--write-into` files
    /// show beside their table).
    #[arg(long = "chart-into")]
    chart_into: Option<PathBuf>,

    /// Also write each lesson's rows and chart, and the whole table and chart, as files the book
    /// includes (`<lesson>.md`, `<lesson>.svg`, `side-by-side.md`), into this directory, on a
    /// full run only.
    #[arg(long = "book-into")]
    book_into: Option<PathBuf>,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let plans = lessons::chosen(&cli.twins.lessons)?;
    let bin_dir = lessons::dir(&plans)?;
    let machine = machine::describe(&cli.twins.python.to_string_lossy());
    println!("machine: {machine}");

    let progress = ProgressBar::new(plans.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .expect("the template is a valid indicatif template"),
    );
    // Started only if a chosen lesson needs it; stopped when `run` returns.
    let broker = plans
        .iter()
        .any(|p| p.needs_redis)
        .then(Broker::find_or_start)
        .flatten();
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    for plan in &plans {
        progress.set_message(plan.lesson);
        match run_plan(&cli, plan, broker.as_ref(), &bin_dir) {
            Ok((found, refused)) => {
                pairs.extend(found);
                problems.extend(refused);
            }
            Err(problem) => problems.push(format!("{problem:#}")),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    report(&cli, &plans, &machine, &pairs, &problems)
}

/// Runs one plan's Python twin, then its Rust binary, and pairs their rows (refusing unlike
/// pairs). A skipped plan is an error whose message contains "skipped".
fn run_plan(
    cli: &Cli,
    plan: &Plan,
    broker: Option<&Broker>,
    bin_dir: &Path,
) -> Result<(Vec<Pair>, Vec<String>)> {
    let mut args: Vec<&str> = plan.args(cli.twins.quick).to_vec();
    let mut python = cli.twins.python.as_path();
    if plan.needs_redis {
        let broker = broker.with_context(|| {
            format!(
                "{}: skipped, no REDIS_URL and no redis-server to start",
                plan.lesson
            )
        })?;
        if !cli.twins.celery_python.exists() {
            anyhow::bail!(
                "{}: skipped, no Celery environment at {} (`just compare` makes it)",
                plan.lesson,
                cli.twins.celery_python.display()
            );
        }
        args.extend(["--broker", broker.url.as_str()]);
        python = &cli.twins.celery_python;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/python")
        .join(plan.script);
    let py = side(
        Command::new(python).arg(&script),
        &args,
        plan.lesson,
        "Python",
    )?;
    let mut rust_args: Vec<&str> = plan.rust_args(cli.twins.quick).to_vec();
    if let Some(broker) = broker.filter(|_| plan.needs_redis) {
        rust_args.extend(["--broker", broker.url.as_str()]);
    }
    let rs = side(
        &mut Command::new(bin_dir.join(plan.lesson)),
        &rust_args,
        plan.lesson,
        "Rust",
    )?;
    Ok(pair_rows(plan, &py, &rs))
}

/// Runs one side with `--json` and the plan's sizes, and parses its rows.
fn side(
    cmd: &mut Command,
    args: &[&str],
    lesson: &str,
    who: &str,
) -> Result<Vec<serde_json::Value>> {
    // The CPUs this side can get right now, read just before it runs (the machine's mood
    // changes from minute to minute; a speedup means little without it).
    let parallelism = machine::parallelism();
    let output = cmd
        .arg("--json")
        .args(args)
        .output()
        .with_context(|| format!("{lesson}: starting the {who} side"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::bail!(
            "{lesson}: the {who} side exited with {}: {}",
            output.status,
            stderr.trim()
        );
    }
    let mut rows =
        parse_rows(&stdout).with_context(|| format!("{lesson}: reading the {who} side's rows"))?;
    for row in &mut rows {
        row["parallelism"] = serde_json::json!(parallelism);
    }
    Ok(rows)
}

/// Prints the table, its sentences and the problems; writes the Markdown, `compare.jsonl`, the
/// chart and any `--write-into` sections; and picks the exit status.
fn report(
    cli: &Cli,
    plans: &[Plan],
    machine: &str,
    pairs: &[Pair],
    problems: &[String],
) -> Result<ExitCode> {
    print!("{}", text_table(pairs));
    let sentences = prose::sentences(plans, pairs);
    for line in &sentences {
        println!("- {line}");
    }
    for problem in problems {
        println!("problem: {problem}");
    }
    std::fs::create_dir_all(&cli.out)
        .map_err(|e| usage_error(format!("cannot create {}: {e}", cli.out.display())))?;
    let command = if cli.twins.quick {
        "just compare --quick"
    } else {
        "just compare"
    };
    let markdown = record::markdown(command, machine, pairs, &sentences);
    let md_path = cli.out.join("compare.md");
    std::fs::write(&md_path, &markdown)
        .with_context(|| format!("writing {}", md_path.display()))?;
    let jsonl_path = cli.out.join("compare.jsonl");
    std::fs::write(&jsonl_path, record::jsonl(pairs))
        .with_context(|| format!("writing {}", jsonl_path.display()))?;
    let svg_path = cli.out.join("compare.svg");
    if !pairs.is_empty() {
        chart::write_svg(plans, pairs, machine, &svg_path)?;
    }
    for path in cli.write_into.iter().filter(|_| !cli.twins.quick) {
        record::write_section(path, "compare", &markdown)?;
    }
    if let Some(chart) = cli
        .chart_into
        .as_ref()
        .filter(|_| !cli.twins.quick && !pairs.is_empty())
    {
        std::fs::copy(&svg_path, chart).with_context(|| format!("writing {}", chart.display()))?;
    }
    if let Some(dir) = cli
        .book_into
        .as_ref()
        .filter(|_| !cli.twins.quick && !pairs.is_empty())
    {
        compare::book::write(dir, command, machine, plans, pairs)?;
    }
    println!(
        "wrote {}, {} and {}",
        md_path.display(),
        jsonl_path.display(),
        svg_path.display()
    );
    let skipped_ok = |p: &String| cli.allow_skip && p.contains("skipped");
    let all_good = problems.iter().all(skipped_ok) && pairs.iter().all(Pair::both_as_expected);
    Ok(if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
