//! Step 1: many requests in flight at once on one runtime, gathered from a `JoinSet`: the
//! tutorial's `asyncio.gather`.
//!
//! The first step: only waits, no CPU work yet. Each request is a task; while one waits for its
//! response, the worker runs the others, so `requests` requests take about one server delay,
//! not `requests` of them.

// ANCHOR: pattern
use std::time::Duration;

use tokio::task::JoinSet;

use super::{StepError, panicked};

/// An HTTP client for the slow service.
///
/// `no_proxy`: an `HTTP_PROXY` in the environment must not send requests meant for 127.0.0.1
/// elsewhere. The timeout turns a server that never answers into an error instead of a hang.
/// One client is cloned into every task: clones share one connection pool.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
}

/// The URL of item `n` on the service at `base` (`http://127.0.0.1:port`).
pub fn item_url(base: &str, n: u64) -> String {
    format!("{base}/item/{n}")
}

/// `GET url` and the whole body; an error status is an error too.
pub async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, StepError> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}

/// Fetches items `0..requests` from `base`, all at once, and returns each item's number with its
/// body (or why it has none), in the order they completed.
///
/// A failed request is that item's error, and the others go on; a panicked task is the step's
/// error.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    requests: u64,
) -> Result<Vec<(u64, Result<Vec<u8>, StepError>)>, StepError> {
    let mut set = JoinSet::new();
    for n in 0..requests {
        // Each task owns what it uses (a clone of the client, its URL): a spawned task may
        // outlive this function's borrows, so `spawn` wants `'static`.
        let (client, url) = (client.clone(), item_url(base, n));
        set.spawn(async move { (n, fetch(&client, &url).await) });
    }
    // `join_next` yields each task as it finishes: the gather, in completion order.
    let mut fetched = Vec::with_capacity(requests as usize);
    while let Some(joined) = set.join_next().await {
        fetched.push(joined.map_err(|err| panicked("io-gather", err))?);
    }
    Ok(fetched)
}
// ANCHOR_END: pattern
