//! Step 7: one thread per page, so every fetch starts at once and the waits overlap.
//!
//! Since step 6: each page's `get` runs on a thread of its own, so the whole takes about one
//! delay instead of `requests` of them. A thread waiting on a socket uses no CPU, so even on two
//! cores twenty threads overlap twenty waits.
//!
//! Simple and fast for 20 URLs; for 20 000 it would start 20 000 threads (each with its own
//! stack) and open as many sockets at once, which is why step 8 exists. Even 1 000 shows the
//! cost (`--requests 1000`): the server's listen queue (128 connections, Rust's default backlog)
//! overflows, the kernel drops the extra connection attempts, and their clients retry a full
//! second later, so p99 jumps past a second (and on some runs the median with it).

// ANCHOR: pattern
use std::thread;

use super::{Error, join_all_scoped};

/// Runs `get(page)` for pages `0..requests`, each on a new thread named `fetch-<page>`, and
/// returns the results in page order.
pub fn fetch_all<T: Send>(requests: u64, get: impl Fn(u64) -> T + Sync) -> Result<Vec<T>, Error> {
    // Scoped, so the threads borrow `get` (and through it the client and the URL) instead of
    // needing `Arc`s.
    thread::scope(|s| {
        let get = &get;
        let handles = (0..requests)
            .map(|page| {
                let name = format!("fetch-{page}");
                thread::Builder::new()
                    .name(name.clone())
                    .spawn_scoped(s, move || get(page))
                    .map_err(|source| Error::Spawn { name, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Every thread joined, even after one panicked (then the first panic is the error):
        // stopping at the first would leave the scope to join the rest, and a second panic
        // among them would end the program.
        join_all_scoped(handles)
    })
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_page_runs_on_its_own_thread_and_comes_back_in_order() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let got = fetch_all(6, |page| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
            (page, thread::current().name().map(str::to_string))
        })
        .unwrap();
        let want: Vec<_> = (0..6).map(|p| (p, Some(format!("fetch-{p}")))).collect();
        assert_eq!(got, want);
        assert!(most.load(Ordering::SeqCst) > 1, "the gets never overlapped");
    }

    #[test]
    fn two_panicking_gets_come_back_as_the_first_one() {
        let got = fetch_all(4, |page| {
            assert!(page % 2 == 1, "page {page} failed");
            page
        });
        match got {
            Err(Error::Panicked { name, message }) => {
                assert_eq!(
                    (name.as_str(), message.as_str()),
                    ("fetch-0", "page 0 failed")
                );
            }
            other => panic!("want Panicked, got {other:?}"),
        }
    }
}
