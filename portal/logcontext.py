"""Who and what a log line is about: the request's id and the signed-in user's id (set by
RequestContextMiddleware), or the task a worker runs (set from django-q2's pre_execute signal, portal.task_logging),
added to every record by ContextFilter so that a JSON log line can be followed across processes.
LOG_FORMAT=json writes each record as one JSON object (python-json-logger)."""

import contextvars
import logging
import re
import uuid

request_id = contextvars.ContextVar("request_id", default=None)
user_id = contextvars.ContextVar("user_id", default=None)
task_name = contextvars.ContextVar("task_name", default=None)

# A proxy's id is kept when it looks like one (letters, digits, dashes; at most 64): anything else
# would let a client write what it likes into the logs.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = user_id.get()
        record.task = task_name.get()
        return True


class RequestContextMiddleware:
    """Give each request an id (the proxy's `X-Request-ID` when it sends a sane one), put it and
    the user's id on every log record written while it runs, and send it back in `X-Request-ID`.
    After AuthenticationMiddleware: the user is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
        user = getattr(request, "user", None)
        tokens = [
            request_id.set(rid),
            user_id.set(user.pk if user is not None and user.is_authenticated else None),
        ]
        try:
            response = self.get_response(request)
        finally:
            user_id.reset(tokens[1])
            request_id.reset(tokens[0])
        response["X-Request-ID"] = rid
        return response
