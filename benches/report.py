#!/usr/bin/env python3
"""The tables of BENCHMARKS.md, from the paired run and from criterion's estimates.

    python3 benches/report.py                 # paired goal tables (latest run), then criterion
    python3 benches/report.py paired [FILE] [--against OTHER]
    python3 benches/report.py criterion [CRITERION_DIR]
    python3 benches/report.py instructions GUNGRAUN_JSON [--check | --write-baseline] [--machine CPU] [--host CPU]
    python3 benches/report.py instructions --self-test

`paired` reads a results file of `cargo bench --bench paired` (default
$CARGO_TARGET_DIR/paired/latest.json, else target/paired/latest.json) and prints, per
comparison, the median of the per-pair ratios over the undisturbed pairs (both halves
near their side's fastest batches, see UNDISTURBED_*), their spread (p25-p75 and p10-p90),
the median of all pairs, the median time per call of each side, and whether the goal of
issue 14 is met. With
`--against OTHER` (another run's file) it adds each median's change from that run, and the
largest change among the 1 KiB rows: the run-to-run agreement.

`criterion` reads criterion's saved estimates ($CRITERION_HOME, else
$CARGO_TARGET_DIR/criterion, else target/criterion) and prints absolute times (medians)
and the throughput at 1 MiB. Criterion measures each contender on its own, one after
the other: its ratios drift with the machine, so this report shows none.

`instructions` reads the JSON lines of `cargo bench --bench instructions --
--output-format=json` and compares each instruction count with
benches/instructions-baseline.json (`--check`: exit 1 past the limits below), or rewrites
that baseline (`--write-baseline`). `--machine` is the CPU valgrind shows the program
(`.ci/valgrind-cpuid.c`): the baseline's gives absolute counts, another gives ratios to
same-run references (BENCHMARKS.md, "Other CPUs"). `--self-test` runs the check on
fabricated baseline/run pairs. `.ci/bench-guard.sh` runs all of it.

Exit status of `paired` (and of the default): 1 when a goal is missed, 2 when an expected
comparison is missing.
"""

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3f} µs"
    return f"{ns:.0f} ns"


