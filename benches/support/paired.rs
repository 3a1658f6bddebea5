//! A paired benchmark harness: contender and baseline alternate in small batches inside
//! one process, and each pair gives one ratio. Drift on a shared machine (another process
//! taking a core, frequency or cache pressure changing over seconds) hits both halves of a
//! pair alike, so the median of the per-pair ratios holds where two separately measured
//! medians do not.
//!
//! Per comparison: calibrate a batch size `n` so the slower side's batch takes about
//! `PAIRED_BATCH_US` (default 50 µs, far above the ~25 ns clock read) and warm up; then
//! measure pairs for `PAIRED_SECS` (default 1 s) of wall time, split over `PAIRED_ROUNDS`
//! (default 5) rounds through all comparisons. Pairs alternate which side runs first, so
//! neither always runs on the other's warm caches. Results, with every per-pair ratio, go
//! to `$CARGO_TARGET_DIR/paired/<unix time>.json` (and `latest.json`);
//! `python3 benches/report.py` turns them into the goal tables, counting only the pairs whose
//! two halves both ran near their side's fastest batches (a VM whose neighbour switches it
//! into a slow mode slows some code more than other: BENCHMARKS.md, "Undisturbed pairs").

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

/// The `q` quantile (0..=1) of `values`, linearly interpolated.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// A side of a comparison: runs its closure `n` times, returns the time taken.
type Timed = Box<dyn FnMut(u64) -> Duration>;

fn timed<F: FnMut() -> R + 'static, R>(mut f: F) -> Timed {
    Box::new(move |n| time_batch(&mut f, n))
}

struct Comparison {
    group: String,
    id: String,
    bytes: usize,
    contender: Timed,
    baseline: Timed,
    pairs: Pairs,
}

impl Comparison {
    /// Measures pairs for `slot` of wall time (and at least `min_pairs`).
    fn measure(&mut self, slot: Duration, min_pairs: usize) {
        let n = self.pairs.batch;
        let end = Instant::now() + slot;
        let mut taken = 0;
        while Instant::now() < end || taken < min_pairs {
            // Alternate which side goes first, so neither always runs on warm caches.
            let (a, b) = if self.pairs.ratios.len().is_multiple_of(2) {
                let a = (self.contender)(n);
                (a, (self.baseline)(n))
            } else {
                let b = (self.baseline)(n);
                ((self.contender)(n), b)
            };
            let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
            self.pairs.ratios.push(a / b);
            self.pairs.contender_ns.push(a * 1e9 / n as f64);
            self.pairs.baseline_ns.push(b * 1e9 / n as f64);
            taken += 1;
        }
    }
}

/// Collects comparisons, measures them in rounds, and writes them as one JSON file.
///
/// Each comparison's measuring time is split over `PAIRED_ROUNDS` (default 5) rounds
/// through all comparisons, so every comparison samples the machine across the whole run
/// instead of one window of a second that a neighbour's burst might fill.
pub(crate) struct Run {
    config: Config,
    rounds: u32,
    filter: Option<String>,
    started: SystemTime,
    load_start: String,
    comparisons: Vec<Comparison>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("config", &self.config)
            .field("comparisons", &self.comparisons.len())
            .finish_non_exhaustive()
    }
}

impl Run {
    /// A run configured from the environment; the first free command-line argument (as
    /// `cargo bench --bench paired -- <filter>` passes it) keeps only comparisons whose id
    /// contains it.
    pub(crate) fn from_env() -> Self {
        let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
        let rounds = std::env::var("PAIRED_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5u32)
            .max(1);
        Self {
            config: Config::from_env(),
            rounds,
            filter,
            started: SystemTime::now(),
            load_start: load_average(),
            comparisons: Vec::new(),
        }
    }

    /// Adds comparison `group/id` (`bytes` is the input size, for the report). The
    /// closures own what they use: they run later, in [`finish`](Self::finish).
    pub(crate) fn compare<A, RA, B, RB>(
        &mut self,
        group: &str,
        id: &str,
        bytes: usize,
        contender: A,
        baseline: B,
    ) where
        A: FnMut() -> RA + 'static,
        B: FnMut() -> RB + 'static,
    {
        let name = format!("{group}/{id}");
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !name.contains(f.as_str()))
        {
            return;
        }
        self.comparisons.push(Comparison {
            group: group.to_owned(),
            id: id.to_owned(),
            bytes,
            contender: timed(contender),
            baseline: timed(baseline),
            pairs: Pairs {
                batch: 0,
                ratios: Vec::new(),
                contender_ns: Vec::new(),
                baseline_ns: Vec::new(),
            },
        });
    }

