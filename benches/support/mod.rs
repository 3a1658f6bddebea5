//! Shared by the bench binaries: request bodies built from the real fixtures, and a
//! report that turns criterion's saved estimates into the ratio table of BENCHMARKS.md.
//!
//! Included with `#[path = "support/mod.rs"] mod support;`; not every bench uses every item.
#![allow(dead_code)]

use std::path::PathBuf;

/// Railz `auth` delivery (200 B).
pub(crate) const RAILZ_AUTH: &[u8] = include_bytes!("../fixtures/railz_auth.json");
/// Railz `dataPerType` delivery (1006 B).
pub(crate) const RAILZ_DATA_PER_TYPE: &[u8] = include_bytes!("../fixtures/railz_data_per_type.json");
/// Railz `data` delivery, full payload with a `requests` array (1411 B).
pub(crate) const RAILZ_DATA_FULL: &[u8] = include_bytes!("../fixtures/railz_data_full.json");

/// The body sizes every verification group is run at.
pub(crate) const SIZES: [(usize, &str); 4] = [
    (256, "256B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (1024 * 1024, "1MiB"),
];

/// A valid Railz delivery of exactly `size` bytes: the largest fixture that fits, its
/// `requests` array grown with copies of its own entries when no fixture is large enough,
/// then padded with trailing whitespace (still valid JSON, parsed like the original).
#[must_use]
pub(crate) fn railz_body(size: usize) -> Vec<u8> {
    let mut body = [RAILZ_DATA_FULL, RAILZ_DATA_PER_TYPE, RAILZ_AUTH]
        .into_iter()
        .find(|fixture| fixture.len() <= size)
        .expect("no fixture is small enough")
        .to_vec();
    if size > RAILZ_DATA_FULL.len() {
        let mut value: serde_json::Value = serde_json::from_slice(RAILZ_DATA_FULL).unwrap();
        let template = value["data"]["requests"].as_array().unwrap().clone();
        let mut len = serde_json::to_vec(&value).unwrap().len();
        let requests = value["data"]["requests"].as_array_mut().unwrap();
        // Compact JSON: each added entry costs its own length plus one comma.
        for entry in template.iter().cycle() {
            let cost = serde_json::to_vec(entry).unwrap().len() + 1;
            if len + cost > size {
                break;
            }
            requests.push(entry.clone());
            len += cost;
        }
        body = serde_json::to_vec(&value).unwrap();
        assert_eq!(body.len(), len);
    }
    assert!(body.len() <= size, "body overshoots {size}");
    body.resize(size - 1, b' ');
    body.push(b'\n');
    assert_eq!(body.len(), size);
    body
}

/// What a row's ratio must satisfy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Goal {
    /// ratio ≤ value
    AtMost(f64),
    /// ratio < value
    Below(f64),
    /// no goal; shown for orientation
    None,
}

/// One line of the ratio table: `bench` measured against `baseline` (both criterion ids
/// `group/function`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) bench: (&'static str, &'static str),
    pub(crate) baseline: (&'static str, &'static str),
    pub(crate) goal: Goal,
}

/// Where criterion writes its estimates (the same rules criterion itself follows).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
            PathBuf::from,
        )
        .join("criterion")
}

/// The median time (ns) of `group/function` from the latest saved run.
pub(crate) fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Prints the rows as a Markdown table: median, baseline median, ratio, goal, verdict.
/// Uses each benchmark's latest saved estimate, so run the whole bench (no filter) before
/// quoting it.
pub(crate) fn print_table(title: &str, rows: &[Row]) {
    println!("\n### {title}\n");
    println!("| comparison | time | baseline | ratio | goal | met |");
    println!("|---|---:|---:|---:|---|---|");
    for row in rows {
        let (Some(t), Some(b)) = (
            median_ns(row.bench.0, row.bench.1),
            median_ns(row.baseline.0, row.baseline.1),
        ) else {
            println!("| {} | – | – | – | | no estimates |", row.label);
            continue;
        };
        let ratio = t / b;
        let (goal, met) = match row.goal {
            Goal::AtMost(g) => (format!("≤ {g:.2}×"), if ratio <= g { "yes" } else { "NO" }),
            Goal::Below(g) => (format!("< {g:.2}×"), if ratio < g { "yes" } else { "NO" }),
            Goal::None => (String::new(), ""),
        };
        println!(
            "| {} | {} | {} | {ratio:.3}× | {goal} | {met} |",
            row.label,
            fmt_ns(t),
            fmt_ns(b)
        );
    }
}

/// Median difference `bench - baseline` in ns (added cost per request).
pub(crate) fn added_ns(bench: (&str, &str), baseline: (&str, &str)) -> Option<f64> {
    Some(median_ns(bench.0, bench.1)? - median_ns(baseline.0, baseline.1)?)
}
