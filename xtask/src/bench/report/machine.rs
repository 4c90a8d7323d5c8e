//! The machine a run is on, and how busy it was.

use std::process::Command;

use crate::bench::stats;

/// What the machine is.
#[derive(Debug, Default)]
pub struct Machine {
    pub(super) cpu: String,
    pub(super) cores: usize,
    pub(super) mem_gib: Option<f64>,
    pub(super) os: String,
    pub(super) kernel: String,
    pub(super) rustc: String,
    pub(super) node: String,
    pub(super) load_start: Option<[f64; 3]>,
    pub(super) compilers_at_start: usize,
}

impl Machine {
    /// Read it from /proc and the tools' `--version`.
    pub fn probe() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let out = |prog: &str, args: &[&str]| {
            Command::new(prog)
                .args(args)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_else(|| "unknown".into())
        };
        Machine {
            cpu: stats::cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_gib: stats::mem_gib(&read("/proc/meminfo")),
            os: stats::os_name(&read("/etc/os-release")).unwrap_or_else(|| "unknown OS".into()),
            kernel: out("uname", &["-r"]),
            rustc: out("rustc", &["--version"]),
            node: out("node", &["--version"]),
            load_start: Machine::loadavg(),
            compilers_at_start: compilers_running(),
        }
    }

    /// The load average now (1, 5, 15 minutes).
    pub fn loadavg() -> Option<[f64; 3]> {
        stats::loadavg_now()
    }
}

/// rustc, cc and linker processes running now: other engineers' builds on this machine.
pub(super) fn compilers_running() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|c| {
            matches!(
                c.trim(),
                "rustc" | "cc" | "cc1" | "ld" | "rust-lld" | "wasm-opt"
            )
        })
        .count()
}
