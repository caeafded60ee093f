//! What this program does when re-executed as a worker of the process pool: step 5's
//! [`serve`] on stdin and stdout, with the fault a test can inject into it.

use std::io::{self, BufWriter, Write as _};

use nix::sys::signal::{Signal, raise};

use crate::steps::s5_worker_process::serve;
use crate::task::Job;

/// Serves `job` on this process's stdin and stdout until end of input. `die_at` (a test hook)
/// makes the worker kill itself with SIGKILL when it reaches that item, as the OOM killer
/// would: no unwinding, no last answer.
pub fn serve_stdio(job: Job, die_at: Option<u64>) -> io::Result<()> {
    let task = move |x| {
        if die_at == Some(x) {
            // Only fails if signals are broken; then end the hard way all the same.
            let _ = raise(Signal::SIGKILL);
            std::process::abort();
        }
        job.run(x)
    };
    let mut out = BufWriter::new(io::stdout().lock());
    serve(task, io::stdin().lock(), &mut out)?;
    out.flush()
}
