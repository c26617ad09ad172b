#!/usr/bin/env bash
# `make run`: migrate, set up roles and schedules, seed demo data into an empty database, then
# start the web server and the task worker together (honcho). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
export DEBUG=${DEBUG:-true}
export PORTAL_PORT=${PORTAL_PORT:-8000}
# The demo answers Polymarket calls from synthetic files in the repo, so it works offline.
export POLYMARKET_DEMO_FIXTURES=${POLYMARKET_DEMO_FIXTURES:-true}

python manage.py migrate --no-input -v 0
python manage.py setup_roles -v 0 >/dev/null
python manage.py setup_schedules -v 0 >/dev/null
if python manage.py shell --no-imports -c 'from portal.models import User; raise SystemExit(0 if User.objects.exists() else 1)'; then
  echo "Database already has data; not seeding (run '$VENV/bin/python manage.py seed_demo --force' to start over)."
else
  python manage.py seed_demo
fi

cat <<MSG

  Advanced Support Portal: http://127.0.0.1:${PORTAL_PORT}/
  Health:                  http://127.0.0.1:${PORTAL_PORT}/healthz
  Demo logins (password "demo" unless you seeded with --password):
    specialist · specialist2 · leadership · product · admin
  Ctrl-C stops the web server and the worker.

MSG
exec honcho start -f Procfile
