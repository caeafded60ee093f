//! Step 5: priority, where it really lives: in the line tasks wait in, not in `as_completed`.
//!
//! Since step 4: `submit_with_priority`. The waiting line of step 2 (`crate::plumbing::queue`)
//! keeps one first-in first-out line per priority level and hands out the highest level's
//! oldest task first, so the number given here decides what starts next. The tutorial says
//! `as_completed` gives "control over task priority"; it cannot: it only reports tasks as they
//! finish, and has no say in which starts. Priority matters only when more tasks wait than
//! workers are free: a task submitted to an idle worker starts at once, whatever its priority.

// ANCHOR: pattern
use super::s2_submit::Executor;
use crate::plumbing::queue::Queued;
use crate::task::Handle;

impl Executor {
    /// Queues `task`; when more tasks wait than workers are free, the highest `priority` starts
    /// first, and tasks of equal priority in submission order ([`submit`](Executor::submit)
    /// is priority 0).
    pub fn submit_with_priority(
        &mut self,
        priority: i32,
        task: impl FnOnce() -> Result<u64, String> + Send + 'static,
    ) -> Handle {
        let id = self.take_id();
        self.line.push(priority, Queued::new(id, task));
        Handle::new(id)
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskId;

    #[test]
    fn queued_tasks_start_highest_priority_first() {
        let mut ex = Executor::new(1).unwrap();
        // Hold the only worker until every prioritised task is queued.
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        let blocker = ex.submit(move || {
            started_tx.send(()).map_err(|e| e.to_string())?;
            Ok(u64::from(gate_rx.recv().is_err()))
        });
        started_rx.recv().unwrap();
        let handles: Vec<Handle> = [1, 5, 3]
            .into_iter()
            .map(|p| ex.submit_with_priority(p, move || Ok(0)))
            .collect();
        drop(gate_tx);
        let mut ranked: Vec<(u64, TaskId)> = ex
            .as_completed(handles)
            .map(|c| (c.start_rank.unwrap(), c.id))
            .collect();
        ranked.sort_unstable();
        let ids: Vec<TaskId> = ranked.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(ex.as_completed(vec![blocker]).count(), 1);
    }
}
