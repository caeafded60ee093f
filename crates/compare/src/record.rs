//! What a run leaves for scripts and for the docs: one JSON object per pair, and the table with
//! its sentences written between two markers in a Markdown file.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::pair::{Pair, number};

/// One pair as a JSON object: which variants, mechanisms, amounts of work and rates, the
/// speedup, and whether it compares across mechanisms.
pub fn pair_json(pair: &Pair) -> Value {
    json!({
        "lesson": pair.lesson,
        "python": pair.python_variant(),
        "rust": pair.rust_variant(),
        "python_mechanism": pair.python["mechanism"],
        "rust_mechanism": pair.rust["mechanism"],
        "python_items": pair.python["items"],
        "rust_items": pair.rust["items"],
        "python_per_s": number(&pair.python, "per_s"),
        "rust_per_s": number(&pair.rust, "per_s"),
        "python_wall_s": number(&pair.python, "wall_s"),
        "rust_wall_s": number(&pair.rust, "wall_s"),
        "python_p99_ns": pair.python["p99_ns"],
        "rust_p99_ns": pair.rust["p99_ns"],
        "python_parallelism": pair.python["parallelism"],
        "rust_parallelism": pair.rust["parallelism"],
        "python_correct": pair.python["correct"],
        "rust_correct": pair.rust["correct"],
        "speedup": pair.speedup(),
        "cross_mechanism": pair.cross_mechanism,
    })
}

/// Every pair, one JSON object a line.
pub fn jsonl(pairs: &[Pair]) -> String {
    pairs
        .iter()
        .map(|p| format!("{}\n", pair_json(p)))
        .collect()
}

/// The dated Markdown table, made by `command`, and its "How to read it" sentences.
pub fn markdown(command: &str, machine: &str, pairs: &[Pair], sentences: &[String]) -> String {
    let mut out = format!(
        "Measured on {}, {machine}, in one run of `{command}`.\n\n{}\nHow to read it (every \
         figure below comes from the same run):\n",
        crate::machine::today(),
        crate::markdown_table(pairs)
    );
    for line in sentences {
        out.push_str(&format!("- {line}\n"));
    }
    out
}

/// Replaces what stands between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `text` with
/// `body`. Both markers must be there, in that order.
pub fn replace_section(text: &str, name: &str, body: &str) -> Result<String> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(start), Some(stop)) = (text.find(&begin), text.find(&end)) else {
        bail!("the markers {begin} and {end} are not both there");
    };
    if stop < start {
        bail!("{end} comes before {begin}");
    }
    let head = &text[..start + begin.len()];
    Ok(format!("{head}\n{}\n{}", body.trim_end(), &text[stop..]))
}

/// Writes `body` into the section `name` of the Markdown file at `path`.
pub fn write_section(path: &Path, name: &str, body: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let text = replace_section(&text, name, body).with_context(|| path.display().to_string())?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_between_its_markers_only() {
        let text = "top\n<!-- t:begin -->\nold\n<!-- t:end -->\nbottom\n";
        let new = replace_section(text, "t", "new\n").unwrap();
        assert_eq!(new, "top\n<!-- t:begin -->\nnew\n<!-- t:end -->\nbottom\n");
        assert!(replace_section("no markers", "t", "x").is_err());
        assert!(replace_section("<!-- t:end --><!-- t:begin -->", "t", "x").is_err());
    }
}
