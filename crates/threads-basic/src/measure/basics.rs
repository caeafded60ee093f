//! Rows of steps 1 to 5: the steps as written, timed, their results checked here.

use std::time::Duration;

use timing::{Mechanism, Stopwatch, fmt_count, fmt_duration};

use super::{Measured, Outcome, row, sum_to};
use crate::steps::s1_hello::{LETTERS, NUMBERS};
use crate::steps::s5_control::{PAUSE, PAUSE_AT, UNITS};
use crate::steps::{Error, s1_hello, s2_named, s3_job_trait, s4_scoped, s5_control};

/// Step 1, timed. Correct means all ten items arrived and each thread's own kept their order.
pub fn hello() -> Result<Measured, Error> {
    let (arrived, wall) = Stopwatch::time(s1_hello::run);
    let arrived = arrived?;
    let kept_order = |mine: &[&str]| {
        let seen: Vec<&str> = arrived
            .iter()
            .copied()
            .filter(|s| mine.contains(s))
            .collect();
        seen == mine
    };
    let kept_order = kept_order(&NUMBERS) && kept_order(&LETTERS);
    let expected = (NUMBERS.len() + LETTERS.len()) as u64;
    let count = arrived.len() as u64;
    let order = arrived.join(" ");
    Ok(Measured {
        row: row("hello", Mechanism::Threads, 2)
            .items(count)
            .check(expected, count)
            .require(kept_order)
            .wall(wall)
            .note(format!("arrived: {order}"))
            .extra("order", order),
        outcome: Outcome::Hello {
            arrived: count,
            kept_order,
        },
    })
}

/// Step 2, timed. Correct means the total is `n(n+1)/2` and every thread saw the name it was
/// given.
pub fn named(n: u64, workers: usize) -> Result<Measured, Error> {
    let (partials, wall) = Stopwatch::time(|| s2_named::run(n, workers));
    let partials = partials?;
    let names_kept = (partials.iter().enumerate()).all(|(i, p)| p.name == s2_named::name_of(i));
    let total = partials.iter().map(|p| p.sum).sum();
    Ok(summed("named", n, workers, total, wall, names_kept))
}

/// Step 3, timed. Correct means the total is `n(n+1)/2`.
pub fn job_trait(n: u64, workers: usize) -> Result<Measured, Error> {
    let (total, wall) = Stopwatch::time(|| s3_job_trait::run(n, workers));
    Ok(summed("job-trait", n, workers, total?, wall, true))
}

/// Step 4, timed from the spawns to the last join: the `Vec` of numbers the threads borrow is
/// built before. Correct means the slots add up to `n(n+1)/2`.
pub fn scoped(n: u64, workers: usize) -> Result<Measured, Error> {
    let numbers: Vec<u64> = (1..=n).collect();
    let (partials, wall) = Stopwatch::time(|| s4_scoped::partial_sums(&numbers, workers));
    let total = partials?.iter().sum();
    Ok(summed("scoped", n, workers, total, wall, true))
}

/// The row of a summing step.
fn summed(variant: &str, n: u64, workers: usize, total: u64, wall: Duration, ok: bool) -> Measured {
    let expected = sum_to(n);
    Measured {
        row: row(variant, Mechanism::Threads, workers)
            .items(n)
            .check(expected, total)
            .require(ok)
            .wall(wall),
        outcome: Outcome::Sum { expected, total },
    }
}

/// Step 5, timed. The check counts the units of work the worker did before it was stopped,
/// against the [`UNITS`] of its job; correct also needs it parked at [`PAUSE_AT`], none done
/// while paused, the job finished after the resume, the worker ended by itself, and its
/// returned count equal to the one it published.
pub fn control() -> Result<Measured, Error> {
    let (c, wall) = Stopwatch::time(s5_control::run);
    let c = c?;
    let units = c.returned.unwrap_or(0);
    let behaved = c.parked && c.paused_at == PAUSE_AT && c.while_paused == 0 && c.finished;
    Ok(Measured {
        row: row("control", Mechanism::Threads, 1)
            .items(units)
            .check(UNITS, units)
            .require(behaved && c.returned == Some(c.published))
            .wall(wall)
            .note(format!(
                "paused at unit {} of {}; {} units while paused {}; ended {} after stop",
                fmt_count(c.paused_at),
                fmt_count(UNITS),
                fmt_count(c.while_paused),
                fmt_duration(PAUSE),
                fmt_duration(c.stop_took)
            ))
            .extra("paused_ms", PAUSE.as_millis() as u64)
            .extra("paused_at", c.paused_at)
            .extra("units_while_paused", c.while_paused)
            .extra("stop_ns", c.stop_took.as_nanos() as u64),
        outcome: Outcome::Control(c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_checks_its_numbers() {
        for m in [
            hello().unwrap(),
            named(1_000, 3).unwrap(),
            job_trait(1, 4).unwrap(),
            scoped(100_000, 2).unwrap(),
            control().unwrap(),
        ] {
            assert!(m.row.correct, "{:?}", m.row);
            assert_eq!(m.row.mechanism, Some(Mechanism::Threads));
        }
        assert_eq!(hello().unwrap().row.result, 10);
        assert_eq!(control().unwrap().row.result, UNITS);
    }

    #[test]
    fn a_wrong_total_makes_the_row_wrong() {
        let m = summed("named", 10, 2, 54, Duration::from_millis(1), true);
        assert!(!m.row.correct);
        assert!(
            !summed("named", 10, 2, 55, Duration::ZERO, false)
                .row
                .correct
        );
    }
}
