//! I/O-bound work on threads: fetching `requests` pages from a slow server one after another,
//! with one thread per request, and with a bounded pool of threads.
//!
//! The tutorial's "web scraping with threads" fetched real sites, whose speed nobody controls;
//! here the site is a local [`DelayServer`](crate::server::DelayServer) holding every response back by `delay`, so the ideal
//! is known: sequential takes `requests x delay`, and with `k` requests in flight at once it
//! takes `ceil(requests / k) x delay`. A thread waiting on a socket uses no CPU, so even on two
//! cores twenty threads overlap twenty waits.
//!
//! The client side (one shared [`ureq`] agent, one GET, the row built from what arrived) is in
//! `client.rs`; these are the three ways of spreading the GETs over threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use timing::Row;

use crate::client::{against_server, fetch, io_row};
use crate::{Error, join_scoped};

/// Step 4a, the tutorial's first scraper: fetch `requests` pages one after another. Takes about
/// `requests x delay`: the program spends nearly all of it waiting.
pub fn io_sequential(requests: u64, delay: Duration) -> Result<Row, Error> {
    let run = against_server(delay, |agent, server| {
        Ok((0..requests)
            .map(|page| fetch(agent, server, page))
            .collect())
    })?;
    Ok(io_row("io-sequential", 1, requests, delay, run))
}

/// Step 4b, one thread per request: every fetch starts at once and the waits overlap, so the
/// whole takes about one `delay`. Simple and fast for 20 URLs; for 20 000 it would start 20 000
/// threads (each with its own stack) and open as many sockets at once, which is why 4c exists.
/// Even 1 000 shows the cost (`--requests 1000`): the server's listen queue (128 connections,
/// Rust's default backlog) overflows, the kernel drops the extra connection attempts, and their
/// clients retry a full second later, so p99 jumps past a second while the median stays low.
pub fn io_thread_per_request(requests: u64, delay: Duration) -> Result<Row, Error> {
    let run = against_server(delay, |agent, server| {
        // Scoped, so the threads borrow the agent and the server instead of needing `Arc`s.
        thread::scope(|s| {
            let handles = (0..requests)
                .map(|page| {
                    let name = format!("fetch-{page}");
                    thread::Builder::new()
                        .name(name.clone())
                        .spawn_scoped(s, move || fetch(agent, server, page))
                        .map_err(|source| Error::Spawn { name, source })
                })
                .collect::<Result<Vec<_>, _>>()?;
            handles.into_iter().map(join_scoped).collect()
        })
    })?;
    let in_flight = requests as usize;
    Ok(io_row(
        "io-thread-per-request",
        in_flight,
        requests,
        delay,
        run,
    ))
}

/// Step 4c, `ThreadPoolExecutor(max_workers=workers)`: a fixed number of threads, each taking
/// the next page number until none is left. At most `workers` requests are in flight, so it
/// takes about `ceil(requests / workers) x delay`, with threads and sockets bounded whatever the
/// number of URLs.
///
/// The work list is just a shared counter: `fetch_add` hands each page number to exactly one
/// thread. `Relaxed` is enough because the counter publishes no other data (each result comes
/// back through `join`). A channel of URLs would do the same where the work is not an index.
pub fn io_pool(requests: u64, workers: usize, delay: Duration) -> Result<Row, Error> {
    let workers = workers.min(requests as usize);
    let next = AtomicU64::new(0);
    let run = against_server(delay, |agent, server| {
        thread::scope(|s| {
            let next = &next;
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
                            mine.push(fetch(agent, server, page));
                        }
                    };
                    let spawned = thread::Builder::new()
                        .name(name.clone())
                        .spawn_scoped(s, work);
                    spawned.map_err(|source| Error::Spawn { name, source })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut all = Vec::new();
            for handle in handles {
                all.extend(join_scoped(handle)?);
            }
            Ok(all)
        })
    })?;
    Ok(io_row("io-pool", workers, requests, delay, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Duration = Duration::from_millis(5);

    #[test]
    fn every_variant_gets_every_page_whole() {
        for row in [
            io_sequential(5, DELAY).unwrap(),
            io_thread_per_request(5, DELAY).unwrap(),
            io_pool(5, 2, DELAY).unwrap(),
            io_pool(3, 8, DELAY).unwrap(),
        ] {
            assert!(row.correct, "{row:?}");
            assert!(row.p50_ns.is_some() && row.max_ns >= row.p50_ns);
        }
    }
}
