//! A paired benchmark harness: contender and baseline alternate in small batches inside
//! one process, and each pair gives one ratio. Drift on a shared machine (another process
//! taking a core, frequency or cache pressure changing over seconds) hits both halves of a
//! pair alike, so the median of the per-pair ratios holds where two separately measured
//! medians do not.
//!
//! Per comparison: calibrate a batch size `n` so the slower side's batch takes about
//! `PAIRED_BATCH_US` (default 50 µs, far above the ~25 ns clock read), warm up, then
//! measure pairs for `PAIRED_SECS` (default 1 s) of wall time. Pairs alternate which side
//! runs first, so neither always runs on the other's warm caches. Results, with every
//! per-pair ratio, go to `$CARGO_TARGET_DIR/paired/<unix time>.json` (and `latest.json`);
//! `python3 benches/report.py` turns them into the goal tables.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long and how finely to measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Wall time spent measuring pairs, per comparison.
    pub(crate) measure: Duration,
    /// Wall time spent alternating before measuring, per comparison.
    pub(crate) warm_up: Duration,
    /// Target duration of the slower side's batch.
    pub(crate) batch: Duration,
    /// At least this many pairs, whatever the time.
    pub(crate) min_pairs: usize,
}

impl Config {
    /// Defaults, overridden by `PAIRED_SECS`, `PAIRED_WARMUP_SECS`, `PAIRED_BATCH_US`.
    pub(crate) fn from_env() -> Self {
        let secs = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .map_or(Duration::from_secs_f64(default), Duration::from_secs_f64)
        };
        Self {
            measure: secs("PAIRED_SECS", 1.0),
            warm_up: secs("PAIRED_WARMUP_SECS", 0.2),
            batch: secs("PAIRED_BATCH_US", 50.0) / 1_000_000,
            min_pairs: 30,
        }
    }
}

/// One comparison's raw result.
#[derive(Debug)]
pub(crate) struct Pairs {
    /// Calls per batch, the same on both sides.
    pub(crate) batch: u64,
    /// Per pair: contender time / baseline time.
    pub(crate) ratios: Vec<f64>,
    /// Per pair: contender ns per call.
    pub(crate) contender_ns: Vec<f64>,
    /// Per pair: baseline ns per call.
    pub(crate) baseline_ns: Vec<f64>,
}

fn time_batch<F: FnMut() -> R, R>(f: &mut F, n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed()
}

/// Measures `contender` against `baseline`, interleaved.
pub(crate) fn measure<A, RA, B, RB>(config: Config, mut contender: A, mut baseline: B) -> Pairs
where
    A: FnMut() -> RA,
    B: FnMut() -> RB,
{
    // Calibrate: double n until the slower side's batch reaches the target.
    let mut n = 1u64;
    loop {
        let slower = time_batch(&mut contender, n).max(time_batch(&mut baseline, n));
        if slower >= config.batch || n >= 1 << 20 {
            break;
        }
        let scale = config.batch.as_secs_f64() / slower.as_secs_f64().max(1e-9);
        n = (n as f64 * scale.clamp(1.1, 2.0)).ceil() as u64;
    }
    let warm_up_end = Instant::now() + config.warm_up;
    while Instant::now() < warm_up_end {
        time_batch(&mut contender, n);
        time_batch(&mut baseline, n);
    }
    let mut pairs = Pairs {
        batch: n,
        ratios: Vec::new(),
        contender_ns: Vec::new(),
        baseline_ns: Vec::new(),
    };
    let end = Instant::now() + config.measure;
    let mut i = 0usize;
    while Instant::now() < end || pairs.ratios.len() < config.min_pairs {
        let (a, b) = if i.is_multiple_of(2) {
            let a = time_batch(&mut contender, n);
            (a, time_batch(&mut baseline, n))
        } else {
            let b = time_batch(&mut baseline, n);
            (time_batch(&mut contender, n), b)
        };
        i += 1;
        let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
        pairs.ratios.push(a / b);
        pairs.contender_ns.push(a * 1e9 / n as f64);
        pairs.baseline_ns.push(b * 1e9 / n as f64);
    }
    pairs
}

/// The `q` quantile (0..=1) of `values`, linearly interpolated.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Collects comparisons and writes them as one JSON file.
#[derive(Debug)]
pub(crate) struct Run {
    config: Config,
    filter: Option<String>,
    started: SystemTime,
    load_start: String,
    entries: Vec<serde_json::Value>,
}

impl Run {
    /// A run configured from the environment; the first free command-line argument (as
    /// `cargo bench --bench paired -- <filter>` passes it) keeps only comparisons whose id
    /// contains it.
    pub(crate) fn from_env() -> Self {
        let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
        Self {
            config: Config::from_env(),
            filter,
            started: SystemTime::now(),
            load_start: load_average(),
            entries: Vec::new(),
        }
    }

    /// Measures one comparison `group/id` (`bytes` is the input size, for the report).
    pub(crate) fn compare<A, RA, B, RB>(
        &mut self,
        group: &str,
        id: &str,
        bytes: usize,
        contender: A,
        baseline: B,
    ) where
        A: FnMut() -> RA,
        B: FnMut() -> RB,
    {
        let name = format!("{group}/{id}");
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !name.contains(f.as_str()))
        {
            return;
        }
        let pairs = measure(self.config, contender, baseline);
        let median = quantile(&pairs.ratios, 0.5);
        eprintln!(
            "{name:<60} {median:>7.3}x  p25-p75 {:.3}-{:.3}  ({} pairs of {})",
            quantile(&pairs.ratios, 0.25),
            quantile(&pairs.ratios, 0.75),
            pairs.ratios.len(),
            pairs.batch,
        );
        let round = |v: &[f64]| {
            v.iter()
                .map(|x| (x * 1e5).round() / 1e5)
                .collect::<Vec<_>>()
        };
        self.entries.push(serde_json::json!({
            "group": group,
            "id": id,
            "bytes": bytes,
            "batch": pairs.batch,
            "ratios": round(&pairs.ratios),
            "contender_ns": round(&pairs.contender_ns),
            "baseline_ns": round(&pairs.baseline_ns),
        }));
    }

    /// Writes the results; returns the file written.
    pub(crate) fn finish(self) -> PathBuf {
        let dir = PathBuf::from(
            std::env::var_os("CARGO_TARGET_DIR")
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into()),
        )
        .join("paired");
        std::fs::create_dir_all(&dir).unwrap();
        let started = self.started.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let json = serde_json::json!({
            "started": started,
            "measure_secs": self.config.measure.as_secs_f64(),
            "batch_us": self.config.batch.as_secs_f64() * 1e6,
            "load_average": { "start": self.load_start, "end": load_average() },
            "comparisons": self.entries,
        })
        .to_string();
        let path = dir.join(format!("{started}.json"));
        std::fs::write(&path, &json).unwrap();
        std::fs::write(dir.join("latest.json"), &json).unwrap();
        eprintln!("wrote {}", path.display());
        path
    }
}

/// The first three fields of `/proc/loadavg` (1, 5, 15 minutes), or empty.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
