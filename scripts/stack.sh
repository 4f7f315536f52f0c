#!/usr/bin/env bash
# The processes of docker-compose.yml without Docker, on this machine's PostgreSQL and Redis (or RabbitMQ)
# and a private SeaweedFS S3 with Object Lock: one worker per queue, the hot-folder watcher, the API.
#
#   scripts/stack.sh up [DIR] [--broker redis|rabbitmq]   start; pids, logs and env under DIR (./stack)
#   scripts/stack.sh status [DIR]                         what runs (exit 3 if something does not)
#   scripts/stack.sh down [DIR]                           stop everything it started
#
# Configuration is the services' own DEMATFLOW_* variables (as in docker-compose.yml); unset, they get:
#   DEMATFLOW_DATABASE_URL   a database dematflow_stack_* per DIR on 127.0.0.1:5432, created with
#                            DEMATFLOW_STACK_PG_ADMIN (default postgres@); down keeps it
#   DEMATFLOW_BROKER_URL     redis://127.0.0.1:6379/3, or vhost dematflow-stack of the local RabbitMQ
#   DEMATFLOW_S3_*           a private SeaweedFS under DIR/s3 (set DEMATFLOW_S3_ENDPOINT to use another)
#   DEMATFLOW_DATA_DIR=DIR/data   DEMATFLOW_WORKER_PROCESSES=1
# and the stack's own: DEMATFLOW_STACK_PORT (API, 8000), DEMATFLOW_STACK_INBOX (hot folder, DIR/inbox),
# DEMATFLOW_STACK_TIMEOUT (seconds `up` waits, 120). `set -a; . DIR/env` gives a shell the stack's
# settings (for `dematflow archive list`, `dematflow audit verify`, ...).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.venv/bin"

usage() { sed -n '4,6p' "$0" | sed 's/^# *//' >&2; exit 2; }
action="${1:-}"
[[ $action =~ ^(up|status|down)$ ]] || usage
shift
dir="" broker=redis
while (($#)); do
    case "$1" in
        --broker) broker="${2:-}"; shift 2 ;;
        --broker=*) broker="${1#*=}"; shift ;;
        -*) usage ;;
        *) dir="$1"; shift ;;
    esac
done
[[ $broker =~ ^(redis|rabbitmq)$ ]] || usage
dir="$(mkdir -p "${dir:-stack}" && cd "${dir:-stack}" && pwd)"
pids="$dir/pids" logs="$dir/logs"

say() { echo "stack: $*" >&2; }
alive() { kill -0 "$1" 2>/dev/null; }
# Processes of the groups the stack started (each service leads a session of its own).
leftovers() { for pgid in "$@"; do pgrep -g "$pgid" || true; done; }

