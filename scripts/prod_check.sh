#!/usr/bin/env bash
# `make prod-check`: the production rehearsal (bench/prodcheck). A throwaway PostgreSQL here; Redis,
# the web nodes, the clusters and the checks in bench/prodcheck. Installs Debian's redis-server and
# wrk when they are missing and the caller is root. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
source scripts/pg.sh

for tool in redis-server:redis-server wrk:wrk; do
  command=${tool%%:*} package=${tool##*:}
  if ! command -v "$command" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$command missing: installing Debian's $package package…"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; }
    fi
    command -v "$command" >/dev/null || { echo "$command is not installed (apt-get install $package)."; exit 1; }
  fi
done

unset DATABASE_URL Q_BROKER_URL
start_throwaway_postgres
export PGTMP PG_BIN
"$VENV/bin/python" -m bench.prodcheck