def quantile(values, q):
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo, hi = int(pos), min(int(pos) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


# --- paired -----------------------------------------------------------------------------

# Goals of issue 14, on the per-pair ratio contender/baseline time. Parse goals are stated
# as speed-ups (baseline/contender), so they are shown and checked as such.
VERIFY_GOALS = {
    "railz_1KiB": 1.10,
    "rootfi_v4_1KiB": 1.10,
    "railz_1MiB": 1.02,
    "rootfi_v4_1MiB": 1.02,
}
VERIFY_BASELINE = {
    "railz": "raw HMAC of `t.body`",
    "rootfi_v4": "raw HMAC of the body",
    "standard_webhooks": "raw HMAC of `id.ts.body`",
}
LAYER_GOAL = 0.45
METRICS_GOAL = 1.05
# Which pairs count. Some shared VMs switch between a fast and a slow mode (a neighbour on
# the same physical core, seen as batch times that double for seconds at a time), and the
# two modes give different ratios: the median of all pairs then depends on how long each
# mode lasted and two runs disagree. A pair counts when both of its halves ran at most
# UNDISTURBED_SLACK above the fastest 1 % of their own side's batches (BENCHMARKS.md,
# "Undisturbed pairs"); the median of all pairs is printed beside it.
UNDISTURBED_REF = 0.01
UNDISTURBED_SLACK = 1.05
PARSE_GOAL_BAND = (512, 1536)  # "every fixture of 0.5-1.5 KiB"
PARSE_GOAL = 2.0  # in that band
PARSE_FLOOR = 1.0  # every fixture: never slower than `Value`


class Paired:
    def __init__(self, path: Path, against: Path | None):
        self.run = json.loads(path.read_text())
        self.path = path
        self.rows = {(c["group"], c["id"]): c for c in self.run["comparisons"]}
        self.other = None
        if against:
            other = json.loads(against.read_text())
            self.other = {(c["group"], c["id"]): c for c in other["comparisons"]}
            self.other_run = other
        self.missed = []
        self.agreement = []  # (|change|, group/id) for 1 KiB rows

    def stats(self, row, invert):
        """Median and spread of the undisturbed pairs (see UNDISTURBED_*), plus the median
        of all pairs."""
        a, b, ratios = row["contender_ns"], row["baseline_ns"], row["ratios"]
        fast_a = quantile(a, UNDISTURBED_REF) * UNDISTURBED_SLACK
        fast_b = quantile(b, UNDISTURBED_REF) * UNDISTURBED_SLACK
        kept = [i for i in range(len(ratios)) if a[i] <= fast_a and b[i] <= fast_b]
        if not kept:  # cannot happen for the pair holding both p1s, but stay total
            kept = list(range(len(ratios)))
        flip = (lambda x: 1 / x) if invert else (lambda x: x)
        r = [flip(ratios[i]) for i in kept]
        return {
            "median": statistics.median(r),
            "p10": quantile(r, 0.10),
            "p25": quantile(r, 0.25),
            "p75": quantile(r, 0.75),
            "p90": quantile(r, 0.90),
            "n": len(r),
            "total": len(ratios),
            "all_median": statistics.median(flip(x) for x in ratios),
            "contender": statistics.median(a[i] for i in kept),
            "baseline": statistics.median(b[i] for i in kept),
        }

    def header(self, title, what):
        print(f"\n#### {title}\n")
        extra = " | previous run | change" if self.other else ""
        sep = "|---:|---:" if self.other else ""
        print(f"| comparison | ours | baseline | {what} (median of undisturbed pairs) | p25–p75 "
              f"| p10–p90 | pairs kept / all | median of all pairs | goal | met{extra} |")
        print(f"|---|---:|---:|---:|---|---|---:|---:|---|---{sep}|")

    def row(self, key, label, invert=False, goal=None, one_kib=False):
        """goal = ('<=' | '>=', value) or None."""
        row = self.rows.get(key)
        if row is None:
            print(f"| {label} | | | missing | | | | | | |")
            self.missed.append(f"{key[0]}/{key[1]} missing")
            return
        s = self.stats(row, invert)
        goal_txt, met = "", ""
        if goal:
            op, value = goal
            ok = s["median"] <= value if op == "<=" else s["median"] >= value
            goal_txt = f"{'≤' if op == '<=' else '≥'} {value:.2f}×"
            met = "yes" if ok else "**no**"
            if not ok:
                self.missed.append(f"{key[0]}/{key[1]}: {s['median']:.3f}× vs {goal_txt}")
        extra = ""
        if self.other:
            prev = self.other.get(key)
            if prev:
                p = self.stats(prev, invert)["median"]
                change = s["median"] / p - 1
                extra = f" | {p:.3f}× | {change * 100:+.1f} %"
                if one_kib:
                    self.agreement.append((abs(change), f"{key[0]}/{key[1]}"))
            else:
                extra = " | | "
        print(f"| {label} | {fmt_ns(s['contender'])} | {fmt_ns(s['baseline'])} "
              f"| {s['median']:.3f}× | {s['p25']:.3f}–{s['p75']:.3f} | {s['p10']:.3f}–{s['p90']:.3f} "
              f"| {s['n']} / {s['total']} | {s['all_median']:.3f}× | {goal_txt} | {met}{extra} |")

    def report(self):
        run = self.run
        load = run.get("load_average", {})
        print(f"Paired run {self.path.name}: {run['measure_secs']} s of pairs per comparison "
              f"in {run.get('rounds', 1)} rounds, batches of ~{run['batch_us']:.0f} µs per side; load average "
              f"{load.get('start', '?')} at the start, {load.get('end', '?')} at the end.")
        if self.other:
            print(f"Previous run: started {self.other_run['started'] - run['started']:+d} s from this one.")

        self.header("Verification: ours / raw pre-keyed HMAC-SHA256 of the same bytes", "ratio")
        for size in ["1KiB", "1MiB"]:
            for scheme, baseline in VERIFY_BASELINE.items():
                key = f"{scheme}_{size}"
                goal = ("<=", VERIFY_GOALS[key]) if key in VERIFY_GOALS else None
                self.row(("verify", key), f"{size} {scheme} / {baseline}", goal=goal,
                         one_kib=size == "1KiB")

        self.header("Typed parse: speed-up over `serde_json::from_slice::<Value>`", "speed-up")
        parse = sorted((c for c in run["comparisons"] if c["group"] == "parse"),
                       key=lambda c: c["bytes"])
        for c in parse:
            lo, hi = PARSE_GOAL_BAND
            target = PARSE_GOAL if lo <= c["bytes"] <= hi else PARSE_FLOOR
            self.row(("parse", c["id"]), f"{c['id']} ({c['bytes']} B)", invert=True,
                     goal=(">=", target), one_kib=lo <= c["bytes"] <= hi)
        if not parse:
            self.missed.append("parse/* missing")

        floor = sorted((c for c in run["comparisons"] if c["group"] == "parse_floor"),
                       key=lambda c: c["bytes"])
        if floor:
            self.header("For orientation, the floor: `from_slice::<IgnoredAny>` (builds nothing) "
                        "over `Value`", "speed-up")
            for c in floor:
                self.row(("parse_floor", c["id"]), f"{c['id']} ({c['bytes']} B)", invert=True)

        self.header("Whole layer in-process: ours / baseline (time per request)", "ratio")
        for case in ["railz_1KiB", "railz_16KiB", "rootfi_sync_started"]:
            self.row(("layer", f"{case}_vs_naive"),
                     f"{case}: ours / hand-rolled (`from_fn` + `hmac` + `Json<T>`)",
                     goal=("<=", LAYER_GOAL), one_kib=case != "railz_16KiB")
            self.row(("layer", f"{case}_vs_in_handler"),
                     f"{case}: ours / the same work in a handler")

        # Only in a run built with `--features metrics` (issue 12's cost goal).
        if ("metrics", "railz_1KiB_recorded_vs_off") in self.rows:
            self.header("Metrics cost: whole layer, recorded / off (time per request)", "ratio")
            self.row(("metrics", "railz_1KiB_recorded_vs_off"),
                     "railz_1KiB: recorded by the Prometheus recorder / route's metrics off",
                     goal=("<=", METRICS_GOAL), one_kib=True)

        if self.agreement:
            worst, name = max(self.agreement)
            print(f"\nRun-to-run agreement of the medians at ~1 KiB ({len(self.agreement)} "
                  f"comparisons): largest change {worst * 100:.1f} % ({name}), median change "
                  f"{statistics.median(a for a, _ in self.agreement) * 100:.1f} %.")
        print(f"\nGoals missed: {len(self.missed)}" + "".join(f"\n- {m}" for m in self.missed))
        if any(m.endswith("missing") for m in self.missed):
            return 2
        return 1 if self.missed else 0


def paired_main(args):
    against = None
    if "--against" in args:
        i = args.index("--against")
        against = Path(args[i + 1])
        args = args[:i] + args[i + 2:]
    path = Path(args[0]) if args else target_dir() / "paired" / "latest.json"
    if not path.exists():
        print(f"no paired results at {path}: run `cargo bench --bench paired`", file=sys.stderr)
        return 2
    return Paired(path, against).report()


# --- criterion --------------------------------------------------------------------------


def criterion_dir(args) -> Path:
    if args:
        return Path(args[0])
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    return target_dir() / "criterion"


def load_criterion(root: Path) -> dict:
    """(group, function) -> (median ns, throughput bytes or None)."""
    out = {}
    for meta in root.glob("**/new/benchmark.json"):
        info = json.loads(meta.read_text())
        est = json.loads((meta.parent / "estimates.json").read_text())
        bytes_ = (info.get("throughput") or {}).get("Bytes")
        out[(info["group_id"], info["function_id"])] = (est["median"]["point_estimate"], bytes_)
    return out


def table(title, groups, functions, data, label=lambda g: g):
    print(f"\n#### {title}\n")
    print("| | " + " | ".join(functions) + " |")
    print("|---|" + "---:|" * len(functions))
    for g in groups:
        cells = [fmt_ns(data[(g, f)][0]) if (g, f) in data else "" for f in functions]
        if not any(cells):
            continue
        print(f"| {label(g)} | " + " | ".join(cells) + " |")


def criterion_main(args):
    root = criterion_dir(args)
    data = load_criterion(root)
    if not data:
        print(f"no criterion estimates under {root}: run `cargo bench --bench verify "
              "--bench parse --bench layer`", file=sys.stderr)
        return 2
    print("Criterion, absolute times (median of each benchmark's latest run; contenders "
          "measured one after the other, so compare ratios from the paired tables instead).")
    verify = ["raw_hmac", "raw_hmac_ts", "railz", "rootfi", "ours_standard_webhooks", "svix",
              "standardwebhooks"]
    sizes = [s for s in ["256B", "1KiB", "16KiB", "1MiB"] if any(g == f"verify_{s}" for g, _ in data)]
    if sizes:
        print("\n#### Verification (time per call)\n")
        print("| contender | " + " | ".join(sizes) + " | MB/s at 1 MiB |")
        print("|---|" + "---:|" * (len(sizes) + 1))
        for f in verify:
            cells = [fmt_ns(data[(f"verify_{s}", f)][0]) if (f"verify_{s}", f) in data else ""
                     for s in sizes]
            if not any(cells):
                continue
            mib = data.get(("verify_1MiB", f))
            mbps = f"{mib[1] / mib[0] * 1e3:,.0f}" if mib and mib[1] else ""
            print(f"| {f} | " + " | ".join(cells) + f" | {mbps} |")
    layer = sorted({g for g, _ in data if g.startswith("layer_")})
    if layer:
        table("Whole layer, in-process `oneshot` (time per request)", layer,
              ["request_only", "bare", "naive", "in_handler", "ours"], data,
              lambda g: g.removeprefix("layer_"))
    parse = sorted({g for g, _ in data if g.startswith("parse/")},
                   key=lambda g: data.get((g, "value"), (0, 0))[1] or 0)
    if parse:
        table("Parse (time per call)", parse, ["ledgerhook", "ledgerhook_detect", "value", "derived"],
              data, lambda g: f"{g.removeprefix('parse/')} ({data.get((g, 'value'), (0, '?'))[1]} B)")
    return 0


# --- instructions -----------------------------------------------------------------------

BASELINE = ROOT / "benches" / "instructions-baseline.json"

# Same machine kind (the CPU that valgrind shows the program, `.ci/valgrind-cpuid.c`, is
# the baseline's): absolute counts are compared.
#
# A benchmark fails when its instruction count grew by more than this. Two runs of the same
# build differ by at most a few instructions (the clock-dependent timestamp digits), so the
# limit is there for toolchain and dependency updates, not for noise: it still catches a
# 5 % regression of any parse or layer path.
TOTAL_LIMIT = 2.0
# Verification at 1 KiB is ~95 % SHA-256 (software SHA under valgrind), which would hide a
# regression of our own code in the total. So the guard also checks what each preset costs
# over the raw pre-keyed HMAC of the same body, with its own limit.
OVERHEAD_LIMIT = 10.0
RAW_HMAC = "raw_hmac/body_1kib"

# Another machine kind: sha2, memchr, const-hex and glibc's string functions choose their
# code by cpuid, so absolute counts may move without any change of ours. Each count is then
# divided by same-run references (raw HMAC, `serde_json::Value` parse of the same bytes)
# and that ratio is compared with the baseline's. Under valgrind the code chosen by cpuid
# (`*/multiarch/*`, `memchr::arch::*`, SIMD paths) is at most 4.6 % of a parse's
# instructions, 2.9 % of a layer pass, and ~10 % of verify's overhead over raw HMAC
# (callgrind on the baseline's machine): if another CPU's path cost twice as much, a ratio
# would move by up to ~9 % (parse), ~6 % (layer), ~20 % (verify overhead). The limits leave
# that room and still catch a regression of 10 % of a parse or 15 % of a layer pass.
OTHER_RATIO_LIMIT = 10.0
OTHER_OVERHEAD_LIMIT = 25.0
# layer benchmark -> the references that do the same hashing and parsing.
LAYER_REFERENCES = {
    "layer/railz_1kib": ["raw_hmac/body_1kib", "value_parse/railz_1kib"],
    "layer/rootfi_sync_started": ["raw_hmac/rootfi_sync_started",
                                  "value_parse/rootfi_sync_started"],
}


def load_counts(path: Path) -> dict:
    """benchmark -> Ir, from gungraun's `--output-format=json` lines."""
    counts = {}
    for line in path.read_text().splitlines():
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        total = d["profiles"][0]["data"]["total"]["metrics"]
        counts[f"{d['function_name']}/{d['id']}"] = total["Ir"]["values"]["new"]
    return counts


def overheads(counts: dict) -> dict:
    raw = counts.get(RAW_HMAC)
    return {f"{k} − raw HMAC": v - raw for k, v in counts.items()
            if raw is not None and k.startswith("verify/")}


def normalised(counts: dict) -> dict:
    """name -> (what it is divided by, ratio) for the other-machine mode."""
    out = {}
    raw = counts.get(RAW_HMAC)
    for name, value in counts.items():
        if name.startswith("verify/") and raw:
            out[f"({name} − raw HMAC) / raw HMAC"] = ("verify", (value - raw) / raw)
        elif name.startswith("parse/"):
            ref = counts.get("value_parse/" + name.removeprefix("parse/"))
            if ref:
                out[f"{name} / value_parse"] = ("ratio", value / ref)
        elif name in LAYER_REFERENCES:
            refs = [counts.get(r) for r in LAYER_REFERENCES[name]]
            if all(refs):
                out[f"{name} / (raw HMAC + value_parse)"] = ("ratio", value / sum(refs))
    return out


def check(base: dict, counts: dict, machine: str, fixtures: set):
    """Compares a run with the baseline. Returns (mode, table lines, failures, problems)."""
    lines, failed, problems = [], [], []
    same = base.get("machine", {}).get("valgrind_cpu") == machine

    def row(name, old, new, limit, fmt):
        if old is None or new is None:
            problems.append(f"{name}: {'not in the baseline' if old is None else 'not run'}")
            lines.append(f"| {name} | {'' if old is None else fmt(old)} | "
                         f"{'' if new is None else fmt(new)} | | | missing |")
            return
        change = (new / old - 1) * 100 if old else 0.0
        status = "ok"
        if change > limit:
            status = "**regression**"
            failed.append(f"{name}: {fmt(old)} -> {fmt(new)} ({change:+.2f} %, limit {limit:.0f} %)")
        elif change < -limit:
            status = "improved: update the baseline"
        lines.append(f"| {name} | {fmt(old)} | {fmt(new)} | {change:+.2f} % | {limit:.0f} % | {status} |")

    old_counts = base["instructions"]
    if same:
        mode = "same machine kind: absolute instruction counts"
        count = "{:,}".format
        for name in sorted(set(old_counts) | set(counts)):
            row(name, old_counts.get(name), counts.get(name), TOTAL_LIMIT, count)
        old_over, new_over = overheads(old_counts), overheads(counts)
        for name in sorted(set(old_over) | set(new_over)):
            row(name, old_over.get(name), new_over.get(name), OVERHEAD_LIMIT, count)
    else:
        mode = ("other machine kind: ratios to same-run references "
                "(absolute counts not compared)")
        ratio = "{:.4f}".format
        old_norm, new_norm = normalised(old_counts), normalised(counts)
        for name in sorted(set(old_norm) | set(new_norm)):
            kind = (old_norm.get(name) or new_norm.get(name))[0]
            limit = OTHER_OVERHEAD_LIMIT if kind == "verify" else OTHER_RATIO_LIMIT
            row(name, (old_norm.get(name) or (None, None))[1],
                (new_norm.get(name) or (None, None))[1], limit, ratio)

    # Every fixture must be counted (and have its reference), so that a new one cannot go
    # unguarded.
    for prefix in ["parse/", "value_parse/"]:
        have = {k.removeprefix(prefix) for k in counts if k.startswith(prefix)}
        for missing in sorted(fixtures - have):
            problems.append(f"fixture {missing} has no {prefix.rstrip('/')} benchmark "
                            "in benches/instructions.rs")
    return mode, lines, failed, problems


def self_test():
    """The check logic on fabricated baseline/run pairs (run by `.ci/bench-guard.sh`)."""
    fixtures = {"a"}
    base = {"machine": {"valgrind_cpu": "cpu-A"}, "instructions": {
        "raw_hmac/body_1kib": 60000, "raw_hmac/rootfi_sync_started": 75000,
        "verify/railz_1kib": 63000, "parse/a": 1000, "value_parse/a": 2000,
        "value_parse/railz_1kib": 9000, "value_parse/rootfi_sync_started": 11000,
        "layer/railz_1kib": 100000, "layer/rootfi_sync_started": 120000}}

    def run(changes=None, scale=1.0):
        counts = {k: round(v * scale) for k, v in base["instructions"].items()}
        counts.update(changes or {})
        return counts

    cases = [
        # (what, run, machine, expected to pass)
        ("same machine, same counts", run(), "cpu-A", True),
        ("same machine, parse +1 %", run({"parse/a": 1010}), "cpu-A", True),
        ("same machine, parse +3 % fails", run({"parse/a": 1030}), "cpu-A", False),
        ("same machine, verify overhead +20 % fails", run({"verify/railz_1kib": 63600}),
         "cpu-A", False),
        # Another CPU: every count 12 % higher, far past the absolute limit, same ratios.
        ("other machine, all counts +12 %", run(scale=1.12), "cpu-B", True),
        ("other machine, parse ratio +5 %",
         run({"parse/a": round(1000 * 1.12 * 1.05)}, 1.12), "cpu-B", True),
        ("other machine, parse ratio +15 % fails",
         run({"parse/a": round(1000 * 1.12 * 1.15)}, 1.12), "cpu-B", False),
        ("other machine, layer ratio +20 % fails",
         run({"layer/railz_1kib": round(100000 * 1.12 * 1.2)}, 1.12), "cpu-B", False),
        ("other machine, verify overhead +50 % fails",
         run({"verify/railz_1kib": round((60000 + 4500) * 1.12)}, 1.12), "cpu-B", False),
        ("baseline without a fingerprint: other-machine mode", run(scale=1.12), None, True),
        ("a fixture without its reference fails",
         {k: v for k, v in run().items() if k != "value_parse/a"}, "cpu-A", False),
    ]
    bad = 0
    for what, counts, machine, expect_pass in cases:
        b = base if machine else {"instructions": base["instructions"]}
        mode, _, failed, problems = check(b, counts, machine or "cpu-A", fixtures)
        passed = not failed and not problems
        ok = passed == expect_pass
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {'passed' if passed else 'failed'} ({mode})")
    print(f"self-test: {len(cases) - bad}/{len(cases)} cases as expected")
    return 1 if bad else 0


def option(args, name):
    if name in args:
        i = args.index(name)
        return args[i + 1]
    return None


def source_fingerprint() -> str:
    """SHA-256 over the tracked files the counted binary is built from (working tree)."""
    import hashlib
    import subprocess
    try:
        files = subprocess.run(
            ["git", "ls-files", "--", "src", "benches/instructions.rs", "benches/support",
             "Cargo.toml", "Cargo.lock", "tests/fixtures"],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    digest = hashlib.sha256()
    for name in sorted(files):
        path = ROOT / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def instructions_main(args):
    if args and args[0] == "--self-test":
        return self_test()
    if not args:
        print("usage: report.py instructions GUNGRAUN_JSON [--check | --write-baseline] "
              "[--machine VALGRIND_CPU] [--host HOST_CPU] | --self-test", file=sys.stderr)
        return 2
    counts = load_counts(Path(args[0]))
    machine = option(args, "--machine") or "unknown"
    host = option(args, "--host") or "unknown"
    if "--write-baseline" in args:
        import datetime
        import subprocess
        def version(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
            except OSError:
                return ""
        BASELINE.write_text(json.dumps({
            "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "rustc": version(["rustc", "--version"]),
            "valgrind": version(["valgrind", "--version"]),
            "gungraun_runner": version(["gungraun-runner", "--version"]),
            "machine": {"valgrind_cpu": machine, "host_cpu": host},
            "sources": source_fingerprint(),
            "instructions": dict(sorted(counts.items())),
        }, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {BASELINE.relative_to(ROOT)} ({len(counts)} benchmarks)")
        return 0
    base = json.loads(BASELINE.read_text())
    fixtures = {p.stem for p in (ROOT / "tests" / "fixtures").glob("*.json")}
    mode, lines, failed, problems = check(base, counts, machine, fixtures)
    recorded = base.get("machine", {})
    print(f"Baseline: {base['recorded']}, {base['rustc']}, {base['valgrind']}, "
          f"{base['gungraun_runner']}.")
    print(f"CPU under valgrind: baseline `{recorded.get('valgrind_cpu', 'not recorded')}` "
          f"(host {recorded.get('host_cpu', '?')}); this run `{machine}` (host {host}).")
    print(f"Mode: {mode}.\n")
    print("| benchmark | baseline | this run | change | limit | |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(lines))
    for line in failed + problems:
        print(f"- {line}")
    if failed or problems:
        print(f"\nInstruction-count guard failed ({mode}). If the change is intended, rerun "
              "with `bash .ci/bench-guard.sh --update` and commit benches/instructions-baseline.json.")
        sources = source_fingerprint()
        if base.get("sources") != sources:
            # Code moved elsewhere in the binary shifts data layout, and with it what
            # glibc's memcpy/memcmp cost: counts of untouched code move by up to ~2 %.
            print(f"The baseline was recorded from other sources ({base.get('sources', 'not recorded')}, "
                  f"these are {sources}): a change anywhere in src/ can move these counts, so "
                  "regenerate the baseline with every commit that touches them.")
        return 1
    print(f"\nInstruction-count guard passed ({len(counts)} benchmarks; {mode}).")
    return 0


def main():
    args = sys.argv[1:]
    if args and args[0] == "paired":
        sys.exit(paired_main(args[1:]))
    if args and args[0] == "criterion":
        sys.exit(criterion_main(args[1:]))
    if args and args[0] == "instructions":
        sys.exit(instructions_main(args[1:]))
    status = paired_main([])
    print()
    criterion_main([])
    sys.exit(status)


if __name__ == "__main__":
    main()
