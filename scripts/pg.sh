# A throwaway PostgreSQL 15 cluster for tests and benchmarks: `source scripts/pg.sh`, then
# `start_throwaway_postgres` exports DATABASE_URL; an EXIT trap stops and removes the cluster.
# Runs initdb and pg_ctl as the postgres user when the caller is root.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
VENV=${VENV:-.venv}

PGTMP=""
cleanup() {
  if [ -n "$PGTMP" ] && [ -d "$PGTMP" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
}
trap cleanup EXIT INT TERM

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_throwaway_postgres() {
  if [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "PostgreSQL binaries missing in $PG_BIN: installing Debian's postgresql package…"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
    fi
    [ -x "$PG_BIN/initdb" ] || { echo "No PostgreSQL at $PG_BIN; set PG_BIN or DATABASE_URL."; return 1; }
  fi
  PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/portal-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    chown postgres: "$PGTMP"
  fi
  chmod 700 "$PGTMP"
  local port
  port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$PG_BIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --no-locale >"$PGTMP/initdb.log" 2>&1 \
    || { cat "$PGTMP/initdb.log"; return 1; }
  # fsync and friends off: this cluster lives for one test run and is thrown away.
  as_postgres "$PG_BIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 \
    -o "-p $port -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$PGTMP/server.log"; return 1; }
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres portal || return 1
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/portal"
  echo "Throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $port (in $PGTMP)"
}

