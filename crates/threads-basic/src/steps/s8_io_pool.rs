//! Step 8: `ThreadPoolExecutor(max_workers=workers)`, a fixed number of threads, each taking
//! the next page until none is left.
//!
//! Since step 7: at most `workers` requests are in flight, so it takes about
//! `ceil(requests / workers) x delay`, with threads and sockets bounded whatever the number of
//! URLs.

// ANCHOR: pattern
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use super::{Error, join_all_scoped};

/// Runs `get(page)` for pages `0..requests` on at most `workers` threads named `pool-<i>`, and
/// returns every result, each thread's in the order it took them. `workers = 0` counts as one.
///
/// The work list is just a shared counter: `fetch_add` hands each page number to exactly one
/// thread. `Relaxed` is enough because the counter publishes no other data (each result comes
/// back through `join`). A channel of URLs would do the same where the work is not an index.
pub fn fetch_all<T: Send>(
    requests: u64,
    workers: usize,
    get: impl Fn(u64) -> T + Sync,
) -> Result<Vec<T>, Error> {
    // At least one thread (none would fetch nothing and return an empty list as if done), and
    // no more than there are pages.
    let workers = workers.max(1).min(requests as usize);
    let next = AtomicU64::new(0);
    thread::scope(|s| {
        let (next, get) = (&next, &get);
        let handles = (0..workers)
            .map(|i| {
                let name = format!("pool-{i}");
                let work = move || {
                    let mut mine = Vec::new();
                    loop {
                        let page = next.fetch_add(1, Ordering::Relaxed);
                        if page >= requests {
                            return mine;
                        }
                        mine.push(get(page));
                    }
                };
                let spawned = thread::Builder::new()
                    .name(name.clone())
                    .spawn_scoped(s, work);
                spawned.map_err(|source| Error::Spawn { name, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Every thread joined, even after one panicked (then the first panic is the error):
        // stopping at the first would leave the scope to join the rest, and a second panic
        // among them would end the program.
        Ok(join_all_scoped(handles)?.into_iter().flatten().collect())
    })
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_page_once_never_more_than_workers_at_a_time() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut got = fetch_all(7, 3, |page| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            page
        })
        .unwrap();
        got.sort_unstable();
        assert_eq!(got, (0..7).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(fetch_all(2, 8, |page| page).unwrap().len(), 2);
    }

    #[test]
    fn zero_workers_count_as_one() {
        assert_eq!(fetch_all(3, 0, |page| page).unwrap(), [0, 1, 2]);
    }

    #[test]
    fn two_panicking_workers_come_back_as_the_first_one() {
        let got = fetch_all(4, 2, |page| -> u64 { panic!("page {page} failed") });
        match got {
            Err(Error::Panicked { name, message }) => {
                assert_eq!(name, "pool-0");
                assert!(message.ends_with("failed"), "{message}");
            }
            other => panic!("want Panicked, got {other:?}"),
        }
    }
}