    /// Measures every comparison, writes the results; returns the file written.
    pub(crate) fn finish(mut self) -> PathBuf {
        let config = self.config;
        for c in &mut self.comparisons {
            c.pairs.batch = calibrate(config, &mut c.contender, &mut c.baseline);
        }
        let slot = config.measure / self.rounds;
        let min_pairs = config.min_pairs.div_ceil(self.rounds as usize);
        for round in 1..=self.rounds {
            eprintln!("round {round}/{}", self.rounds);
            for c in &mut self.comparisons {
                // Back on this comparison's code and data: a few batches before measuring.
                let warm_up_end = Instant::now() + config.warm_up / self.rounds;
                while Instant::now() < warm_up_end {
                    (c.contender)(c.pairs.batch);
                    (c.baseline)(c.pairs.batch);
                }
                c.measure(slot, min_pairs);
            }
        }

        let mut entries = Vec::new();
        for c in &self.comparisons {
            let p = &c.pairs;
            eprintln!(
                "{:<60} {:>7.3}x  p25-p75 {:.3}-{:.3}  ({} pairs of {})",
                format!("{}/{}", c.group, c.id),
                quantile(&p.ratios, 0.5),
                quantile(&p.ratios, 0.25),
                quantile(&p.ratios, 0.75),
                p.ratios.len(),
                p.batch,
            );
            let round = |v: &[f64]| {
                v.iter()
                    .map(|x| (x * 1e5).round() / 1e5)
                    .collect::<Vec<_>>()
            };
            entries.push(serde_json::json!({
                "group": c.group,
                "id": c.id,
                "bytes": c.bytes,
                "batch": p.batch,
                "ratios": round(&p.ratios),
                "contender_ns": round(&p.contender_ns),
                "baseline_ns": round(&p.baseline_ns),
            }));
        }

        let dir = PathBuf::from(
            std::env::var_os("CARGO_TARGET_DIR")
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into()),
        )
        .join("paired");
        std::fs::create_dir_all(&dir).unwrap();
        let started = self.started.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let json = serde_json::json!({
            "started": started,
            "measure_secs": config.measure.as_secs_f64(),
            "rounds": self.rounds,
            "batch_us": config.batch.as_secs_f64() * 1e6,
            "load_average": { "start": self.load_start, "end": load_average() },
            "comparisons": entries,
        })
        .to_string();
        let path = dir.join(format!("{started}.json"));
        std::fs::write(&path, &json).unwrap();
        std::fs::write(dir.join("latest.json"), &json).unwrap();
        eprintln!("wrote {}", path.display());
        path
    }
}

/// A batch size for which the slower side takes about `config.batch`, after warming up.
fn calibrate(config: Config, contender: &mut Timed, baseline: &mut Timed) -> u64 {
    // First calls are slow (cold caches, lazy initialisation): warm up before sizing.
    let warm_up = |contender: &mut Timed, baseline: &mut Timed, n, time| {
        let end = Instant::now() + time;
        while Instant::now() < end {
            contender(n);
            baseline(n);
        }
    };
    warm_up(contender, baseline, 1, config.warm_up / 4);
    let mut n = 1u64;
    loop {
        // The fastest of three: a preemption must not end the sizing early.
        let slower = (0..3)
            .map(|_| contender(n).max(baseline(n)))
            .min()
            .unwrap_or_default();
        if slower >= config.batch || n >= 1 << 20 {
            break;
        }
        let scale = config.batch.as_secs_f64() / slower.as_secs_f64().max(1e-9);
        n = (n as f64 * scale.clamp(1.1, 2.0)).ceil() as u64;
    }
    warm_up(contender, baseline, n, config.warm_up);
    n
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
