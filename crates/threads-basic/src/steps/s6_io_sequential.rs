//! Step 6: the tutorial's first scraper, fetching pages one after another.
//!
//! Since step 5: back to no threads at all, to see what they buy for I/O. The tutorial fetched
//! real sites, whose speed nobody controls; here the site is a local
//! [`DelayServer`](crate::server::DelayServer) holding every response back by a set delay, so
//! the time is known: `requests x delay`, nearly all of it spent waiting.
//!
//! The client is [`ureq`]: blocking, small, no async runtime (which would be another lesson).
//! One [`ureq::Agent`] is shared by every thread of the next steps (it is `Sync`: its state sits
//! behind an `Arc` and a lock), configured once by [`agent`].

// ANCHOR: pattern
use std::time::Duration;

use ureq::Agent;

/// How long a fetch may take beyond the server's delay before it counts as failed, so a broken
/// server fails the fetch instead of hanging the program.
const FETCH_SLACK: Duration = Duration::from_secs(30);

/// The client's read and write buffer per connection: room for the largest page the server
/// sends here and its headers several times over.
const BUFFER_BYTES: usize = 16 * 1024;

/// The client every step uses, with a deadline on each phase of a request: connecting,
/// sending, waiting for the response (the server's `delay` plus slack), reading the body.
///
/// Why not one `timeout_global`, simpler to read: with any global or per-call deadline set,
/// ureq's default resolver looks the host up on a thread of its own so that it can give up on
/// a slow DNS server, even when the host is an IP address as here. That is one more thread
/// started, and one more wake-up across cores, per request, which one thread per request pays
/// twenty times at once. The per-phase deadlines leave the lookup alone (parsing `127.0.0.1`
/// needs no deadline) and still bound the whole request to `delay` plus four times the slack.
///
/// The buffers are sized to these pages rather than ureq's 128 KiB defaults, made for large
/// downloads: each connection allocates and zeroes one buffer each way, and twenty connections
/// opened at once on two cores would spend a visible share of the wait on that.
pub fn agent(delay: Duration) -> Agent {
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

/// GETs `url` and returns how many body bytes arrived, or the error that stopped it, as text.
pub fn fetch(agent: &Agent, url: &str) -> Result<u64, String> {
    agent
        .get(url)
        // One connection per request, closed after it, as the tutorial's `requests.get` in a
        // loop does. Why not keep connections open, usually faster: `tiny_http` writes headers
        // and body in two `write`s, and on a reused connection Nagle's algorithm on the server
        // holds the body until the client acknowledges the headers, which its delayed ACK puts
        // off for 40 ms. And a kept-open connection keeps a `tiny_http` thread waiting on it
        // for the next request, so that thread cannot take another client. A fresh connection
        // starts in quick-ACK mode.
        .header("Connection", "close")
        .call()
        // `read_to_vec` reads to the end of the body (up to ureq's 10 MB default limit, far
        // above any page here). A body cut short comes back as an error; if it ever came back
        // as a short Vec, the caller's byte count would still catch it.
        .and_then(|mut response| response.body_mut().read_to_vec())
        .map(|body| body.len() as u64)
        .map_err(|e| e.to_string())
}

/// Fetches pages `0..requests` one after another: `get(page)` is the work for one page
/// ([`fetch`] of its URL, or that and a stopwatch when measured). Returns the results in order.
pub fn fetch_all<T>(requests: u64, get: impl Fn(u64) -> T) -> Vec<T> {
    (0..requests).map(get).collect()
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{DelayServer, page_len};

    #[test]
    fn every_page_arrives_whole_in_order() {
        let server = DelayServer::start(Duration::from_millis(1)).unwrap();
        let agent = agent(Duration::from_millis(1));
        let got = fetch_all(3, |page| fetch(&agent, &server.url(page)));
        assert_eq!(got, [Ok(page_len(0)), Ok(page_len(1)), Ok(page_len(2))]);
        drop(agent);
        assert_eq!(server.shutdown().unwrap(), 3);
    }
}
