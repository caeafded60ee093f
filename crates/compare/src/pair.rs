//! Pairing a Python row with the Rust row it answers, and refusing a pair that compares unlike
//! things.

use serde_json::Value;

use crate::plan::Plan;

/// One Python row and the Rust row it answers.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The lesson both rows belong to.
    pub lesson: String,
    /// The Python twin's row.
    pub python: Value,
    /// The Rust binary's row.
    pub rust: Value,
    /// True when the plan pairs these two across mechanisms on purpose (the tutorial's process
    /// pool beside Rust's threads, because Rust needs no processes for this).
    pub cross_mechanism: bool,
}

impl Pair {
    /// The Python variant's name.
    pub fn python_variant(&self) -> &str {
        self.python["variant"].as_str().unwrap_or("?")
    }

    /// The Rust variant's name.
    pub fn rust_variant(&self) -> &str {
        self.rust["variant"].as_str().unwrap_or("?")
    }

    /// Each side's rate of work, Python's then Rust's: items per second, or, where both rows
    /// say how much `work` one item is (loop steps a task, as async-mixed's CPU rows do), that
    /// work per second, since the two sides' items then differ in size.
    pub fn rates(&self) -> (f64, f64) {
        let per_item = |row: &Value| Some(number(row, "work")).filter(|w| *w > 0.0);
        let (py_size, rs_size) = match (per_item(&self.python), per_item(&self.rust)) {
            (Some(py), Some(rs)) => (py, rs),
            _ => (1.0, 1.0),
        };
        (
            number(&self.python, "per_s") * py_size,
            number(&self.rust, "per_s") * rs_size,
        )
    }

    /// How many times faster the Rust row did its work: the ratio of [`Pair::rates`], which
    /// stays fair where the plan gives each side its own sizes; the ratio of wall times where a
    /// side reports no rate.
    pub fn speedup(&self) -> f64 {
        let (py_rate, rs_rate) = self.rates();
        if py_rate > 0.0 && rs_rate > 0.0 {
            return rs_rate / py_rate;
        }
        let (py_wall, rs_wall) = (number(&self.python, "wall_s"), number(&self.rust, "wall_s"));
        if rs_wall > 0.0 {
            py_wall / rs_wall
        } else {
            f64::NAN
        }
    }

    /// Whether both rows behaved as their lesson says (correct, or deliberately broken).
    pub fn both_as_expected(&self) -> bool {
        as_expected(&self.python) && as_expected(&self.rust)
    }
}

/// Whether a row is correct, or is a deliberately broken variant (`"expected_failure": true`).
pub fn as_expected(row: &Value) -> bool {
    row["correct"].as_bool() == Some(true) || row["expected_failure"].as_bool() == Some(true)
}

/// A row's number field, 0 where it has none.
pub fn number(row: &Value, key: &str) -> f64 {
    row[key].as_f64().unwrap_or(0.0)
}

/// Pairs each Python row with the Rust row its `pairs_with` names. Returns the pairs and a
/// description of each Python row that found no partner or was refused by [`refusal`].
pub fn pair_rows(plan: &Plan, python: &[Value], rust: &[Value]) -> (Vec<Pair>, Vec<String>) {
    let lesson = plan.lesson;
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    for py in python {
        let wanted = py["pairs_with"].as_str().unwrap_or("");
        let Some(rs) = rust.iter().find(|r| r["variant"].as_str() == Some(wanted)) else {
            problems.push(format!(
                "{lesson}: Python {} pairs with Rust \"{wanted}\", which did not run",
                py["variant"]
            ));
            continue;
        };
        let pair = Pair {
            lesson: lesson.to_string(),
            python: py.clone(),
            rust: rs.clone(),
            cross_mechanism: plan.is_cross(py["variant"].as_str().unwrap_or(""), wanted),
        };
        match refusal(plan, &pair) {
            Some(why) => problems.push(format!(
                "{lesson}: refused Python {} beside Rust {}: {why}",
                pair.python_variant(),
                pair.rust_variant()
            )),
            None => pairs.push(pair),
        }
    }
    (pairs, problems)
}

/// Why a pair does not compare like with like, if it does not: a mechanism missing or
/// different (unless the plan pairs them across mechanisms on purpose), or different amounts of
/// work at the same sizes.
pub fn refusal(plan: &Plan, pair: &Pair) -> Option<String> {
    let (py, rs) = (&pair.python["mechanism"], &pair.rust["mechanism"]);
    let (Some(py), Some(rs)) = (py.as_str(), rs.as_str()) else {
        return Some("a row names no mechanism".to_string());
    };
    if py != rs && !pair.cross_mechanism {
        return Some(format!(
            "mechanisms differ ({py} against {rs}) and the plan does not mark it cross-mechanism"
        ));
    }
    if py == rs && pair.cross_mechanism {
        return Some(format!("marked cross-mechanism, but both are {py}"));
    }
    let (py_items, rs_items) = (&pair.python["items"], &pair.rust["items"]);
    if !plan.own_sizes() && py_items != rs_items {
        return Some(format!(
            "items differ ({py_items} against {rs_items}) on the same sizes"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rates_count_the_work_an_item_is_where_both_rows_say() {
        let pair = |py: Value, rs: Value| Pair {
            lesson: "async-mixed".into(),
            python: py,
            rust: rs,
            cross_mechanism: false,
        };
        // Rust ran half as many tasks a second, each a thousand times the work: 500x the work.
        let sized = pair(
            json!({"per_s": 100.0, "wall_s": 1.0, "work": 1_000}),
            json!({"per_s": 50.0, "wall_s": 1.0, "work": 1_000_000}),
        );
        assert!(
            (sized.speedup() - 500.0).abs() < 1e-9,
            "{}",
            sized.speedup()
        );
        // Without a size on both sides, items per second as before.
        let plain = pair(
            json!({"per_s": 100.0, "wall_s": 1.0}),
            json!({"per_s": 50.0, "wall_s": 1.0, "work": 1_000_000}),
        );
        assert!((plain.speedup() - 0.5).abs() < 1e-9, "{}", plain.speedup());
    }
}
