//! Rows of the I/O steps 6 to 8: each step's threads as written, handed the step-6 `fetch` with
//! a stopwatch around it, against a fresh local server; and the estimate that refuses a run
//! that would wait for hours.

use std::time::Duration;

use timing::{Latencies, Mechanism, Stopwatch, fmt_count};

use super::{Fetches, Measured, Outcome, row};
use crate::server::{DelayServer, PAGE_BYTES, page_len};
use crate::steps::{Error, s6_io_sequential, s7_io_thread_per_request, s8_io_pool};

/// One fetched page: which, how many body bytes arrived (or the error), and how long it took.
#[derive(Debug)]
struct Fetched {
    /// The page number asked for, so a page fetched twice or never shows.
    page: u64,
    /// The body bytes that arrived, or the error that stopped the fetch, as text.
    bytes: Result<u64, String>,
    /// From sending the request to the last body byte.
    latency: Duration,
}

/// The work for one page as the rows hand it to a step.
type Get<'a> = dyn Fn(u64) -> Fetched + Sync + 'a;

/// Step 6, timed: the pages one after another.
pub fn io_sequential(requests: u64, delay: Duration) -> Result<Measured, Error> {
    let run = against_server(delay, |get| Ok(s6_io_sequential::fetch_all(requests, get)))?;
    let mechanism = Mechanism::Sequential;
    Ok(io_row("io-sequential", mechanism, 1, requests, delay, run))
}

/// Step 7, timed: one thread per page.
pub fn io_thread_per_request(requests: u64, delay: Duration) -> Result<Measured, Error> {
    let run = against_server(delay, |get| {
        s7_io_thread_per_request::fetch_all(requests, get)
    })?;
    let in_flight = requests as usize;
    let variant = "io-thread-per-request";
    Ok(io_row(
        variant,
        Mechanism::Threads,
        in_flight,
        requests,
        delay,
        run,
    ))
}

/// Step 8, timed: a pool of `workers` threads (no more than there are pages).
pub fn io_pool(requests: u64, workers: usize, delay: Duration) -> Result<Measured, Error> {
    let run = against_server(delay, |get| s8_io_pool::fetch_all(requests, workers, get))?;
    let in_flight = workers.min(requests as usize);
    Ok(io_row(
        "io-pool",
        Mechanism::Threads,
        in_flight,
        requests,
        delay,
        run,
    ))
}

/// Refuses a run whose I/O steps would wait more than about ten minutes in all, and announces
/// one past a few seconds. `rounds` is how many times the selected steps wait for `delay`: one
/// per request for io-sequential, one for io-thread-per-request, one per pool-full for io-pool.
pub fn check_io_length(rounds: u64, requests: u64, delay: Duration) -> anyhow::Result<()> {
    let what = format!(
        "fetching {} pages at {} ms each ({} rounds of waiting)",
        fmt_count(requests),
        fmt_count(delay.as_millis() as u64),
        fmt_count(rounds)
    );
    let estimate = delay.saturating_mul(u32::try_from(rounds).unwrap_or(u32::MAX));
    timing::check_duration(&what, estimate, "pass a smaller --requests or --delay-ms")
}

