//! What a bench reads about its own process from `/proc` (Linux; zeros elsewhere).

#![allow(dead_code)] // each bench uses some of these

use std::time::Duration;

/// CPU time of this process's threads (user and kernel), to the nanosecond: the sum of the
/// first field of `/proc/self/task/*/schedstat` (the scheduler's run time of each thread).
/// Threads that ended are not counted: the benches keep theirs alive through a measurement.
/// Falls back to `/proc/self/stat` (10 ms ticks) where schedstat is missing.
pub fn process_cpu() -> Duration {
    cpu_of("self")
}

/// [`process_cpu`] of another process (`pid`, or `self`), e.g. a server the bench started.
pub fn cpu_of(pid: &str) -> Duration {
    let mut nanos = 0u64;
    let mut found = false;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            if let Some(Ok(run)) = stat.split_whitespace().next().map(str::parse::<u64>) {
                nanos += run;
                found = true;
            }
        }
    }
    if found {
        return Duration::from_nanos(nanos);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name, in clock
    // ticks of 10 ms (USER_HZ = 100).
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// A `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`, `RssAnon`, …), in KiB.
pub fn status_kib(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The threads of this process now, from `/proc/self/task`.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

/// The median of `values` (the mean of the middle two for an even count), 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
