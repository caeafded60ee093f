//! Opening a SQLite broker: one file several processes share, set up so that none of them
//! fails at once on another's lock, with apalis' tables created on first use.

use std::time::Duration;

use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteStorage};
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnection, SqliteJournalMode, SqliteSynchronous};

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
        .after_connect(|conn, _| Box::pin(pin_statistics(conn)))
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

/// Creates apalis' tables on first use (a no-op afterwards). Several processes starting at once on a new file all run it, and
/// SQLite may refuse one of them in two ways that trying again cures: "database is locked"
/// without waiting (a WAL reader that wants to write after another writer committed), and a
/// migration that another process applied meanwhile (sqlx takes no lock around SQLite
/// migrations, so both read "not applied" and the second fails, "duplicate column name"; on
/// the next try it reads "applied"). Those are tried again a few times, quietly; anything else
/// (a file that is not a database) fails at once.
///
/// apalis' own `SqliteStorage::setup` runs the same migrations, but first `PRAGMA optimize`,
/// which gathers statistics from whatever the table holds at that moment: nothing on a new
/// queue, a few pending jobs later. Those steer SQLite to the slow plan [`pin_statistics`]
/// describes, so the migrations are run here without it.
async fn setup_sqlite(pool: &sqlx::SqlitePool) -> Result<(), apalis_sqlite::Error> {
    let mut tries = 0;
    loop {
        let migrated = SqliteStorage::<()>::migrations().run(pool).await;
        match migrated.map_err(|e| apalis_sqlite::Error::from(sqlx::Error::from(e))) {
            Err(e) if tries < 10 && (fault::transient_cause(&e) || racing_migration(&e)) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100 * tries)).await;
            }
            result => return result,
        }
    }
}

/// What SQLite's planner is told about `Jobs.lock_by` (index `LIdx`): a table of about a
/// million jobs, about ten thousand of them locked by each worker name. The figures describe
/// the queue's shape, not this file's contents; see [`pin_statistics`].
const LOCK_BY_STATISTIC: &str = "1000000 10000";

/// Tells SQLite's planner that each worker locks many jobs, so that apalis' acknowledgement
/// stays a lookup by job id however long a worker runs. Run on every connection as it opens,
/// before its first query on `Jobs`.
///
/// apalis-sqlite 1.0 acknowledges finished jobs with `UPDATE Jobs ... FROM json_each(?1) ...
/// WHERE Jobs.id = task_id AND Jobs.lock_by = ?2`. Without statistics, or with statistics
/// taken while the queue was young, SQLite guesses that few jobs carry one `lock_by` and walks
/// every job this worker ever locked, parsing the whole batch of acknowledgements again for
/// each: a batch takes time in proportion to the jobs the worker has done. At 20 000 jobs a
/// worker, one acknowledgement held the file's write lock for 4 s, the other workers' writes
/// timed out ("database is locked"), and a run of a million jobs slowed to tens of jobs a
/// second. SQLite's documented cure for a plan that must not depend on the data of the day is
/// to write the statistic by hand (sqlite.org/optoverview.html, "Manual Control Of Query
/// Plans Using SQLITE_STAT Tables").
///
/// A connection reads the statistics with the schema, at its first query; another connection
/// that changes them later is not noticed. So each connection checks them as it opens, and
/// only where they differ writes them and reloads them (`ANALYZE sqlite_schema`, which also
/// creates the statistics tables on a new file).
async fn pin_statistics(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE name IN ('sqlite_stat1', 'sqlite_stat4')",
    )
    .fetch_all(&mut *conn)
    .await?;
    let pinned: Option<String> = if tables.iter().any(|t| t == "sqlite_stat1") {
        sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx = 'LIdx'")
            .fetch_optional(&mut *conn)
            .await?
    } else {
        None
    };
    // Samples of `lock_by` from an earlier ANALYZE would outweigh the statistic.
    let samples: i64 = if tables.iter().any(|t| t == "sqlite_stat4") {
        sqlx::query_scalar("SELECT count(*) FROM sqlite_stat4 WHERE tbl = 'Jobs' AND idx = 'LIdx'")
            .fetch_one(&mut *conn)
            .await?
    } else {
        0
    };
    if pinned.as_deref() == Some(LOCK_BY_STATISTIC) && samples == 0 {
        return Ok(());
    }
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx = 'LIdx'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('Jobs', 'LIdx', ?1)")
        .bind(LOCK_BY_STATISTIC)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sqlite_stat4 WHERE tbl = 'Jobs' AND idx = 'LIdx'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether `error` is a migration that failed (possibly because another process ran it).
