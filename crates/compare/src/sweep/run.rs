//! Runs one lesson's sweep: both sides at every point, a few runs each, and the limit beside.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::child::{self, Outcome};
use super::load::Snapshot;
use super::read::figures;
use super::record::Point;
use super::stats::summarise;
use super::{BROKER, Lang, Limit, Series, Spec};
use crate::broker::Broker;

/// Where the programs are and what the points share.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The directory of the release lesson binaries.
    pub bin_dir: PathBuf,
    /// The Python interpreter.
    pub python: PathBuf,
    /// The Python with `celery` and `redis`, for a twin that needs a broker.
    pub celery_python: PathBuf,
    /// The twins' directory.
    pub scripts: PathBuf,
    /// Runs a point.
    pub runs: usize,
    /// [`crate::machine::describe`], written into every point.
    pub machine: String,
}

/// The field added to each row: the peak memory in MiB of the invocation that printed it.
pub(crate) const PEAK: &str = "sweep_peak_rss_mib";

/// The field added to each row of a lesson with a broker: the broker's main-thread CPU time over
/// the invocation that printed it, in µs ([`super::load`]).
pub(crate) const BROKER_CPU: &str = "sweep_broker_cpu_us";

/// A lesson's points, and a line for each point whose rows were wrong (not broken on purpose).
pub fn sweep(spec: &Spec, setup: &Setup, quick: bool) -> Result<(Vec<Point>, Vec<String>)> {
    // Started for a lesson that needs one, stopped (and reaped) when the lesson is done.
    let broker = match spec.needs_redis {
        true => Some(Broker::find_or_start().with_context(|| {
            format!("{}: no REDIS_URL and no redis-server to start", spec.lesson)
        })?),
        false => None,
    };
    let url = broker.as_ref().map_or("", |b| b.url.as_str());
    let mut points = Vec::new();
    let mut wrong = Vec::new();
    for &x in spec.points(quick) {
        let (lesson, x_name) = (spec.lesson, spec.x_name);
        eprintln!("sweep: {lesson} {x_name}={x} ({} runs)", setup.runs);
        let parallelism = crate::machine::parallelism();
        let runs = (0..setup.runs)
            .map(|_| run_both(spec, setup, x, url))
            .collect::<Result<Vec<_>>>()
            .with_context(|| format!("{lesson} {x_name}={x}"))?;
        for (rust, python) in &runs {
            wrong.extend(wrong_rows(spec, x, "Rust", &rust.rows));
            wrong.extend(wrong_rows(spec, x, "Python", &python.rows));
        }
        let at = Where {
            spec,
            setup,
            x,
            parallelism,
        };
        for series in spec.series.iter().filter(|s| s.runs_at(x)) {
            let (ys, mechanism) =
                figures(series, x, &runs).with_context(|| format!("{lesson} {x_name}={x}"))?;
            points.push(at.point(series, &ys, mechanism)?);
        }
        if let Some((series, ys)) = limit(spec, x, url)? {
            points.push(at.point(&series, &ys, "limit".into())?);
        }
    }
    Ok((points, wrong))
}

/// What every point at one x shares.
struct Where<'a> {
    spec: &'a Spec,
    setup: &'a Setup,
    x: u64,
    parallelism: f64,
}

impl Where<'_> {
    /// The point of `series` here, from its figure in each run.
    fn point(&self, series: &Series, ys: &[f64], mechanism: String) -> Result<Point> {
        Ok(Point {
            lesson: self.spec.lesson.into(),
            chart: self.spec.chart.into(),
            series: series.name.into(),
            language: series.lang.name(),
            mechanism,
            x_name: self.spec.x_name,
            x: self.x,
            y_name: series.y.name(),
            y: summarise(ys).with_context(|| format!("{}: no figure", series.name))?,
            machine: self.setup.machine.clone(),
            parallelism: self.parallelism,
        })
    }
}

