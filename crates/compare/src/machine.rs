//! What the comparison ran on, so a table is never read without its machine.

use std::process::Command;

/// "2 cores, Intel(R) Xeon(R) ..., Linux 6.1, Python 3.11.7": cores this process may use, the CPU
/// model, the kernel and the Python that ran the twins.
pub fn describe(python: &str) -> String {
    let cores = timing::cores();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    let python_version = Command::new(python)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{python} (version unknown)"));
    format!("{cores} cores, {cpu}, {kernel}, {python_version}")
}
