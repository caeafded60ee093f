//! Transient broker faults: which errors are worth waiting out, how long to wait between tries,
//! and how to say so without flooding stderr.
//!
//! A broker shared by many processes is sometimes briefly unavailable, and that is not a bug:
//! another process holds SQLite's write lock ("database is locked"), a Redis connection is
//! dropped (`CLIENT KILL`, a proxy's idle timeout), the server restarts. Celery's workers
//! reconnect on their own; an apalis 1.0 worker ends on the first such error. So every broker
//! call here (workers, producers, `status`) goes through one rule: a transient error is waited
//! out with a bounded backoff and reported once when it starts and once when it ends; any
//! other error (a file that is not a queue, a wrong password) is returned at once.
//!
//! Transient or not is decided from the error's type, never its text: SQLite's result code,
//! sqlx's pool timeout, and redis-rs' own verdict on whether a command may be retried.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use apalis::prelude::TaskSinkError;
use redis::{ErrorKind, RedisError, RetryMethod};

/// The first wait after a failure.
pub const FIRST_WAIT: Duration = Duration::from_millis(50);

/// The longest wait between two tries: long enough not to hammer a struggling broker, short
/// enough that work resumes within a couple of seconds of it coming back.
pub const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// Waits that double from [`FIRST_WAIT`] up to [`LONGEST_WAIT`].
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST_WAIT }
    }
}

impl Backoff {
    /// The wait before the next try; each call doubles the one after, up to the bound.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(LONGEST_WAIT);
        wait
    }
}

/// Whether `error` (anywhere in its chain) is a broker fault that goes away by itself.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(transient_cause)
}

/// Whether `cause` itself (not its sources) is a broker fault that goes away by itself. The
/// errors are looked for under every type they reach us in: apalis wraps the clients' errors
/// in its own, transparently, so their `source()` skips them.
pub fn transient_cause(cause: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
        sqlx_transient(e)
    } else if let Some(apalis_sqlite::Error::Database(e)) = cause.downcast_ref() {
        sqlx_transient(e)
    } else if let Some(TaskSinkError::PushError(apalis_sqlite::Error::Database(e))) =
        cause.downcast_ref()
    {
        sqlx_transient(e)
    } else if let Some(e) = cause.downcast_ref::<RedisError>() {
        redis_transient(e)
    } else if let Some(apalis_redis::Error::Database(e)) = cause.downcast_ref() {
        redis_transient(e)
    } else if let Some(TaskSinkError::PushError(apalis_redis::Error::Database(e))) =
        cause.downcast_ref()
    {
        redis_transient(e)
    } else {
        false
    }
}

/// SQLite's BUSY (5) and LOCKED (6), with their extended codes (the low byte is the primary
/// code), and a pool whose connections all stayed busy: another process holds the lock.
fn sqlx_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// redis-rs says which errors a retry can cure (a dropped connection, a refused one while the
/// server restarts, `LOADING` while it reads its data back). A refused password is the one
/// it would retry that no retry cures.
fn redis_transient(error: &RedisError) -> bool {
    error.kind() != ErrorKind::AuthenticationFailed
        && !matches!(error.retry_method(), RetryMethod::NoRetry)
}

/// Says on stderr, once, that `what` is waiting for the broker, and once that it is back.
#[derive(Debug)]
pub struct Outage {
    what: String,
    since: Option<Instant>,
}

impl Outage {
    /// Nothing said yet about `what` (a worker's name, "submit", "the demo's producer").
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            since: None,
        }
    }

    /// Reports `error` unless this outage was already reported.
    pub fn begin(&mut self, error: &dyn std::fmt::Display) {
        if self.since.is_none() {
            eprintln!(
                "{}: the broker failed ({error}); waiting for it, retrying every {LONGEST_WAIT:?} at most",
                self.what
            );
            self.since = Some(Instant::now());
        }
    }

    /// Reports the end of the outage, if there was one.
    pub fn end(&mut self) {
        if let Some(since) = self.since.take() {
            eprintln!(
                "{}: the broker answers again after {:.1} s; going on",
                self.what,
                since.elapsed().as_secs_f64()
            );
        }
    }
}

/// An outage reporter shared by a worker and its supervisor, locked. A poisoned lock means a
/// thread panicked while printing a line; the reporter's state (when the outage began) is
/// still sound, so it is used as it is.
pub fn locked(outage: &std::sync::Mutex<Outage>) -> std::sync::MutexGuard<'_, Outage> {
    outage
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `op` until it succeeds or fails with an error that is not transient, waiting with
/// [`Backoff`] between tries; gives up when `stop` is set (Ctrl-C in the demo).
pub async fn patiently<T>(
    what: &str,
    stop: Option<&AtomicBool>,
    mut op: impl AsyncFnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut backoff = Backoff::default();
    let mut outage = Outage::new(what);
    loop {
        match op().await {
            Ok(value) => {
                outage.end();
                return Ok(value);
            }
            Err(e) if is_transient(&e) => outage.begin(&format_args!("{e:#}")),
            Err(e) => return Err(e),
        }
        // Acquire pairs with the Release store of the demo's Ctrl-C handler.
        if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
            bail!("{what}: interrupted while waiting for the broker");
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_bound() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = (0..8).map(|_| backoff.next_wait()).collect();
        assert_eq!(waits[0], FIRST_WAIT);
        assert_eq!(waits[1], FIRST_WAIT * 2);
        assert_eq!(waits[7], LONGEST_WAIT);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn dropped_and_refused_redis_connections_are_transient_a_bad_password_is_not() {
        let io = |kind| anyhow::Error::new(RedisError::from(std::io::Error::from(kind)));
        assert!(is_transient(&io(std::io::ErrorKind::ConnectionReset)));
        assert!(is_transient(&io(std::io::ErrorKind::ConnectionRefused)));
        assert!(is_transient(&io(std::io::ErrorKind::BrokenPipe)));
        let auth = RedisError::from((ErrorKind::AuthenticationFailed, "WRONGPASS"));
        assert!(!is_transient(&anyhow::Error::new(auth)));
        assert!(!is_transient(&anyhow::anyhow!("database is locked")));
    }

    #[tokio::test]
    async fn a_locked_sqlite_file_is_transient_one_that_is_not_a_database_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(Duration::from_millis(10));
        let holder = sqlx::SqlitePool::connect_with(options.clone())
            .await
            .unwrap();
        let mut lock = holder.acquire().await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut *lock)
            .await
            .unwrap();
        let other = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let busy = sqlx::query("CREATE TABLE t (x)").execute(&other).await;
        assert!(is_transient(&busy.unwrap_err().into()));

        std::fs::write(dir.path().join("text.db"), vec![b'x'; 4096]).unwrap();
        let text = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("text.db"));
        let not_db = async {
            let pool = sqlx::SqlitePool::connect_with(text).await?;
            sqlx::query("SELECT * FROM sqlite_master")
                .execute(&pool)
                .await
        };
        assert!(!is_transient(&not_db.await.unwrap_err().into()));
    }
}
