#!/usr/bin/env python3
"""Turns criterion's saved estimates into the ratio tables of BENCHMARKS.md.

Run after `cargo bench` (all three benches, no filter, so every figure comes from the same
run):  python3 benches/report.py [CRITERION_DIR]

The directory defaults to $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else
target/criterion (the rules criterion itself follows). Every figure is the median of the
latest run of that benchmark. Exit status 1 when a goal is missed, 2 when figures are
missing.
"""

import json
import os
import sys
from pathlib import Path


def criterion_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path(__file__).parent.parent / "target")
    return Path(target) / "criterion"


def load(root: Path) -> dict:
    """(group, function) -> (median ns, throughput bytes or None)."""
    out = {}
    for meta in root.glob("**/new/benchmark.json"):
        info = json.loads(meta.read_text())
        est = json.loads((meta.parent / "estimates.json").read_text())
        bytes_ = (info.get("throughput") or {}).get("Bytes")
        out[(info["group_id"], info["function_id"])] = (est["median"]["point_estimate"], bytes_)
    return out


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3f} µs"
    return f"{ns:.0f} ns"


def fmt_gbps(ns: float, nbytes) -> str:
    return f"{nbytes / ns:.2f} GB/s" if nbytes else ""


class Table:
    def __init__(self, data):
        self.data = data
        self.missed = 0
        self.missing = 0

    def row(self, label, bench, baseline, goal=None, speedup=False):
        """A row comparing `bench` with `baseline`; ratio = bench/baseline time, or
        baseline/bench when `speedup`. `goal` = ('<=' | '<' | '>=', value) or None."""
        if bench not in self.data or baseline not in self.data:
            self.missing += 1
            print(f"| {label} | – | – | – | | no figures |")
            return
        (t, nbytes), (b, _) = self.data[bench], self.data[baseline]
        ratio = b / t if speedup else t / b
        goal_txt, met = "", ""
        if goal:
            op, value = goal
            ok = {"<=": ratio <= value, "<": ratio < value, ">=": ratio >= value}[op]
            goal_txt = f"{op.replace('<=', '≤').replace('>=', '≥')} {value:.2f}×"
            met = "yes" if ok else "**no**"
            self.missed += not ok
        print(f"| {label} | {fmt_ns(t)} | {fmt_ns(b)} | {ratio:.3f}× | {goal_txt} | {met} |")


def header(title, first="comparison", ratio="ratio"):
    print(f"\n### {title}\n")
    print(f"| {first} | time | baseline | {ratio} | goal | met |")
    print("|---|---:|---:|---:|---|---|")


def main():
    root = criterion_dir()
    data = load(root)
    if not data:
        print(f"no criterion estimates under {root}", file=sys.stderr)
        sys.exit(2)
    t = Table(data)

    header("Verification (time / baseline time)")
    for size in ["256B", "1KiB", "16KiB", "1MiB"]:
        g = f"verify_{size}"
        limit = {"1KiB": ("<=", 1.10), "1MiB": ("<=", 1.02)}.get(size)
        t.row(f"{size} Railz / raw HMAC of the same bytes (`t.body`)", (g, "railz"), (g, "raw_hmac_ts"), limit)
        t.row(f"{size} Railz / raw HMAC of the body", (g, "railz"), (g, "raw_hmac"))
        t.row(f"{size} RootFi / raw HMAC of the body", (g, "rootfi"), (g, "raw_hmac"), limit)
        t.row(f"{size} ours, Standard Webhooks / raw HMAC of the body", (g, "ours_standard_webhooks"), (g, "raw_hmac"))
        t.row(f"{size} ours, Standard Webhooks / `svix`", (g, "ours_standard_webhooks"), (g, "svix"), ("<", 1.0))
        t.row(f"{size} ours, Standard Webhooks / `standardwebhooks`", (g, "ours_standard_webhooks"), (g, "standardwebhooks"), ("<", 1.0))

    print("\nThroughput at 1 MiB: " + ", ".join(
        f"{f} {fmt_gbps(*data[('verify_1MiB', f)])}"
        for f in ["raw_hmac", "railz", "rootfi", "ours_standard_webhooks", "svix", "standardwebhooks"]
        if ("verify_1MiB", f) in data))

    parse_groups = sorted({g for g, _ in data if g.startswith("parse/")},
                          key=lambda g: data.get((g, "value"), (0, 0))[1] or 0)
    if parse_groups:
        header("Parse (speed-up = baseline time / our time)", "fixture (bytes)", "speed-up")
    for g in parse_groups:
        name = g.removeprefix("parse/")
        size = data.get((g, "value"), (0, None))[1]
        # The goal is for the ~1 KiB fixtures; smaller ones are shown for orientation.
        goal = (">=", 1.5) if size and 700 <= size <= 1500 else None
        t.row(f"{name} ({size}) vs `Value`", (g, "ledgerhook"), (g, "value"), goal, speedup=True)
        if (g, "derived") in data:
            t.row(f"{name} ({size}) vs derived tagged enum", (g, "ledgerhook"), (g, "derived"), speedup=True)

    layer = sorted({g for g, _ in data if g.startswith("layer")})
    if layer:
        header("Whole layer, in-process `oneshot` (time / baseline time)")
        for g in layer:
            name = g.removeprefix("layer_")
            t.row(f"{name}: ours / hand-rolled (`from_fn` + `hmac` + `Json<T>`)", (g, "ours"), (g, "naive"), ("<=", 0.5))
            t.row(f"{name}: ours / the same work in a handler (the layer's machinery)", (g, "ours"), (g, "in_handler"))
            t.row(f"{name}: ours / bare handler (`Bytes`)", (g, "ours"), (g, "bare"))
        print("\nAdded cost per request over the bare handler (medians; every figure includes "
              "building the request, `request_only`):\n")
        for g in layer:
            if (g, "bare") in data:
                bare = data[(g, "bare")][0]
                parts = [f"{f} +{fmt_ns(data[(g, f)][0] - bare)}"
                         for f in ["ours", "in_handler", "naive"] if (g, f) in data]
                extra = f", request_only {fmt_ns(data[(g, 'request_only')][0])}" if (g, "request_only") in data else ""
                print(f"- {g.removeprefix('layer_')}: " + ", ".join(parts) + f" (bare {fmt_ns(bare)}{extra})")

    print(f"\nGoals missed: {t.missed}; rows without figures: {t.missing}")
    sys.exit(2 if t.missing else 1 if t.missed else 0)


if __name__ == "__main__":
    main()
