//! Step 2: named threads, each summing a share of `1..=n` and handing its result back.
//!
//! Since step 1: `thread::Builder` instead of `thread::spawn`, because it can name the thread
//! (the `name=` of `Thread(...)`; names show in panic messages, debuggers and `top -H`) and it
//! returns an `io::Result` instead of panicking when the system cannot make another thread. And
//! the thread *returns* its result through `join`: the Python idiom of appending to a shared
//! list needs a lock in Rust, returning needs nothing.

// ANCHOR: pattern
use std::hint::black_box;
use std::thread;

use super::{Error, join_all, split};

/// What one thread hands back: the name it saw itself run under, and its partial sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    /// `thread::current().name()`, as seen from inside the thread.
    pub name: String,
    /// The sum of its share of `1..=n`.
    pub sum: u64,
}

/// The name thread `i` is given: `summer-<i>`.
pub fn name_of(i: usize) -> String {
    format!("summer-{i}")
}

/// Starts `workers` threads named [`name_of`]`(i)`, each summing its share of `1..=n`, and
/// returns what each handed back, in the order they were started.
pub fn run(n: u64, workers: usize) -> Result<Vec<Partial>, Error> {
    let mut handles = Vec::with_capacity(workers);
    for (i, range) in split(n, workers).into_iter().enumerate() {
        let name = name_of(i);
        let handle = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                // `black_box` on each number: without it the optimiser replaces the loop by the
                // closed form and the thread has nothing left to do.
                let sum: u64 = range.map(black_box).sum();
                // The name set by `Builder` is what the thread itself sees.
                let name = thread::current().name().unwrap_or("unnamed").to_string();
                Partial { name, sum }
            })
            .map_err(|source| Error::Spawn { name, source })?;
        handles.push(handle);
    }
    // Joined in the order started, so partial `i` is thread `i`'s; every one of them, even after
    // a panic, which then comes back as the error.
    join_all(handles)
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_sees_its_name_and_the_shares_add_up() {
        for (n, workers) in [(1, 4), (1000, 3), (100_000, 2)] {
            let partials = run(n, workers).unwrap();
            assert_eq!(partials.len(), workers);
            for (i, p) in partials.iter().enumerate() {
                assert_eq!(p.name, name_of(i));
            }
            let total: u64 = partials.iter().map(|p| p.sum).sum();
            assert_eq!(total, n * (n + 1) / 2);
        }
    }
}
