"""Log lines that can be followed across processes: each request's id (the proxy's when sane)
and user id, or the task a worker runs, on every record; JSON lines with LOG_FORMAT=json."""

import io
import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django_q.signals import post_execute_in_worker, pre_execute
from pythonjsonlogger.json import JsonFormatter

from portal.logcontext import ContextFilter, RequestContextMiddleware

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(task)s"


@pytest.fixture
def json_lines():
    """What the portal.tests logger writes, as the JSON handler of LOG_FORMAT=json writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter(FORMAT, rename_fields={"levelname": "level", "name": "logger"}))
    logger = logging.getLogger("portal.tests.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def run_request(logger, user, **headers):
    def view(request):
        logger.info("inside the request")
        return HttpResponse("ok")

    request = RequestFactory().get("/", headers=headers)
    request.user = user
    return RequestContextMiddleware(view)(request)


@pytest.mark.django_db
def test_a_request_has_an_id_on_its_log_lines_and_in_its_response(json_lines, specialist):
    logger, lines = json_lines
    response = run_request(logger, specialist)
    (line,) = lines()
    assert line["message"] == "inside the request" and line["level"] == "INFO"
    assert line["request_id"] == response["X-Request-ID"] and len(line["request_id"]) == 32
    assert line["user_id"] == specialist.pk and line["task"] is None
    logger.info("after the request")
    assert lines()[-1]["request_id"] is None and lines()[-1]["user_id"] is None


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_when_sane_and_replaced_when_not(json_lines, specialist):
    logger, lines = json_lines
    assert run_request(logger, specialist, x_request_id="lb-7f3a9c")["X-Request-ID"] == "lb-7f3a9c"
    forged = run_request(logger, specialist, x_request_id='x" injected=1 {"')
    assert forged["X-Request-ID"] != 'x" injected=1 {"' and len(forged["X-Request-ID"]) == 32
    assert [line["request_id"] for line in lines()] == ["lb-7f3a9c", forged["X-Request-ID"]]


def test_a_workers_lines_name_the_task_it_runs(json_lines):
    logger, lines = json_lines
    task = {"id": "5f1c", "name": "snow-alpha", "func": "reports.tasks.weekly_snapshots"}
    pre_execute.send(sender="django_q", func=None, task=task)
    logger.info("freezing")
    post_execute_in_worker.send(sender="django_q", func=None, task=task)
    logger.info("idle")
    first, second = lines()
    assert (first["task"], first["request_id"]) == ("reports.tasks.weekly_snapshots", "5f1c")
    assert (second["task"], second["request_id"]) == (None, None)


def test_every_response_carries_its_request_id(client):
    assert len(client.get("/login/")["X-Request-ID"]) == 32


def test_log_format_json_writes_json_lines_and_a_wrong_format_is_refused():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test", "LOG_FORMAT": "json"}
    code = "import logging; logging.getLogger('portal.check').warning('a line')"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert (line["message"], line["level"], line["logger"]) == ("a line", "WARNING", "portal.check")
    wrong = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root, env={**env, "LOG_FORMAT": "xml"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode != 0 and "LOG_FORMAT must be plain or json" in wrong.stderr
