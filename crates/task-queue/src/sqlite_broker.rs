//! Opening a SQLite broker: one file several processes share, set up so that none of them
//! fails at once on another's lock, with apalis' tables created on first use.

use std::time::Duration;

use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteStorage};
use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

use crate::broker::{BATCH, BUSY_TIMEOUT, CONNECT_TIMEOUT, HEARTBEAT, MISSED_HEARTBEATS};
use crate::fault;
use crate::queue::Queue;

/// Opens (creating if need be) the SQLite queue at `path`.
pub(crate) async fn connect(
    path: &std::path::Path,
    queue: &str,
) -> Result<Queue, apalis_sqlite::Error> {
    // Several processes share the file. WAL lets readers go on while one process writes (a
    // rollback journal would block them); the busy timeout makes a writer wait for the lock
    // instead of failing at once. Both are set here, on every connection before its first
    // statement: apalis' `setup` sets WAL too, but only on the one connection it runs on.
    // `synchronous = NORMAL` is WAL's usual partner: a crash of the process loses nothing,
    // a power cut may lose the last commits (never corrupt the file).
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .busy_timeout(BUSY_TIMEOUT)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await?;
    setup_sqlite(&pool).await?;
    let config = apalis_sqlite::Config::default()
        .queue(queue)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .batch_size(BATCH);
    Ok(Queue::Sqlite(SqliteStorage::new(&pool).with_config(config)))
}

/// Creates apalis' tables on first use (a no-op afterwards). Several processes starting at
/// once on a new file all run it, and SQLite may refuse one of them in two ways that trying
/// again cures: "database is locked" without waiting (a WAL reader that wants to write after
/// another writer committed), and a migration that another process applied meanwhile (sqlx
/// takes no lock around SQLite migrations, so both read "not applied" and the second fails,
/// "duplicate column name"; on the next try it reads "applied"). Those are tried again a few
/// times, quietly; anything else (a file that is not a database) fails at once.
async fn setup_sqlite(pool: &sqlx::SqlitePool) -> Result<(), apalis_sqlite::Error> {
    let mut tries = 0;
    loop {
        match SqliteStorage::setup(pool).await {
            Err(e) if tries < 10 && (fault::transient_cause(&e) || racing_migration(&e)) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100 * tries)).await;
            }
            result => return result,
        }
    }
}

/// Whether `error` is a migration that failed (possibly because another process ran it).
fn racing_migration(error: &apalis_sqlite::Error) -> bool {
    matches!(
        error,
        apalis_sqlite::Error::Database(sqlx::Error::Migrate(_))
    )
}
