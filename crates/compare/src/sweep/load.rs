//! What the broker spent on a run: Redis's own CPU counter read before and after it. `INFO cpu`
//! gives the CPU time of the one thread Redis runs every command on, reading the sockets and
//! writing the replies included. Its difference over a run, per job, is what each job cost the
//! broker; over the run's wall time it is how busy that thread was, and a thread near 100% is the
//! limit of every queue on it, however many workers are added.
//!
//! `INFO commandstats` is not summed instead: it times the commands alone, without the socket
//! work, and a command run inside a Lua script (as queues run their atomic steps) is counted
//! both on its own and in the script's time, so its sum can exceed the thread's CPU.

use anyhow::{Context as _, Result};

/// Redis's counter at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Snapshot {
    /// The main thread's CPU time, user and system, in microseconds.
    pub cpu_us: f64,
}

impl Snapshot {
    /// Redis's counters now, from the server at `url`.
    pub fn take(url: &str) -> Result<Snapshot> {
        let client = redis::Client::open(url).with_context(|| format!("a Redis URL: {url}"))?;
        let mut con = client
            .get_connection()
            .with_context(|| format!("connecting to {url}"))?;
        let info = redis::cmd("INFO")
            .arg("cpu")
            .query::<String>(&mut con)
            .context("INFO cpu")?;
        Ok(Snapshot {
            cpu_us: main_thread_cpu_us(&info)?,
        })
    }

    /// What was spent from `before` to this snapshot.
    pub fn since(&self, before: &Snapshot) -> Snapshot {
        Snapshot {
            cpu_us: self.cpu_us - before.cpu_us,
        }
    }
}

/// `used_cpu_sys_main_thread + used_cpu_user_main_thread` (seconds) in microseconds; a Redis
/// older than 6.2 has only the whole process's, `used_cpu_sys + used_cpu_user`.
fn main_thread_cpu_us(info: &str) -> Result<f64> {
    let field = |name: &str| -> Option<f64> {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':')?.parse().ok())
    };
    let pair = |sys: &str, user: &str| Some(field(sys)? + field(user)?);
    let seconds = pair("used_cpu_sys_main_thread", "used_cpu_user_main_thread")
        .or_else(|| pair("used_cpu_sys", "used_cpu_user"))
        .context("INFO cpu gave no used_cpu_sys and used_cpu_user")?;
    Ok(seconds * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_thread_is_read_when_there_and_the_process_otherwise() {
        let new = "# CPU\r\nused_cpu_sys:2.5\r\nused_cpu_user:1.5\r\n\
                   used_cpu_sys_main_thread:1.25\r\nused_cpu_user_main_thread:0.5\r\n";
        assert_eq!(main_thread_cpu_us(new).unwrap(), 1.75e6);
        let old = "# CPU\r\nused_cpu_sys:2.5\r\nused_cpu_user:1.5\r\n";
        assert_eq!(main_thread_cpu_us(old).unwrap(), 4e6);
        assert!(main_thread_cpu_us("# CPU\r\n").is_err());
    }

    #[test]
    fn what_was_spent_is_the_difference() {
        let (before, after) = (Snapshot { cpu_us: 10.0 }, Snapshot { cpu_us: 25.0 });
        assert_eq!(after.since(&before), Snapshot { cpu_us: 15.0 });
    }
}
