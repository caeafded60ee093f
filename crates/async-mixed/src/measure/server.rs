//! The slow HTTP service every step talks to: `axum` on `127.0.0.1:0`, each response held back
//! by a set delay, as a remote service would be.
//!
//! It runs on its own thread with its own single-threaded runtime, not on the runtime under
//! test. It stands in for another machine: if it shared the lesson's runtime, `cpu-inline` would
//! stall the server too, and the heartbeat would measure a mixture of both stalls.

use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use tokio::net::TcpSocket;
use tokio::sync::oneshot;

/// The body `GET /item/{n}` answers with: the line `item {n}` repeated to about a kilobyte, so a
/// client can tell a whole body from a cut one and read the item's number back.
pub fn body_for(n: u64) -> String {
    let line = format!("item {n}\n");
    line.repeat(1024usize.div_ceil(line.len()))
}

/// A running server. Call [`shutdown`](DelayServer::shutdown) to stop it gracefully and learn
/// whether it failed; dropping it also stops it, ignoring the outcome.
#[derive(Debug)]
pub struct DelayServer {
    /// Where it listens: `127.0.0.1` and a port the kernel chose.
    addr: SocketAddr,
    /// Fired once to begin the graceful shutdown; `None` after it has been.
    stop: Option<oneshot::Sender<()>>,
    /// The server's thread, returning how `axum::serve` ended.
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl DelayServer {
    /// Binds `127.0.0.1:0` and starts serving `/item/{n}`, each response after `delay`; returns
    /// once it is bound, so a client may connect at once.
    pub fn start(delay: Duration) -> anyhow::Result<Self> {
        let (stop, stopped) = oneshot::channel::<()>();
        // The thread binds and reports the address (or the failure) before it serves, so the
        // port is known, and a bind error is an error here, before any client starts.
        let (bound_tx, bound) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("delay-server".into())
            .spawn(move || serve(delay, bound_tx, stopped))
            .context("starting the server thread")?;
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stop: Some(stop),
            thread: Some(thread),
        };
        match bound.recv() {
            Ok(addr) => server.addr = addr,
            // The thread ended before binding: joining it says why (and Drop is not needed).
            Err(_) => {
                server.stop_and_join().context("starting the HTTP server")?;
                anyhow::bail!("the HTTP server ended before it was bound");
            }
        }
        Ok(server)
    }

    /// Where to send requests: `http://127.0.0.1:port`, with no path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server thread.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            // An error means the server already ended; joining below says why.
            let _ = stop.send(());
        }
        match self.thread.take() {
            None => Ok(()),
            Some(thread) => thread
                .join()
                .map_err(|_| anyhow!("the server thread panicked"))?
                .context("serving HTTP"),
        }
    }
}

impl Drop for DelayServer {
    fn drop(&mut self) {
        // On an early return (an error in a variant) the server still stops and its thread is
        // joined, so no thread outlives the run; the outcome no longer matters then.
        let _ = self.stop_and_join();
    }
}

/// The server thread: a current-thread runtime is enough for a server that only sleeps.
fn serve(
    delay: Duration,
    bound: std::sync::mpsc::Sender<SocketAddr>,
    stopped: oneshot::Receiver<()>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        // `TcpSocket` rather than `TcpListener::bind`, for the backlog: `bind` asks the kernel
        // for 128 pending connections, and `io-gather` opens hundreds at once. Connections past
        // the backlog are dropped and retried by the client's kernel a whole second later.
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(1024)?;
        // An error means `start` is gone; nobody will ever connect, so stop.
        if bound.send(listener.local_addr()?).is_err() {
            return Ok(());
        }
        let app = Router::new()
            .route("/item/{n}", get(item))
            .with_state(delay);
        // Graceful: once `stopped` fires, axum stops accepting, closes idle keep-alive
        // connections and waits for responses in flight, instead of cutting them off.
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender also means "stop": nobody is left to use the server.
                let _ = stopped.await;
            })
            .await
    })
}

/// `GET /item/{n}`: wait, as a slow service would, then answer with [`body_for`].
async fn item(State(delay): State<Duration>, Path(n): Path<u64>) -> String {
    // `tokio::time::sleep`, not `std::thread::sleep`: the server's one thread must keep serving
    // the other requests while this one waits.
    tokio::time::sleep(delay).await;
    body_for(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_their_item_and_are_about_a_kilobyte() {
        let body = body_for(42);
        assert!(body.starts_with("item 42\n"));
        assert!((1024..1040).contains(&body.len()));
    }

    #[test]
    fn serves_then_shuts_down_and_refuses_connections() {
        let server = DelayServer::start(Duration::from_millis(1)).unwrap();
        let url = crate::steps::s1_io_gather::item_url(&server.base_url(), 7);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let body = runtime.block_on(async {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            client.get(&url).send().await?.bytes().await
        });
        assert_eq!(body.unwrap(), body_for(7).as_bytes());
        server.shutdown().unwrap();
        let addr = url.trim_start_matches("http://").split('/').next().unwrap();
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
