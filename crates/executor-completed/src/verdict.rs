//! What the numbers say: one line per conclusion, each computed from the variants' typed
//! outcomes and counts.

use timing::fmt_rate;

use crate::measure::{Measured, Outcome, came_back};
use crate::task::TaskId;

/// The lesson's conclusions, from the variants that ran, in the order they ran.
pub fn verdicts(measured: &[Measured]) -> Vec<String> {
    let mut lines: Vec<String> = measured.iter().filter_map(order_verdict).collect();
    lines.extend(rate_verdict(measured));
    lines.extend(measured.iter().filter_map(outcome_verdict));
    let each_once = measured.iter().filter(|m| m.counts.each_once()).count();
    lines.push(format!(
        "accounting: every submitted task counted exactly once in {each_once} of {} variants",
        measured.len()
    ));
    lines
}

/// The order the uneven demo tasks came back in, which of all the tasks failed and why (the
/// first), and how many worker processes were replaced.
fn order_verdict(m: &Measured) -> Option<String> {
    let Outcome::AsCompleted {
        demo_order,
        failed,
        workers_replaced,
        ..
    } = &m.outcome
    else {
        return None;
    };
    let ids: Vec<TaskId> = failed.iter().map(|&(id, _)| id).collect();
    let why = failed
        .first()
        .map_or_else(String::new, |(id, err)| format!(" (task {id}: {err})"));
    Some(format!(
        "{}: uneven tasks submitted 0..7 {}{why}",
        m.row.variant,
        came_back(demo_order, &ids, *workers_replaced)
    ))
}

/// The rates of trivial tasks through threads and through processes, when both ran.
fn rate_verdict(measured: &[Measured]) -> Option<String> {
    let find = |window: bool| {
        measured.iter().find_map(|m| match m.outcome {
            Outcome::AsCompleted { window: w, .. } if w.is_some() == window => Some((m, w)),
            _ => None,
        })
    };
    let ((threads, _), (processes, window)) = (find(false)?, find(true)?);
    let (t, p) = (threads.row.per_s, processes.row.per_s);
    Some(format!(
        "submit + as_completed of trivial tasks: threads {}, processes {} (threads/processes = \
         {:.2}; a process task crosses two pipes, {} per worker in flight)",
        fmt_rate(t),
        fmt_rate(p),
        t / p.max(f64::MIN_POSITIVE),
        window.unwrap_or(1)
    ))
}

/// What the errors, timeout, cancel and priority variants showed, each from its own counts.
fn outcome_verdict(m: &Measured) -> Option<String> {
    let c = &m.counts;
    Some(match &m.outcome {
        Outcome::AsCompleted { .. } => return None,
        Outcome::Errors => format!(
            "errors: {} of {} tasks came back as Err (one returned it, one panicked); {} finished",
            c.failed, c.submitted, c.finished
        ),
        Outcome::Timeout { finished_late } => format!(
            "timeout: {} of {} not finished at the deadline, {finished_late} of those finished \
             later: a timeout stops the waiting, not the work",
            c.timed_out, c.submitted
        ),
        Outcome::Cancel => format!(
            "cancel: {} of {} tasks cancelled before they started; {} running ones finished",
            c.cancelled, c.submitted, c.finished
        ),
        Outcome::Priority {
            start_order,
            priorities,
        } => format!(
            "priority: queued tasks started in order {start_order:?} (priorities \
             {priorities:?}): the queue decides, as_completed only reports"
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use timing::{Mechanism, Row};

    use super::*;
    use crate::TaskError;
    use crate::measure::Counts;

    fn measured(variant: &str, outcome: Outcome, counts: Counts, millis: u64) -> Measured {
        let row = Row::new(crate::LESSON, variant)
            .mechanism(Mechanism::Threads)
            .items(1_000)
            .wall(Duration::from_millis(millis));
        Measured {
            row,
            counts,
            outcome,
        }
    }

    const ALL_FINISHED: Counts = Counts {
        submitted: 8,
        finished: 8,
        failed: 0,
        timed_out: 0,
        cancelled: 0,
        ids_unique: true,
    };

    #[test]
    fn verdicts_come_from_the_outcomes() {
        let threads = Outcome::AsCompleted {
            demo_order: vec![1, 0],
            window: None,
            failed: vec![],
            workers_replaced: 0,
        };
        let processes = Outcome::AsCompleted {
            demo_order: vec![0, 1],
            window: Some(64),
            failed: vec![],
            workers_replaced: 0,
        };
        let lost = Counts {
            finished: 6,
            cancelled: 1,
            ..ALL_FINISHED
        };
        let lines = verdicts(&[
            measured("threads-as-completed", threads, ALL_FINISHED, 10),
            measured("processes-as-completed", processes, ALL_FINISHED, 20),
            measured("cancel", Outcome::Cancel, lost, 1),
        ])
        .join("\n");
        assert!(
            lines.contains("threads-as-completed: uneven tasks submitted 0..7 finished [1, 0]")
        );
        assert!(lines.contains("threads/processes = 2.00;"), "{lines}");
        assert!(lines.contains("64 per worker in flight"), "{lines}");
        assert!(lines.contains("cancel: 1 of 8 tasks cancelled"), "{lines}");
        assert!(lines.contains("exactly once in 2 of 3 variants"), "{lines}");
    }

    #[test]
    fn a_failed_task_and_a_replaced_worker_are_in_the_verdict() {
        let lost = TaskError::WorkerLost("worker process 7 ended (SIGKILL)".into());
        let killed = Outcome::AsCompleted {
            demo_order: vec![0, 2, 1],
            window: Some(64),
            failed: vec![(0, lost)],
            workers_replaced: 1,
        };
        let counts = Counts {
            finished: 7,
            failed: 1,
            ..ALL_FINISHED
        };
        let lines = verdicts(&[measured("processes-as-completed", killed, counts, 1)]).join("\n");
        assert!(!lines.contains("finished [0"), "{lines}");
        let want = "processes-as-completed: uneven tasks submitted 0..7 came back [0, 2, 1]; \
                    failed: [0]; worker processes replaced: 1 (task 0: worker lost: worker \
                    process 7 ended (SIGKILL))";
        assert!(lines.contains(want), "{lines}");
    }

    #[test]
    fn only_the_variants_that_ran_get_a_verdict() {
        let lines = verdicts(&[measured("errors", Outcome::Errors, ALL_FINISHED, 1)]).join("\n");
        assert!(lines.contains("errors: 0 of 8"), "{lines}");
        assert!(!lines.contains("threads/processes"), "{lines}");
    }
}
