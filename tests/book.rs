//! The book's code is the compiled source, included by anchor. mdBook renders a missing file or
//! anchor as nothing and still succeeds, so these tests check every include: the file and its
//! anchor exist and show something, every anchor in the code is shown somewhere, a shown step
//! holds no test or measuring code, and each lesson chapter shows its Python, its steps and its
//! example.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Every lesson, as its crate and its chapter are named.
const LESSONS: [&str; 8] = [
    "threads-basic",
    "race-lock",
    "cpu-processes",
    "queue-ipc",
    "pool-batch",
    "executor-completed",
    "async-mixed",
    "task-queue",
];

/// What shows that a region holds tests, loom models or measuring rather than the pattern.
const NOT_PATTERN: [&str; 12] = [
    "#[cfg(test",
    "#[cfg(all(test",
    "#[test]",
    "mod tests",
    "loom::",
    "timing::",
    "use timing",
    "clap::",
    "serde_json",
    "anyhow",
    "indicatif",
    "crate::measure",
];

fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    fs::canonicalize(&root).unwrap_or(root)
}

/// Every file under `dir` whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            out.extend(files(&path, exts));
        } else if exts.iter().any(|e| path.to_string_lossy().ends_with(e)) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// One `{{#include path}}` or `{{#include path:anchor}}` of a chapter.
#[derive(Debug)]
struct Include {
    chapter: PathBuf,
    file: PathBuf,
    anchor: Option<String>,
}

/// Every include of every page of the book.
fn includes() -> Vec<Include> {
    let mut out = Vec::new();
    for chapter in files(&root().join("book/src"), &[".md"]) {
        let text = fs::read_to_string(&chapter).unwrap();
        for directive in ["{{#include ", "{{#rustdoc_include "] {
            for (start, _) in text.match_indices(directive) {
                let rest = &text[start + directive.len()..];
                let end = rest.find("}}").expect("an include is closed with }}");
                let spec = rest[..end].trim();
                let (file, anchor) = match spec.split_once(':') {
                    Some((file, anchor)) => (file, Some(anchor.to_string())),
                    None => (spec, None),
                };
                let file = chapter.parent().unwrap().join(file);
                out.push(Include {
                    chapter: chapter.clone(),
                    // `book/src/../../crates/..` as `crates/..`, so paths compare.
                    file: fs::canonicalize(&file).unwrap_or(file),
                    anchor,
                });
            }
        }
    }
    out
}

/// Whether `line` opens (`ANCHOR`) or closes (`ANCHOR_END`) the anchor `name`, as mdBook reads it.
fn marks(line: &str, kind: &str, name: &str) -> bool {
    line.split_once(&format!("{kind}:"))
        .is_some_and(|(_, rest)| rest.split_whitespace().next() == Some(name))
}

/// The lines of `file` between the markers of `anchor`, without marker lines; `None` when
/// either marker is missing.
fn region(file: &Path, anchor: &str) -> Option<Vec<String>> {
    let text = fs::read_to_string(file).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| marks(l, "ANCHOR", anchor))?;
    let len = lines[start..]
        .iter()
        .position(|l| marks(l, "ANCHOR_END", anchor))?;
    Some(
        lines[start + 1..start + len]
            .iter()
            .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
            .map(|l| l.to_string())
            .collect(),
    )
}

fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_include_names_a_file_and_an_anchor_that_show_something() {
    let includes = includes();
    assert!(!includes.is_empty(), "the book includes no code");
    let mut problems = Vec::new();
    for inc in &includes {
        let at = format!("{} includes {}", shown(&inc.chapter), shown(&inc.file));
        if !inc.file.is_file() {
            problems.push(format!("{at}: no such file"));
            continue;
        }
        match &inc.anchor {
            Some(anchor) if anchor.chars().next().is_some_and(|c| c.is_ascii_digit()) => problems
                .push(format!(
                    "{at}:{anchor}: lines by number drift; use an anchor"
                )),
            Some(anchor) => match region(&inc.file, anchor) {
                None => problems.push(format!(
                    "{at}: no anchor {anchor:?} (ANCHOR and ANCHOR_END)"
                )),
                Some(lines) if lines.iter().all(|l| l.trim().is_empty()) => {
                    problems.push(format!("{at}: anchor {anchor:?} is empty"))
                }
                Some(_) => {}
            },
            None => {
                if fs::read_to_string(&inc.file).is_ok_and(|t| t.trim().is_empty()) {
                    problems.push(format!("{at}: the file is empty"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_anchor_in_the_code_is_shown_by_the_book() {
    let used: BTreeSet<(PathBuf, String)> = includes()
        .into_iter()
        .filter_map(|inc| Some((fs::canonicalize(&inc.file).ok()?, inc.anchor?)))
        .collect();
    let mut unused = Vec::new();
    let sources = [
        files(&root().join("crates"), &[".rs", ".md"]),
        files(&root().join("examples"), &[".rs", ".py"]),
    ];
    for file in sources.iter().flatten() {
        let text = fs::read_to_string(file).unwrap();
        for line in text.lines() {
            let Some((_, rest)) = line.split_once("ANCHOR:") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or_default();
            let key = (fs::canonicalize(file).unwrap(), name.to_string());
            if !used.contains(&key) {
                unused.push(format!(
                    "{}: anchor {name:?} is shown by no page",
                    shown(file)
                ));
            }
        }
    }
    assert!(unused.is_empty(), "{}", unused.join("\n"));
}

#[test]
fn shown_code_from_the_crates_is_the_pattern_only() {
    let crates = root().join("crates");
    let mut problems = Vec::new();
    for inc in includes() {
        let (Some(anchor), true) = (&inc.anchor, inc.file.starts_with(&crates)) else {
            continue;
        };
        for line in region(&inc.file, anchor).unwrap_or_default() {
            if let Some(bad) = NOT_PATTERN.iter().find(|bad| line.contains(*bad)) {
                problems.push(format!(
                    "{}:{anchor} shows {bad:?}: {}",
                    shown(&inc.file),
                    line.trim()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_lesson_chapter_shows_its_python_its_steps_and_its_example() {
    let summary = fs::read_to_string(root().join("book/src/SUMMARY.md")).unwrap();
    let includes = includes();
    let mut problems = Vec::new();
    for lesson in LESSONS {
        let page = format!("{lesson}.md");
        if !summary.contains(&format!("]({page})")) {
            problems.push(format!("SUMMARY.md does not list {page}"));
            continue;
        }
        let chapter = root().join("book/src").join(&page);
        let snake = lesson.replace('-', "_");
        let mine: Vec<&Include> = includes.iter().filter(|i| i.chapter == chapter).collect();
        let python = root().join(format!("examples/python/{snake}.py"));
        let steps = root().join(format!("crates/{lesson}/src/steps"));
        let example = root().join(format!("examples/{snake}.rs"));
        if !mine.iter().any(|i| i.file == python) {
            problems.push(format!("{page} does not show {}", shown(&python)));
        }
        if !mine
            .iter()
            .any(|i| i.file.starts_with(&steps) && i.anchor.is_some())
        {
            problems.push(format!("{page} shows no step from {}", shown(&steps)));
        }
        if !mine.iter().any(|i| i.file == example && i.anchor.is_none()) {
            problems.push(format!("{page} does not show {} whole", shown(&example)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_crate_header_is_a_map_naming_its_chapter_and_its_example() {
    let mut problems = Vec::new();
    for lesson in LESSONS {
        let lib = root().join(format!("crates/{lesson}/src/lib.rs"));
        let text = fs::read_to_string(&lib).unwrap();
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
        let joined = header.join("\n");
        let snake = lesson.replace('-', "_");
        if header.len() > 30 {
            problems.push(format!(
                "{}: header of {} lines (at most 30)",
                shown(&lib),
                header.len()
            ));
        }
        for needed in [
            format!("book/src/{lesson}.md"),
            format!("examples/{snake}.rs"),
        ] {
            if !joined.contains(&needed) {
                problems.push(format!("{}: header does not name {needed}", shown(&lib)));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
