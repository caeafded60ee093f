//! The command-line conventions every binary shares: flags, variant selection, errors and exit
//! statuses.

use std::process::ExitCode;

use clap::ValueEnum;

/// Flags every lesson binary has. Flatten it into the lesson's own `clap` struct:
///
/// ```
/// #[derive(clap::Parser)]
/// struct Cli {
///     #[command(flatten)]
///     common: timing::CommonArgs,
/// }
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Print one JSON object per variant per line instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Threads or processes doing the work [default: the number of cores].
    #[arg(long, value_parser = workers_between_1_and_1024, allow_negative_numbers = true)]
    pub workers: Option<u16>,
}

impl CommonArgs {
    /// `--workers`, or the number of cores this process may use.
    pub fn workers(&self) -> usize {
        self.workers.map_or_else(cores, usize::from)
    }
}

/// The number of cores this process may use (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The variants to run: those named with `--variant`, or all of them, in declaration order.
pub fn selected<V: ValueEnum + Clone + PartialEq>(chosen: &[V]) -> Vec<V> {
    if chosen.is_empty() {
        V::value_variants().to_vec()
    } else {
        V::value_variants()
            .iter()
            .filter(|v| chosen.contains(v))
            .cloned()
            .collect()
    }
}

/// An error the user made (bad input, a broker that is not there, a path that cannot be written),
/// as opposed to a failure of the program. [`main_with`] exits with status 2 for it, as `clap`
/// does for a malformed flag. Which broker faults count: task-queue's `broker` module header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A clap value parser for a whole number from `min` to `max`, whose error reads as people
/// write numbers: "must be a whole number from 1 to 10 000 000". Digits may be grouped with `_`.
///
/// Use it as `#[arg(long, value_parser = timing::between(1, 10_000_000))]`.
pub fn between(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |text: &str| {
        let out_of_range = || {
            format!(
                "must be a whole number from {} to {}",
                crate::fmt_count(min),
                crate::fmt_count(max)
            )
        };
        let digits = text.trim().replace('_', "");
        let value: u64 = digits.parse().map_err(|_| out_of_range())?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(out_of_range())
        }
    }
}

/// `--workers`: a whole number from 1 to 1 024, refused in the words of [`between`].
fn workers_between_1_and_1024(text: &str) -> Result<u16, String> {
    between(1, 1024)(text).map(|n| n as u16)
}

/// An `anyhow::Error` that [`main_with`] reports with exit status 2.
pub fn usage_error(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Runs a binary's real `main` and maps its outcome to the project's exit statuses: its own
/// `ExitCode` on success (0, or 1 when a result was wrong), 2 with one line on stderr for a
/// [`UsageError`] anywhere in the error's chain, and 1 with one line for any other error.
pub fn main_with(run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "reading x: no such file".
            eprintln!("error: {err:#}");
            if err.chain().any(|cause| cause.is::<UsageError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
    enum Variant {
        A,
        B,
        C,
    }

    #[test]
    fn between_reads_and_refuses_as_people_write() {
        let parse = between(1, 10_000_000);
        assert_eq!(parse("1_000"), Ok(1_000));
        assert_eq!(
            parse("0"),
            Err("must be a whole number from 1 to 10 000 000".into())
        );
        assert!(parse("-3").is_err() && parse("ten").is_err() && parse("10000001").is_err());
        assert_eq!(
            workers_between_1_and_1024("1025"),
            Err("must be a whole number from 1 to 1 024".into())
        );
        assert_eq!(workers_between_1_and_1024("12"), Ok(12));
    }

    #[test]
    fn none_chosen_means_all_in_order() {
        assert_eq!(
            selected::<Variant>(&[]),
            vec![Variant::A, Variant::B, Variant::C]
        );
        assert_eq!(
            selected(&[Variant::C, Variant::A]),
            vec![Variant::A, Variant::C]
        );
    }

    #[test]
    fn usage_errors_exit_2_even_with_context() {
        let code = main_with(|| Err(usage_error("bad size")).context("reading flags"));
        assert_eq!(code, ExitCode::from(2));
        let code = main_with(|| Err(anyhow::anyhow!("child 12 killed by SIGKILL")));
        assert_eq!(code, ExitCode::FAILURE);
    }
}