/// Starts the server, runs `fetch_all` against it with a fresh client, each page's fetch timed,
/// then shuts both down (client first, so the server's connection threads see their
/// connections close). The wall time covers `fetch_all` alone.
fn against_server(
    delay: Duration,
    fetch_all: impl FnOnce(&Get<'_>) -> Result<Vec<Fetched>, Error>,
) -> Result<(Vec<Fetched>, Duration), Error> {
    let server = DelayServer::start(delay)?;
    let agent = s6_io_sequential::agent(delay);
    let get = |page| {
        let url = server.url(page);
        let watch = Stopwatch::start();
        let bytes = s6_io_sequential::fetch(&agent, &url);
        let latency = watch.elapsed();
        Fetched {
            page,
            bytes,
            latency,
        }
    };
    let (fetched, wall) = Stopwatch::time(|| fetch_all(&get));
    let fetched = fetched?;
    drop(agent);
    server.shutdown()?;
    Ok((fetched, wall))
}

/// The row of an I/O step. `expected` is the closed form of the bytes the server sends for
/// pages `0..requests` (`requests x PAGE_BYTES + 0 + 1 + ... + (requests - 1)`); `result` the
/// bytes that arrived. Correct also needs every page once, each exactly as long as sent.
fn io_row(
    variant: &str,
    mechanism: Mechanism,
    in_flight: usize,
    requests: u64,
    delay: Duration,
    (fetched, wall): (Vec<Fetched>, Duration),
) -> Measured {
    let expected = requests * PAGE_BYTES + requests * (requests - 1) / 2;
    let tally = Tally::of(&fetched, requests);
    let whole = tally.whole;
    let note = match tally.first_error {
        None => format!("{whole} pages whole, {in_flight} in flight"),
        Some(e) => format!("{whole} of {requests} pages whole; first error: {e}"),
    };
    Measured {
        row: row(variant, mechanism, in_flight)
            .items(requests)
            .check(expected, tally.received)
            .require(whole == requests)
            .wall(wall)
            .latencies(&tally.latencies)
            .note(note)
            .extra("delay_ms", delay.as_millis() as u64),
        outcome: Outcome::Io(Fetches {
            requests,
            delay,
            in_flight,
            whole,
        }),
    }
}

/// What a run's fetches add up to.
struct Tally {
    /// Every fetch's latency.
    latencies: Latencies,
    /// Body bytes received, in all.
    received: u64,
    /// Pages of `0..requests` that arrived exactly as long as sent, each counted once.
    whole: u64,
    /// The first fetch error, if any.
    first_error: Option<String>,
}

impl Tally {
    fn of(fetched: &[Fetched], requests: u64) -> Self {
        let mut seen = vec![false; requests as usize];
        let mut tally = Tally {
            latencies: Latencies::new(),
            received: 0,
            whole: 0,
            first_error: None,
        };
        for f in fetched {
            tally.latencies.record(f.latency);
            match &f.bytes {
                Ok(bytes) => {
                    tally.received += bytes;
                    if *bytes == page_len(f.page)
                        && !std::mem::replace(&mut seen[f.page as usize], true)
                    {
                        tally.whole += 1;
                    }
                }
                Err(e) => {
                    tally.first_error.get_or_insert_with(|| e.clone());
                }
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Duration = Duration::from_millis(5);

    #[test]
    fn every_step_gets_every_page_whole() {
        for m in [
            io_sequential(5, DELAY).unwrap(),
            io_thread_per_request(5, DELAY).unwrap(),
            io_pool(5, 2, DELAY).unwrap(),
            io_pool(3, 8, DELAY).unwrap(),
        ] {
            let row = m.row;
            assert!(row.correct, "{row:?}");
            assert!(row.p50_ns.is_some() && row.max_ns >= row.p50_ns);
        }
        let m = io_sequential(2, DELAY).unwrap();
        assert_eq!(m.row.mechanism, Some(Mechanism::Sequential));
    }

    #[test]
    fn a_short_missing_or_repeated_page_makes_the_row_wrong() {
        let page = |page, bytes: Result<u64, &str>| Fetched {
            page,
            bytes: bytes.map_err(str::to_string),
            latency: DELAY,
        };
        let row =
            |fetched| io_row("io-pool", Mechanism::Threads, 2, 2, DELAY, (fetched, DELAY)).row;
        let all_whole = row(vec![page(0, Ok(4096)), page(1, Ok(4097))]);
        assert!(all_whole.correct, "{all_whole:?}");
        assert_eq!((all_whole.expected, all_whole.result), (8193, 8193));

        assert!(!row(vec![page(0, Ok(4096)), page(1, Ok(4000))]).correct);
        let failed = row(vec![page(0, Ok(4096)), page(1, Err("connection reset"))]);
        assert!(
            !failed.correct && failed.note.contains("connection reset"),
            "{failed:?}"
        );
        // The right total of bytes, but page 0 twice and page 1 never.
        assert!(!row(vec![page(0, Ok(4096)), page(0, Ok(4096)), page(1, Ok(1))]).correct);
    }

    #[test]
    fn hours_of_waiting_are_refused_and_seconds_allowed() {
        let err = check_io_length(1_126, 1_000, Duration::from_secs(10)).unwrap_err();
        assert!(
            err.to_string().contains("would take about 3 h 7 min"),
            "{err}"
        );
        assert!(check_io_length(21, 20, Duration::from_millis(50)).is_ok());
    }
}
