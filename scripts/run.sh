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

# A local fake Intercom (in memory) unless a real one is configured, so the demo shows sync working.
# Started after seeding: it knows the demo's teammates (the specialists), with the ids the demo
# data assigns conversations to, so that routing and contact owners are accepted there.
export INTERCOM_FAKE_PORT=${INTERCOM_FAKE_PORT:-8765}
if [ -z "${INTERCOM_ACCESS_TOKEN:-}" ]; then
  export INTERCOM_ACCESS_TOKEN=fake-token INTERCOM_ENABLED=true
  export INTERCOM_BASE_URL="http://127.0.0.1:${INTERCOM_FAKE_PORT}"
  python manage.py run_fake_intercom --port "$INTERCOM_FAKE_PORT" --token fake-token --search-delay 2 \
    --teammates-from-portal >/dev/null &
  FAKE_PID=$!
  trap 'kill $FAKE_PID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do
    python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $INTERCOM_FAKE_PORT)))" && break
    sleep 0.1
  done
  USING_FAKE_INTERCOM=1
fi

python manage.py intercom_setup >/dev/null && echo "Intercom: attributes and tags ready at ${INTERCOM_BASE_URL:-the configured region}."

cat <<MSG

  Advanced Support Portal: http://127.0.0.1:${PORTAL_PORT}/
  Health:                  http://127.0.0.1:${PORTAL_PORT}/healthz
  Demo logins (password "demo" unless you seeded with --password):
    specialist · specialist2 · leadership · product · admin
  Intercom:                ${USING_FAKE_INTERCOM:+a local fake at $INTERCOM_BASE_URL (in memory; restarts empty)}
                           ${USING_FAKE_INTERCOM:+a trader writes in: $VENV/bin/python manage.py demo_conversation}
  Ctrl-C stops the web server, the worker and the fake Intercom.

MSG
honcho start -f Procfile
