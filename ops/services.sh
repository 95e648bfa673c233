#!/usr/bin/env bash
# Installs, builds, starts and health-checks Photogram's local services: a MongoDB-wire server
# (FerretDB on SQLite), Redis and MinIO. Idempotent: a service that already answers is left
# alone. A service whose URL is given in the environment (MONGODB_URL, REDIS_URL, S3_ENDPOINT)
# is neither built nor started here; it is only checked.
#
# `start mongo-wire` also starts mongo-java-server (in memory, on 37018): the second test lane
# (`make test`) runs the data-behaviour suite against it with MONGO_FLAVOR=mongodb, i.e. with
# none of FerretDB's workarounds. It needs a JDK and Maven; `make run` never starts it.
#
#   ops/services.sh start [mongo-wire] | stop | status
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck disable=SC1091
[ -f .env ] && set -a && . ./.env && set +a

VAR=${PHOTOGRAM_VAR_DIR:-$ROOT/var}
BIN=${PHOTOGRAM_BIN_CACHE:-$HOME/.cache/photogram/bin}
FERRETDB_VERSION=v1.24.2
# The pin lives in ops/mongo_wire/pom.xml; this names the cache directory, so keep them equal.
MONGO_WIRE_VERSION=1.47.0
MONGO_WIRE_CACHE=${PHOTOGRAM_JAR_CACHE:-$HOME/.cache/photogram}/mongo-java-server-$MONGO_WIRE_VERSION
MONGO_PORT=${PHOTOGRAM_MONGO_PORT:-37017}
MONGO_WIRE_PORT=${PHOTOGRAM_MONGO_WIRE_PORT:-37018}
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

