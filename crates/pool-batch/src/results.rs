//! What both pools do with each item's result: a panic caught and turned into that item's
//! error, and answers that arrive in any order put back in input order.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::pool::TaskError;

/// Runs one task, turning a panic into an error for this item.
pub(crate) fn run_caught<T, R>(f: &(impl Fn(T) -> R + ?Sized), item: T) -> Result<R, TaskError> {
    // `AssertUnwindSafe`: after a panic we never look at the item or any state the task may
    // have left half-updated; only the panic message survives, so nothing broken is observed.
    catch_unwind(AssertUnwindSafe(|| f(item)))
        .map_err(|payload| TaskError::Panicked(message(&*payload)))
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Puts `(start, results)` messages back in input order; a slot never answered is `Lost`.
pub(crate) fn in_order<R, A>(
    n: usize,
    answers: impl IntoIterator<Item = (usize, A)>,
) -> Vec<Result<R, TaskError>>
where
    A: IntoIterator<Item = Result<R, TaskError>>,
{
    let mut slots: Vec<Option<Result<R, TaskError>>> = (0..n).map(|_| None).collect();
    for (start, results) in answers {
        for (slot, result) in slots[start..].iter_mut().zip(results) {
            *slot = Some(result);
        }
    }
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or(Err(TaskError::Lost)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_back_in_place_and_gaps_are_lost() {
        let answers = [(3, vec![Ok(30), Ok(40)]), (0, vec![Ok(0), Ok(10)])];
        let out: Vec<Result<u32, TaskError>> = in_order(6, answers);
        let want = [
            Ok(0),
            Ok(10),
            Err(TaskError::Lost),
            Ok(30),
            Ok(40),
            Err(TaskError::Lost),
        ];
        assert_eq!(out, want);
    }

    #[test]
    fn a_panic_becomes_the_items_error() {
        let f = |x: u8| if x == 0 { panic!("zero") } else { x };
        assert_eq!(run_caught(&f, 0), Err(TaskError::Panicked("zero".into())));
        assert_eq!(run_caught(&f, 2), Ok(2));
    }
}
