//! The broker: where jobs wait, a SQLite file or a Redis server, opened through apalis.
//!
//! Both backends are configured alike, because the defaults do not suit a lesson that kills
//! workers: apalis takes a worker for dead after `heartbeat_interval * missed_heartbeats`
//! (30 s x 2 on SQLite, 30 s x 10 on Redis by default) and only then gives its jobs to another
//! worker. Here the heartbeat is 1 s and three missed beats make a worker dead, so a killed
//! worker's job runs again within a few seconds. The price is one small write per worker per
//! second, which is nothing next to the jobs.
//!
//! # Exit status: whose fault is a broker fault
//!
//! One rule for every `task-queue` command. A broker the user must set right is bad input,
//! exit status 2 (`timing::UsageError`), whether it shows at start or mid-run: one that is not
//! there, a URL that names nothing, a path that cannot be written, a file that is damaged,
//! read-only or on a full disk, a Redis over its `maxmemory` or refusing the password, and a
//! queue that no worker takes jobs from. A fault that passes by itself (a lock, a dropped
//! connection, a restart) is waited out, never an exit. Exit status 1 is the program's own
//! failure: a wrong result, a job that failed for good, workers that keep dying; 130 is Ctrl-C.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::fault::{self, Backoff, Outage};
use crate::queue::Queue;

/// The queue name when none is given: producers and workers must agree on it. (apalis' default
/// is the Rust type path of the job, which would silently change if the type moved.)
pub const DEFAULT_QUEUE: &str = "task-queue";

/// How often a worker beats; see the module header.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// Missed beats after which a worker is dead and its jobs are re-queued.
pub const MISSED_HEARTBEATS: usize = 3;

/// Jobs a worker fetches per query (apalis' default is 10).
pub const BATCH: usize = 32;

/// Jobs a producer sends in one go.
pub const CHUNK: usize = 1000;

/// Jobs a producer lets wait in the queue before it sends more. apalis-redis 1.0.0 moves every
/// due job in one Lua `unpack`, which fails past some thousands ("too many results to
/// unpack"), so producers here apply backpressure, on both backends alike. (SQLite takes a
/// long backlog once its planner has statistics: two workers by hand worked through 200 000
/// pending jobs at about 1 100 a second, with builds running beside them.)
pub const BACKLOG: usize = 2000;

/// How long to wait for a broker before saying it is not there.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one SQLite statement waits for another process's lock before it fails with
/// "database is locked". Set on every connection before its first statement, so no statement
/// fails at once; a longer lock than this is a transient fault ([`fault`]) that the caller
/// waits out with backoff, saying so, rather than a silent stall.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What went wrong with a broker. All but [`BrokerError::Busy`] are something the user can fix
/// (start Redis, pick a writable path), so the binary reports them as bad input; a busy broker
/// is waited for ([`Broker::connect_patiently`]).
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The URL is neither `sqlite://PATH` nor `redis://HOST:PORT`.
    #[error("broker URL `{0}` is neither sqlite://PATH nor redis://HOST:PORT")]
    BadUrl(String),
    /// The SQLite file cannot be created or opened.
    #[error("cannot open SQLite queue sqlite://{path}: {reason}")]
    Sqlite {
        /// The file.
        path: String,
        /// What SQLite said.
        reason: String,
    },
    /// The Redis server does not answer.
    #[error("cannot reach Redis at {url}: {reason}")]
    Redis {
        /// The URL.
        url: String,
        /// What the client said.
        reason: String,
        /// Whether trying again may cure it (a refused connection: yes; a refused password:
        /// no). At startup it is bad input either way; once a worker ran, a server that
        /// refuses connections is restarting.
        transient: bool,
    },
    /// The broker is there but busy: another process holds the SQLite file's lock, or Redis
    /// is still loading its data after a restart.
    #[error("the queue at {broker} is busy: {reason}")]
    Busy {
        /// The broker's URL.
        broker: String,
        /// What the client said.
        reason: String,
    },
}

