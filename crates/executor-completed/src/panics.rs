//! What a task's panic looks like when it happens on an executor worker (where it is caught):
//! a one-line report instead of the default hook's backtrace. Its message comes from
//! `reaper::panic_message`.

use crate::threads::WORKER_NAME;

/// Replaces the panic message of a task on an executor worker with one line (no backtrace, even
/// with `RUST_BACKTRACE` set): such a panic is caught and becomes the task's `Err`, so it is news,
/// not a crash. Panics anywhere else still go to the default hook.
pub fn brief_task_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread
            .name()
            .is_some_and(|name| name.starts_with(WORKER_NAME))
        {
            let place = info.location().map(ToString::to_string).unwrap_or_default();
            let msg = info.payload_as_str().unwrap_or(reaper::NO_MESSAGE);
            eprintln!(
                "note: a task panicked at {place}: {msg} (caught: it becomes the task's Err)"
            );
        } else {
            default(info);
        }
    }));
}
