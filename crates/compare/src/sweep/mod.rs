//! `sweep`: each lesson over the size that matters (threads, chunk size, message size, tasks),
//! its Rust binary beside its Python twin at the same points, a few runs a point.
//!
//! A lesson's [`Spec`] names the flag swept, the points, each side's arguments at a point and the
//! series drawn: a variant of one side and what of its row is read ([`Y`]). [`run`] runs the
//! points and keeps the median with the least and most of each series' figure ([`stats`]);
//! [`record`] writes them one JSON object a point; [`svg`] draws a lesson's curves and [`words`]
//! says where each bends, from the figures. A point any of whose rows is wrong (and not broken on
//! purpose, as [`crate::as_expected`] says) fails the run.

pub mod against;
pub mod bend;
pub mod ceiling;
pub mod child;
pub mod crossing;
pub mod kept;
pub mod legend;
pub mod load;
pub mod memcpy;
pub mod pages;
pub mod read;
pub mod record;
pub mod run;
pub mod specs;
pub mod stats;
pub mod stops;
pub mod svg;
pub mod words;

/// Which side a series or a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// The lesson's binary.
    Rust,
    /// The twin under `examples/python/`.
    Python,
    /// The machine's own limit (ideal speedup, memcpy bandwidth, one delay), no program's.
    Machine,
}

impl Lang {
    /// The name written into each point.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Machine => "machine",
        }
    }
}

/// What a series reads from its variant's row at a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Y {
    /// `per_s`, the row's own rate.
    PerS,
    /// `expected - result`: the updates a racy variant lost.
    Lost,
    /// `per_s` over the same side's `sequential` row at the same point.
    Speedup,
    /// `wall_s / items`, in nanoseconds.
    PerItemNs,
    /// `per_s × x / 1e6`: messages a second times the bytes each carries (x), in MB/s.
    MegabytesPerS,
    /// `wall_s`.
    WallS,
    /// The peak resident set of the child that printed the row, from `wait4`, in MiB: the
    /// variant's own when its invocation runs it alone.
    PeakRssMib,
    /// `p99_ns` in milliseconds: a latency's 99th percentile (the heartbeat's, in async-mixed).
    P99Ms,
    /// The broker's main-thread CPU time (`INFO cpu`) over the row's invocation, per item, in µs.
    /// The invocation's start and clean-up are counted too, so this is what a job cost at most.
    BrokerCpuUs,
    /// The broker's main-thread CPU time over the row's `wall_s`, in percent: near 100 the one
    /// thread Redis runs commands on is the limit. The CPU covers the whole invocation and
    /// `wall_s` its timed part, so this is at most how busy it was.
    BrokerBusyPct,
    /// The jobs a second the broker's one thread could serve at the CPU it spent a job in the
    /// row's run, `items / CPU seconds`, in `per_s`'s panel: the ceiling of that queue on it.
    BrokerCeilingPerS,
}

impl Y {
    /// Every figure a series may read.
    pub const ALL: [Y; 11] = [
        Y::PerS,
        Y::Lost,
        Y::Speedup,
        Y::PerItemNs,
        Y::MegabytesPerS,
        Y::WallS,
        Y::PeakRssMib,
        Y::P99Ms,
        Y::BrokerCpuUs,
        Y::BrokerBusyPct,
        Y::BrokerCeilingPerS,
    ];

    /// The `y_name` written into each point.
    pub fn name(self) -> &'static str {
        match self {
            Y::PerS => "per_s",
            Y::Lost => "lost",
            Y::Speedup => "speedup",
            Y::PerItemNs => "per_item_ns",
            Y::MegabytesPerS => "mb_per_s",
            Y::WallS => "wall_s",
            Y::PeakRssMib => "peak_rss_mib",
            Y::P99Ms => "p99_ms",
            Y::BrokerCpuUs => "broker_cpu_us_per_job",
            Y::BrokerBusyPct => "broker_busy_pct",
            // Drawn and tabled beside the rates it bounds.
            Y::BrokerCeilingPerS => "per_s",
        }
    }
}

