//! How a child ended, in the words every lesson prints: "child 4242 exited with status 3",
//! "child 4242 killed by SIGKILL".

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;

use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

/// A wait status (from [`wait`](crate::wait) or `waitpid`) in words, naming the child's pid.
/// Exit status 0 reads "exited with status 0": whether that is news is the caller's call.
pub fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(pid, code) => format!("child {pid} exited with status {code}"),
        WaitStatus::Signaled(pid, signal, _) => format!("child {pid} killed by {signal}"),
        other => match other.pid() {
            Some(pid) => format!("child {pid} ended strangely: {other:?}"),
            None => format!("a child ended strangely: {other:?}"),
        },
    }
}

/// [`describe`] for the `ExitStatus` of a `std::process::Child` whose id is `pid`.
pub fn describe_exit(pid: u32, status: ExitStatus) -> String {
    // A Linux pid is a positive `pid_t`; std hands it out widened to u32.
    let nix_pid = Pid::from_raw(pid as i32);
    // `from_raw` fails only for a signal number nix does not know (a real-time signal).
    match WaitStatus::from_raw(nix_pid, status.into_raw()) {
        Ok(status) => describe(status),
        Err(_) => format!("child {pid} ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use nix::sys::signal::Signal;

    use super::*;

    #[test]
    fn wait_statuses_name_pid_and_cause() {
        let pid = Pid::from_raw(4242);
        assert_eq!(
            describe(WaitStatus::Exited(pid, 0)),
            "child 4242 exited with status 0"
        );
        assert_eq!(
            describe(WaitStatus::Exited(pid, 3)),
            "child 4242 exited with status 3"
        );
        assert_eq!(
            describe(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            "child 4242 killed by SIGKILL"
        );
    }

    #[test]
    fn exit_statuses_read_the_same() {
        let describe = |raw| describe_exit(41, ExitStatus::from_raw(raw));
        assert_eq!(describe(0), "child 41 exited with status 0");
        assert_eq!(describe(3 << 8), "child 41 exited with status 3");
        assert_eq!(describe(9), "child 41 killed by SIGKILL");
    }
}
