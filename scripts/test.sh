#!/usr/bin/env bash
# `make test`: lint, migration check, then the whole suite on SQLite and on PostgreSQL.
# Without a DATABASE_URL pointing at PostgreSQL, a throwaway PostgreSQL 15 cluster is started in
# a temp dir (as the postgres user when run as root) and removed afterwards, whatever happens.
# Extra arguments go to pytest (e.g. `make test ARGS="-k health"`).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Lint (ruff, and the apps' import order with import-linter)"
"$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . || { echo "Lint failed."; exit 1; }
"$VENV/bin/lint-imports" --no-cache || { echo "An app imports one above it (see DESIGN.md and pyproject.toml)."; exit 1; }

section "Migrations are committed (makemigrations --check)"
DEBUG=true DJANGO_READ_DOT_ENV_FILE=false "$VENV/bin/python" manage.py makemigrations --check --dry-run \
  || { echo "Models changed without a migration."; exit 1; }

section "Chromium for the browser tests"
# Debian's Chromium, driven by Playwright (Playwright's own browser download is not reachable).
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null \
      || { echo "Could not install chromium (apt-get install chromium)."; exit 1; }
  else
    echo "The browser tests need Debian's chromium: apt-get install chromium (or CHROMIUM=/path/to/it)."; exit 1
  fi
fi
"${CHROMIUM:-chromium}" --version
export SCREENSHOTS=${SCREENSHOTS:-$PWD/artifacts/screenshots}
rm -rf "$SCREENSHOTS"

section "Tests on SQLite"
env -u DATABASE_URL "$VENV/bin/pytest" "$@"
sqlite_rc=$?

source scripts/pg.sh

section "Tests on PostgreSQL"
pg_rc=1
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  echo "Using DATABASE_URL from the environment."
  "$VENV/bin/pytest" "$@"; pg_rc=$?
elif start_throwaway_postgres; then
  "$VENV/bin/pytest" "$@"; pg_rc=$?
fi

section "Summary"
echo "Screenshots of the browser tests: $SCREENSHOTS"
result() { [ "$1" = 0 ] && echo "passed" || echo "FAILED (exit $1)"; }
echo "SQLite:     $(result $sqlite_rc)"
echo "PostgreSQL: $(result $pg_rc)"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
