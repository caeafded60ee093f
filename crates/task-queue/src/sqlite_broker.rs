//! Opening a SQLite broker: one file several processes share, set up so that none of them
//! fails at once on another's lock, with apalis' tables created on first use and fixed
//! statistics for SQLite's planner, so that no query slows down as the queue grows.

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

/// Creates apalis' tables on first use (a no-op afterwards). Several processes starting at
/// once on a new file all run it, and SQLite may refuse one of them in two ways that trying
/// again cures: "database is locked" without waiting (a WAL reader that wants to write after
/// another writer committed), and a migration that another process applied meanwhile (sqlx
/// takes no lock around SQLite migrations, so both read "not applied" and the second fails,
/// "duplicate column name"; on the next try it reads "applied"). Those are tried again a few
/// times, quietly; anything else (a file that is not a database) fails at once.
///
/// apalis' own `SqliteStorage::setup` runs the same migrations, but first `PRAGMA optimize`,
/// which gathers statistics from whatever the table holds at that moment: nothing on a new
/// queue, a few pending jobs later. Those steer SQLite to the slow plans [`pin_statistics`]
/// describes, so the migrations are run here without it, and the statistics written again
/// after them (a migration that re-creates an index drops its statistic).
async fn setup_sqlite(pool: &sqlx::SqlitePool) -> Result<(), apalis_sqlite::Error> {
    let mut tries = 0;
    loop {
        let done = async {
            let migrations = SqliteStorage::<()>::migrations();
            migrations.run(pool).await.map_err(sqlx::Error::from)?;
            pin_statistics(&mut *pool.acquire().await?).await
        };
        match done.await.map_err(apalis_sqlite::Error::from) {
            Err(e) if tries < 10 && (fault::transient_cause(&e) || racing_migration(&e)) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100 * tries)).await;
            }
            result => return result,
        }
    }
}

/// What SQLite's planner is told about each index of apalis' `Jobs` table, sorted by index
/// name: `ANALYZE` of a queue of a million jobs (a million done by four workers, 2 000 pending,
/// 64 held, 10 failed), except `LIdx`, written as if one worker had locked them all. The
/// figures describe the queue's shape, not this file's contents; see [`pin_statistics`].
const JOBS_STATISTICS: [(&str, &str); 10] = [
    ("LIdx", "1002074 1002074"),
    ("idx_jobs_claimable", "2042 681 681"),
    ("idx_jobs_completed_done_at", "1000010 500005 500005 1000"),
    ("idx_jobs_failed", "10 10 10 10 1"),
    ("idx_jobs_idempotency_key", "1002074 1002074 1002074"),
    (
        "idx_jobs_job_type_status_run_at",
        "1002074 1002074 200415 999",
    ),
    ("idx_jobs_pending", "2000 2000 2000 2000 1"),
    ("idx_jobs_running", "32 32"),
    ("idx_jobs_status_run_at", "1002074 200415 999"),
    ("sqlite_autoindex_Jobs_1", "1002074 1"),
];

