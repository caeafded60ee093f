//! The work the pools do: the tutorial's `square` and `sqrt`, a heavier `work` task, and the
//! independent answers every variant is checked against.
//!
//! Tasks are named (an enum), not closures, because a closure cannot cross a process boundary:
//! the process pool sends the task's *name* and its arguments to the workers, which is also
//! what Python's `Pool.map` does (it pickles a reference to a module-level function).

const LCG_A: u64 = 6_364_136_223_846_793_005;
const LCG_C: u64 = 1_442_695_040_888_963_407;

/// Which function every item goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `x * x`, the tutorial's `square` (items stay below 3 million, so it cannot overflow).
    Square,
    /// The integer part of `sqrt(x)`, the tutorial's `math.sqrt`. We keep the integer part so
    /// that the sum over all items has an exact closed form to check against; below 2^52 the
    /// correctly rounded `f64` square root never rounds up across an integer.
    Sqrt,
    /// `rounds` steps of a multiplicative hash seeded by `x`: a task heavy enough that dispatch
    /// cost stops mattering (`--task work --work ROUNDS`).
    Work {
        /// Hash steps per item.
        rounds: u32,
    },
}

impl Task {
    /// The task's result for item `x`.
    pub fn apply(self, x: u64) -> u64 {
        match self {
            Task::Square => x * x,
            Task::Sqrt => (x as f64).sqrt() as u64,
            Task::Work { rounds } => {
                let mut h = x;
                for _ in 0..rounds {
                    // Knuth's MMIX LCG: each step depends on the last, so the loop can be
                    // neither vectorised nor folded into a closed form by the optimiser.
                    h = h.wrapping_mul(LCG_A).wrapping_add(LCG_C);
                }
                // 32 bits per item keep the checksum readable; it is summed with wrapping.
                h >> 32
            }
        }
    }

    /// The name `--task` and the worker processes use.
    pub fn name(self) -> &'static str {
        match self {
            Task::Square => "square",
            Task::Sqrt => "sqrt",
            Task::Work { .. } => "work",
        }
    }
}

/// A task plus the fault a test may inject: the item whose task panics. The steps never see
/// it: they are handed `move |x| job.run(x)` like any other function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// The function applied to every item.
    pub task: Task,
    /// When set, the task for this item panics (hidden `--panic-at N`), to show that a panic
    /// becomes an `Err` for that one item and the pool keeps working.
    pub panic_at: Option<u64>,
}

impl Job {
    /// A job without injected faults.
    pub fn new(task: Task) -> Self {
        Self {
            task,
            panic_at: None,
        }
    }

    /// Runs the task on `x`, panicking if `x` is the injected fault.
    pub fn run(&self, x: u64) -> u64 {
        if self.panic_at == Some(x) {
            panic!("{INJECTED} {x}");
        }
        self.task.apply(x)
    }

    /// Has the injected panic say one line on stderr, naming itself as expected, instead of
    /// the default hook's message and backtrace note; any other panic still gets the default.
    pub fn quiet_injected_panics(&self) {
        if self.panic_at.is_none() {
            return;
        }
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            match info.payload_as_str().filter(|m| m.starts_with(INJECTED)) {
                Some(message) => eprintln!("pool-batch: {message} (--panic-at), as expected"),
                None => default(info),
            }
        }));
    }
}

/// How the injected panic's message begins.
const INJECTED: &str = "injected panic at item";

/// The items every variant maps over: `1..=n`, as the tutorial's `range`.
pub fn items(n: u64) -> Vec<u64> {
    (1..=n).collect()
}

/// The sum of `task` over `1..=n`, less the items in `failed`, computed without any pool: a
/// closed form for `square` and `sqrt`, the LCG's jump-ahead ([`answer`]) for `work`.
pub fn expected_sum(task: Task, n: u64, failed: &[u64]) -> u64 {
    let n128 = u128::from(n);
    let whole: u128 = match task {
        // 1² + 2² + ... + n² = n(n+1)(2n+1)/6.
        Task::Square => n128 * (n128 + 1) * (2 * n128 + 1) / 6,
        // floor(sqrt(k)) equals j for the 2j+1 values k in j²..(j+1)², so with m = isqrt(n):
        // sum = Σ_{j<m} j(2j+1) + m(n - m² + 1), and Σ j(2j+1) = 2·Σj² + Σj.
        Task::Sqrt => {
            let m = u128::from(n.isqrt());
            let k = m - 1;
            let squares = k * (k + 1) * (2 * k + 1) / 6;
            let ones = k * (k + 1) / 2;
            2 * squares + ones + m * (n128 - m * m + 1)
        }
        Task::Work { .. } => (1..=n)
            .map(answer(task))
            .fold(0u64, u64::wrapping_add)
            .into(),
    };
    let right = answer(task);
    let lost = failed
        .iter()
        .filter(|&&x| (1..=n).contains(&x))
        .fold(0u128, |acc, &x| acc + u128::from(right(x)));
    // `work` sums with wrapping, so its checksum is taken modulo 2^64 like the pools'.
    (whole.wrapping_sub(lost) % (1u128 << 64)) as u64
}

