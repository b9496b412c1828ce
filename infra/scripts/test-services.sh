#!/usr/bin/env bash
# Throwaway PostgreSQL cluster and Redis server on loopback for the test suite.
#   test-services.sh start   -> prints `export DATABASE_URL=... REDIS_URL=...` lines
#   test-services.sh stop
# PostgreSQL refuses to run as root, so the cluster runs as the postgres user with its
# socket dir under /tmp (postgres cannot enter /root). fsync off: it is throwaway.
# Tests connect as `app`, a plain role (NOSUPERUSER NOBYPASSRLS) so row-level security
# applies to it — superusers ignore RLS even with FORCE.
set -euo pipefail
DIR="${TEST_SERVICES_DIR:-/tmp/adfactory-test-services}"
PG_PORT="${TEST_PG_PORT:-55432}"
REDIS_PORT="${TEST_REDIS_PORT:-56379}"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR" && mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres "$DIR"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c \
    "CREATE ROLE app LOGIN PASSWORD 'app' NOSUPERUSER NOBYPASSRLS CREATEDB;" >/dev/null
  as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE app OWNER app;" >/dev/null
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "export DATABASE_URL=postgres://app:app@127.0.0.1:$PG_PORT/app"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  if [[ -f "$DIR/redis.pid" ]]; then kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; fi
  if [[ -d "$DIR/pg" ]]; then as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
