//! The broker's ceiling for a task queue, from `redis-benchmark` against the same server in the
//! same run: a job needs at least one push onto the queue and one pop off it, and a Redis server
//! runs one command at a time, so no queue on it moves more jobs a second than
//! `1 / (1/LPUSH + 1/RPOP)`. A real queue spends more commands a job (results, acknowledgements),
//! so it stays below this line; how far below is what the line shows.

use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The ceiling in jobs a second for the Redis at `url` (`redis://HOST:PORT[/DB]`).
pub fn jobs_per_s(url: &str) -> Result<f64> {
    let rest = url.strip_prefix("redis://").context("a redis:// URL")?;
    let address = rest.split('/').next().unwrap_or(rest);
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "6379"));
    let out = Command::new("redis-benchmark")
        .args([
            "-h",
            host,
            "-p",
            port,
            "-t",
            "lpush,rpop",
            "-n",
            "20000",
            "--csv",
        ])
        .output()
        .context("running redis-benchmark")?;
    if !out.status.success() {
        bail!("redis-benchmark exited with {}", out.status);
    }
    let csv = String::from_utf8_lossy(&out.stdout);
    let (push, pop) = (rate(&csv, "LPUSH")?, rate(&csv, "RPOP")?);
    Ok(1.0 / (1.0 / push + 1.0 / pop))
}

/// The requests a second of `test` in redis-benchmark's CSV (`"LPUSH","63492.06",...`).
fn rate(csv: &str, test: &str) -> Result<f64> {
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("\"{test}\"")))
        .with_context(|| format!("redis-benchmark gave no {test} line"))?;
    let field = line.split(',').nth(1).context("a rate field")?;
    field
        .trim_matches('"')
        .parse()
        .context("a rate that is a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_is_one_push_and_one_pop_a_job() {
        let csv =
            "\"test\",\"rps\"\n\"LPUSH\",\"60000.00\",\"0.5\"\n\"RPOP\",\"30000.00\",\"0.6\"\n";
        let (push, pop) = (rate(csv, "LPUSH").unwrap(), rate(csv, "RPOP").unwrap());
        assert_eq!((push, pop), (60_000.0, 30_000.0));
        assert!((1.0 / (1.0 / push + 1.0 / pop) - 20_000.0).abs() < 1e-6);
        assert!(rate(csv, "SET").is_err());
    }
}
