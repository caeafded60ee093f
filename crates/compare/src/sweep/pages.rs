//! A full sweep's pages: each lesson's chart, sentences and tables, for `docs/results.md` (the
//! section "How cost grows") and for the book (`sweep-<lesson>.md` beside its SVG).

use std::path::Path;

use anyhow::{Context as _, Result};

use super::record::Point;
use super::{svg, words};

/// What every page says it came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The command run.
    pub command: String,
    /// [`crate::machine::describe`].
    pub machine: String,
    /// How long the whole run took, in seconds.
    pub seconds: f64,
}

impl Origin {
    /// "Measured on DATE, MACHINE, in one run of `just sweep` (4.2 min)."
    fn line(&self) -> String {
        format!(
            "Measured on {}, {}, in one run of `{}` ({:.1} min); each point is the median of its \
             runs, the bars and brackets their range.",
            crate::machine::today(),
            self.machine,
            self.command,
            self.seconds / 60.0
        )
    }
}

/// A lesson's body: its chart at `image`, a sentence a series, its tables.
pub fn lesson_body(points: &[Point], image: &str) -> String {
    let lesson = points.first().map_or("", |p| p.lesson.as_str());
    let mut out = format!("![{lesson}: how its cost grows]({image})\n\n");
    let limit = super::against::sentence(points);
    let cpus = super::against::cpus_sentence(points, timing::cores());
    for line in words::sentences(points)
        .into_iter()
        .chain(limit)
        .chain(cpus)
    {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&words::tables(points));
    out
}

/// Each lesson's points, in the order run.
pub fn by_lesson(points: &[Point]) -> Vec<Vec<Point>> {
    let mut lessons: Vec<Vec<Point>> = Vec::new();
    for p in points {
        match lessons.iter_mut().find(|l| l[0].lesson == p.lesson) {
            Some(l) => l.push(p.clone()),
            None => lessons.push(vec![p.clone()]),
        }
    }
    lessons
}

/// Writes `<lesson>.svg` into `svg_dir` for every lesson, the book's `sweep-<lesson>.md` and
/// `.svg` into `book_dir`, and the section `sweep` of `results` (its markers must be there).
pub fn write_all(
    points: &[Point],
    origin: &Origin,
    svg_dir: &Path,
    book_dir: &Path,
    results: &Path,
) -> Result<()> {
    for dir in [svg_dir, book_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut section = format!("{}\n", origin.line());
    for lesson in by_lesson(points) {
        let name = lesson[0].lesson.clone();
        let svg_path = svg_dir.join(format!("{name}.svg"));
        let title = format!("{name}: how its cost grows ({})", origin.machine);
        svg::write(&lesson, &title, &svg_path)?;
        let book_svg = book_dir.join(format!("sweep-{name}.svg"));
        std::fs::copy(&svg_path, &book_svg)
            .with_context(|| format!("writing {}", book_svg.display()))?;
        let page = format!(
            "{}\n\n{}",
            origin.line(),
            lesson_body(&lesson, &format!("generated/sweep-{name}.svg"))
        );
        let book_md = book_dir.join(format!("sweep-{name}.md"));
        std::fs::write(&book_md, page).with_context(|| format!("writing {}", book_md.display()))?;
        let image = format!("sweeps/{name}.svg");
        section.push_str(&format!("\n### {name}\n\n{}", lesson_body(&lesson, &image)));
    }
    crate::record::write_section(results, "sweep", &section)
}
