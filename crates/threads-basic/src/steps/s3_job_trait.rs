//! Step 3: the Rust counterpart of subclassing `threading.Thread` and overriding `run()`.
//!
//! Since step 2: the thread's body is no longer a closure written at the spawn site but a type
//! implementing a small trait, [`Job`], so the spawning code ([`start`]) is written once for
//! every kind of job. Rust has no inheritance; a trait is how a type promises a `run()`. The job
//! is plain data plus a method: it can be built, tested and run without a thread at all, which
//! the subclass cannot.

// ANCHOR: pattern
use std::hint::black_box;
use std::ops::RangeInclusive;
use std::thread::{self, JoinHandle};

use super::{Error, join_all, split};

/// Work that can run on a thread of its own: the `run()` of a `Thread` subclass.
///
/// `Send + 'static` because the job moves to the new thread and may outlive the caller's stack;
/// the `Output` comes back through [`JoinHandle::join`], which is why it must be `Send` too.
pub trait Job: Send + 'static {
    /// What the job hands back when it is done.
    type Output: Send + 'static;

    /// The thread's name (the `name=` of `Thread.__init__`).
    fn name(&self) -> String;

    /// The work. Takes `self` by value: a job runs once, like a `Thread` can be started once,
    /// and the type system now says so.
    fn run(self) -> Self::Output;
}

/// Starts `job` on a new named thread: `MyThread(...).start()`.
pub fn start<J: Job>(job: J) -> Result<JoinHandle<J::Output>, Error> {
    let name = job.name();
    thread::Builder::new()
        .name(name.clone())
        .spawn(move || job.run())
        .map_err(|source| Error::Spawn { name, source })
}

/// A job summing a range of integers: the state a subclass would keep in `self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumRange {
    /// Its number among its siblings, for the thread name.
    pub index: usize,
    /// The numbers to add up.
    pub range: RangeInclusive<u64>,
}

impl Job for SumRange {
    type Output = u64;

    fn name(&self) -> String {
        format!("sum-{}", self.index)
    }

    fn run(self) -> u64 {
        // `black_box` keeps the optimiser from replacing the loop by the closed form.
        self.range.map(black_box).sum()
    }
}

/// Starts `workers` [`SumRange`] jobs, one share of `1..=n` each, and returns the sum of their
/// results.
pub fn run(n: u64, workers: usize) -> Result<u64, Error> {
    let handles = split(n, workers)
        .into_iter()
        .enumerate()
        .map(|(index, range)| start(SumRange { index, range }))
        .collect::<Result<Vec<_>, _>>()?;
    // Every job joined, even after one panicked (then the first panic is the error).
    Ok(join_all(handles)?.into_iter().sum())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::join;

    /// A second kind of job, to show `start` takes any type implementing `Job`.
    struct Shout(&'static str);

    impl Job for Shout {
        type Output = String;
        fn name(&self) -> String {
            "shout".into()
        }
        fn run(self) -> String {
            format!(
                "{} from {}",
                self.0.to_uppercase(),
                thread::current().name().unwrap()
            )
        }
    }

    #[test]
    fn any_job_runs_on_its_own_named_thread() {
        let out = join(start(Shout("hi")).unwrap()).unwrap();
        assert_eq!(out, "HI from shout");
        let range = 1..=4;
        let sum = join(start(SumRange { index: 3, range }).unwrap()).unwrap();
        assert_eq!(sum, 10);
    }

    #[test]
    fn a_job_runs_without_a_thread_too() {
        assert_eq!(
            SumRange {
                index: 0,
                range: 5..=6
            }
            .run(),
            11
        );
    }

    #[test]
    fn the_jobs_sum_exactly() {
        assert_eq!(run(12_345, 3).unwrap(), 12_345 * 12_346 / 2);
    }
}
