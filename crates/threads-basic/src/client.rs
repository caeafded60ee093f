//! The client side of the I/O variants: one [`ureq`] agent, one GET that counts the bytes
//! that arrived, and the row built from every GET of a run.
//!
//! The client is [`ureq`]: blocking, small, no async runtime (which would be the next lesson).
//! One [`ureq::Agent`] is shared by all threads (it is `Sync`: its state sits behind an `Arc`
//! and a lock), configured once; see `fetch` for why each request has its own connection.

use std::time::Duration;

use timing::{Latencies, Row, Stopwatch};
use ureq::Agent;

use crate::server::{DelayServer, PAGE_BYTES, page_len};
use crate::{Error, LESSON};

/// How long a fetch may take beyond the server's delay before it counts as failed, so a broken
/// server fails the row instead of hanging the program.
const FETCH_SLACK: Duration = Duration::from_secs(30);

/// The client's read and write buffer per connection: room for the largest page the server
/// sends here (`PAGE_BYTES` plus the page number) and its headers several times over.
const BUFFER_BYTES: usize = 16 * 1024;

/// One fetched page: which, how many body bytes arrived (or the error), and how long it took.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The page number asked for, so a page fetched twice or never shows.
    page: u64,
    /// The body bytes that arrived, or the error that stopped the fetch, as text.
    bytes: Result<u64, String>,
    /// From sending the request to the last body byte.
    latency: Duration,
}

/// The client every variant uses, with a deadline on each phase of a request: connecting,
/// sending, waiting for the response (the server's delay plus slack), reading the body.
///
/// Why not one `timeout_global`, simpler to read: with any global or per-call deadline set,
/// ureq's default resolver looks the host up on a thread of its own so that it can give up on
/// a slow DNS server, even when the host is an IP address as here. That is one more thread
/// started, and one more wake-up across cores, per request: measured on two cores, about 1 ms a
/// request, which `io-thread-per-request` pays twenty times at once. The per-phase deadlines
/// below leave the lookup alone (parsing `127.0.0.1` needs no deadline) and still bound the
/// whole request to `delay` plus four times the slack.
///
/// The buffers are sized to these pages rather than ureq's 128 KiB defaults, made for large
/// downloads: each connection allocates and zeroes one buffer each way, and twenty connections
/// opened at once on two cores spent about 1.5 ms of the ideal 50 on that (measured).
fn agent(delay: Duration) -> Agent {
    Agent::config_builder()
        .timeout_connect(Some(FETCH_SLACK))
        .timeout_send_request(Some(FETCH_SLACK))
        .timeout_recv_response(Some(delay + FETCH_SLACK))
        .timeout_recv_body(Some(FETCH_SLACK))
        .input_buffer_size(BUFFER_BYTES)
        .output_buffer_size(BUFFER_BYTES)
        .build()
        .into()
}

/// GETs page `page` and counts the body bytes that arrived.
pub(crate) fn fetch(agent: &Agent, server: &DelayServer, page: u64) -> Fetched {
    let watch = Stopwatch::start();
    let bytes = agent
        .get(server.url(page))
        // One connection per request, closed after it, as the tutorial's `requests.get` in a
        // loop does. Why not keep connections open, usually faster: `tiny_http` writes headers
        // and body in two `write`s, and on a reused connection Nagle's algorithm on the server
        // holds the body until the client acknowledges the headers, which its delayed ACK puts
        // off for 40 ms (measured: 92 ms per request at a 50 ms delay). And a kept-open
        // connection keeps a `tiny_http` thread waiting on it for the next request, so that
        // thread cannot take another client. A fresh connection starts in quick-ACK mode.
        .header("Connection", "close")
        .call()
        // `read_to_vec` reads to the end of the body (up to ureq's 10 MB default limit, far
        // above any page here). A body cut short should come back as an error; if it ever came
        // back as a short Vec, the byte count in `io_row` would still catch it.
        .and_then(|mut response| response.body_mut().read_to_vec())
        .map(|body| body.len() as u64)
        .map_err(|e| e.to_string());
    Fetched {
        page,
        bytes,
        latency: watch.elapsed(),
    }
}

/// The row of an I/O variant. `expected` is the closed form of the bytes the server sends for
/// pages `0..requests` (`requests x PAGE_BYTES + 0 + 1 + ... + (requests - 1)`); `result` the
/// bytes that arrived. Correct also needs every page once, each exactly as long as sent.
pub(crate) fn io_row(
    variant: &str,
    in_flight: usize,
    requests: u64,
    delay: Duration,
    (fetched, wall): (Vec<Fetched>, Duration),
) -> Row {
    let expected = requests * PAGE_BYTES + requests * (requests - 1) / 2;
    let mut latencies = Latencies::new();
    let mut seen = vec![false; requests as usize];
    let (mut received, mut whole, mut first_error) = (0, 0, None);
    for f in &fetched {
        latencies.record(f.latency);
        match &f.bytes {
            Ok(bytes) => {
                received += bytes;
                if *bytes == page_len(f.page)
                    && !std::mem::replace(&mut seen[f.page as usize], true)
                {
                    whole += 1;
                }
            }
            Err(e) => first_error = first_error.or(Some(e.clone())),
        }
    }
    let note = match first_error {
        None => format!("{whole} pages whole, {in_flight} in flight"),
        Some(e) => format!("{whole} of {requests} pages whole; first error: {e}"),
    };
    Row::new(LESSON, variant)
        .workers(in_flight)
        .items(requests)
        .check(expected, received)
        .require(whole == requests)
        .wall(wall)
        .latencies(&latencies)
        .note(note)
        .extra("delay_ms", delay.as_millis() as u64)
}

/// Starts the server, runs `fetch_all` against it with a fresh client, then shuts both down
/// (client first, so the server's connection threads see their connections close).
pub(crate) fn against_server(
    delay: Duration,
    fetch_all: impl FnOnce(&Agent, &DelayServer) -> Result<Vec<Fetched>, Error>,
) -> Result<(Vec<Fetched>, Duration), Error> {
    let server = DelayServer::start(delay)?;
    let agent = agent(delay);
    let watch = Stopwatch::start();
    let fetched = fetch_all(&agent, &server)?;
    let wall = watch.elapsed();
    drop(agent);
    server.shutdown()?;
    Ok((fetched, wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Duration = Duration::from_millis(5);

    #[test]
    fn a_short_missing_or_repeated_page_makes_the_row_wrong() {
        let page = |page, bytes: Result<u64, &str>| Fetched {
            page,
            bytes: bytes.map_err(str::to_string),
            latency: DELAY,
        };
        let all_whole = vec![page(0, Ok(4096)), page(1, Ok(4097))];
        let row = io_row("io-pool", 2, 2, DELAY, (all_whole, DELAY));
        assert!(row.correct, "{row:?}");
        assert_eq!((row.expected, row.result), (8193, 8193));

        let short = vec![page(0, Ok(4096)), page(1, Ok(4000))];
        assert!(!io_row("io-pool", 2, 2, DELAY, (short, DELAY)).correct);
        let failed = vec![page(0, Ok(4096)), page(1, Err("connection reset"))];
        let row = io_row("io-pool", 2, 2, DELAY, (failed, DELAY));
        assert!(
            !row.correct && row.note.contains("connection reset"),
            "{row:?}"
        );
        // The right total of bytes, but page 0 twice and page 1 never.
        let repeated = vec![page(0, Ok(4096)), page(0, Ok(4096)), page(1, Ok(1))];
        assert!(!io_row("io-pool", 2, 2, DELAY, (repeated, DELAY)).correct);
    }
}
