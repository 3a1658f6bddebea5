#!/usr/bin/env bash
# HTTP load benchmark: the receiver (tools/ test receiver: the example receiver's routes,
# serving and layers; verification + parsing) against a bare axum
# endpoint (examples/bare.rs), one after the other, same concurrency and payload, on
# loopback only. Prints requests/s for each and the ratio to the bare endpoint.
#
#   bash benches/load.sh            # 3 rounds of 10 s per endpoint, 1 wrk thread, 32 connections
#   DURATION=20 CONNECTIONS=64 bash benches/load.sh
#
# The receiver runs with LEDGERHOOK_RECORDS=off: the test receiver's `/stats` bookkeeping (a
# JSON parse, a SHA-256 and a map insert per delivery) is not part of examples/receiver.rs.
#
# Payload: the Railz `dataPerType` fixture (compact JSON), each delivery with its own
# `requestId` and a fresh `Railz-Signature`, pre-signed before the runs and cycled by
# benches/load.lua. The receiver is run twice: with deduplication off (goal: verification and parsing on, >= 0.90x the bare
# endpoint) and on (goal >= 0.85x); with it on, deliveries are only distinct while their
# number lasts (the script says how many requests exceeded it).
#
# Needs wrk (installed with apt-get when missing), python3 and cargo. Stops by itself;
# servers it started are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
DELIVERIES=${DELIVERIES:-900000}
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

# Pre-sign the deliveries (fresh timestamps: Railz's window is 5 minutes, the runs take
# well under that).
# Warm-up runs get deliveries of their own, so that with deduplication on the measured run
# starts with deliveries the receiver has not seen.
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

# run NAME BINARY [ENV...]: starts the server, warms up, measures; prints requests/s.
run() {
  local name=$1 binary=$2
  shift 2
  env "$@" LEDGERHOOK_ADDR="127.0.0.1:$PORT" RAILZ_WEBHOOK_SECRET="$SECRET" RUST_LOG=warn \
    "$(binary_path "$binary")" >"$WORK/$binary.log" 2>&1 &
  SERVER_PID=$!
  wait_for_port
  local url="http://127.0.0.1:$PORT/webhooks/railz"
  local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" -s benches/load.lua)
  "${wrk[@]}" -d"${WARMUP}s" "$url" -- "$WORK/warmup.tsv" "$THREADS" >/dev/null
  "${wrk[@]}" -d"${DURATION}s" "$url" -- "$WORK/deliveries.tsv" "$THREADS" >"$WORK/$name.txt"
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
  echo "$name $(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt") $total \
$(awk '/Latency/ {print $2}' "$WORK/$name.txt")" >>"$WORK/results"
}

# Alternate the endpoints, ROUNDS times, and compare medians: the client, the server and
# anything else on the machine share the same cores, so single runs vary by ~10 %.
for _ in $(seq "$ROUNDS"); do
  run bare bare
  run "receiver(dedup-off)" test-receiver LEDGERHOOK_RECORDS=off LEDGERHOOK_DEDUP=off
  # Every delivery is new, more of them than the store's default capacity holds.
  run "receiver(dedup-on)" test-receiver LEDGERHOOK_RECORDS=off LEDGERHOOK_STORE_CAPACITY=$((DELIVERIES + 100000))
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on loopback, $(nproc) CPUs shared by client and server,"
echo "$ROUNDS alternating rounds; medians (min-max) of requests/s"
echo
python3 - "$WORK/results" "$DELIVERIES" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rps, total, latency = line.split()
    runs.setdefault(name, []).append((float(rps), int(total), latency))
bare = statistics.median(r for r, _, _ in runs["bare"])
print("| endpoint | requests/s (median) | min-max | vs bare | goal |")
print("|---|---:|---:|---:|---|")
for name, rs in runs.items():
    rps = [r for r, _, _ in rs]
    med = statistics.median(rps)
    ratio = med / bare
    goal = ""
    # Goals of issue 14.
    target = {"receiver(dedup-off)": 0.90, "receiver(dedup-on)": 0.85}.get(name)
    if target:
        goal = f"≥ {target:.2f}: " + ("yes" if ratio >= target else "**no**")
    print(f"| {name} | {med:,.0f} | {min(rps):,.0f}-{max(rps):,.0f} | {ratio:.3f}× | {goal} |")
repeated = max((t for _, t, _ in runs.get("receiver(dedup-on)", [])), default=0) - int(sys.argv[2])
if repeated > 0:
    print(f"\ndedup on: up to {repeated} requests per run repeated an earlier delivery")
PY
