//! A full sweep's pages: each chart with its sentences and tables, for `docs/results.md` (the
//! section "How cost grows") and for the book (`sweep-<chart>.md` beside its SVG). A chart is a
//! lesson's sweep; a lesson swept over two sizes has two. Each says the run it came from, so a
//! run of a few lessons redraws theirs and keeps the others' as their own runs left them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::record::Point;
use super::{svg, words};

/// The run a chart came from; kept for every chart in [`Origins`], so pages drawn again from the
/// points say the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// The day of the run.
    pub date: String,
    /// The command run.
    pub command: String,
    /// [`crate::machine::describe`].
    pub machine: String,
    /// How long the whole run took, in seconds.
    pub seconds: f64,
    /// The machine's cores, which the CPUs found free are read against.
    pub cores: usize,
    /// What the machine allows threads ([`super::stops::thread_limits`]).
    pub threads: String,
}

impl Origin {
    /// "Measured on DATE, MACHINE, in one run of `just sweep` (4.2 min)."
    fn line(&self) -> String {
        format!(
            "Measured on {}, {}, in one run of `{}` ({:.1} min); each point is the median of its \
             runs, the bars and brackets their range.",
            self.date,
            self.machine,
            self.command,
            self.seconds / 60.0
        )
    }

    /// As the JSON object [`Origins`] holds for a chart.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "date": self.date,
            "command": self.command,
            "machine": self.machine,
            "seconds": self.seconds,
            "cores": self.cores,
            "threads": self.threads,
        })
    }

    /// From [`Origin::to_json`]'s object.
    pub fn from_value(v: &serde_json::Value) -> Result<Origin> {
        let field = |key: &str| -> Result<String> {
            Ok(v[key].as_str().with_context(|| format!("no {key}"))?.into())
        };
        Ok(Origin {
            date: field("date")?,
            command: field("command")?,
            machine: field("machine")?,
            seconds: v["seconds"].as_f64().context("no seconds")?,
            cores: v["cores"].as_u64().context("no cores")? as usize,
            threads: field("threads")?,
        })
    }
}

/// A chart's body: the chart at `image`, a sentence a series, its tables; what it says of the
/// machine from `origin`, the run's, not the one drawing it.
pub fn chart_body(points: &[Point], image: &str, origin: &Origin) -> String {
    let lesson = points.first().map_or("", |p| p.lesson.as_str());
    let x_name = points.first().map_or("", |p| p.x_name);
    let mut out = format!("![{lesson}: how its cost grows with {x_name}]({image})\n\n");
    let chart = points.first().map_or("", |p| p.chart.as_str());
    let limit = super::against::sentence(points, |series| limited(chart, series));
    let cpus = super::against::cpus_sentence(points, origin.cores);
    for line in words::sentences(points)
        .into_iter()
        .chain(super::crossing::sentences(points))
        .chain(limit)
        .chain(super::stops::broker_sentence(points))
        .chain(super::stops::short_sentences(
            points,
            &origin.threads,
            cap_of,
        ))
        .chain(cpus)
    {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&words::tables(points));
    out
}

/// Each chart's run, by the chart's name: the JSON object `origins.json` beside the charts holds.
pub type Origins = BTreeMap<String, Origin>;

/// `origins` as the text of `origins.json`.
pub fn origins_to_json(origins: &Origins) -> String {
    let map: serde_json::Map<String, serde_json::Value> = origins
        .iter()
        .map(|(chart, o)| (chart.clone(), o.to_json()))
        .collect();
    // A map of strings and numbers has nothing serde_json could fail on.
    serde_json::to_string_pretty(&map).expect("strings and numbers serialise") + "\n"
}

/// [`Origins`] from the text of `origins.json`.
pub fn origins_from_json(text: &str) -> Result<Origins> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let map = v.as_object().context("not a JSON object of charts")?;
    map.iter()
        .map(|(chart, o)| Ok((chart.clone(), Origin::from_value(o).context(chart.clone())?)))
        .collect()
}

/// Whether the machine's line of `chart` bounds the series `series`, as its spec says.
fn limited(chart: &str, series: &str) -> bool {
    super::specs::SPECS
        .iter()
        .find(|s| s.chart == chart)
        .is_none_or(|s| s.limit_for.is_empty() || s.limit_for.contains(&series))
}

/// Why the series named `name` stops short, from the spec that draws it.
fn cap_of(name: &str) -> Option<super::Cap> {
    super::specs::SPECS
        .iter()
        .flat_map(|spec| spec.series)
        .find(|s| s.name == name)
        .map(|s| s.cap)
}

/// Each chart's points, charts in the order their points come.
pub fn by_chart(points: &[Point]) -> Vec<Vec<Point>> {
    let mut charts: Vec<Vec<Point>> = Vec::new();
    for p in points {
        match charts.iter_mut().find(|c| c[0].chart == p.chart) {
            Some(c) => c.push(p.clone()),
            None => charts.push(vec![p.clone()]),
        }
    }
    charts
}

/// Writes `<chart>.svg` into `svg_dir` for every chart, the book's `sweep-<chart>.md` and
/// `.svg` into `book_dir`, and the section `sweep` of `results` (its markers must be there);
/// each chart says its run from `origins`, which must name them all.
pub fn write_all(
    points: &[Point],
    origins: &Origins,
    svg_dir: &Path,
    book_dir: &Path,
    results: &Path,
) -> Result<()> {
    for dir in [svg_dir, book_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut section = String::from(
        "Each chart says the run it came from; a run of a few lessons redraws only theirs.\n",
    );
    for chart in by_chart(points) {
        let name = chart[0].chart.clone();
        let origin = origins
            .get(&name)
            .with_context(|| format!("no run is recorded for the chart {name}"))?;
        let svg_path = svg_dir.join(format!("{name}.svg"));
        let title = format!(
            "{}: how its cost grows with {} ({})",
            chart[0].lesson, chart[0].x_name, origin.machine
        );
        svg::write(&chart, &title, &svg_path)?;
        let book_svg = book_dir.join(format!("sweep-{name}.svg"));
        std::fs::copy(&svg_path, &book_svg)
            .with_context(|| format!("writing {}", book_svg.display()))?;
        let page = format!(
            "{}\n\n{}",
            origin.line(),
            chart_body(&chart, &format!("generated/sweep-{name}.svg"), origin)
        );
        let book_md = book_dir.join(format!("sweep-{name}.md"));
        std::fs::write(&book_md, page).with_context(|| format!("writing {}", book_md.display()))?;
        let image = format!("sweeps/{name}.svg");
        section.push_str(&format!(
            "\n### {name}\n\n{}\n\n{}",
            origin.line(),
            chart_body(&chart, &image, origin)
        ));
    }
    crate::record::write_section(results, "sweep", &section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_reads_back_as_written() {
        let origin = Origin {
            date: "2026-12-06".into(),
            command: "just sweep".into(),
            machine: "2 CPUs".into(),
            seconds: 312.5,
            cores: 2,
            threads: "about 16382 Rust threads".into(),
        };
        let origins = Origins::from([("race-lock".to_string(), origin)]);
        assert_eq!(
            origins_from_json(&origins_to_json(&origins)).unwrap(),
            origins
        );
        assert!(origins_from_json(r#"{"race-lock": {}}"#).is_err());
        assert!(origins_from_json("[]").is_err());
    }
}
