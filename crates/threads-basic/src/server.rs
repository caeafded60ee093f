//! The slow web site the I/O steps fetch from: a local HTTP server that holds every response
//! back for a set delay, as a real server far away would.
//!
//! It is [`tiny_http`]: small, blocking, no async runtime, so the whole lesson stays on plain
//! threads. It binds `127.0.0.1:0` (the system picks a free port, so two runs never collide) and
//! serves `/page/<i>` with [`page_len`]`(i)` bytes after the delay. Each request is answered on
//! a thread of its own, so the delays of concurrent requests overlap, as they would on a real
//! site: a server that slept on its accept thread would serialise the clients and hide the
//! lesson.
//!
//! Shutdown is explicit and complete: [`DelayServer::shutdown`] wakes the accept loop, which
//! stops taking requests and joins every handler thread before it returns (they live in a
//! [`thread::scope`]); then the loop thread is joined, and dropping the `tiny_http::Server`
//! stops its listener. `Drop` does the same on an error path, so no thread of ours is left
//! blocked. `tiny_http`'s own threads are not ours to join: its connection threads end when
//! their connection closes (every request here asks for that with `Connection: close`), its
//! accept thread when the `Server` is dropped, and its idle pool threads within five seconds.
//! None of them is left blocked on anything that will not come.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Request, Response, Server};

use crate::steps::{Error, join};

/// The size of page 0; page `i` is `i` bytes longer, so a response cut short or sent to the
/// wrong request shows up in the byte count.
pub const PAGE_BYTES: u64 = 4096;

/// The last page served; past it the answer is 404. The steps never ask beyond the command
/// line's thousand pages, but anyone on this machine can reach the port: without a bound,
/// `/page/<huge>` would overflow [`page_len`] or make the server allocate without limit.
pub const LAST_PAGE: u64 = 1 << 20;

/// The body length of `/page/<i>`.
pub fn page_len(i: u64) -> u64 {
    PAGE_BYTES + i
}

/// A running local server whose every response is held back by a delay.
pub struct DelayServer {
    /// Shared with the accept loop, which blocks in `recv` on it.
    server: Arc<Server>,
    /// Where it listens: `127.0.0.1:<ephemeral port>`.
    addr: SocketAddr,
    /// Requests taken off the queue so far, counted by the accept loop.
    received: Arc<AtomicU64>,
    /// The accept loop, returning how many requests it answered; `None` once joined.
    acceptor: Option<JoinHandle<u64>>,
}

impl DelayServer {
    /// Binds `127.0.0.1:0` and starts answering, each response after `delay`.
    pub fn start(delay: Duration) -> Result<Self, Error> {
        let server = Server::http("127.0.0.1:0").map_err(|e| Error::Server(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::Server("bound to something that is not an IP address".into()))?;
        let server = Arc::new(server);
        let inner = Arc::clone(&server);
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        let name = "http-accept".to_string();
        let acceptor = thread::Builder::new()
            .name(name.clone())
            .spawn(move || accept_loop(&inner, &counter, delay))
            .map_err(|source| Error::Spawn { name, source })?;
        Ok(Self {
            server,
            addr,
            received,
            acceptor: Some(acceptor),
        })
    }

    /// The URL of page `i`.
    pub fn url(&self, i: u64) -> String {
        format!("http://{}/page/{i}", self.addr)
    }

    /// How many requests the server has taken so far (each one is then answered after the delay).
    pub fn received(&self) -> u64 {
        // Relaxed: a count read for information; no other data is published with it.
        self.received.load(Ordering::Relaxed)
    }

    /// Stops the server: no new requests, every handler finished, every thread of ours joined.
    /// Returns how many requests it answered.
    pub fn shutdown(mut self) -> Result<u64, Error> {
        self.stop()
    }

    fn stop(&mut self) -> Result<u64, Error> {
        let Some(acceptor) = self.acceptor.take() else {
            return Ok(0);
        };
        // `unblock` queues a wake-up that makes the loop's `recv` return an error, after any
        // request already queued; it is not lost if the loop is not in `recv` at this moment.
        self.server.unblock();
        join(acceptor)
    }
}

impl std::fmt::Debug for DelayServer {
    // By hand: `tiny_http::Server` is not `Debug`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayServer")
            .field("addr", &self.addr)
            .field("received", &self.received())
            .finish_non_exhaustive()
    }
}