service_pids() {  # NAME PID, in the order of starting
    for f in $(ls -tr "$pids"/*.pid 2>/dev/null); do echo "$(basename "$f" .pid) $(cat "$f")"; done
}

start() {  # NAME COMMAND...: in a session of its own, so that `down` can end its whole group
    local name="$1"; shift
    setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$pids/$name.pid"
    sleep 0.05  # distinct mtimes: `down` stops in the reverse order
}

fail() {  # NAME: the service's log tail, then everything stopped
    say "$1 is not healthy; the end of $logs/$1.log:"
    tail -n 40 "$logs/$1.log" >&2 || true
    stop_all >&2 || true
    exit 1
}

stop_all() {
    local grace="${DEMATFLOW_STACK_STOP_TIMEOUT:-60}" groups=() name pid
    # Reverse order of starting: the doors first, then the workers (an OCR job in flight finishes).
    while read -r name pid; do
        [ -n "$name" ] || continue
        groups+=("$pid")
        alive "$pid" && kill -TERM "$pid" 2>/dev/null && say "stopping $name ($pid)"
    done < <(service_pids | tac)
    local deadline=$((SECONDS + grace))
    while [ -n "$(leftovers "${groups[@]}")" ] && ((SECONDS < deadline)); do sleep 0.3; done
    for pgid in "${groups[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
    if [ -f "$dir/s3/server.json" ]; then
        "$bin/python" -m storage.seaweedfs stop "$dir/s3" && say "stopped SeaweedFS"
        groups+=("$("$bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
            "$dir/s3/server.json")")
        rm -f "$dir/s3/server.json"
    fi
    local left
    deadline=$((SECONDS + 10))  # what was killed is gone once reaped
    while left="$(leftovers "${groups[@]}" | tr '\n' ' ')" && [ -n "$left" ] && ((SECONDS < deadline)); do
        sleep 0.2
    done
    rm -f "$pids"/*.pid
    [ -z "$left" ] || { say "still running: $left"; return 1; }
    say "down"
}

status() {
    local bad=0 name pid
    [ -f "$dir/s3/server.json" ] && service_line=1 || service_line=0
    if ((service_line)); then
        pid="$("$bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$dir/s3/server.json")"
        if alive "$pid"; then echo "seaweedfs  $pid  running"; else echo "seaweedfs  $pid  stopped"; bad=1; fi
    fi
    while read -r name pid; do
        [ -n "$name" ] || continue
        if alive "$pid"; then echo "$name  $pid  running"; else echo "$name  $pid  stopped"; bad=1; fi
    done < <(service_pids)
    [ -n "$(service_pids)" ] || { echo "nothing started under $dir"; return 3; }
    if [ -f "$dir/env" ]; then
        set -a; . "$dir/env"; set +a
        echo "api  $(curl -s "http://127.0.0.1:$DEMATFLOW_STACK_PORT/readyz" || echo unreachable)"
    fi
    ((bad == 0)) || return 3
}

database() {  # creates the stack's database on the machine's PostgreSQL when none is given
    [ -n "${DEMATFLOW_DATABASE_URL:-}" ] && return
    local admin="${DEMATFLOW_STACK_PG_ADMIN:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
    # One database per stack directory: its catalogue describes that directory's archive.
    local name
    name="dematflow_stack_$(echo -n "$dir" | sha1sum | cut -c1-8)"
    "$bin/python" - "$admin" "$name" <<'EOF' || { say "PostgreSQL: cannot create the stack's database"; exit 1; }
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": sys.argv[2]}).scalar()
    if not found:
        conn.execute(text(f'CREATE DATABASE "{sys.argv[2]}"'))
EOF
    DEMATFLOW_DATABASE_URL="${admin%/*}/$name"
}

broker_url() {
    [ -n "${DEMATFLOW_BROKER_URL:-}" ] && return
    if [ "$broker" = redis ]; then
        DEMATFLOW_BROKER_URL="redis://127.0.0.1:6379/3"  # a database of its own (the tests use others)
        return
    fi
    # A virtual host of its own, so that the stack's queues are not the tests' (on "/").
    if command -v rabbitmqctl >/dev/null; then
        rabbitmqctl -q add_vhost dematflow-stack 2>/dev/null || true
        rabbitmqctl -q set_permissions -p dematflow-stack guest '.*' '.*' '.*' >/dev/null
        DEMATFLOW_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/dematflow-stack"
    else
        DEMATFLOW_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/%2F"
    fi
}

archive() {  # a private SeaweedFS with the bucket made with Object Lock, unless an S3 is given
    [ -n "${DEMATFLOW_S3_ENDPOINT:-}" ] && return
    export DEMATFLOW_S3_BUCKET="${DEMATFLOW_S3_BUCKET:-dematflow-archive}"
    local info
    info="$("$bin/python" -m storage.seaweedfs start "$dir/s3" --bucket "$DEMATFLOW_S3_BUCKET")" || {
        say "SeaweedFS did not start; the end of $dir/s3/weed.log:"; tail -n 40 "$dir/s3/weed.log" >&2
        exit 1
    }
    eval "$("$bin/python" -c 'import json, sys; print("DEMATFLOW_S3_ENDPOINT=%(endpoint)s \
DEMATFLOW_S3_ACCESS_KEY=%(access_key)s DEMATFLOW_S3_SECRET_KEY=%(secret_key)s" % json.loads(sys.argv[1]))' \
        "$info")"
    DEMATFLOW_S3_REGION=us-east-1 DEMATFLOW_S3_SECURE=false
}

up() {
    if [ -n "$(service_pids)" ]; then
        status >/dev/null && { say "already up under $dir"; return; }
        say "a previous stack under $dir is partly down: stopping it first"; stop_all || true
    fi
    mkdir -p "$pids" "$logs"
    export DEMATFLOW_DATA_DIR="${DEMATFLOW_DATA_DIR:-$dir/data}"
    export DEMATFLOW_WORKER_PROCESSES="${DEMATFLOW_WORKER_PROCESSES:-1}"
    export DEMATFLOW_STACK_PORT="${DEMATFLOW_STACK_PORT:-8000}"
    local inbox="${DEMATFLOW_STACK_INBOX:-$dir/inbox}" timeout="${DEMATFLOW_STACK_TIMEOUT:-120}"
    mkdir -p "$inbox" "$DEMATFLOW_DATA_DIR"
    database; broker_url
    export DEMATFLOW_DATABASE_URL DEMATFLOW_BROKER_URL
    archive
    export DEMATFLOW_S3_ENDPOINT DEMATFLOW_S3_ACCESS_KEY DEMATFLOW_S3_SECRET_KEY DEMATFLOW_S3_REGION \
        DEMATFLOW_S3_SECURE
    (umask 077; env | grep -E '^DEMATFLOW_' | sed "s/=\(.*\)/='\1'/" | sort >"$dir/env")
    # The catalogue's schema once, before any worker opens it (README, Deployment).
    "$bin/dematflow" db upgrade >"$logs/db-upgrade.log" 2>&1 || {
        say "dematflow db upgrade failed:"; tail -n 40 "$logs/db-upgrade.log" >&2; stop_all >&2; exit 1
    }
    local queues
    queues="$("$bin/python" -c 'from workers.actors import QUEUES; print(*QUEUES)')"
    for queue in $queues; do  # dematflow.capture -> worker-capture; dematflow -> worker-maintenance
        local name="${queue#dematflow.}"
        [ "$name" = dematflow ] && name=maintenance
        start "worker-$name" "$bin/dematflow" worker --queues "$queue"
    done
    start watcher "$bin/dematflow" watch "$inbox"
    start api "$bin/dematflow" serve --host 127.0.0.1 --port "$DEMATFLOW_STACK_PORT"
    say "waiting (at most ${timeout} s) for the API's /readyz and the workers"
    local deadline=$((SECONDS + timeout)) name pid ready
    while :; do
        ready=1
        while read -r name pid; do
            alive "$pid" || fail "$name"
            case "$name" in
                worker-*) [ "$(grep -c 'Worker process is ready for action' "$logs/$name.log")" -ge \
                    "$DEMATFLOW_WORKER_PROCESSES" ] || ready=0 ;;
                watcher) grep -q '^watching ' "$logs/$name.log" || ready=0 ;;
                api) curl -sf -o /dev/null "http://127.0.0.1:$DEMATFLOW_STACK_PORT/readyz" || ready=0 ;;
            esac
        done < <(service_pids)
        ((ready)) && break
        if ((SECONDS >= deadline)); then
            while read -r name pid; do
                case "$name" in
                    worker-*) grep -q 'ready for action' "$logs/$name.log" || fail "$name" ;;
                    watcher) grep -q '^watching ' "$logs/$name.log" || fail "$name" ;;
                    api) curl -sf -o /dev/null "http://127.0.0.1:$DEMATFLOW_STACK_PORT/readyz" || fail api ;;
                esac
            done < <(service_pids)
            fail api
        fi
        sleep 0.5
    done
    say "up: API http://127.0.0.1:$DEMATFLOW_STACK_PORT, hot folder $inbox, settings in $dir/env"
}

case "$action" in
    up) up ;;
    status) status ;;
    down) stop_all ;;
esac
