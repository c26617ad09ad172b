#!/usr/bin/env bash
# A backup taken and restored, proven: demo data in a throwaway PostgreSQL cluster, `pg_dump` of
# it, `pg_restore` into a second, fresh cluster, and the portal started on the restored database
# (DEBUG off, gunicorn): /healthz and /healthz/ready answer 200 and the rows are all there.
# `make backup-check`; not part of `make test`. The same commands back up and restore production
# (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
source scripts/pg.sh
PY="$VENV/bin/python"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-backup.XXXXXX")
FIRST_PGTMP=""
GUNICORN_PID=""
finish() {
  [ -n "$GUNICORN_PID" ] && kill "$GUNICORN_PID" 2>/dev/null || true
  cleanup  # the second cluster (scripts/pg.sh)
  if [ -n "$FIRST_PGTMP" ]; then PGTMP=$FIRST_PGTMP; cleanup; fi
  rm -rf "$WORK"
}
trap finish EXIT INT TERM
[ "$(id -u)" = 0 ] && chmod 777 "$WORK"  # pg_dump and pg_restore run as the postgres user

export DEBUG=false DJANGO_READ_DOT_ENV_FILE=false
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING

count_rows() {
  "$PY" manage.py shell --no-imports -c '
from accounts.models import Account
from disputes.models import DisputeCase
from portal.models import User
from support.models import Conversation, SlaClock
print(" ".join(str(m.objects.count()) for m in (User, Account, DisputeCase, Conversation, SlaClock)))'
}

echo "== 1. The database to back up"
start_throwaway_postgres >/dev/null
FIRST_PGTMP=$PGTMP; PGTMP=""
SOURCE=$DATABASE_URL
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py seed_demo --accounts 60 --markets 20 --disputes 40 --conversations 60 --history-months 1 \
  --i-know-this-is-production --password="$("$PY" -c "import secrets; print(secrets.token_hex(16))")" >/dev/null
BEFORE=$(count_rows)
echo "   users, accounts, cases, conversations, SLA clocks: $BEFORE"

echo "== 2. pg_dump (custom format)"
started=$EPOCHREALTIME
as_postgres "$PG_BIN/pg_dump" --format=custom --no-owner --dbname="$SOURCE" --file="$WORK/portal.dump"
echo "   $(du -h "$WORK/portal.dump" | cut -f1) in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }") s"

echo "== 3. pg_restore into a fresh cluster"
start_throwaway_postgres >/dev/null
started=$EPOCHREALTIME
as_postgres "$PG_BIN/pg_restore" --no-owner --exit-on-error --dbname="$DATABASE_URL" "$WORK/portal.dump"
echo "   restored in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }") s"
AFTER=$(count_rows)
echo "   users, accounts, cases, conversations, SLA clocks: $AFTER"
[ "$BEFORE" = "$AFTER" ] || { echo "FAILED: the restored database differs ($BEFORE before, $AFTER after)"; exit 1; }
"$PY" manage.py migrate --check >/dev/null || { echo "FAILED: migrations left to apply after the restore"; exit 1; }

echo "== 4. The portal on the restored database"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/gunicorn" portal.wsgi --bind "127.0.0.1:$PORT" --workers 2 >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
for path in /healthz /healthz/ready; do
  status=$(curl -s -o "$WORK/answer.json" -w '%{http_code}' "http://127.0.0.1:$PORT$path")
  echo "   GET $path: $status $(cat "$WORK/answer.json")" | cut -c1-160
  [ "$status" = 200 ] || { cat "$WORK/gunicorn.log"; echo "FAILED: $path answered $status"; exit 1; }
done
echo "Backup and restore: passed."