/// One run of both sides at `x`, Rust first: the two alternate, so a burst of load on the shared
/// machine falls on both. `url` stands for [`BROKER`] in their arguments.
fn run_both(spec: &Spec, setup: &Setup, x: u64, url: &str) -> Result<(Outcome, Outcome)> {
    let with_url = |invocations: Vec<Vec<String>>| -> Vec<Vec<String>> {
        let swap = |a: String| if a == BROKER { url.to_string() } else { a };
        invocations
            .into_iter()
            .map(|args| args.into_iter().map(swap).collect())
            .collect()
    };
    let bin = setup.bin_dir.join(spec.lesson);
    let broker = spec.needs_redis.then_some(url);
    let rust = side(&bin, &[], with_url((spec.rust_args)(x)), broker).context("the Rust side")?;
    let script = setup.scripts.join(spec.script).display().to_string();
    let python = if spec.needs_redis {
        &setup.celery_python
    } else {
        &setup.python
    };
    let python = side(python, &[script], with_url((spec.python_args)(x)), broker)
        .context("the Python side")?;
    Ok((rust, python))
}

/// One side's run: each invocation of `program` (after `first`, with `--json`), their rows
/// together and the largest peak memory among them. Each row also carries its own invocation's
/// peak as [`PEAK`], so a spec that runs one variant an invocation reads each variant's; with a
/// `broker`, the CPU it spent over the invocation as [`BROKER_CPU`].
fn side(
    program: &Path,
    first: &[String],
    invocations: Vec<Vec<String>>,
    broker: Option<&str>,
) -> Result<Outcome> {
    let mut all = Outcome {
        rows: Vec::new(),
        peak_rss_mib: 0.0,
    };
    for args in invocations {
        let args: Vec<String> = first
            .iter()
            .cloned()
            .chain(["--json".into()])
            .chain(args)
            .collect();
        let before = broker.map(Snapshot::take).transpose()?;
        let mut one = child::run(program, &args)?;
        let spent = match (broker, before) {
            (Some(url), Some(before)) => Snapshot::take(url)?.since(&before),
            _ => Snapshot::default(),
        };
        for row in &mut one.rows {
            row[PEAK] = serde_json::json!(one.peak_rss_mib);
            if broker.is_some() {
                row[BROKER_CPU] = serde_json::json!(spent.cpu_us);
            }
        }
        all.rows.extend(one.rows);
        all.peak_rss_mib = all.peak_rss_mib.max(one.peak_rss_mib);
    }
    Ok(all)
}

/// One line for each row that is wrong and not broken on purpose.
fn wrong_rows(spec: &Spec, x: u64, side: &str, rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter(|row| !crate::as_expected(row))
        .map(|row| {
            format!(
                "{} {}={x}: {side} {} gave {} where {} was expected",
                spec.lesson, spec.x_name, row["variant"], row["result"], row["expected"]
            )
        })
        .collect()
}

/// The machine's limit at `x` as a series of its own with its figures, where the spec has one;
/// `url` is the broker's.
fn limit(spec: &Spec, x: u64, url: &str) -> Result<Option<(Series, Vec<f64>)>> {
    let Some(first) = spec.series.first().map(|s| s.y) else {
        return Ok(None);
    };
    let cores = timing::cores() as u64;
    let (name, ys) = match spec.limit {
        Limit::None => return Ok(None),
        Limit::Cores => ("ideal: min(workers, cores)", vec![x.min(cores) as f64]),
        Limit::Memcpy => ("memcpy of 64 MiB (this machine)", super::memcpy::probe(3)),
        Limit::OneDelay(s) => ("ideal: one delay", vec![s]),
        Limit::StepLength => ("one CPU step", vec![x as f64]),
        Limit::Broker => (
            "redis-benchmark: one push + one pop a job, no more",
            vec![super::ceiling::jobs_per_s(url)?],
        ),
    };
    let series = Series {
        name,
        lang: Lang::Machine,
        variant: "",
        y: first,
        upto: u64::MAX,
        cap: super::Cap::None,
    };
    Ok(Some((series, ys)))
}

/// The twins' directory in this source tree.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sweep::specs::SPECS;

    #[test]
    fn a_wrong_row_is_named_and_a_deliberately_broken_one_is_not() {
        let rows = [
            json!({"variant": "mutex", "correct": false, "result": 9, "expected": 10}),
            json!({"variant": "racy", "correct": false, "expected_failure": true}),
            json!({"variant": "atomic", "correct": true}),
        ];
        let race_lock = SPECS.iter().find(|s| s.lesson == "race-lock").unwrap();
        let wrong = wrong_rows(race_lock, 4, "Rust", &rows);
        assert_eq!(
            wrong,
            ["race-lock workers=4: Rust \"mutex\" gave 9 where 10 was expected"]
        );
    }
}
