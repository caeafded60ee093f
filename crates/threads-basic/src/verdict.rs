//! The lesson's verdict on the I/O rows, computed from their numbers.

use timing::Row;

/// The lesson's verdict on the I/O rows, each line computed from the rows' numbers: how the
/// sequential run compares with the time it spent waiting (`requests x delay`), and the speedup
/// of `io-thread-per-request` and `io-pool` over `io-sequential`, beside the ideal for the number
/// of requests that row had in flight (`requests / ceil(requests / in_flight)`).
pub fn speedup_verdicts(rows: &[Row]) -> Vec<String> {
    let Some(sequential) = rows.iter().find(|r| r.variant == "io-sequential") else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if let Some(delay_ms) = sequential.extra.get("delay_ms").and_then(|v| v.as_u64()) {
        let waiting_s = sequential.items as f64 * delay_ms as f64 / 1e3;
        lines.push(format!(
            "io-sequential: {:.2} s, of which {:.2} s waiting ({} requests x {} ms, one at a time)",
            sequential.wall_s, waiting_s, sequential.items, delay_ms
        ));
    }
    let threaded = rows
        .iter()
        .filter(|r| r.variant == "io-thread-per-request" || r.variant == "io-pool")
        .filter(|r| r.wall_s > 0.0 && r.workers > 0);
    for r in threaded {
        let rounds = r.items.div_ceil(r.workers as u64).max(1);
        let ideal = r.items as f64 / rounds as f64;
        lines.push(format!(
            "{}: {:.1}x faster than io-sequential (ideal {:.1}x: {} requests in flight, {} round{} of waiting)",
            r.variant,
            sequential.wall_s / r.wall_s,
            ideal,
            r.workers,
            rounds,
            if rounds == 1 { "" } else { "s" }
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::LESSON;

    #[test]
    fn verdict_is_computed_from_the_rows() {
        let row = |variant: &str, workers, millis| {
            Row::new(LESSON, variant)
                .workers(workers)
                .items(20)
                .wall(Duration::from_millis(millis))
        };
        let rows = [
            row("io-sequential", 1, 1000).extra("delay_ms", 45),
            row("io-thread-per-request", 20, 100),
            row("io-pool", 8, 200),
        ];
        let lines = speedup_verdicts(&rows);
        let want = [
            "io-sequential: 1.00 s, of which 0.90 s waiting (20 requests x 45 ms, one at a time)",
            "io-thread-per-request: 10.0x faster than io-sequential (ideal 20.0x: 20 requests in flight, 1 round of waiting)",
            "io-pool: 5.0x faster than io-sequential (ideal 6.7x: 8 requests in flight, 3 rounds of waiting)",
        ];
        assert_eq!(lines, want);
        assert!(speedup_verdicts(&rows[1..]).is_empty());
    }
}
