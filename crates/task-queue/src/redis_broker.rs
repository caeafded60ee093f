//! Opening a Redis broker: bounded waits, so that a server that is not there is an error in
//! seconds, and a connection manager that reconnects by itself once the server was reached.

use apalis_redis::RedisStorage;
use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::broker::{
    BATCH, BrokerError, CONNECT_TIMEOUT, HEARTBEAT, MISSED_HEARTBEATS, first_line, masked,
};
use crate::fault;
use crate::queue::Queue;

/// Connects to the Redis server at `url`.
pub(crate) async fn connect(url: &str, queue: &str) -> Result<Queue, BrokerError> {
    let silent = || BrokerError::Redis {
        url: masked(url),
        reason: format!("no answer within {CONNECT_TIMEOUT:?}"),
        transient: true,
    };
    let failed = |e: RedisError| redis_error(url, &e);
    let client = redis::Client::open(url).map_err(failed)?;
    // One plain connection first: it reports a refused connection at once, where the
    // connection manager would retry it with backoff. Both are bounded, so a wrong port or a
    // host that never answers is an error in seconds, not a silent wait.
    tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .map_err(|_| silent())?
        .map_err(failed)?;
    // After this, the manager reconnects by itself when a connection drops: the command that
    // met the dropped connection fails (a transient error, see `fault`), the next one goes
    // over a new connection.
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, client.get_connection_manager())
        .await
        .map_err(|_| silent())?
        .map_err(failed)?;
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        redis::cmd("PING").query_async::<String>(&mut conn),
    )
    .await
    .map_err(|_| silent())?
    .map_err(failed)?;
    let config = apalis_redis::Config::default()
        .queue(queue)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .batch_size(BATCH);
    Ok(Queue::Redis(RedisStorage::new(conn).with_config(config)))
}

/// A Redis that is still loading its data after a restart is busy (wait for it); anything
/// else at connection time (refused, wrong password, not Redis) is the user's to fix.
fn redis_error(url: &str, error: &RedisError) -> BrokerError {
    let reason = first_line(error);
    if error.kind() == ErrorKind::Server(ServerErrorKind::BusyLoading) {
        BrokerError::Busy {
            broker: masked(url),
            reason,
        }
    } else {
        BrokerError::Redis {
            url: masked(url),
            reason,
            transient: fault::transient_cause(error),
        }
    }
}
