//! A panic payload in words.

use std::any::Any;

/// What [`panic_message`] says for a payload that is not text (`std::panic::panic_any(3)`).
pub const NO_MESSAGE: &str = "a panic without a message";

/// The text of a panic: `panic!("literal")` carries a `&str`, a formatted `panic!` a `String`;
/// anything else (`panic_any`) gives [`NO_MESSAGE`]. Pass the payload of a failed
/// `JoinHandle::join` or `catch_unwind` as `&*payload`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        NO_MESSAGE.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_str_string_and_other_panics() {
        let payload = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(&*payload), "plain");
        let payload = std::panic::catch_unwind(|| panic!("formatted {}", 7)).unwrap_err();
        assert_eq!(panic_message(&*payload), "formatted 7");
        let payload = std::panic::catch_unwind(|| std::panic::panic_any(3_u8)).unwrap_err();
        assert_eq!(panic_message(&*payload), NO_MESSAGE);
    }
}