/// Each item's right answer, computed apart from the task's own loop where that loop is the
/// costly part: `rounds` LCG steps compose into one affine map `h -> A·h + C` (mod 2^64), and
/// computing `A` and `C` by repeated squaring ("jump ahead") gives each `work` item's result in
/// O(1), by a different method than the task's, so the check is independent of it.
pub fn answer(task: Task) -> impl Fn(u64) -> u64 {
    let (a, c) = match task {
        Task::Work { rounds } => jump(rounds),
        Task::Square | Task::Sqrt => (1, 0),
    };
    move |x| match task {
        Task::Work { .. } => a.wrapping_mul(x).wrapping_add(c) >> 32,
        Task::Square | Task::Sqrt => task.apply(x),
    }
}

/// The affine map `(A, C)` equal to `rounds` LCG steps: `h -> A·h + C`.
fn jump(rounds: u32) -> (u64, u64) {
    // (a, c) is the map for the current power-of-two run of steps; (acc_a, acc_c) what we have.
    let (mut a, mut c, mut acc_a, mut acc_c) = (LCG_A, LCG_C, 1u64, 0u64);
    let mut k = rounds;
    while k > 0 {
        if k & 1 == 1 {
            // Apply the run after what we have: A·(acc_a·h + acc_c) + C.
            acc_a = a.wrapping_mul(acc_a);
            acc_c = a.wrapping_mul(acc_c).wrapping_add(c);
        }
        // Square the run: doing it twice is A·(A·h + C) + C.
        c = a.wrapping_mul(c).wrapping_add(c);
        a = a.wrapping_mul(a);
        k >>= 1;
    }
    (acc_a, acc_c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(task: Task, n: u64) -> u64 {
        (1..=n).map(|x| task.apply(x)).fold(0, u64::wrapping_add)
    }

    #[test]
    fn closed_forms_match_a_plain_loop() {
        for n in [1, 2, 3, 4, 8, 9, 10, 99, 100, 101, 1000, 12_345] {
            assert_eq!(expected_sum(Task::Square, n, &[]), brute(Task::Square, n));
            assert_eq!(expected_sum(Task::Sqrt, n, &[]), brute(Task::Sqrt, n));
        }
        assert_eq!(expected_sum(Task::Square, 3, &[]), 14);
        assert_eq!(expected_sum(Task::Sqrt, 10, &[]), 1 + 1 + 1 + 2 * 5 + 3 * 2);
        for rounds in [1, 2, 3, 7, 1000, 1001] {
            let work = Task::Work { rounds };
            assert_eq!(expected_sum(work, 500, &[]), brute(work, 500));
        }
    }

    #[test]
    fn each_items_answer_matches_the_task() {
        for task in [Task::Square, Task::Sqrt, Task::Work { rounds: 77 }] {
            let right = answer(task);
            assert!((1..300).all(|x| right(x) == task.apply(x)), "{task:?}");
        }
    }

    #[test]
    fn failed_items_are_left_out() {
        assert_eq!(expected_sum(Task::Square, 3, &[2]), 10);
        assert_eq!(expected_sum(Task::Square, 3, &[7]), 14);
    }

    #[test]
    fn sqrt_never_rounds_up_near_squares() {
        for m in [2u64, 1000, 1 << 20, 1_732_050] {
            assert_eq!(Task::Sqrt.apply(m * m - 1), m - 1);
            assert_eq!(Task::Sqrt.apply(m * m), m);
        }
    }

    #[test]
    fn injected_panic_hits_only_its_item() {
        let job = Job {
            task: Task::Square,
            panic_at: Some(5),
        };
        assert_eq!(job.run(4), 16);
        assert!(std::panic::catch_unwind(|| job.run(5)).is_err());
    }
}
