//! The demo's temporary folder, and the folders of demos that were killed.
//!
//! A demo without `--broker` keeps its queue in a SQLite file in a folder of its own, removed
//! when the demo ends, also on an error or Ctrl-C. A `kill -9` gives it no chance to: the
//! folder stays (the queue file, its WAL, the jobs). So the folder's name carries the demo's
//! pid, `task-queue-<pid>-XXXXXX`, and every demo first removes the folders whose demo is no
//! longer running. A pid, not a lock file: it needs no open file, and a recycled pid only
//! delays a removal until that process ends, it never removes a live demo's folder.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use tempfile::TempDir;

/// How every demo folder's name begins.
pub const PREFIX: &str = "task-queue-";

/// Removes the folders that killed demos left in the system's temporary directory, then
/// creates this demo's.
pub fn create() -> std::io::Result<TempDir> {
    let tmp = std::env::temp_dir();
    remove_orphans(&tmp);
    tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir_in(tmp)
}

/// Removes the demo folders in `dir` whose demo is gone, and returns them. A folder that
/// cannot be removed (another user's, say) is left alone: it is not ours to remove.
pub fn remove_orphans(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        // `file_type` does not follow symbolic links: a link named like a folder is skipped.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let owner = entry.file_name().to_str().and_then(owner_pid);
        if let (true, Some(pid)) = (is_dir, owner)
            && !running(pid)
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// The pid in a demo folder's name `task-queue-<pid>-XXXXXX`, if it is one.
fn owner_pid(name: &str) -> Option<i32> {
    let (pid, _random) = name.strip_prefix(PREFIX)?.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|&pid| pid > 0)
}

/// Whether process `pid` exists: signal 0 checks without sending anything. EPERM means it
/// exists but belongs to someone else.
fn running(pid: i32) -> bool {
    matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_named_for_a_pid_count() {
        assert_eq!(owner_pid("task-queue-4242-a1B2c3"), Some(4242));
        for other in [
            "task-queue-a1B2c3",
            "task-queue-example-4242",
            "task-queue--x",
            "task-queue-0-x",
            "other-4242-x",
        ] {
            assert_eq!(owner_pid(other), None, "{other}");
        }
    }

    #[test]
    fn a_dead_demos_folder_is_removed_a_live_ones_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        // A child that has exited and been reaped: its pid is, for now, nobody's.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let gone = tmp.path().join(format!("{PREFIX}{dead}-abcdef"));
        let live = tmp
            .path()
            .join(format!("{PREFIX}{}-abcdef", std::process::id()));
        let unrelated = tmp.path().join(format!("{PREFIX}{dead}"));
        for dir in [&gone, &live, &unrelated] {
            std::fs::create_dir(dir).unwrap();
        }
        std::fs::write(gone.join("queue.db"), b"x").unwrap();
        assert_eq!(remove_orphans(tmp.path()), vec![gone.clone()]);
        assert!(!gone.exists() && live.exists() && unrelated.exists());
    }
}
