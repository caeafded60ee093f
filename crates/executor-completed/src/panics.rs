//! What a task's panic looks like: its message, and a one-line report instead of the default
//! hook's backtrace when it happens on an executor worker (where it is caught).

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
            let msg = info.payload_as_str().unwrap_or("a panic without a message");
            eprintln!(
                "note: a task panicked at {place}: {msg} (caught: it becomes the task's Err)"
            );
        } else {
            default(info);
        }
    }));
}

/// The text of a panic (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_str_and_string_panics() {
        let payload = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "plain");
        let payload = std::panic::catch_unwind(|| panic!("formatted {}", 7)).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "formatted 7");
        let payload = std::panic::catch_unwind(|| std::panic::panic_any(3_u8)).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "a panic without a message");
    }
}
