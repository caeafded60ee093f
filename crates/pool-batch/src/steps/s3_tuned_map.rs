//! Step 3: the chunked map tuned for dispatch cost, fewer messages and no fresh memory per chunk;
//! it buys a higher rate where dispatch, not the task, is what an item costs (benchmark figures
//! are in `docs/results.md`).
//!
//! Since step 2, on the same pool, with the same results and the same panics:
//! - one *drain* job per worker per map pulls chunks from a channel typed for this map, instead
//!   of a boxed job per chunk;
//! - only `4 × workers` chunks are in flight, and their input and result buffers go round
//!   again: the first touch of fresh memory (a page fault per 4 KiB) costs more than the pool's
//!   every other cost per item;
//! - each chunk's results are appended to the output as soon as they are next in order, one
//!   copy, instead of filling slots in any order and unwrapping them at the end;
//! - one panic guard per chunk instead of one per item.
//!
//! Why rayon is still ahead: its `collect` writes each result straight into its place from
//! every worker, sharing the output's page faults between the cores. Our workers outlive any
//! one map, so lending them a slice of the output would take `unsafe` code that erases the
//! borrow's lifetime; this lesson keeps to safe code, and the calling thread copies every
//! result into the output, alone.

// ANCHOR: pattern
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crossbeam_channel::unbounded;

use super::s1_channel_pool::ThreadPool;
use super::{Results, TaskError};

impl ThreadPool {
    /// The chunked map of step 2, tuned (see the module docs).
    pub fn map_tuned<T, R, F>(&self, f: F, items: Vec<T>, chunk: usize) -> Results<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let (n, chunk, window) = (items.len(), chunk.max(1), 4 * self.workers().max(1));
        let f = Arc::new(f);
        let (chunk_tx, chunk_rx) = unbounded::<(usize, Vec<T>)>();
        // An answer carries the chunk's input buffer back, emptied, for the next chunk; `spare`
        // carries emptied result buffers the other way.
        let (answer_tx, answers) = unbounded::<(usize, Vec<T>, Results<R>)>();
        let (spare_tx, spare_rx) = unbounded::<Results<R>>();
        for _ in 0..self.workers() {
            let (f, chunk_rx, answer_tx) = (Arc::clone(&f), chunk_rx.clone(), answer_tx.clone());
            let spare_rx = spare_rx.clone();
            self.execute(move || {
                for (start, mut part) in chunk_rx {
                    let mut results = spare_rx.try_recv().unwrap_or_default();
                    run_chunk_caught(&*f, &mut part, &mut results);
                    // The map holds `answers` until every sender is gone: this cannot fail.
                    let _ = answer_tx.send((start, part, results));
                }
            });
        }
        drop(answer_tx);
        let (mut items, mut starts) = (items.into_iter(), (0..n).step_by(chunk));
        let mut chunk_tx = Some(chunk_tx);
        // Refills an emptied buffer with the next chunk and sends it. Called once per answer,
        // so it runs once more after the last chunk went out: it then drops the sender, which
        // is how the drain jobs learn that the map is done.
        let mut send_next = |mut part: Vec<T>| match (starts.next(), &chunk_tx) {
            (Some(start), Some(tx)) => {
                part.extend(items.by_ref().take(chunk));
                // Fails only if every drain job is gone; its items are then reported `Lost`.
                let _ = tx.send((start, part));
            }
            _ => chunk_tx = None,
        };
        // `4 × workers` chunks: a worker finds the next chunk queued even while this thread
        // is busy copying.
        (0..window).for_each(|_| send_next(Vec::new()));
        let mut out = InOrder::new(n);
        for (start, part, results) in answers {
            send_next(part);
            out.add(start, results, |spare| {
                // Once the drain jobs are done nobody wants it: then it is simply freed.
                let _ = spare_tx.send(spare);
            });
        }
        out.finish()
    }
}

/// Runs `f` on every item, appending the results to `out`, inside one `catch_unwind`: the
/// compiler sees one tight loop. After a panic, `items` has moved past the item that panicked
/// and `out` holds the results before it; that item's error is recorded and a new guard covers
/// the rest (re-running the chunk item by item would run some tasks twice). Both buffers keep
/// their allocations.
fn run_chunk_caught<T, R>(f: &impl Fn(T) -> R, items: &mut Vec<T>, out: &mut Results<R>) {
    out.reserve(items.len());
    let mut items = items.drain(..);
    // `AssertUnwindSafe`: after a panic only finished results and untouched items are read.
    while let Err(payload) = catch_unwind(AssertUnwindSafe(|| {
        out.extend(items.by_ref().map(|x| Ok(f(x))));
    })) {
        out.push(Err(TaskError::Panicked(reaper::panic_message(&*payload))));
    }
}

