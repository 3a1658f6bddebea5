//! Corpus regression test: every checked-in fuzz input (`fuzz/corpus/<target>/seed-*` and
//! `fuzz/regressions/<target>/*`) runs through the same target code libFuzzer runs, so a
//! finding stays fixed on stable Rust without libFuzzer. See `fuzz/README.md`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

// The target bodies, shared with the fuzz crate (which exports them as `pub`); also used
// by `properties.rs`.
#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/targets/mod.rs"]
pub(crate) mod targets;

use targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Files of `dir` whose names start with `prefix`, sorted; none if `dir` is absent.
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    out.sort();
    out
}

fn run(target: &str, run: fn(&[u8]), path: &Path) {
    let data = fs::read(path).unwrap();
    if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
            .unwrap_or_default();
        panic!("{target}: {} fails: {msg}", path.display());
    }
}

#[test]
fn every_seed_and_regression_passes_its_target() {
    for (target, body) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target), "seed-");
        assert!(!seeds.is_empty(), "{target} has no seed corpus");
        let regressions = files(&fuzz_dir().join("regressions").join(target), "");
        for path in seeds.iter().chain(&regressions) {
            run(target, *body, path);
        }
    }
}

#[test]
fn regressions_belong_to_known_targets() {
    let known: BTreeSet<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    if let Ok(entries) = fs::read_dir(fuzz_dir().join("regressions")) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(known.contains(name.as_str()), "unknown target {name}");
            }
        }
    }
}

/// Every binary in `fuzz/fuzz_targets/` and every `[[bin]]` of `fuzz/Cargo.toml` is a
/// target listed here, and the other way round.
#[test]
fn fuzz_binaries_match_the_target_list() {
    let known: BTreeSet<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    let binaries: BTreeSet<String> = files(&fuzz_dir().join("fuzz_targets"), "")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(binaries, known);
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let bins: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section.lines().find(|l| l.starts_with("name = "))?;
            Some(
                line.trim_start_matches("name = ")
                    .trim_matches('"')
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(bins, known);
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The checked-in seeds are exactly what the generator writes (regenerate with
/// `cargo test --test it corpus::write_seeds -- --ignored`).
#[test]
fn seeds_are_up_to_date() {
    let mut expected = BTreeSet::new();
    for seed in targets::seeds::all(root()) {
        let path = fuzz_dir()
            .join("corpus")
            .join(seed.target)
            .join(format!("seed-{}", seed.name));
        let on_disk = fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == seed.data,
            "{} is stale: regenerate the seeds",
            path.display()
        );
        expected.insert(path);
    }
    for (target, _) in TARGETS {
        for path in files(&fuzz_dir().join("corpus").join(target), "seed-") {
            assert!(
                expected.contains(&path),
                "{} is not generated: remove it",
                path.display()
            );
        }
    }
}

/// Writes the seed corpus (run on demand, see above).
#[test]
#[ignore = "writes fuzz/corpus; run on demand"]
fn write_seeds() {
    for (target, _) in TARGETS {
        for path in files(&fuzz_dir().join("corpus").join(target), "seed-") {
            fs::remove_file(path).unwrap();
        }
    }
    for seed in targets::seeds::all(root()) {
        let dir = fuzz_dir().join("corpus").join(seed.target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("seed-{}", seed.name)), &seed.data).unwrap();
    }
}

// ---- regression tests for findings (each input is also in fuzz/regressions/) ----------

/// Found by `railz_header`: `const_hex` accepts a `0x` prefix, so `v=0x<64 hex>` verified
/// although the documented format is exactly 64 hex digits. Fixed in
/// `signature::engine::decode`. Every hex scheme must refuse it.
#[test]
fn hex_signature_with_0x_prefix_is_rejected() {
    use ledgerhook::VerificationErrorKind;
    use targets::model::{Model, PRESETS, now};

    let body = br#"{"data":{"event":"auth"}}"#;
    let mut checked = 0;
    for preset in PRESETS.iter() {
        let Model::Hmac(model) = &preset.model else {
            continue;
        };
        if model.base64 {
            continue;
        }
        let mut headers = preset.verifier.sign(body, now());
        let name = preset.verifier.header().clone();
        let value = headers[&name].to_str().unwrap().to_owned();
        let hex_at = value.len() - 64;
        let prefixed = format!("{}0x{}", &value[..hex_at], &value[hex_at..]);
        headers.insert(name, prefixed.parse().unwrap());
        let err = preset.verifier.verify(&headers, body).unwrap_err();
        assert_eq!(
            err.kind(),
            VerificationErrorKind::SignatureMismatch,
            "{}",
            preset.name
        );
        checked += 1;
    }
    assert!(checked >= 4, "every hex preset is covered");
}

/// Found by `event`, `rootfi_event`, `railz_event` (a harness finding, not a crate bug):
/// serde_json's default float parsing is not correctly rounded, so text the crate writes
/// (`9e29`, shortest round-trip form) can read back one ULP off (8.999999999999999e29).
/// The documented promise, parse → serialise gives the same JSON *value*, holds; the
/// targets now compare values without a text round trip.
#[test]
fn huge_numbers_survive_parse_and_serialise_as_values() {
    use ledgerhook::Event;
    use serde_json::Value;
    for body in [
        &br#"{"webhook_type":"PAYROLL_RUN","company_id":900000000000000000000000000000,"x":[2,2]}"#[..],
        br#"{"data":{"event":"data","id":2.6244444444444448e+72},"requestId":"r"}"#,
        br#"{"webhook_type":"SYNC_COMPLETED","data":{"status":"SUCCESS"},"n":1.0000000000000001e+75}"#,
    ] {
        let event = Event::from_slice(body).unwrap();
        let original: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), original);
        let again = Event::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
        assert_eq!(again.tag(), event.tag());
    }
}