/// Gives SQLite's planner fixed statistics for the jobs table, so that apalis' queries look
/// jobs up by id (or walk the few jobs of one status) however the queue has grown. Run on
/// every connection as it opens, before its first query on `Jobs`.
///
/// Without statistics, or with statistics taken while the queue was young (apalis' own
/// `setup` runs `PRAGMA optimize` whenever a process connects), SQLite plans some of apalis
/// 1.0's queries as walks that grow with the queue:
/// - the acknowledgement of finished jobs (`UPDATE Jobs ... FROM json_each(?1) ... WHERE
///   Jobs.id = task_id AND Jobs.lock_by = ?2`) walks every job this worker ever locked and
///   parses the whole batch again for each: at 20 000 jobs a worker, one batch held the
///   file's write lock for 4 s, the other workers' writes timed out ("database is locked"),
///   and a run of a million jobs slowed to tens of jobs a second;
/// - the lock taken on fetched jobs (`WHERE id IN (...) AND (status = 'Queued' OR ...)`)
///   walks every pending job: 78 ms a batch behind a backlog of 200 000.
///
/// SQLite's documented cure for a plan that must not depend on the data of the day is to
/// write the statistics by hand (sqlite.org/optoverview.html, "Manual Control Of Query Plans
/// Using SQLITE_STAT Tables"). Statistics describe averages: with `lock_by` as selective as
/// they say, the heartbeat's search for a dead worker's jobs would walk a worker's jobs rather
/// than the few held ones, hence `LIdx` written as one worker's.
///
/// A connection reads the statistics with the schema, at its first query; another connection
/// that changes them later is not noticed. So each connection checks them as it opens, and
/// only where they differ writes them and reloads them (`ANALYZE sqlite_schema`, which also
/// creates the statistics tables on a new file). Samples an earlier `ANALYZE` left in
/// `sqlite_stat4` would outweigh the averages, so the table's are removed.
async fn pin_statistics(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE name IN ('sqlite_stat1', 'sqlite_stat4')",
    )
    .fetch_all(&mut *conn)
    .await?;
    let pinned: Vec<(String, String)> = if tables.iter().any(|t| t == "sqlite_stat1") {
        sqlx::query_as("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'Jobs' ORDER BY idx")
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    let samples: i64 = if tables.iter().any(|t| t == "sqlite_stat4") {
        sqlx::query_scalar("SELECT count(*) FROM sqlite_stat4 WHERE tbl = 'Jobs'")
            .fetch_one(&mut *conn)
            .await?
    } else {
        0
    };
    let wanted = JOBS_STATISTICS
        .iter()
        .map(|&(i, s)| (i.to_string(), s.to_string()));
    if samples == 0 && pinned.iter().cloned().eq(wanted) {
        return Ok(());
    }
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs'")
        .execute(&mut *tx)
        .await?;
    for (index, stat) in JOBS_STATISTICS {
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('Jobs', ?1, ?2)")
            .bind(index)
            .bind(stat)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM sqlite_stat4 WHERE tbl = 'Jobs'")
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

    /// The shapes of three of apalis-sqlite 1.0's statements (its `queries/task/ack.sql`,
    /// `queries/task/lock.sql` and `queries/backend/reenqueue_orphaned.sql`), whose plans
    /// [`pin_statistics`] steers, each with arguments and what its plan must search by.
    const STATEMENTS: [(&str, &str, [&str; 2], &str); 3] = [
        (
            "acknowledgement",
            "WITH j AS (
                SELECT value ->> 'task_id' AS task_id, value ->> 'attempt' AS attempt,
                       value ->> 'result' AS result, value ->> 'status' AS status
                FROM json_each(?1))
            UPDATE Jobs SET status = j.status, attempts = j.attempt, last_result = j.result,
                done_at = strftime('%s', 'now')
            FROM j WHERE Jobs.id = j.task_id AND Jobs.lock_by = ?2",
            [
                r#"[{"task_id":"a","attempt":1,"result":"{}","status":"Done"}]"#,
                "w",
            ],
            "sqlite_autoindex_Jobs_1 (id=?)",
        ),
        (
            "lock",
            "UPDATE Jobs SET status = 'Running', lock_at = strftime('%s', 'now'), lock_by = ?2
            WHERE id IN (SELECT value FROM json_each(?1))
              AND (status = 'Queued' OR status = 'Pending'
                   OR (status = 'Failed' AND attempts < max_attempts))",
            [r#"["a", "b"]"#, "w"],
            "sqlite_autoindex_Jobs_1 (id=?)",
        ),
        (
            "orphans",
            "UPDATE Jobs SET status = 'Pending', lock_by = NULL WHERE id IN (
                SELECT Jobs.id FROM Jobs INNER JOIN Workers ON lock_by = Workers.id
                WHERE (status = 'Running' OR status = 'Queued')
                  AND strftime('%s', 'now') - Workers.last_seen >= ?1
                  AND Workers.worker_type = ?2)",
            ["3", "q"],
            "idx_jobs_status_run_at (status=?)",
        ),
    ];

    /// A new queue at `path`, and its pool.
    async fn open(path: &std::path::Path) -> sqlx::SqlitePool {
        let Queue::Sqlite(storage) = connect(path, "q").await.unwrap() else {
            unreachable!("a SQLite path opens a SQLite queue");
        };
        storage.pool().clone()
    }

    /// The statements whose plan on `conn` does not search `Jobs` as it must, with the plan.
    async fn wrong_plans(conn: &mut SqliteConnection) -> Vec<(&'static str, Vec<String>)> {
        let mut wrong = Vec::new();
        for (name, sql, [a, b], by) in STATEMENTS {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
                .bind(a)
                .bind(b)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            // EXPLAIN QUERY PLAN's columns: id, parent, notused, detail.
            let steps: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
            let searches: Vec<&String> =
                steps.iter().filter(|s| s.contains("Jobs USING")).collect();
            if !searches.iter().any(|s| s.ends_with(by))
                || searches.iter().any(|s| s.contains("LIdx"))
            {
                wrong.push((name, steps));
            }
        }
        wrong
    }

    #[tokio::test]
    async fn every_connection_plans_lookups_by_id_or_status() {
        let dir = tempfile::tempdir().unwrap();
        let pool = open(&dir.path().join("q.db")).await;
        // Hold several at once, so that the pool opens new ones.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(pool.acquire().await.unwrap());
        }
        for conn in &mut held {
            assert_eq!(wrong_plans(conn).await, []);
        }
    }

    #[tokio::test]
    async fn without_the_statistics_the_plans_walk_a_workers_or_a_statuss_jobs() {
        // The control: the same file and statements, the statistics removed, a fresh
        // connection.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        open(&path).await.close().await;
        let url = format!("sqlite://{}", path.display());
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM sqlite_stat1")
            .execute(&mut conn)
            .await
            .unwrap();
        let mut fresh = SqliteConnection::connect(&url).await.unwrap();
        let wrong: Vec<&str> = wrong_plans(&mut fresh).await.iter().map(|w| w.0).collect();
        assert_eq!(wrong, ["acknowledgement", "lock"]);
    }

    #[tokio::test]
    async fn statistics_of_an_empty_queue_are_replaced_at_the_next_connect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let first = open(&path).await;
        // What apalis' own setup does to a new queue: statistics of an empty table.
        sqlx::query("ANALYZE").execute(&first).await.unwrap();
        let mut conn = open(&path).await.acquire().await.unwrap();
        let stats: Vec<(String, String)> =
            sqlx::query_as("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'Jobs' ORDER BY idx")
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let pinned: Vec<(String, String)> = JOBS_STATISTICS
            .iter()
            .map(|&(i, s)| (i.to_string(), s.to_string()))
            .collect();
        assert_eq!(stats, pinned);
        assert_eq!(wrong_plans(&mut conn).await, []);
    }
}
