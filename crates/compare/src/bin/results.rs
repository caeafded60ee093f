//! `results`: writes the benchmark figures of one `cargo bench` run into `docs/results.md`,
//! dated and with the machine, between `<!-- bench:begin -->` and `<!-- bench:end -->`.
//!
//! `just bench` runs `cargo bench --workspace`, keeps its output, then runs this program on it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use compare::{machine, record};

/// Writes the output of one `cargo bench --workspace` run (divan's tables) into the
/// benchmarks section of a results file, dated and with the machine it ran on.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The saved output of `cargo bench --workspace`.
    bench_output: PathBuf,

    /// The Markdown file holding `<!-- bench:begin -->` and `<!-- bench:end -->`.
    #[arg(long, default_value = "docs/results.md")]
    into: PathBuf,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let output = std::fs::read_to_string(&cli.bench_output).map_err(|e| {
        timing::usage_error(format!("cannot read {}: {e}", cli.bench_output.display()))
    })?;
    let tables = divan_tables(&output);
    anyhow::ensure!(
        !tables.trim().is_empty(),
        "{} holds no benchmark table: run `cargo bench --workspace` into it first",
        cli.bench_output.display()
    );
    let body = format!(
        "Measured on {}, {}, in one run of `just bench`.\n\n```text\n{}```\n",
        machine::today(),
        machine::describe("python3"),
        tables
    );
    record::write_section(&cli.into, "bench", &body).context("writing the benchmark figures")?;
    println!("wrote the benchmark figures into {}", cli.into.display());
    Ok(ExitCode::SUCCESS)
}

/// The lines of divan's tables and the name of the benchmark each belongs to; cargo's own lines
/// (Compiling, Finished, Running) are left out.
fn divan_tables(output: &str) -> String {
    output
        .lines()
        .filter(|line| {
            let l = line.trim_start();
            !(l.starts_with("Compiling")
                || l.starts_with("Finished")
                || l.starts_with("Blocking")
                || l.starts_with("warning")
                || l.starts_with("Running")
                || l.starts_with("running ")
                || l.starts_with("test ")
                || l.starts_with("exit ")
                || l.is_empty())
                || l.starts_with("Running benches")
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_s_own_lines_are_left_out() {
        let output = "   Compiling x v0.1.0\n    Finished `bench` profile\n     Running unittests src/lib.rs\n\nrunning 2 tests\ntest a ... ignored\ntest result: ok. 0 passed\n     Running benches/a.rs (target/release/deps/a-1)\nTimer precision: 20 ns\na      fastest │ slowest\n";
        let tables = divan_tables(output);
        assert!(tables.contains("Running benches/a.rs"));
        assert!(tables.contains("fastest"));
        assert!(!tables.contains("Compiling") && !tables.contains("Finished"));
        assert!(
            !tables.contains("unittests") && !tables.contains("test result"),
            "{tables}"
        );
    }
}
