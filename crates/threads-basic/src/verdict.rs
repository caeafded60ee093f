//! What the numbers say: one line per conclusion, each computed from the steps' typed outcomes.

use timing::{fmt_count, fmt_duration};

use crate::measure::{Fetches, Measured, Outcome};
use crate::steps::s5_control::{PAUSE, PAUSE_AT, UNITS};

/// The lesson's conclusions, each computed from the steps that ran.
pub fn verdicts(measured: &[Measured]) -> Vec<String> {
    let mut lines = speedup_verdicts(measured);
    lines.extend(measured.iter().filter_map(control_verdict));
    lines.extend(measured.iter().filter_map(idle_verdict));
    lines
}

/// How the sequential run compares with the time it spent waiting (`requests x delay`), and the
/// speedup of `io-thread-per-request` and `io-pool` over `io-sequential`, beside the ideal for
/// the number of requests that row had in flight (`requests / ceil(requests / in_flight)`).
fn speedup_verdicts(measured: &[Measured]) -> Vec<String> {
    fn io(m: &Measured) -> Option<(&str, f64, Fetches)> {
        match m.outcome {
            Outcome::Io(fetches) => Some((m.row.variant.as_str(), m.row.wall_s, fetches)),
            _ => None,
        }
    }
    let Some((_, sequential_s, sequential)) = measured
        .iter()
        .filter_map(io)
        .find(|(v, ..)| *v == "io-sequential")
    else {
        return Vec::new();
    };
    let Fetches {
        requests, delay, ..
    } = sequential;
    let mut lines = vec![format!(
        "io-sequential: {:.2} s, of which {:.2} s waiting ({requests} requests x {} ms, one at a time)",
        sequential_s,
        delay.as_secs_f64() * requests as f64,
        delay.as_millis()
    )];
    let threaded = measured.iter().filter_map(io);
    for (variant, wall_s, f) in threaded.filter(|(v, ..)| *v != "io-sequential") {
        if wall_s <= 0.0 || f.in_flight == 0 {
            continue;
        }
        let rounds = f.requests.div_ceil(f.in_flight as u64).max(1);
        lines.push(format!(
            "{variant}: {:.1}x faster than io-sequential (ideal {:.1}x: {} requests in flight, {rounds} round{} of waiting)",
            sequential_s / wall_s,
            f.requests as f64 / rounds as f64,
            f.in_flight,
            if rounds == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// What pausing, resuming and stopping the worker showed.
fn control_verdict(m: &Measured) -> Option<String> {
    let Outcome::Control(c) = m.outcome else {
        return None;
    };
    let Some(units) = c.returned else {
        return Some("control: the worker did not return after the stop: WRONG".into());
    };
    let as_told = c.paused_at == PAUSE_AT && c.while_paused == 0 && units == UNITS;
    Some(format!(
        "control: the worker paused at unit {} (told {}), did {} units in {} paused, and ended \
         {} after the stop, having done {} of {} units{}",
        fmt_count(c.paused_at),
        fmt_count(PAUSE_AT),
        fmt_count(c.while_paused),
        fmt_duration(PAUSE),
        fmt_duration(c.stop_took),
        fmt_count(units),
        fmt_count(UNITS),
        if as_told { "" } else { ": WRONG" }
    ))
}

/// What holding the idle threads cost: resident memory against reserved address space.
fn idle_verdict(m: &Measured) -> Option<String> {
    let Outcome::Idle(idle) = m.outcome else {
        return None;
    };
    let all = idle.alive_at_once == idle.threads;
    Some(format!(
        "idle-threads: {} of {} threads alive at once, {} KiB resident and {} KiB of address \
         space each (a stack is reserved whole, resident only where touched){}",
        fmt_count(idle.alive_at_once),
        fmt_count(idle.threads),
        fmt_count(idle.rss_kib_each()),
        fmt_count(idle.size_kib_each()),
        if all { "" } else { ": WRONG" }
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use timing::Row;

    use super::*;
    use crate::steps::s5_control::Controlled;

    fn io(variant: &str, in_flight: usize, millis: u64) -> Measured {
        Measured {
            row: Row::new(crate::LESSON, variant)
                .workers(in_flight)
                .items(20)
                .wall(Duration::from_millis(millis)),
            outcome: Outcome::Io(Fetches {
                requests: 20,
                delay: Duration::from_millis(45),
                in_flight,
                whole: 20,
            }),
        }
    }

    #[test]
    fn speedups_are_computed_from_the_rows() {
        let measured = [
            io("io-sequential", 1, 1000),
            io("io-thread-per-request", 20, 100),
            io("io-pool", 8, 200),
        ];
        let want = [
            "io-sequential: 1.00 s, of which 0.90 s waiting (20 requests x 45 ms, one at a time)",
            "io-thread-per-request: 10.0x faster than io-sequential (ideal 20.0x: 20 requests in flight, 1 round of waiting)",
            "io-pool: 5.0x faster than io-sequential (ideal 6.7x: 8 requests in flight, 3 rounds of waiting)",
        ];
        assert_eq!(verdicts(&measured), want);
        assert!(verdicts(&measured[1..]).is_empty());
    }

    #[test]
    fn the_control_verdict_says_what_the_worker_did() {
        let controlled = |while_paused, returned| Measured {
            row: Row::new(crate::LESSON, "control"),
            outcome: Outcome::Control(Controlled {
                parked: true,
                paused_at: PAUSE_AT,
                while_paused,
                finished: true,
                returned,
                published: UNITS,
                stop_took: Duration::from_micros(80),
            }),
        };
        let good = verdicts(&[controlled(0, Some(UNITS))]).join("\n");
        assert!(
            good.starts_with("control: the worker paused at unit 500 (told 500), did 0 units"),
            "{good}"
        );
        assert!(!good.contains("WRONG"), "{good}");
        assert!(verdicts(&[controlled(3, Some(UNITS))])[0].ends_with("WRONG"));
        assert!(verdicts(&[controlled(0, None)])[0].contains("did not return"));
    }

    #[test]
    fn the_idle_verdict_divides_by_the_threads() {
        use crate::measure::{IdleThreads, Memory};
        let idle = |alive_at_once| Measured {
            row: Row::new(crate::LESSON, "idle-threads"),
            outcome: Outcome::Idle(IdleThreads {
                threads: 1_000,
                alive_at_once,
                base: Memory {
                    rss_kib: 2_000,
                    size_kib: 10_000,
                },
                alive: Memory {
                    rss_kib: 14_500,
                    size_kib: 2_070_000,
                },
                peak_rss_kib: 14_600,
            }),
        };
        assert_eq!(
            verdicts(&[idle(1_000)]),
            [
                "idle-threads: 1 000 of 1 000 threads alive at once, 12 KiB resident and 2 060 KiB \
              of address space each (a stack is reserved whole, resident only where touched)"
            ]
        );
        assert!(verdicts(&[idle(999)])[0].ends_with("WRONG"));
    }
}
