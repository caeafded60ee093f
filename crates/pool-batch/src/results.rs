//! What both pools do with each item's result: a panic caught and turned into that item's
//! error, and answers that arrive in any order put back in input order.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::pool::TaskError;

/// Runs one task, turning a panic into an error for this item.
pub(crate) fn run_caught<T, R>(f: &(impl Fn(T) -> R + ?Sized), item: T) -> Result<R, TaskError> {
    // `AssertUnwindSafe`: after a panic we never look at the item or any state the task may
    // have left half-updated; only the panic message survives, so nothing broken is observed.
    catch_unwind(AssertUnwindSafe(|| f(item)))
        .map_err(|payload| TaskError::Panicked(reaper::panic_message(&*payload)))
}

/// Runs the task on every item of `items`, in order, appending the results to `out`, with one
/// `catch_unwind` for the whole chunk instead of one per item: a panic is still that item's
/// error, and the items after it still run.
///
/// The loop runs inside the guard, so the compiler sees one tight loop (task, write result)
/// instead of a call through the unwinding machinery per item. When a task panics, `items` has
/// already moved past the item that panicked and `out` holds the results before it; we record
/// the panic as that item's result and enter a new guard for the rest. Re-running the chunk
/// item by item after a panic, the obvious fallback, would run some tasks twice.
///
/// `items` is drained, not consumed, and `out` is passed in: both keep their allocations, so
/// the pool can hand the same buffers round again (see [`ThreadPool::map_chunked`]).
///
/// [`ThreadPool::map_chunked`]: crate::ThreadPool::map_chunked
pub(crate) fn run_chunk_caught<T, R>(
    f: &(impl Fn(T) -> R + ?Sized),
    items: &mut Vec<T>,
    out: &mut Vec<Result<R, TaskError>>,
) {
    out.reserve(items.len());
    let mut items = items.drain(..);
    loop {
        // `extend` over a `Drain` knows the exact length, so it writes straight into the
        // reserved space; if a task panics, it still sets the length to what was written.
        // `AssertUnwindSafe` for the same reason as in `run_caught`: after a panic we read only
        // the results already complete and the items not yet started.
        let rest = catch_unwind(AssertUnwindSafe(|| {
            out.extend(items.by_ref().map(|x| Ok(f(x))));
        }));
        match rest {
            Ok(()) => return,
            Err(payload) => out.push(Err(TaskError::Panicked(reaper::panic_message(&*payload)))),
        }
    }
}

/// Builds the output of a map from runs of results `(start, results)` that arrive in any order.
///
/// A run that starts where the output ends is appended at once, and so is every run waiting
/// behind it; a run that arrives early waits in a map keyed by its start. Each result is so
/// moved once, into an output reserved for all `n` results up front, and the assembly overlaps
/// the workers' computing. The previous design, a `Vec<Option<_>>` of `n` empty slots filled
/// in any order and unwrapped at the end, wrote every slot three times (empty, filled,
/// unwrapped) on the calling thread.
pub(crate) struct InOrder<R> {
    out: Vec<Result<R, TaskError>>,
    early: BTreeMap<usize, Vec<Result<R, TaskError>>>,
    n: usize,
    /// Runs already copied into `out`: empty, with their allocations, for the caller to reuse.
    spent: Vec<Vec<Result<R, TaskError>>>,
}

