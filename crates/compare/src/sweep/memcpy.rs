//! The line for moving bytes between processes: how fast this machine copies a buffer too large
//! for its caches. A pipe copies each message twice (into the kernel and out), so it stays below
//! this line. A ring in shared memory that its messages are written into and read from in place,
//! never copied, and small enough to stay in cache, can pass it: the line then shows what not
//! copying is worth.

use std::time::Instant;

/// The buffer copied: large enough to miss every cache, so the figure is memory's, not L2's.
const BYTES: usize = 64 << 20;

/// This machine's memcpy bandwidth in MB/s, `times` copies of a 64 MiB buffer, one figure each.
pub fn probe(times: usize) -> Vec<f64> {
    let source = vec![1u8; BYTES];
    let mut target = vec![0u8; BYTES];
    // One copy first so the target's pages are faulted in before any copy is timed.
    target.copy_from_slice(&source);
    (0..times)
        .map(|_| {
            let start = Instant::now();
            target.copy_from_slice(std::hint::black_box(&source));
            std::hint::black_box(&target);
            BYTES as f64 / start.elapsed().as_secs_f64() / 1e6
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_probe_gives_one_positive_figure_a_copy() {
        let figures = super::probe(2);
        assert_eq!(figures.len(), 2);
        assert!(figures.iter().all(|f| *f > 10.0), "{figures:?}");
    }
}
