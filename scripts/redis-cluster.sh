#!/usr/bin/env bash
# Start and stop a throwaway Redis Cluster of three masters (no replicas) on free
# loopback ports.
#
#   eval "$(scripts/redis-cluster.sh start)"   # exports LEDGERHOOK_REDIS_CLUSTER_URLS (comma-separated) and LEDGERHOOK_REDIS_CLUSTER_DIR
#   scripts/redis-cluster.sh stop "$LEDGERHOOK_REDIS_CLUSTER_DIR"   # stop all nodes, delete the directory
#
# Installs the Debian package redis-server with apt-get if it is missing (needs root).
# Every node binds 127.0.0.1 only (cluster bus on port+10000), keeps an append-only file
# in its own directory, and is stopped by `stop`.
set -euo pipefail

die() { echo "redis-cluster.sh: $*" >&2; exit 1; }

ensure_installed() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    echo "redis-cluster.sh: installing redis-server (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
    command -v redis-server >/dev/null || die "redis-server not found after install"
}

# A free port whose cluster-bus port (+10000) is free too.
free_port() {
    python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    if port + 10000 > 65535:
        s.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 10000))
    except OSError:
        s.close(); continue
    b.close(); s.close(); print(port); break
PY
}

halt() { # node dir
    local dir=$1 pid
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd=${1:-}
case "$cmd" in
    start)
        ensure_installed
        root=$(mktemp -d "${TMPDIR:-/tmp}/ledgerhook-redis-cluster.XXXXXX")
        nodes=() urls=()
        for i in 1 2 3; do
            dir="$root/node$i"; mkdir -p "$dir"
            port=$(free_port)
            echo "$port" > "$dir/port"
            redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
                --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
                --cluster-node-timeout 5000 \
                --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
                --save '' --appendonly yes --appendfsync everysec \
                --protected-mode yes >/dev/null
            for _ in $(seq 1 100); do
                [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
                sleep 0.05
            done
            [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] \
                || { cat "$dir/redis.log" >&2; die "node $i did not answer on 127.0.0.1:$port"; }
            nodes+=("127.0.0.1:$port"); urls+=("redis://127.0.0.1:$port/")
        done
        redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$root/create.log" 2>&1 \
            || { cat "$root/create.log" >&2; die "cluster create failed"; }
        first=${nodes[0]#*:}
        for _ in $(seq 1 200); do
            if redis-cli -h 127.0.0.1 -p "$first" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
                ok=1; break
            fi
            sleep 0.05
        done
        [ "${ok:-}" = 1 ] || die "cluster did not reach cluster_state:ok"
        echo "export LEDGERHOOK_REDIS_CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")"
        echo "export LEDGERHOOK_REDIS_CLUSTER_DIR=$root"
        ;;
    stop)
        root=${2:?usage: redis-cluster.sh stop DIR}
        for dir in "$root"/node*; do [ -d "$dir" ] && halt "$dir"; done
        case "$root" in
            "${TMPDIR:-/tmp}"/ledgerhook-redis-cluster.*) rm -rf -- "$root" ;;
        esac
        ;;
    *)
        die "usage: redis-cluster.sh start | stop DIR"
        ;;
esac