/// A map's output, built from chunks that arrive in any order: a chunk that starts where the
/// output ends is appended at once, with every chunk waiting behind it; an early one waits.
struct InOrder<R> {
    out: Results<R>,
    early: BTreeMap<usize, Results<R>>,
    n: usize,
}

impl<R> InOrder<R> {
    fn new(n: usize) -> Self {
        let (out, early) = (Vec::with_capacity(n), BTreeMap::new());
        Self { out, early, n }
    }

    /// Takes the results of items `start..`; hands each buffer it empties to `reuse`.
    fn add(&mut self, start: usize, results: Results<R>, mut reuse: impl FnMut(Results<R>)) {
        if start != self.out.len() {
            self.early.insert(start, results);
            return;
        }
        let mut next = Some(results);
        while let Some(mut results) = next {
            self.out.append(&mut results); // one `memcpy`; keeps the allocation
            reuse(results);
            next = self.early.remove(&self.out.len());
        }
    }

    /// The output in input order; an item no chunk answered is `Lost`.
    fn finish(mut self) -> Results<R> {
        for (start, results) in std::mem::take(&mut self.early) {
            // A gap before this chunk is items nobody answered; an overlap cannot come from
            // this pool, and is skipped rather than written at the wrong place.
            let skip = self.out.len().saturating_sub(start);
            let to = start.max(self.out.len());
            self.out.resize_with(to, || Err(TaskError::Lost));
            self.out.extend(results.into_iter().skip(skip));
        }
        self.out.resize_with(self.n, || Err(TaskError::Lost));
        self.out.truncate(self.n);
        self.out
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tuned_map_keeps_input_order_and_fails_only_a_panicking_item() {
        let pool = ThreadPool::new(3).unwrap();
        let want: Results<u64> = (0..1000).map(|x| Ok(x * 10)).collect();
        for chunk in [1, 7, 1000, 5000] {
            let out = pool.map_tuned(|x: u64| x * 10, (0..1000).collect(), chunk);
            assert_eq!(out, want, "chunk {chunk}");
        }
        let f = |x: u32| if x == 3 { panic!("three") } else { x };
        let out = pool.map_tuned(f, (0..6).collect(), 4);
        assert_eq!(out[3], Err(TaskError::Panicked("three".into())));
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 5);
        assert!(pool.map_tuned(|x: u8| x, Vec::new(), 3).is_empty());
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_panic_in_a_chunk_fails_that_item_and_the_rest_still_run() {
        let f = |x: u8| {
            if x.is_multiple_of(3) {
                panic!("{x}")
            } else {
                x
            }
        };
        let run = |mut items: Vec<u8>| {
            let mut out = Vec::new();
            run_chunk_caught(&f, &mut items, &mut out);
            assert!(items.is_empty());
            out
        };
        let err = |s: &str| Err(TaskError::Panicked(s.into()));
        let out = run(vec![1, 3, 4, 6, 7]);
        assert_eq!(out, [Ok(1), err("3"), Ok(4), err("6"), Ok(7)]);
        assert_eq!(run(vec![0]), [err("0")]);
        assert!(run(Vec::new()).is_empty());
    }

    #[test]
    fn chunks_arriving_late_or_early_land_in_order_and_gaps_are_lost() {
        let mut out = InOrder::new(7);
        let mut reused = 0;
        out.add(4, vec![Ok(4), Ok(5)], |_| reused += 1);
        out.add(2, vec![Ok(2), Ok(3)], |_| reused += 1);
        assert_eq!(reused, 0);
        out.add(0, vec![Ok(0), Ok(1)], |_| reused += 1);
        assert_eq!(reused, 3);
        let mut want: Results<u32> = (0..6).map(Ok).collect();
        want.push(Err(TaskError::Lost));
        assert_eq!(out.finish(), want);
        let mut out = InOrder::new(3);
        out.add(2, vec![Ok(2)], drop);
        assert_eq!(
            out.finish(),
            [Err(TaskError::Lost), Err(TaskError::Lost), Ok(2)]
        );
    }
}
