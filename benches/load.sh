#!/usr/bin/env bash
# HTTP load benchmark: the receiver (tools/ test receiver: the example receiver's routes,
# serving and layers; verification + parsing) against a bare axum
# endpoint (examples/bare.rs), on loopback only, same concurrency and payload.
#
#   bash benches/load.sh            # 8 rounds, 5 s per endpoint, 1 wrk thread, 32 connections
#   DURATION=10 ROUNDS=4 CONNECTIONS=64 bash benches/load.sh
#
# Paired like the in-process benchmarks: each round runs bare, receiver with dedup off,
# receiver with dedup on, and one more bare run closes the last round. A receiver run's
# ratio is its requests/s over the mean of the bare runs just before and just after it,
# so a drift of the machine's speed between rounds cancels out; the table gives the
# median ratio over the rounds with its min-max. Each server is started afresh per run.
# The server's CPU time per request (user + system, from /proc) is shown beside it: it
# does not depend on how the two cores were shared with wrk.
#
# The receiver runs with LEDGERHOOK_RECORDS=off: the test receiver's `/stats` bookkeeping (a
# JSON parse, a SHA-256 and a map insert per delivery) is not part of examples/receiver.rs.
#
# Payload: the Railz `dataPerType` fixture (compact JSON), each delivery with its own
# `requestId` and a fresh `Railz-Signature`, pre-signed before the runs and cycled by
# benches/load.lua. The receiver is run with deduplication off (goal: verification and
# parsing on, >= 0.90x the bare endpoint) and on (goal >= 0.85x); with it on, deliveries
# are only distinct while their number lasts (the script says how many requests exceeded
# it). Railz signatures are valid for 5 minutes: the whole run must fit in that window
# (the script fails on any non-2xx answer).
#
# Needs wrk (installed with apt-get when missing), python3 and cargo. Stops by itself;
# servers it started are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-8}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
DELIVERIES=${DELIVERIES:-700000}
PORT=${PORT:-38411}
SECRET=load-bench-railz-secret
TARGET_DIR=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk..." >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi

echo "building release examples..." >&2
cargo build --release --quiet --example bare
# The receiver side is the test receiver (tools/): the example receiver's routes, serving
# and layers, plus the switches a benchmark needs (dedup off, store capacity).
cargo build --release --quiet -p ledgerhook-tools --bin test-receiver

# Pre-signs the deliveries with a fresh timestamp (Railz's window is 5 minutes: signed
# again each round, so no run outlasts it). Warm-up runs get deliveries of their own, so
# that with deduplication on the measured run starts with deliveries the receiver has not
# seen.
sign() {
  python3 - "$WORK" "$DELIVERIES" "$SECRET" <<'PY'
import hashlib, hmac, json, sys, time, uuid
work, count, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with open("tests/fixtures/railz_data_per_type.json") as f:
    template = json.load(f)
t = str(int(time.time() * 1000)).encode()
def write(path, first, n):
    with open(path, "w") as f:
        for i in range(first, first + n):
            template["requestId"] = str(uuid.UUID(int=i + 1))
            body = json.dumps(template, separators=(",", ":")).encode()
            mac = hmac.new(secret, t + b"." + body, hashlib.sha256).hexdigest()
            f.write(f"t={t.decode()},v={mac}\t{body.decode()}\n")
    return len(body)
size = write(f"{work}/deliveries.tsv", 0, count)
write(f"{work}/warmup.tsv", count, 100_000)
print(f"{count} deliveries of {size} bytes pre-signed", file=sys.stderr)
PY
}

wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "server did not start on port $PORT" >&2
  return 1
}

binary_path() {
  case $1 in
    bare) echo "$TARGET_DIR/release/examples/bare" ;;
    *) echo "$TARGET_DIR/release/$1" ;;
  esac
}

# run ROUND NAME BINARY [ENV...]: starts the server, warms up, measures; appends
# requests/s, requests, latency and the server's CPU time in the measured run to results.
run() {
  local round=$1 name=$2 binary=$3
  shift 3
  env "$@" LEDGERHOOK_ADDR="127.0.0.1:$PORT" RAILZ_WEBHOOK_SECRET="$SECRET" RUST_LOG=warn \
    "$(binary_path "$binary")" >"$WORK/$binary.log" 2>&1 &
  SERVER_PID=$!
  wait_for_port
  local url="http://127.0.0.1:$PORT/webhooks/railz"
  local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" -s benches/load.lua)
  "${wrk[@]}" -d"${WARMUP}s" "$url" -- "$WORK/warmup.tsv" "$THREADS" >/dev/null
  local cpu_before cpu_after
  cpu_before=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
  "${wrk[@]}" -d"${DURATION}s" "$url" -- "$WORK/deliveries.tsv" "$THREADS" >"$WORK/$name.txt"
  cpu_after=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  if grep -qE "Non-2xx|Socket errors" "$WORK/$name.txt"; then
    echo "$name: some requests failed:" >&2
    cat "$WORK/$name.txt" "$WORK/$binary.log" >&2
    exit 1
  fi
  local total
  total=$(awk '/requests in/ {print $1}' "$WORK/$name.txt")
  echo "$round $name $(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt") $total \
$(awk '/Latency/ {print $2}' "$WORK/$name.txt") $((cpu_after - cpu_before)) $(getconf CLK_TCK)" \
    >>"$WORK/results"
}

for round in $(seq "$ROUNDS"); do
  sign
  run "$round" bare bare
  run "$round" "receiver(dedup-off)" test-receiver LEDGERHOOK_RECORDS=off LEDGERHOOK_DEDUP=off
  # Every delivery is new, more of them than the store's default capacity holds.
  run "$round" "receiver(dedup-on)" test-receiver LEDGERHOOK_RECORDS=off LEDGERHOOK_STORE_CAPACITY=$((DELIVERIES + 100000))
done
sign
run "$((ROUNDS + 1))" bare bare

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on loopback, $(nproc) CPUs shared by client and server,"
echo "$ROUNDS paired rounds; ratio = requests/s over the mean of the bare runs before and after"
echo
python3 - "$WORK/results" "$DELIVERIES" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    round_, name, rps, total, latency, ticks, hz = line.split()
    runs.setdefault(name, {})[int(round_)] = (float(rps), int(total), int(ticks) / int(hz))
bare = runs["bare"]
print("| endpoint | requests/s (median) | ratio to bare, median of rounds | min-max | server CPU per request | goal |")
print("|---|---:|---:|---:|---:|---|")
for name, rounds in runs.items():
    rps = [r for r, _, _ in rounds.values()]
    cpu_us = statistics.median(c / t * 1e6 for _, t, c in rounds.values())
    if name == "bare":
        ratios = [1.0]
    else:
        ratios = [r / ((bare[k][0] + bare[k + 1][0]) / 2) for k, (r, _, _) in rounds.items()]
    med = statistics.median(ratios)
    target = {"receiver(dedup-off)": 0.90, "receiver(dedup-on)": 0.85}.get(name)
    goal = f"≥ {target:.2f}: " + ("yes" if med >= target else "**no**") if target else ""
    print(f"| {name} | {statistics.median(rps):,.0f} | {med:.3f}× | "
          f"{min(ratios):.3f}-{max(ratios):.3f} | {cpu_us:.1f} µs | {goal} |")
repeated = max((t for _, t, _ in runs.get("receiver(dedup-on)", {}).values()), default=0) - int(sys.argv[2])
if repeated > 0:
    print(f"\ndedup on: up to {repeated} requests per run repeated an earlier delivery")
PY