fn racing_migration(error: &apalis_sqlite::Error) -> bool {
    matches!(
        error,
        apalis_sqlite::Error::Database(sqlx::Error::Migrate(_))
    )
}

#[cfg(test)]
mod tests {
    use sqlx::Row as _;

    use super::*;

    /// The shape of apalis-sqlite 1.0's acknowledgement (its `queries/task/ack.sql`): the
    /// statement whose plan [`pin_statistics`] steers.
    const ACK: &str = "WITH j AS (
            SELECT value ->> 'task_id' AS task_id, value ->> 'attempt' AS attempt,
                   value ->> 'result' AS result, value ->> 'status' AS status
            FROM json_each(?1))
        UPDATE Jobs SET status = j.status, attempts = j.attempt, last_result = j.result,
            done_at = strftime('%s', 'now')
        FROM j WHERE Jobs.id = j.task_id AND Jobs.lock_by = ?2";

    /// A new queue at `path`, and its pool.
    async fn open(path: &std::path::Path) -> sqlx::SqlitePool {
        let Queue::Sqlite(storage) = connect(path, "q").await.unwrap() else {
            unreachable!("a SQLite path opens a SQLite queue");
        };
        storage.pool().clone()
    }

    /// Whether the acknowledgement's plan on `conn` looks the jobs up by id.
    async fn acknowledges_by_id(conn: &mut SqliteConnection) -> Result<(), Vec<String>> {
        let ack = r#"[{"task_id":"a","attempt":1,"result":"{}","status":"Done"}]"#;
        let explain = format!("EXPLAIN QUERY PLAN {ACK}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
            .bind(ack)
            .bind("worker-1")
            .fetch_all(conn)
            .await
            .unwrap();
        // EXPLAIN QUERY PLAN's columns: id, parent, notused, detail; the outer loop first.
        let steps: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
        if steps.len() == 2 && steps[0].contains("json_each") && steps[1].contains("(id=?)") {
            Ok(())
        } else {
            Err(steps)
        }
    }

    #[tokio::test]
    async fn every_connection_acknowledges_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let pool = open(&dir.path().join("q.db")).await;
        // Hold several at once, so that the pool opens new ones.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(pool.acquire().await.unwrap());
        }
        for conn in &mut held {
            assert_eq!(acknowledges_by_id(conn).await, Ok(()));
        }
    }

    #[tokio::test]
    async fn without_the_statistic_an_acknowledgement_walks_the_workers_jobs() {
        // The control: the same file and query, the statistic removed, a fresh connection.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        open(&path).await.close().await;
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("DELETE FROM sqlite_stat1")
            .execute(&mut conn)
            .await
            .unwrap();
        let mut fresh = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let steps = acknowledges_by_id(&mut fresh).await.unwrap_err();
        assert!(steps[0].contains("LIdx (lock_by=?)"), "{steps:?}");
    }

    #[tokio::test]
    async fn statistics_of_an_empty_queue_are_replaced_at_the_next_connect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let first = open(&path).await;
        // What apalis' own setup does to a new queue: statistics of an empty table.
        sqlx::query("ANALYZE").execute(&first).await.unwrap();
        let mut conn = open(&path).await.acquire().await.unwrap();
        let stat: Vec<String> =
            sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 'LIdx'")
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        assert_eq!(stat, [LOCK_BY_STATISTIC]);
        assert_eq!(acknowledges_by_id(&mut conn).await, Ok(()));
    }
}