impl Drop for DelayServer {
    fn drop(&mut self) {
        // On the normal path `shutdown` already joined; on an error path this still leaves
        // nothing running. A handler's panic was reported by `shutdown` if anyone asked.
        let _ = self.stop();
    }
}

/// Takes requests until unblocked, answering each on its own scoped thread; the scope joins them
/// all before the loop returns the number answered.
fn accept_loop(server: &Server, received: &AtomicU64, delay: Duration) -> u64 {
    thread::scope(|s| {
        let mut answered = 0;
        // `recv` blocks without spinning; it fails once `unblock` was called (or the listener
        // failed), which is the only way out of the loop.
        while let Ok(request) = server.recv() {
            received.fetch_add(1, Ordering::Relaxed);
            // The delay counts from here, not from when the handler thread gets to run: with
            // twenty requests arriving at once on two cores, starting twenty threads takes a
            // few milliseconds, and a handler that slept a full `delay` after starting would
            // add that to every response on top of the delay the user asked for.
            let due = Instant::now() + delay;
            let spawned = thread::Builder::new()
                .name("http-handler".into())
                .spawn_scoped(s, move || respond(request, due));
            // Out of threads: the request was moved into the failed spawn and is dropped,
            // which closes it; the client sees an error and counts the response as missing.
            if spawned.is_ok() {
                answered += 1;
            }
        }
        answered
    })
}

/// Holds the request back until `due`, then answers it.
fn respond(request: Request, due: Instant) {
    thread::sleep(due.saturating_duration_since(Instant::now()));
    let page = request
        .url()
        .strip_prefix("/page/")
        .and_then(|i| i.parse::<u64>().ok())
        .filter(|&i| i <= LAST_PAGE);
    let result = match page {
        Some(i) => request.respond(Response::from_data(page_body(i))),
        None => request.respond(Response::from_string("no such page").with_status_code(404)),
    };
    // A client that hung up cannot be answered; it sees a short or missing body and counts the
    // response as not whole, which is where the failure belongs.
    drop(result);
}

/// The body of page `i`: [`page_len`]`(i)` bytes of one letter.
fn page_body(i: u64) -> Vec<u8> {
    let letter = b'a' + (i % 26) as u8;
    vec![letter; page_len(i) as usize]
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    }

    #[test]
    fn serves_pages_of_the_promised_length_and_404_otherwise() {
        let server = DelayServer::start(Duration::ZERO).unwrap();
        let reply = get(server.addr, "/page/7");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with(&"h".repeat(4103)), "{reply}");
        assert!(get(server.addr, "/nope").starts_with("HTTP/1.1 404"));
        let past_the_last = format!("/page/{}", LAST_PAGE + 1);
        assert!(get(server.addr, &past_the_last).starts_with("HTTP/1.1 404"));
        let overflowing = format!("/page/{}", u64::MAX);
        assert!(get(server.addr, &overflowing).starts_with("HTTP/1.1 404"));
        assert_eq!(server.shutdown().unwrap(), 4);
    }

    #[test]
    fn shutdown_waits_for_a_request_in_its_delay_and_closes_the_port() {
        let server = DelayServer::start(Duration::from_millis(100)).unwrap();
        let addr = server.addr;
        let client = thread::spawn(move || get(addr, "/page/0"));
        // Once the request has reached the server, shut down while it is still held back.
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.received() == 0 {
            assert!(Instant::now() < deadline, "the request never arrived");
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(server.shutdown().unwrap(), 1);
        assert!(client.join().unwrap().starts_with("HTTP/1.1 200"));
        // The listener goes away with the server (tiny_http's accept thread exits shortly).
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).is_ok() {
            assert!(Instant::now() < deadline, "still listening on {addr}");
            thread::sleep(Duration::from_millis(10));
        }
    }
}
