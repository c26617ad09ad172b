"""The production rehearsal (`make prod-check`, issue 21; not part of `make test`).

On loopback: a throwaway PostgreSQL (scripts/prod_check.sh) and Redis, DEBUG off with secrets made
for the run, two gunicorn web nodes, three django-q2 clusters on the Redis broker, the fake
Intercom at its default rate limit (in this process, so its request log can be read) and a chat
webhook for pages. Then, each step checked and its figures printed:

1. `webhooks`: wrk against both web nodes at once with signed notifications and repeats: every
   acknowledged notification stored once and processed; the mirror equal to the newest state sent.
2. `outbox`: account changes drained by the three clusters together: no 429, each contact written
   once per change that reached it, in order, ending at the account's last state.
3. `passes`: the minute passes queued several times at once: each SLA warning and breach, page
   and e-mail exactly once.
4. The same work with faults (kill -9 of a cluster, a web node restarted, Redis restarted): after
   recovery the same checks hold.
5. `check --deploy`, and /healthz over plain HTTP: 200, then 503 with Redis or PostgreSQL down.
"""
