#!/usr/bin/env bash
# Installs, builds, starts and health-checks Photogram's local services: a MongoDB-wire server
# (FerretDB on SQLite), Redis and MinIO. Idempotent: a service that already answers is left
# alone. A service whose URL is given in the environment (MONGODB_URL, REDIS_URL, S3_ENDPOINT)
# is neither built nor started here; it is only checked.
#
#   ops/services.sh start | stop | status
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck disable=SC1091
[ -f .env ] && set -a && . ./.env && set +a

VAR=${PHOTOGRAM_VAR_DIR:-$ROOT/var}
BIN=${PHOTOGRAM_BIN_CACHE:-$HOME/.cache/photogram/bin}
FERRETDB_VERSION=v1.24.2
MONGO_PORT=${PHOTOGRAM_MONGO_PORT:-37017}
REDIS_PORT=${PHOTOGRAM_REDIS_PORT:-36379}
MINIO_PORT=${PHOTOGRAM_MINIO_PORT:-39000}
MINIO_CONSOLE_PORT=${PHOTOGRAM_MINIO_CONSOLE_PORT:-39001}
MINIO_USER=${S3_ACCESS_KEY:-photogram}
MINIO_PASSWORD=${S3_SECRET_KEY:-photogram-local-dev}
PY=${PYTHON:-$ROOT/.venv/bin/python}

mkdir -p "$VAR/log" "$VAR/run" "$BIN"
say() { printf '[services] %s\n' "$*"; }
fail() {
  printf '[services] FAILED: %s\n' "$1" >&2
  printf '[services] retry with: make services   (log: %s)\n' "${2:-$VAR/log}" >&2
  exit 1
}