impl<R> InOrder<R> {
    /// An empty output for `n` results.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            out: Vec::with_capacity(n),
            early: BTreeMap::new(),
            n,
            spent: Vec::new(),
        }
    }

    /// Takes the results of items `start..start + results.len()`.
    pub(crate) fn add(&mut self, start: usize, results: Vec<Result<R, TaskError>>) {
        if start != self.out.len() {
            self.early.insert(start, results);
            return;
        }
        let mut next = Some(results);
        while let Some(mut results) = next {
            // `append` moves the results out in one `memcpy` and leaves the buffer empty with
            // its allocation, for reuse.
            self.out.append(&mut results);
            self.spent.push(results);
            next = self.early.remove(&self.out.len());
        }
    }

    /// Takes the emptied buffers of the runs copied so far.
    pub(crate) fn spent(&mut self) -> std::vec::Drain<'_, Vec<Result<R, TaskError>>> {
        self.spent.drain(..)
    }

    /// The output in input order; an item no run answered is `Lost`.
    pub(crate) fn finish(mut self) -> Vec<Result<R, TaskError>> {
        for (start, results) in std::mem::take(&mut self.early) {
            // A gap before this run is items nobody answered. A run overlapping what is already
            // there cannot come from our pools; its overlapping part is skipped, never written
            // at the wrong position.
            let skip = self.out.len().saturating_sub(start);
            self.out
                .resize_with(start.max(self.out.len()), || Err(TaskError::Lost));
            self.out.extend(results.into_iter().skip(skip));
        }
        self.out.resize_with(self.n, || Err(TaskError::Lost));
        self.out.truncate(self.n);
        self.out
    }
}

/// Puts `(start, results)` messages back in input order; a slot never answered is `Lost`.
pub(crate) fn in_order<R>(
    n: usize,
    answers: impl IntoIterator<Item = (usize, Vec<Result<R, TaskError>>)>,
) -> Vec<Result<R, TaskError>> {
    let mut out = InOrder::new(n);
    for (start, results) in answers {
        out.add(start, results);
        // Nothing to reuse them for here: free them now rather than hold every one to the end.
        out.spent().for_each(drop);
    }
    out.finish()
}

/// Puts single answers `(index, result)` in place: every slot starts `Lost` and its answer
/// overwrites it, two writes per slot whatever order the answers come in.
pub(crate) fn scatter<R>(
    n: usize,
    answers: impl IntoIterator<Item = (usize, Result<R, TaskError>)>,
) -> Vec<Result<R, TaskError>> {
    let mut out: Vec<Result<R, TaskError>> = (0..n).map(|_| Err(TaskError::Lost)).collect();
    for (i, result) in answers {
        // An index past the end cannot come from our pools (they number the items they were
        // given); `get_mut` drops it rather than panic the caller.
        if let Some(slot) = out.get_mut(i) {
            *slot = result;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_back_in_place_and_gaps_are_lost() {
        let answers = [(3, vec![Ok(30), Ok(40)]), (0, vec![Ok(0), Ok(10)])];
        let out: Vec<Result<u32, TaskError>> = in_order(6, answers);
        let want = [
            Ok(0),
            Ok(10),
            Err(TaskError::Lost),
            Ok(30),
            Ok(40),
            Err(TaskError::Lost),
        ];
        assert_eq!(out, want);
        let out: Vec<Result<u32, TaskError>> = scatter(3, [(2, Ok(20)), (0, Ok(0))]);
        assert_eq!(out, [Ok(0), Err(TaskError::Lost), Ok(20)]);
    }

    #[test]
    fn runs_arriving_late_or_early_land_in_order() {
        let mut out = InOrder::new(6);
        out.add(4, vec![Ok(4), Ok(5)]);
        out.add(2, vec![Ok(2), Ok(3)]);
        out.add(0, vec![Ok(0), Ok(1)]);
        let want: Vec<Result<u32, TaskError>> = (0..6).map(Ok).collect();
        assert_eq!(out.finish(), want);
    }

    #[test]
    fn a_panic_becomes_the_items_error() {
        let f = |x: u8| if x == 0 { panic!("zero") } else { x };
        assert_eq!(run_caught(&f, 0), Err(TaskError::Panicked("zero".into())));
        assert_eq!(run_caught(&f, 2), Ok(2));
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
        assert_eq!(
            run(vec![1, 3, 4, 6, 7]),
            [Ok(1), err("3"), Ok(4), err("6"), Ok(7)]
        );
        assert_eq!(run(vec![0]), [err("0")]);
        assert!(run(Vec::new()).is_empty());
    }
}
