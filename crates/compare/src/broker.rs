//! The Redis broker the task-queue pair shares: `REDIS_URL` if set, or a private
//! `redis-server` on a free loopback port for the length of the run.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis URL, and the server this run started for it, if it started one.
#[derive(Debug)]
pub struct Broker {
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    /// The private server, stopped and reaped on drop.
    server: Option<Child>,
}

impl Broker {
    /// `REDIS_URL` if set; otherwise a private `redis-server` if one is installed; otherwise
    /// `None`, and the pair is skipped.
    pub fn find_or_start() -> Option<Broker> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            return Some(Broker { url, server: None });
        }
        // Ask the kernel for a free port, then hand it to Redis (which cannot bind port 0).
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let server = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let broker = Broker {
            url: format!("redis://127.0.0.1:{port}"),
            server: Some(server),
        };
        broker.wait_until_ready(port).then_some(broker)
    }

    /// Whether the server answered `PING` within five seconds.
    fn wait_until_ready(&self, port: u16) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) {
                let mut reply = [0u8; 5];
                if conn.write_all(b"PING\r\n").is_ok() && conn.read_exact(&mut reply).is_ok() {
                    return &reply == b"+PONG";
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            // Killing an in-memory Redis loses nothing this run needs; waiting reaps it.
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}
