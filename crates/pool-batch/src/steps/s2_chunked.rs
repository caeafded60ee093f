//! Step 2: the same pool's `map`, `chunk` items a job: Python's `chunksize`.
//!
//! Since step 1: a job carries a chunk of items and answers with the chunk's results in one
//! message, so the channel operations, the boxed job and the wake-up of a sleeping worker are
//! paid once per chunk instead of once per item. The pool itself is unchanged.

// ANCHOR: pattern
use std::sync::Arc;

use crossbeam_channel::unbounded;

use super::s1_channel_pool::ThreadPool;
use super::{Results, in_order, run_caught};

impl ThreadPool {
    /// Like [`map`](ThreadPool::map), but sends `chunk` items a job and gets their results back
    /// in one message. A task that panics is still an `Err` for its item only.
    pub fn map_chunked<T, R, F>(&self, f: F, items: Vec<T>, chunk: usize) -> Results<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let (n, chunk) = (items.len(), chunk.max(1));
        let f = Arc::new(f);
        let (answers, answered) = unbounded();
        let mut items = items.into_iter();
        for start in (0..n).step_by(chunk) {
            // Each chunk is a `Vec` of its own: the job owns its items, as a job sent to
            // another thread must.
            let part: Vec<T> = items.by_ref().take(chunk).collect();
            let (f, answers) = (Arc::clone(&f), answers.clone());
            self.execute(move || {
                let results: Results<R> = part.into_iter().map(|x| run_caught(&*f, x)).collect();
                // The map holds the receiver until every sender is gone, so this cannot fail.
                let _ = answers.send((start, results));
            });
        }
        drop(answers);
        in_order(n, answered)
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::TaskError;

    #[test]
    fn chunks_of_any_size_keep_input_order() {
        let pool = ThreadPool::new(3).unwrap();
        let want: Results<u64> = (0..1000).map(|x| Ok(x * 10)).collect();
        for chunk in [0, 1, 7, 1000, 5000] {
            let out = pool.map_chunked(|x: u64| x * 10, (0..1000).collect(), chunk);
            assert_eq!(out, want, "chunk {chunk}");
        }
        assert!(pool.map_chunked(|x: u8| x, Vec::new(), 3).is_empty());
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_panic_fails_only_its_item_of_the_chunk() {
        let pool = ThreadPool::new(2).unwrap();
        let f = |x: u32| if x == 3 { panic!("three") } else { x };
        let out = pool.map_chunked(f, (0..6).collect(), 4);
        assert_eq!(out[3], Err(TaskError::Panicked("three".into())));
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 5);
    }
}
