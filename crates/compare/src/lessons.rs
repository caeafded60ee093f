//! Which lessons to compare, where their binaries are, and whether they are worth timing.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use timing::usage_error;

use crate::plan::{PLANS, Plan};

/// The flags `compare` and `sweep` share: how much to run, which lessons, and which Pythons run
/// the twins.
#[derive(Debug, clap::Args)]
pub struct TwinArgs {
    /// Small sizes, one run each: a quick check that every result is correct.
    #[arg(long)]
    pub quick: bool,

    /// Only this lesson (repeatable); all of them by default.
    #[arg(long = "lesson")]
    pub lessons: Vec<String>,

    /// The Python interpreter that runs the twins.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,

    /// The Python with `celery` and `redis` installed, for the task-queue twin (`just compare`
    /// and `just sweep` make it from examples/python/requirements-celery.txt).
    #[arg(long, default_value = "target/compare/venv/bin/python")]
    pub celery_python: PathBuf,
}

/// The plans named with `--lesson`, or all of them.
pub fn chosen(names: &[String]) -> Result<Vec<Plan>> {
    pick(PLANS, |p| p.lesson, names, "lesson")
}

/// The entries of `all` whose lesson (`lesson_of`) is among `names`, or all of them when none is
/// named, in `all`'s order; a name no entry has is a usage error listing the known ones (`what`
/// names the kind of entry: "lesson", "sweep of").
pub fn pick<T: Copy>(
    all: &[T],
    lesson_of: impl Fn(&T) -> &str,
    names: &[String],
    what: &str,
) -> Result<Vec<T>> {
    for name in names {
        if !all.iter().any(|t| lesson_of(t) == name) {
            let mut known: Vec<&str> = all.iter().map(&lesson_of).collect();
            known.dedup();
            return Err(usage_error(format!(
                "no {what} {name:?}; known: {}",
                known.join(", ")
            )));
        }
    }
    Ok(all
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == lesson_of(t)))
        .copied()
        .collect())
}

/// The directory of the lesson binaries `plans` run: this program's own, where cargo puts every
/// binary of the workspace built in one profile. Refuses a debug build's directory, and one that
/// lacks a lesson, with what to run instead.
pub fn dir(plans: &[Plan]) -> Result<PathBuf> {
    let dir = std::env::current_exe()
        .context("finding this program's own path")?
        .parent()
        .context("this program has no parent directory")?
        .to_path_buf();
    if is_debug_dir(&dir) {
        return Err(usage_error(format!(
            "{} holds debug builds, whose timings say nothing about Rust: build with --release \
             and run `just compare` (or `cargo run --release -p compare`)",
            dir.display()
        )));
    }
    for plan in plans {
        if !dir.join(plan.lesson).exists() {
            return Err(usage_error(format!(
                "{} is missing from {}: run `cargo build --release --workspace` first",
                plan.lesson,
                dir.display()
            )));
        }
    }
    Ok(dir)
}

/// Whether `dir` is cargo's output directory of the dev profile (`target/debug`, or
/// `target/<triple>/debug` when cross-compiling), whose binaries are unoptimised.
///
/// Judged from the lessons' directory, not from `cfg!(debug_assertions)` of this program: the
/// lessons are what is timed, and a dev profile that keeps debug assertions with optimisations
/// on (or a release profile that keeps them) would make this program's own cfg say the wrong
/// thing about them. Cargo names the dev profile's directory `debug` and no other.
pub fn is_debug_dir(dir: &Path) -> bool {
    dir.file_name().is_some_and(|name| name == "debug")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dev_profiles_directory_is_debug() {
        for debug in ["target/debug", "/w/target/x86_64-unknown-linux-gnu/debug"] {
            assert!(is_debug_dir(Path::new(debug)), "{debug}");
        }
        for optimised in [
            "target/release",
            "/w/target/bench",
            "/w/debug/target/release",
        ] {
            assert!(!is_debug_dir(Path::new(optimised)), "{optimised}");
        }
    }
}