# mongo-java-server's jars (Maven Central, through the machine's Maven) and our launcher, compiled
# against them. Jars are keyed by version; the launcher also by its source's hash, so an edit to
# Launcher.java rebuilds it and a warm cache does nothing.
build_mongo_wire() {
  local log=$VAR/log/build-mongo-wire.log pin src_hash
  pin=$(sed -n 's:.*<mongo-java-server.version>\(.*\)</mongo-java-server.version>.*:\1:p' ops/mongo_wire/pom.xml)
  [ "$pin" = "$MONGO_WIRE_VERSION" ] || fail "ops/mongo_wire/pom.xml pins $pin, ops/services.sh says $MONGO_WIRE_VERSION"
  src_hash=$(sha256sum ops/mongo_wire/Launcher.java | cut -c1-12)
  MONGO_WIRE_CLASSES=$MONGO_WIRE_CACHE/launcher-$src_hash
  if [ ! -f "$MONGO_WIRE_CACHE/lib/.complete" ]; then
    command -v mvn >/dev/null || fail "Maven (mvn) not found: needed to fetch mongo-java-server"
    say "fetching mongo-java-server $MONGO_WIRE_VERSION into $MONGO_WIRE_CACHE (first time only)"
    rm -rf "$MONGO_WIRE_CACHE/lib"
    mvn -B -q -f ops/mongo_wire/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$MONGO_WIRE_CACHE/lib" >>"$log" 2>&1 || fail "fetching mongo-java-server (mvn)" "$log"
    touch "$MONGO_WIRE_CACHE/lib/.complete"
  fi
  if [ ! -f "$MONGO_WIRE_CLASSES/Launcher.class" ]; then
    command -v javac >/dev/null || fail "javac not found: needed to compile ops/mongo_wire/Launcher.java"
    say "compiling ops/mongo_wire/Launcher.java into $MONGO_WIRE_CLASSES"
    rm -rf "$MONGO_WIRE_CLASSES.tmp"
    javac -d "$MONGO_WIRE_CLASSES.tmp" -cp "$MONGO_WIRE_CACHE/lib/*" ops/mongo_wire/Launcher.java >>"$log" 2>&1 \
      || fail "compiling the mongo-java-server launcher (javac)" "$log"
    rm -rf "$MONGO_WIRE_CLASSES" && mv "$MONGO_WIRE_CLASSES.tmp" "$MONGO_WIRE_CLASSES"
  fi
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

start_mongo_wire() {
  local url="mongodb://127.0.0.1:$MONGO_WIRE_PORT/"
  if mongo_ping "$url" >/dev/null 2>&1; then say "mongo-wire: already up on $MONGO_WIRE_PORT"; return 0; fi
  command -v java >/dev/null || fail "java not found: needed to run mongo-java-server"
  build_mongo_wire
  # In memory: every test drops its own database, so the heap holds only the tests in flight.
  # Serial GC: the lane shares 2 cores with pytest, and pauses on a small heap are short.
  nohup java -Xms64m -Xmx2g -XX:+UseSerialGC -cp "$MONGO_WIRE_CLASSES:$MONGO_WIRE_CACHE/lib/*" \
    Launcher 127.0.0.1 "$MONGO_WIRE_PORT" >>"$VAR/log/mongo-wire.log" 2>&1 &
  echo $! > "$VAR/run/mongo-wire.pid"
  wait_for mongo-wire mongo_ping "$url" || fail "mongo-java-server did not answer on 127.0.0.1:$MONGO_WIRE_PORT" "$VAR/log/mongo-wire.log"
  say "mongo-wire: mongo-java-server $MONGO_WIRE_VERSION up on 127.0.0.1:$MONGO_WIRE_PORT"
}

aof_written() {
  local info; info=$(redis-cli -p "$REDIS_PORT" info persistence)
  grep -q '^aof_enabled:1' <<<"$info" && grep -q '^aof_rewrite_in_progress:0' <<<"$info" \
    && ! grep -q '^aof_rewrite_scheduled:1' <<<"$info"
}

# The job queue and the pending counter deltas live in Redis, so a restart must not drop them:
# AOF, fsynced once a second (at most a second of writes lost on a crash), no RDB snapshots
# (forking a copy of a multi-GB dataset every few minutes would double its memory).
REDIS_PERSISTENCE=(--appendonly yes --appendfsync everysec --save "")

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    wait_for redis redis_ping "$REDIS_URL" || fail "Redis at REDIS_URL does not answer"
    say "redis: using REDIS_URL (ok)"; return 0
  fi
  local url="redis://127.0.0.1:$REDIS_PORT/0"
  if redis_ping "$url" >/dev/null 2>&1; then say "redis: already up on $REDIS_PORT"; return 0; fi
  install_redis
  mkdir -p "$VAR/redis"
  # A dump.rdb with no AOF yet (a var/ from before AOF was on): with AOF on from the start Redis
  # would ignore the dump and start empty, so load the dump first and then turn AOF on, which
  # writes the AOF from the loaded data (Redis's documented way to switch).
  local persistence=("${REDIS_PERSISTENCE[@]}") switch_to_aof=
  if [ -f "$VAR/redis/dump.rdb" ] && [ ! -d "$VAR/redis/appendonlydir" ]; then
    persistence=(--appendonly no --save ""); switch_to_aof=1
  fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$VAR/redis" --daemonize yes \
    --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" \
    "${persistence[@]}" --appendfsync everysec --protected-mode yes >/dev/null \
    || fail "redis-server did not start" "$VAR/log/redis.log"
  wait_for redis redis_ping "$url" || fail "Redis did not answer on 127.0.0.1:$REDIS_PORT" "$VAR/log/redis.log"
  if [ -n "$switch_to_aof" ]; then
    say "redis: loaded var/redis/dump.rdb; turning AOF on (writes the AOF from it)"
    redis-cli -p "$REDIS_PORT" config set appendonly yes >/dev/null || fail "redis: CONFIG SET appendonly yes" "$VAR/log/redis.log"
    wait_for redis-aof aof_written || fail "redis: the first AOF rewrite did not finish" "$VAR/log/redis.log"
  fi
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
    if [ "${2:-}" = mongo-wire ]; then start_mongo_wire
    elif [ -n "${2:-}" ]; then echo "usage: $0 start [mongo-wire]" >&2; exit 2; fi
    ;;
  stop)
    stop_one ferretdb; stop_one minio; stop_one mongo-wire
    # SHUTDOWN SAVE flushes the AOF (and writes a snapshot) before exiting, so nothing queued
    # is lost; SIGTERM (stop_one) does the same for an AOF instance if redis-cli fails.
    if pid_alive redis; then redis-cli -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || stop_one redis; say "redis: stopped"; fi
    rm -f "$VAR/run/redis.pid"
    ;;
  status)
    mongo_ping "${MONGODB_URL:-mongodb://127.0.0.1:$MONGO_PORT/}" >/dev/null 2>&1 && say "mongo: up" || say "mongo: down"
    redis_ping "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" >/dev/null 2>&1 && say "redis: up" || say "redis: down"
    s3_ping "${S3_ENDPOINT:-http://127.0.0.1:$MINIO_PORT}" && say "s3: up" || say "s3: down"
    mongo_ping "mongodb://127.0.0.1:$MONGO_WIRE_PORT/" >/dev/null 2>&1 && say "mongo-wire: up" || say "mongo-wire: down (only \`make test\` starts it)"
    ;;
  *) echo "usage: $0 start [mongo-wire] | stop | status" >&2; exit 2 ;;
esac