/// One line of a lesson's chart: a variant of one side, and what of its row is read.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    /// The legend's name, e.g. "Rust mutex".
    pub name: &'static str,
    /// Whose row it reads.
    pub lang: Lang,
    /// The row's `variant`.
    pub variant: &'static str,
    /// What is read.
    pub y: Y,
    /// The largest x the variant runs at: past it the spec's invocations leave it out, and the
    /// series has no point there.
    pub upto: u64,
    /// Why it stops there.
    pub cap: Cap,
}

/// Why a series stops short of a sweep's largest point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// It does not.
    None,
    /// The machine gives no more threads (process IDs, memory maps).
    Machine,
    /// Past it one run takes longer than the sweep's ten minutes can hold.
    Time,
}

impl Series {
    /// The same series, run up to `x` and no further, for `cap`.
    pub const fn upto(self, x: u64, cap: Cap) -> Series {
        Series {
            upto: x,
            cap,
            ..self
        }
    }

    /// Whether the series has a point at `x`.
    pub fn runs_at(&self, x: u64) -> bool {
        x <= self.upto
    }
}

/// The machine's own limit for a lesson's figure, drawn dashed where one exists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// None worth drawing.
    None,
    /// Ideal speedup: `min(x, cores)`.
    Cores,
    /// This machine's memcpy bandwidth for a buffer past its caches, measured in the same run, in
    /// MB/s.
    Memcpy,
    /// The run can take no less than one delay of this many seconds.
    OneDelay(f64),
    /// The broker's jobs a second at most, from `redis-benchmark` in the same run.
    Broker,
    /// The length of one CPU step, x itself, in milliseconds: the least a heartbeat waits behind
    /// a step run on its thread.
    StepLength,
}

/// One lesson's sweep.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The Rust binary, which is also the lesson's name.
    pub lesson: &'static str,
    /// The chart's name (`docs/sweeps/<chart>.svg`): the lesson's, or for a lesson's second
    /// sweep the lesson's with what it sweeps.
    pub chart: &'static str,
    /// The twin, under `examples/python/`.
    pub script: &'static str,
    /// The flag swept, without its dashes (`workers`, `chunk`, `bytes`).
    pub x_name: &'static str,
    /// The points of a full run.
    pub full: &'static [u64],
    /// The points of `--quick`.
    pub quick: &'static [u64],
    /// The Rust side's invocations at a point, each its arguments (besides `--json`): more than
    /// one where two variants need sizes of their own. Their rows are read as one run's.
    pub rust_args: fn(u64) -> Vec<Vec<String>>,
    /// The Python side's invocations at a point, as for Rust; none for a lesson swept in Rust
    /// alone.
    pub python_args: fn(u64) -> Vec<Vec<String>>,
    /// The lines drawn; their `y` names the chart's panels.
    pub series: &'static [Series],
    /// The limit drawn beside the series of the first panel.
    pub limit: Limit,
    /// The series the limit bounds, by name; all of the first panel's when empty.
    pub limit_for: &'static [&'static str],
    /// About how long one run of both sides takes at a point, in seconds, for the estimate.
    pub seconds: fn(u64) -> f64,
    /// Whether the lesson needs a Redis broker: one is found or started for it, its URL stands
    /// for [`BROKER`] in the arguments, and the twin runs with the Celery environment's Python.
    pub needs_redis: bool,
}

/// The argument that stands for the broker's URL in a spec's arguments.
pub const BROKER: &str = "{broker}";

impl Spec {
    /// The points of this run.
    pub fn points(&self, quick: bool) -> &'static [u64] {
        if quick { self.quick } else { self.full }
    }

    /// The figures read, in the order the series first name them: one chart panel each.
    pub fn y_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for s in self.series {
            if !names.contains(&s.y.name()) {
                names.push(s.y.name());
            }
        }
        names
    }

    /// The estimated seconds of this lesson's sweep with `runs` runs a point.
    pub fn estimate(&self, quick: bool, runs: usize) -> f64 {
        self.points(quick)
            .iter()
            .map(|&x| (self.seconds)(x) * runs as f64)
            .sum()
    }
}
