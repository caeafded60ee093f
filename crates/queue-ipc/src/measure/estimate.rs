//! Long runs speak: before anything runs, each selected variant's length is estimated from a
//! pilot of its own step code ([`super::pilot`]), and a run past ten minutes is refused (exit 2,
//! with the size that would fit), one past three seconds announced on stderr. A run at most
//! [`SHORT`] times its pilot's size is short on any machine and gets no pilot.

use std::time::Duration;

use timing::{REFUSE_AFTER, extrapolate, fmt_count};

use super::pilot::{
    PILOT_BYTES, PILOT_INCREMENTS, PILOT_LOCKED_INCREMENTS, PILOT_MESSAGES, channel_pilot,
    count_pilot, fastest, pipe_pilot, ring_pilot,
};
use super::{Sizes, Variant};
use crate::steps::s2_pipe::HEAD;
use crate::steps::s3_frame_buffers::PREFIX;

/// A run at most this many times its pilot's size needs no estimate.
const SHORT: u64 = 10;

/// Announces or refuses each of `variants` at `sizes` by its estimated length.
pub fn check_lengths(variants: &[Variant], sizes: Sizes) -> anyhow::Result<()> {
    for &variant in variants {
        let estimate = match variant {
            // At most 1 GiB, written once and read once: seconds, never minutes.
            Variant::ShmArray => None,
            Variant::ShmCounterLocked | Variant::ShmCounter => counter_estimate(variant, sizes)?,
            _ => stream_estimate(variant, sizes)?,
        };
        if let Some((what, estimate, instead)) = estimate {
            timing::check_duration(&what, estimate, &instead)?;
        }
    }
    Ok(())
}

/// What a run is, how long it should take, and what to pass instead.
type Estimate = (String, Duration, String);

/// A counter's estimate from step 5's or 6's loop on a few threads; `None` for a short run.
fn counter_estimate(variant: Variant, sizes: Sizes) -> anyhow::Result<Option<Estimate>> {
    let (children, increments) = (sizes.children, sizes.increments);
    let threads = children.min(timing::cores()).max(1);
    let total = children as u64 * increments;
    let locked = variant == Variant::ShmCounterLocked;
    let each = if locked {
        PILOT_LOCKED_INCREMENTS
    } else {
        PILOT_INCREMENTS
    };
    let pilot = threads as u64 * each;
    if total <= SHORT * pilot {
        return Ok(None);
    }
    let took = fastest(|| count_pilot(locked, threads, each))?;
    let estimate = extrapolate(pilot, took, total);
    let (k, n) = (fmt_count(children as u64), fmt_count(increments));
    let what = format!("{} with {k} processes × {n} increments", variant.name());
    let fits = fitting(increments, estimate);
    let instead = format!("pass --increments {fits} or less, or fewer --workers");
    Ok(Some((what, estimate, instead)))
}

/// A stream's estimate from its child's loop on a thread; `None` for a short run.
fn stream_estimate(variant: Variant, sizes: Sizes) -> anyhow::Result<Option<Estimate>> {
    let (messages, bytes) = (sizes.messages, sizes.bytes);
    let pilot = match variant {
        Variant::IpcChannel => (PILOT_BYTES / (HEAD + bytes)).clamp(1, PILOT_MESSAGES as usize),
        _ => (PILOT_BYTES / (PREFIX + HEAD + bytes)).clamp(1, 20_000),
    } as u64;
    if messages <= SHORT * pilot {
        return Ok(None);
    }
    let took = fastest(|| match variant {
        Variant::IpcChannel => channel_pilot(pilot, bytes),
        Variant::ShmRing => ring_pilot(pilot, bytes),
        _ => pipe_pilot(variant, pilot, bytes),
    })?;
    let estimate = extrapolate(pilot, took, messages);
    let what = format!("{} with {} messages", variant.name(), fmt_count(messages));
    let instead = format!("pass --messages {} or less", fitting(messages, estimate));
    Ok(Some((what, estimate, instead)))
}

/// The largest size that would fit in the time allowed at the estimated rate, rounded down to
/// two significant digits (at least 1).
fn fitting(size: u64, estimate: Duration) -> String {
    let ratio = REFUSE_AFTER.as_secs_f64() / estimate.as_secs_f64().max(1e-9);
    let fits = (size as f64 * ratio) as u64;
    let mut scale = 1;
    while fits / scale >= 100 {
        scale *= 10;
    }
    fmt_count((fits / scale * scale).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        messages: 100_000_000,
        bytes: 64,
        increments: 1_000_000_000,
        children: 1024,
        elements: 1 << 27,
    };

    #[test]
    fn absurd_sizes_get_estimates_past_the_limit_and_small_ones_none() -> anyhow::Result<()> {
        let (what, long, instead) = counter_estimate(Variant::ShmCounter, SIZES)?.expect("long");
        assert!(long > REFUSE_AFTER, "{what}: {long:?}");
        assert!(instead.starts_with("pass --increments "), "{instead}");
        let small = Sizes {
            messages: 100,
            increments: 100,
            children: 2,
            ..SIZES
        };
        assert!(counter_estimate(Variant::ShmCounterLocked, small)?.is_none());
        assert!(counter_estimate(Variant::ShmCounterLocked, SIZES)?.is_some());
        for variant in [
            Variant::IpcChannel,
            Variant::Pipe,
            Variant::PipeTuned,
            Variant::ShmRing,
        ] {
            assert!(stream_estimate(variant, small)?.is_none());
            let (_, took, _) = stream_estimate(variant, SIZES)?.expect("a long run");
            assert!(took > Duration::ZERO);
        }
        Ok(())
    }

    #[test]
    fn what_fits_is_rounded_down_to_two_digits() {
        assert_eq!(fitting(1_000_000, REFUSE_AFTER * 3), "330 000");
        assert_eq!(fitting(10, REFUSE_AFTER * 1000), "1");
    }
}