/// Where the jobs wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// A SQLite file: one machine, no server.
    Sqlite(PathBuf),
    /// A Redis server: workers on many machines.
    Redis(String),
}

impl FromStr for Broker {
    type Err = BrokerError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(BrokerError::BadUrl(masked(url)));
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("redis://") {
            Ok(Self::Redis(url.to_string()))
        } else {
            Err(BrokerError::BadUrl(masked(url)))
        }
    }
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Redis(url) => f.write_str(url),
        }
    }
}

/// `url` with the password, if it has one, replaced by `***`: `redis://user:***@host:6379`.
/// For every line a person or a log reads; the workers are given the URL itself.
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None if !userinfo.is_empty() => format!("{scheme}://***@{host}"),
        None => url.to_string(),
    }
}

impl Broker {
    /// The broker's URL with its password masked ([`masked`]).
    pub fn masked(&self) -> String {
        masked(&self.to_string())
    }

    /// The backend's name, used as the `variant` of the demo's row.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Redis(_) => "redis",
        }
    }

    /// Opens the broker, failing within a few seconds when it is not there.
    pub async fn connect(&self, queue: &str) -> Result<Queue, BrokerError> {
        match self {
            Self::Sqlite(path) => crate::sqlite_broker::connect(path, queue)
                .await
                .map_err(|e| {
                    let reason = first_line(&e);
                    if fault::transient_cause(&e) {
                        BrokerError::Busy {
                            broker: self.to_string(),
                            reason,
                        }
                    } else {
                        BrokerError::Sqlite {
                            path: path.display().to_string(),
                            reason,
                        }
                    }
                }),
            Self::Redis(url) => crate::redis_broker::connect(url, queue).await,
        }
    }

    /// Opens the broker like [`Broker::connect`], but waits while it is busy, saying so once
    /// on stderr as `who`; a broker that is not there is still an error within seconds.
    pub async fn connect_patiently(&self, queue: &str, who: &str) -> Result<Queue, BrokerError> {
        let mut backoff = Backoff::default();
        let mut outage = Outage::new(who);
        loop {
            match self.connect(queue).await {
                Err(busy @ BrokerError::Busy { .. }) => outage.begin(&busy),
                other => {
                    outage.end();
                    return other;
                }
            }
            tokio::time::sleep(backoff.next_wait()).await;
        }
    }
}

/// The first line of an error: some clients put a multi-line dump (say, the bytes a server that
/// is not Redis sent back) in their message, and a bad-input error is one line.
pub(crate) fn first_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        let sqlite: Broker = "sqlite:///tmp/q.db".parse().unwrap();
        assert_eq!(sqlite, Broker::Sqlite(PathBuf::from("/tmp/q.db")));
        assert_eq!(
            (sqlite.kind(), sqlite.to_string().as_str()),
            ("sqlite", "sqlite:///tmp/q.db")
        );
        let redis: Broker = "redis://127.0.0.1:6379".parse().unwrap();
        assert_eq!(redis.kind(), "redis");
        assert_eq!(redis.to_string(), "redis://127.0.0.1:6379");
        for bad in ["", "sqlite://", "http://x", "/tmp/q.db"] {
            assert!(bad.parse::<Broker>().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(masked("redis://:s3cret@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(masked("redis://u:s3cret@h:6379"), "redis://u:***@h:6379");
        assert_eq!(masked("redis://s3cret@h:6379"), "redis://***@h:6379");
        assert_eq!(masked("redis://h:6379"), "redis://h:6379");
        assert_eq!(masked("sqlite:///tmp/q.db"), "sqlite:///tmp/q.db");
    }

    #[tokio::test]
    async fn an_unwritable_sqlite_path_fails_fast() {
        let broker = Broker::Sqlite(PathBuf::from("/proc/no-such-dir/q.db"));
        let err = broker.connect(DEFAULT_QUEUE).await.unwrap_err();
        assert!(matches!(err, BrokerError::Sqlite { .. }), "{err}");
    }
}
