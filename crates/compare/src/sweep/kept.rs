//! The record of full runs kept beside the charts (`docs/sweeps/sweep.jsonl` and
//! `origins.json`): every chart's points and the run each came from. A full run of a few lessons
//! replaces their charts' points and keeps the others', so the pages are always drawn from every
//! chart's latest full run, and can be drawn again from this record alone.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::Y;
use super::pages::{Origin, Origins, origins_from_json, origins_to_json};
use super::record::{self, Point};
use super::specs::SPECS;

/// The points file in the record's directory.
pub const POINTS: &str = "sweep.jsonl";
/// The runs file in the record's directory.
pub const ORIGINS: &str = "origins.json";

/// Every chart's latest full-run points, and each chart's run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    /// The points, chart by chart.
    pub points: Vec<Point>,
    /// Each chart's run.
    pub origins: Origins,
}

impl Kept {
    /// The record in `dir`; an empty one where it has none yet.
    pub fn load(dir: &Path) -> Result<Kept> {
        let (points, origins) = (dir.join(POINTS), dir.join(ORIGINS));
        if !points.exists() {
            return Ok(Kept::default());
        }
        let read = |path: &Path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        };
        let mut names: Vec<&'static str> = Y::ALL.iter().map(|y| y.name()).collect();
        names.extend(SPECS.iter().map(|s| s.x_name));
        Ok(Kept {
            points: record::parse(&read(&points)?, &names)
                .with_context(|| points.display().to_string())?,
            origins: origins_from_json(&read(&origins)?)
                .with_context(|| origins.display().to_string())?,
        })
    }

    /// The record with the charts of `points` replaced by them, run as `origin` says.
    pub fn merge(self, points: &[Point], origin: &Origin) -> Kept {
        let new = |chart: &str| points.iter().any(|p| p.chart == chart);
        let mut kept: Vec<Point> = self.points.into_iter().filter(|p| !new(&p.chart)).collect();
        kept.extend(points.iter().cloned());
        // In the order the lessons are taught, whatever order the runs came in.
        let place = |p: &Point| SPECS.iter().position(|s| s.chart == p.chart);
        kept.sort_by_key(place);
        let mut origins = self.origins;
        for p in points {
            origins.insert(p.chart.clone(), origin.clone());
        }
        origins.retain(|chart, _| kept.iter().any(|p| &p.chart == chart));
        Kept {
            points: kept,
            origins,
        }
    }

    /// Writes the record into `dir`, each file whole or not at all (written beside, then renamed
    /// over), the runs first: a run named for a chart with no points yet is harmless, points with
    /// no run named would stop every later drawing.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let whole = |name: &str, text: String| -> Result<()> {
            let (part, path) = (dir.join(format!("{name}.part")), dir.join(name));
            std::fs::write(&part, text).with_context(|| format!("writing {}", part.display()))?;
            std::fs::rename(&part, &path).with_context(|| format!("replacing {}", path.display()))
        };
        whole(ORIGINS, origins_to_json(&self.origins))?;
        whole(POINTS, record::jsonl(&self.points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    fn origin(date: &str) -> Origin {
        Origin {
            date: date.into(),
            command: "just sweep".into(),
            machine: "test".into(),
            seconds: 60.0,
            cores: 2,
            threads: "none".into(),
        }
    }

    #[test]
    fn a_run_of_one_chart_replaces_its_points_and_keeps_the_others() {
        let mut queue = point("Rust pipe", "per_s", 16, &[1.0]);
        queue.chart = "queue-ipc".into();
        let old_race = point("Rust mutex", "per_s", 1, &[1.0]);
        let first = Kept::default().merge(&[queue.clone(), old_race], &origin("day 1"));
        let new_race = point("Rust mutex", "per_s", 1, &[2.0]);
        let second = first.merge(std::slice::from_ref(&new_race), &origin("day 2"));
        // race-lock is taught before queue-ipc, so it comes first whatever the order of runs.
        assert_eq!(second.points, [new_race, queue]);
        assert_eq!(second.origins["race-lock"].date, "day 2");
        assert_eq!(second.origins["queue-ipc"].date, "day 1");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Kept::load(dir.path()).unwrap(), Kept::default());
        second.save(dir.path()).unwrap();
        assert_eq!(Kept::load(dir.path()).unwrap(), second);
    }
}
