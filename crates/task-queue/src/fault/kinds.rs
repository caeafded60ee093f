//! Which broker errors pass by themselves (waited out) and which do not (said once, and the
//! process ends), decided from the error's type, never its text: SQLite's result code, sqlx's
//! pool timeout, redis-rs' own verdict on whether a command may be retried, Redis' reply code.

use apalis::prelude::{TaskSinkError, WorkerError};
use redis::{ErrorKind, RedisError, RetryMethod, ServerErrorKind};

/// One error of a chain, as `source()` hands them out.
type Cause = dyn std::error::Error + 'static;

/// Whether `error` (anywhere in its chain) is a broker fault that goes away by itself.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(transient_cause)
}

/// Whether `cause` itself (not its sources) is a broker fault that goes away by itself.
pub fn transient_cause(cause: &Cause) -> bool {
    if let Some(e) = sqlx_error(cause) {
        sqlx_transient(e)
    } else if let Some(e) = redis_error(cause) {
        redis_transient(e)
    } else {
        false
    }
}

/// Whether `error` (anywhere in its chain) is a broker fault that waiting does not cure.
pub fn is_permanent(error: &anyhow::Error) -> bool {
    error.chain().any(permanent_cause)
}

/// Whether `cause` itself is a broker fault that waiting does not cure: a SQLite file that is
/// damaged, read-only, on a full disk, or not a database; a Redis server out of memory
/// (`maxmemory`), read-only, or refusing the password. Waiting for one of these would spin
/// forever; the process says so once and ends, and the user frees space or mends the file.
pub fn permanent_cause(cause: &Cause) -> bool {
    if let Some(e) = sqlx_error(cause) {
        sqlx_permanent(e)
    } else if let Some(e) = redis_error(cause) {
        redis_permanent(e)
    } else {
        false
    }
}

/// The error an apalis worker ended with, boxed without a `source()`: apalis wraps the poll's
/// error in its `DurableError` (the backend's error and the JSON codec's) inside
/// `WorkerError::BackendError`, so the chain stops there unless it is opened by type.
fn worker_cause(cause: &Cause) -> Option<&Cause> {
    type Durable<E> = apalis_core::backend::finalize::DurableError<E, serde_json::Error>;
    let WorkerError::BackendError(boxed) = cause.downcast_ref::<WorkerError>()? else {
        return None;
    };
    let boxed: &Cause = boxed.as_ref();
    if let Some(Durable::<apalis_sqlite::Error>::PollNextError(e)) = boxed.downcast_ref() {
        Some(e)
    } else if let Some(Durable::<apalis_redis::Error>::PollNextError(e)) = boxed.downcast_ref() {
        Some(e)
    } else {
        Some(boxed)
    }
}

/// The sqlx error `cause` is, under every type it reaches us in: apalis wraps the clients'
/// errors in its own, transparently, so their `source()` skips them.
fn sqlx_error(cause: &Cause) -> Option<&sqlx::Error> {
    if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
        Some(e)
    } else if let Some(apalis_sqlite::Error::Database(e)) = cause.downcast_ref() {
        Some(e)
    } else if let Some(TaskSinkError::PushError(apalis_sqlite::Error::Database(e))) =
        cause.downcast_ref()
    {
        Some(e)
    } else {
        worker_cause(cause).and_then(sqlx_error)
    }
}

/// The redis-rs error `cause` is, as [`sqlx_error`] finds sqlx's.
fn redis_error(cause: &Cause) -> Option<&RedisError> {
    if let Some(e) = cause.downcast_ref::<RedisError>() {
        Some(e)
    } else if let Some(apalis_redis::Error::Database(e)) = cause.downcast_ref() {
        Some(e)
    } else if let Some(TaskSinkError::PushError(apalis_redis::Error::Database(e))) =
        cause.downcast_ref()
    {
        Some(e)
    } else {
        worker_cause(cause).and_then(redis_error)
    }
}

/// SQLite's primary result code of a database error (the low byte of an extended code).
fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .map(|code| code & 0xff),
        _ => None,
    }
}

/// SQLite's BUSY (5) and LOCKED (6), and a pool whose connections all stayed busy: another
/// process holds the lock.
fn sqlx_transient(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut) || matches!(sqlite_code(error), Some(5 | 6))
}

/// SQLite's PERM (3), READONLY (8), CORRUPT (11), FULL (13), CANTOPEN (14) and NOTADB (26).
/// IOERR (10) is left out: a network file system can return it and then recover.
fn sqlx_permanent(error: &sqlx::Error) -> bool {
    matches!(sqlite_code(error), Some(3 | 8 | 11 | 13 | 14 | 26))
}

/// A server over its `maxmemory` (the `OOM` reply), a read-only replica, a refused password or
/// a refused command: the same command fails the same way until someone changes the server.
fn redis_permanent(error: &RedisError) -> bool {
    error.kind() == ErrorKind::AuthenticationFailed
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::NoPerm)
        )
        || error.code() == Some("OOM")
}

/// redis-rs says which errors a retry can cure (a dropped connection, a refused one while the
/// server restarts, `LOADING` while it reads its data back). A refused password is the one
/// it would retry that no retry cures.
fn redis_transient(error: &RedisError) -> bool {
    error.kind() != ErrorKind::AuthenticationFailed
        && !matches!(error.retry_method(), RetryMethod::NoRetry)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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

    #[tokio::test]
    async fn read_only_and_full_files_are_permanent_also_inside_a_workers_error() {
        let dir = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("q.db"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&pool)
            .await
            .unwrap();
        // A file this process may not write: what a chmod'ed file or a read-only mount gives
        // a user who is not root.
        let read_only = sqlx::SqlitePool::connect_with(options.read_only(true))
            .await
            .unwrap();
        let refused = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&read_only)
            .await;
        // A full disk, as SQLite reports it: no page left to grow into.
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("PRAGMA max_page_count = 2")
            .execute(&mut *conn)
            .await
            .unwrap();
        let full = sqlx::query("INSERT INTO t VALUES (randomblob(100000))")
            .execute(&mut *conn)
            .await;
        for error in [refused.unwrap_err(), full.unwrap_err()] {
            let said = error.to_string();
            // As an apalis worker ends with it: the backend's error, boxed without a source.
            type Durable = apalis_core::backend::finalize::DurableError<
                apalis_sqlite::Error,
                serde_json::Error,
            >;
            let polled = Durable::PollNextError(apalis_sqlite::Error::Database(error));
            let ended = WorkerError::BackendError(Box::new(polled));
            assert!(permanent_cause(&ended), "{said}");
            assert!(!transient_cause(&ended), "{said}");
        }
    }

    #[test]
    fn a_redis_out_of_memory_is_permanent_a_dropped_connection_is_not() {
        let oom = redis::make_extension_error("OOM".into(), Some("maxmemory".into()));
        assert!(is_permanent(&anyhow::Error::new(oom)));
        let reset = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!is_permanent(&anyhow::Error::new(reset)));
    }
}
