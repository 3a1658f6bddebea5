#!/usr/bin/env bash
# Start, restart and stop a throwaway redis-server on a free loopback port.
#
#   eval "$(scripts/redis.sh start)"     # prints export lines for LEDGERHOOK_REDIS_URL and LEDGERHOOK_REDIS_DIR
#   scripts/redis.sh restart "$LEDGERHOOK_REDIS_DIR"   # graceful stop + start, same port and data
#   scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"      # stop and delete the directory
#
# Installs the Debian package redis-server with apt-get if it is missing (needs root).
# The server binds 127.0.0.1 only, keeps its data in a temp dir with an append-only file
# (so a restart keeps the keys, as a production Redis with persistence would), and is
# never left running by `stop`.
set -euo pipefail

die() { echo "redis.sh: $*" >&2; exit 1; }

ensure_installed() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    echo "redis.sh: installing redis-server (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
    command -v redis-server >/dev/null || die "redis-server not found after install"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

launch() { # dir port
    local dir=$1 port=$2
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --save '' --appendonly yes --appendfsync everysec \
        --protected-mode yes >/dev/null
    for _ in $(seq 1 100); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then return 0; fi
        sleep 0.05
    done
    cat "$dir/redis.log" >&2 || true
    die "redis-server did not answer on 127.0.0.1:$port"
}

halt() { # dir
    local dir=$1 pid
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    # Graceful: redis flushes the append-only file on SIGTERM.
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
        dir=${2:-$(mktemp -d "${TMPDIR:-/tmp}/ledgerhook-redis.XXXXXX")}
        mkdir -p "$dir"
        port=$(free_port)
        echo "$port" > "$dir/port"
        launch "$dir" "$port"
        echo "export LEDGERHOOK_REDIS_URL=redis://127.0.0.1:$port/"
        echo "export LEDGERHOOK_REDIS_DIR=$dir"
        ;;
    restart)
        dir=${2:?usage: redis.sh restart DIR}
        [ -f "$dir/port" ] || die "no server state in $dir"
        halt "$dir"
        launch "$dir" "$(cat "$dir/port")"
        ;;
    stop)
        dir=${2:?usage: redis.sh stop DIR}
        halt "$dir"
        case "$dir" in
            "${TMPDIR:-/tmp}"/ledgerhook-redis.*) rm -rf -- "$dir" ;;
        esac
        ;;
    *)
        die "usage: redis.sh start [DIR] | restart DIR | stop DIR"
        ;;
esac
