#!/usr/bin/env bash
# `make bench`: every benchmark on SQLite, then on PostgreSQL (DATABASE_URL when it points at
# PostgreSQL, else a throwaway cluster). Arguments select benchmarks: `make bench ARGS=accounts`.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
source scripts/pg.sh

printf '\n== SQLite\n'
env -u DATABASE_URL "$VENV/bin/python" bench/run.py "$@"
sqlite_rc=$?

printf '\n== PostgreSQL\n'
pg_rc=1
if [[ "${DATABASE_URL:-}" == postgres* ]] || start_throwaway_postgres; then
  "$VENV/bin/python" bench/run.py "$@"; pg_rc=$?
fi
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