# wait_for NAME CHECK-COMMAND...: polls until the check passes, at most 60 s.
wait_for() {
  local name=$1; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

pid_alive() { [ -f "$VAR/run/$1.pid" ] && kill -0 "$(cat "$VAR/run/$1.pid")" 2>/dev/null; }

mongo_ping() { "$PY" -c 'import sys, pymongo; pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("ping")' "$1"; }
redis_ping() { "$PY" -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_timeout=1).ping()' "$1"; }
s3_ping() { curl -fsS -o /dev/null --max-time 2 "$1/minio/health/live" 2>/dev/null; }

# --- builds ----------------------------------------------------------------------------------
build_ferretdb() {
  [ -x "$BIN/ferretdb" ] && "$BIN/ferretdb" --version 2>/dev/null | grep -q "$FERRETDB_VERSION" && return 0
  say "building FerretDB $FERRETDB_VERSION into $BIN (first time only, about a minute)"
  local log=$VAR/log/build-ferretdb.log src work
  # FerretDB reads its version from build/version/version.txt, which its own task runner
  # generates and the module zip does not carry; without it the binary panics at start.
  # So build from a writable copy of the module with that file written, as its docs allow.
  src=$(GOFLAGS=-modcacherw go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>>"$log" \
        | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') || fail "downloading FerretDB module" "$log"
  work=$(mktemp -d)
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" > "$work/build/version/version.txt"
  (cd "$work" && go build -trimpath -o "$BIN/ferretdb.tmp" ./cmd/ferretdb) >>"$log" 2>&1 \
    || { rm -rf "$work"; fail "building FerretDB (go build)" "$log"; }
  mv "$BIN/ferretdb.tmp" "$BIN/ferretdb"
  rm -rf "$work"
}

build_minio() {
  [ -x "$BIN/minio" ] && return 0
  say "building MinIO (pinned in ops/gobuild/minio/go.mod) into $BIN (first time only, several minutes)"
  local log=$VAR/log/build-minio.log
  (cd ops/gobuild/minio && go build -trimpath -o "$BIN/minio.tmp" github.com/minio/minio) >>"$log" 2>&1 \
    || fail "building MinIO (go build)" "$log"
  mv "$BIN/minio.tmp" "$BIN/minio"
}

install_redis() {
  command -v redis-server >/dev/null && return 0
  say "installing redis-server from Debian packages"
  local log=$VAR/log/install-redis.log
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; } \
    >>"$log" 2>&1 || fail "installing redis-server with apt-get" "$log"
  # Debian's package starts a system instance on 6379; ours runs on its own port, so stop it.
  (service redis-server stop || true) >/dev/null 2>&1
}

# --- start -----------------------------------------------------------------------------------
start_mongo() {
  if [ -n "${MONGODB_URL:-}" ]; then
    wait_for mongo mongo_ping "$MONGODB_URL" || fail "MongoDB at MONGODB_URL does not answer"
    say "mongo: using MONGODB_URL (ok)"; return 0
  fi
  local url="mongodb://127.0.0.1:$MONGO_PORT/"
  if mongo_ping "$url" >/dev/null 2>&1; then say "mongo: FerretDB already up on $MONGO_PORT"; return 0; fi
  build_ferretdb
  mkdir -p "$VAR/ferretdb/data" "$VAR/ferretdb/state"
  nohup "$BIN/ferretdb" --handler=sqlite --sqlite-url="file:$VAR/ferretdb/data/" \
    --state-dir="$VAR/ferretdb/state" --listen-addr="127.0.0.1:$MONGO_PORT" \
    --debug-addr=- --telemetry=disable --log-level=warn \
    >>"$VAR/log/ferretdb.log" 2>&1 &
  echo $! > "$VAR/run/ferretdb.pid"
  wait_for mongo mongo_ping "$url" || fail "FerretDB did not answer on 127.0.0.1:$MONGO_PORT" "$VAR/log/ferretdb.log"
  say "mongo: FerretDB $FERRETDB_VERSION up on 127.0.0.1:$MONGO_PORT"
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    wait_for redis redis_ping "$REDIS_URL" || fail "Redis at REDIS_URL does not answer"
    say "redis: using REDIS_URL (ok)"; return 0
  fi
  local url="redis://127.0.0.1:$REDIS_PORT/0"
  if redis_ping "$url" >/dev/null 2>&1; then say "redis: already up on $REDIS_PORT"; return 0; fi
  install_redis
  mkdir -p "$VAR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$VAR/redis" --daemonize yes \
    --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" --save "" --appendonly no \
    --protected-mode yes >/dev/null || fail "redis-server did not start" "$VAR/log/redis.log"
  wait_for redis redis_ping "$url" || fail "Redis did not answer on 127.0.0.1:$REDIS_PORT" "$VAR/log/redis.log"
  say "redis: $(redis-server --version | cut -d' ' -f3 | cut -d= -f2) up on 127.0.0.1:$REDIS_PORT"
}

start_minio() {
  if [ -n "${S3_ENDPOINT:-}" ]; then
    say "s3: using S3_ENDPOINT (checked by /readyz)"; return 0
  fi
  local url="http://127.0.0.1:$MINIO_PORT"
  if s3_ping "$url"; then say "s3: MinIO already up on $MINIO_PORT"; return 0; fi
  build_minio
  mkdir -p "$VAR/minio"
  MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off \
  MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    nohup "$BIN/minio" server "$VAR/minio" --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet >>"$VAR/log/minio.log" 2>&1 &
  echo $! > "$VAR/run/minio.pid"
  wait_for s3 s3_ping "$url" || fail "MinIO did not answer on 127.0.0.1:$MINIO_PORT" "$VAR/log/minio.log"
  say "s3: MinIO up on 127.0.0.1:$MINIO_PORT"
}

stop_one() {
  local name=$1
  if pid_alive "$name"; then
    kill "$(cat "$VAR/run/$name.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$name" || break; sleep 0.1; done
    say "$name: stopped"
  fi
  rm -f "$VAR/run/$name.pid"
}

case "${1:-start}" in
  start)
    command -v go >/dev/null || fail "Go toolchain not found (needed to build FerretDB and MinIO)"
    start_redis
    start_mongo
    start_minio
    ;;
  stop)
    stop_one ferretdb; stop_one minio
    if pid_alive redis; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || stop_one redis; say "redis: stopped"; fi
    rm -f "$VAR/run/redis.pid"
    ;;
  status)
    mongo_ping "${MONGODB_URL:-mongodb://127.0.0.1:$MONGO_PORT/}" >/dev/null 2>&1 && say "mongo: up" || say "mongo: down"
    redis_ping "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" >/dev/null 2>&1 && say "redis: up" || say "redis: down"
    s3_ping "${S3_ENDPOINT:-http://127.0.0.1:$MINIO_PORT}" && say "s3: up" || say "s3: down"
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
