//! Reading a series' figure out of a run's rows: which row, and what of it.

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::child::Outcome;
use super::run::{BROKER_CPU, PEAK};
use super::{Lang, Series, Y};
use crate::pair::number;

/// The series' figure in each run, and its row's mechanism.
pub fn figures(series: &Series, x: u64, runs: &[(Outcome, Outcome)]) -> Result<(Vec<f64>, String)> {
    let mut ys = Vec::new();
    let mut mechanism = String::new();
    for (rust, python) in runs {
        let side = if series.lang == Lang::Rust {
            rust
        } else {
            python
        };
        let row = find(&side.rows, series.variant)?;
        mechanism = row["mechanism"].as_str().unwrap_or("").to_string();
        ys.push(figure(series.y, x, row, side)?);
    }
    Ok((ys, mechanism))
}

/// The row of `variant`, or an error naming what did run.
fn find<'a>(rows: &'a [Value], variant: &str) -> Result<&'a Value> {
    rows.iter()
        .find(|r| r["variant"] == variant)
        .with_context(|| {
            let ran: Vec<String> = rows.iter().map(|r| r["variant"].to_string()).collect();
            format!(
                "no row of variant {variant:?}; the run gave {}",
                ran.join(", ")
            )
        })
}

/// What `y` reads from `row` at point `x`.
fn figure(y: Y, x: u64, row: &Value, side: &Outcome) -> Result<f64> {
    Ok(match y {
        Y::PerS => number(row, "per_s"),
        Y::Lost => number(row, "expected") - number(row, "result"),
        Y::Speedup => {
            let sequential = number(find(&side.rows, "sequential")?, "per_s");
            if sequential <= 0.0 {
                bail!("the sequential row has no rate to compare with");
            }
            number(row, "per_s") / sequential
        }
        Y::PerItemNs => number(row, "wall_s") / number(row, "items").max(1.0) * 1e9,
        Y::MegabytesPerS => number(row, "per_s") * x as f64 / 1e6,
        Y::WallS => number(row, "wall_s"),
        Y::PeakRssMib => number(row, PEAK),
        Y::P99Ms => number(row, "p99_ns") / 1e6,
        Y::BrokerCpuUs => number(row, BROKER_CPU) / number(row, "items").max(1.0),
        Y::BrokerBusyPct => {
            let wall = number(row, "wall_s");
            if wall <= 0.0 {
                bail!("a row with no wall time to be busy in");
            }
            number(row, BROKER_CPU) / (wall * 1e6) * 100.0
        }
        Y::BrokerCeilingPerS => {
            let cpu_us = number(row, BROKER_CPU);
            if cpu_us <= 0.0 {
                bail!("a row whose run cost the broker no CPU to divide by");
            }
            number(row, "items") / (cpu_us / 1e6)
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn figures_are_read_from_the_row_of_the_series_variant() {
        let rows = vec![
            json!({"variant": "sequential", "per_s": 100.0, "wall_s": 1.0, "items": 100}),
            json!({"variant": "fork", "per_s": 180.0, "wall_s": 0.5, "items": 100,
                   "expected": 100, "result": 90, PEAK: 12.5, "p99_ns": 2_500_000,
                   BROKER_CPU: 250_000.0}),
        ];
        let side = Outcome {
            rows,
            peak_rss_mib: 30.0,
        };
        let row = find(&side.rows, "fork").unwrap();
        let at = |y| figure(y, 64, row, &side).unwrap();
        assert!((at(Y::Speedup) - 1.8).abs() < 1e-9);
        assert!((at(Y::PerItemNs) - 5e6).abs() < 1e-3);
        assert!((at(Y::MegabytesPerS) - 180.0 * 64.0 / 1e6).abs() < 1e-12);
        assert_eq!((at(Y::Lost), at(Y::PeakRssMib)), (10.0, 12.5));
        assert_eq!((at(Y::P99Ms), at(Y::BrokerCpuUs)), (2.5, 2_500.0));
        assert_eq!(at(Y::BrokerBusyPct), 50.0);
        // 100 jobs for 0.25 s of the broker's CPU: 400 a second at most.
        assert_eq!(at(Y::BrokerCeilingPerS), 400.0);
        assert!(find(&side.rows, "spawn").is_err());
    }
}
