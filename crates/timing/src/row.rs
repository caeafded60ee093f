//! One measured variant: the numbers a lesson checks and the time it took.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Latencies;

/// What does a variant's work concurrently. Two rows compare like with like only when their
/// mechanisms are the same: a thread pool against a process pool measures process start-up as
/// much as the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// One thread, one thing after another.
    Sequential,
    /// Threads of one process.
    Threads,
    /// Child processes, talking through pipes or channels.
    Processes,
    /// Processes sharing memory mapped into each of them.
    SharedMemory,
    /// Tasks on an async runtime (an event loop).
    Async,
    /// Worker processes pulling jobs from a broker.
    Broker,
}

impl Mechanism {
    /// The name as rows spell it (`shared-memory`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Sequential => "sequential",
            Mechanism::Threads => "threads",
            Mechanism::Processes => "processes",
            Mechanism::SharedMemory => "shared-memory",
            Mechanism::Async => "async",
            Mechanism::Broker => "broker",
        }
    }
}

/// The result of running one variant of a lesson once.
///
/// Built with chained setters; `per_s` is derived from `items` and the wall time, and `correct`
/// from [`check`](Row::check) and any [`require`](Row::require) conditions. Serialised, it is the
/// JSON line of DESIGN.md:
/// `{"lesson","variant","mechanism","workers","items","expected","result","correct","wall_s","per_s"}`, plus
/// `p50_ns`/`p99_ns`/`max_ns` where latencies were measured, `expected_failure` on a deliberately
/// broken variant, `note` when there is one, and any lesson-specific fields from
/// [`extra`](Row::extra) at the top level.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The lesson (binary) name, e.g. `race-lock`.
    pub lesson: String,
    /// The variant name, exactly as `--variant` spells it.
    pub variant: String,
    /// What does the work concurrently: a side-by-side pairs only rows of the same mechanism.
    pub mechanism: Option<Mechanism>,
    /// Threads or processes doing the work.
    pub workers: usize,
    /// Units of work done: increments, messages, tasks, requests.
    pub items: u64,
    /// The checkable number, computed independently of the code under test (a closed form, a count).
    pub expected: u64,
    /// The same number as the code under test produced it.
    pub result: u64,
    /// Whether the variant behaved correctly: `expected == result` and every `require`d condition.
    pub correct: bool,
    /// Wall time of the measured part, in seconds.
    pub wall_s: f64,
    /// `items / wall_s`.
    pub per_s: f64,
    /// Median latency, where latencies were measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<u64>,
    /// 99th-percentile latency, where latencies were measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ns: Option<u64>,
    /// Largest latency, where latencies were measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ns: Option<u64>,
    /// True for a deliberately broken variant: it is *meant* to be incorrect, so its failure does
    /// not fail the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expected_failure: bool,
    /// A short human remark shown in the table's last column ("lost 3 412 of 10 000").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Lesson-specific fields, written at the top level of the JSON object.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Row {
    /// A row for `variant` of `lesson`, with nothing measured yet: one worker, no items, not
    /// yet checked (so not correct until [`check`](Row::check) says so).
    pub fn new(lesson: impl Into<String>, variant: impl Into<String>) -> Self {
        Self {
            lesson: lesson.into(),
            variant: variant.into(),
            mechanism: None,
            workers: 1,
            items: 0,
            expected: 0,
            result: 0,
            correct: false,
            wall_s: 0.0,
            per_s: 0.0,
            p50_ns: None,
            p99_ns: None,
            max_ns: None,
            expected_failure: false,
            note: String::new(),
            extra: Map::new(),
        }
    }

    /// Sets what does the work concurrently.
    pub fn mechanism(mut self, mechanism: Mechanism) -> Self {
        self.mechanism = Some(mechanism);
        self
    }

    /// Sets how many threads or processes did the work.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets how many units of work were done (and so the rate).
    pub fn items(mut self, items: u64) -> Self {
        self.items = items;
        self.update_rate();
        self
    }

    /// Sets the wall time of the measured part (and so the rate).
    pub fn wall(mut self, wall: Duration) -> Self {
        self.wall_s = wall.as_secs_f64();
        self.update_rate();
        self
    }

    /// Records the checkable numbers; the row is correct only if they are equal (and every
    /// [`require`](Row::require) holds).
    pub fn check(mut self, expected: u64, result: u64) -> Self {
        self.expected = expected;
        self.result = result;
        self.correct = expected == result;
        self
    }

    /// Adds a condition the row must also meet to be correct, such as "never more than K in
    /// flight". Call it after [`check`](Row::check).
    pub fn require(mut self, condition: bool) -> Self {
        self.correct &= condition;
        self
    }

    /// Records p50, p99 and max of `latencies`.
    pub fn latencies(mut self, latencies: &Latencies) -> Self {
        self.p50_ns = Some(latencies.p50_ns());
        self.p99_ns = Some(latencies.p99_ns());
        self.max_ns = Some(latencies.max_ns());
        self
    }

    /// Marks the variant as deliberately broken: its wrong result is the lesson, not a failure.
    pub fn deliberately_broken(mut self) -> Self {
        self.expected_failure = true;
        self
    }

    /// Sets the remark shown in the table's last column.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Adds a lesson-specific JSON field, such as `"completion_order": [3, 1, 2]`.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The wall time as a `Duration`.
    pub fn wall_time(&self) -> Duration {
        Duration::from_secs_f64(self.wall_s)
    }

    /// Whether this row behaved as the lesson says: correct, or a deliberately broken variant.
    pub fn as_expected(&self) -> bool {
        self.correct || self.expected_failure
    }

    /// The row as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Row has only string keys and finite-or-null numbers")
    }

    fn update_rate(&mut self) {
        self.per_s = if self.wall_s > 0.0 {
            self.items as f64 / self.wall_s
        } else {
            0.0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_design_fields() {
        let row = Row::new("race-lock", "mutex")
            .mechanism(Mechanism::Threads)
            .workers(10)
            .items(1000)
            .check(1000, 1000)
            .wall(Duration::from_millis(500))
            .extra("completion_order", vec![2, 1]);
        let v: Value = serde_json::from_str(&row.to_json()).unwrap();
        assert_eq!(v["lesson"], "race-lock");
        assert_eq!(v["variant"], "mutex");
        assert_eq!(v["mechanism"], "threads");
        assert_eq!(v["workers"], 10);
        assert_eq!(v["expected"], 1000);
        assert_eq!(v["result"], 1000);
        assert_eq!(v["correct"], true);
        assert_eq!(v["per_s"], 2000.0);
        assert_eq!(v["completion_order"], serde_json::json!([2, 1]));
        assert!(v.get("p50_ns").is_none());
        assert!(v.get("expected_failure").is_none());
    }

    #[test]
    fn require_can_only_make_a_row_incorrect() {
        assert!(!Row::new("l", "v").check(1, 1).require(false).correct);
        assert!(!Row::new("l", "v").check(1, 2).require(true).correct);
        assert!(Row::new("l", "v").check(1, 1).require(true).correct);
    }

    #[test]
    fn a_broken_variant_is_as_expected_even_when_wrong() {
        let row = Row::new("l", "racy").check(10, 7).deliberately_broken();
        assert!(!row.correct);
        assert!(row.as_expected());
    }
}
