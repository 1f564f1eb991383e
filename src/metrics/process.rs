//! The process's own figures, read from `/proc` at each scrape under the
//! names every Prometheus client uses (`process_*`), so stock dashboards
//! and alerts apply.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

#[derive(Debug)]
pub(super) struct Process;

/// RSS in bytes, open file descriptors, CPU seconds (user + system); `None`
/// where `/proc` cannot be read (not Linux, or a hardened mount).
pub fn figures() -> Option<(u64, u64, f64)> {
    let me = procfs::process::Process::myself().ok()?;
    let stat = me.stat().ok()?;
    let rss = stat.rss.saturating_mul(procfs::page_size());
    let fds = me.fd_count().ok().and_then(|n| u64::try_from(n).ok())?;
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let cpu = (stat.utime + stat.stime) as f64 / ticks;
    Some((rss, fds, cpu))
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some((rss, fds, cpu)) = figures() else {
            return Ok(());
        };
        let rss = ConstGauge::new(i64::try_from(rss).unwrap_or(i64::MAX));
        let m = encoder.encode_descriptor(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            None,
            rss.metric_type(),
        )?;
        rss.encode(m)?;
        let fds = ConstGauge::new(i64::try_from(fds).unwrap_or(i64::MAX));
        let m = encoder.encode_descriptor(
            "process_open_fds",
            "Number of open file descriptors.",
            None,
            fds.metric_type(),
        )?;
        fds.encode(m)?;
        let cpu = ConstCounter::new(cpu);
        let m = encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            cpu.metric_type(),
        )?;
        cpu.encode(m)
    }
}
