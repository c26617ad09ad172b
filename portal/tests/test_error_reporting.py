"""Error reporting: with SENTRY_DSN set, an error reaches the Sentry endpoint (here a local one that
records what it is sent); without it, the SDK is off and nothing is sent anywhere."""

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = """
import sentry_sdk
try:
    raise RuntimeError("the reported error")
except RuntimeError:
    sentry_sdk.capture_exception()
print("active", sentry_sdk.get_client().is_active())
sentry_sdk.flush(timeout=5)
"""


class Recorder(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.received.append((self.path, self.headers.get("Content-Encoding"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def run_shell(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", CODE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_a_dsn_an_error_reaches_sentry_and_without_one_nothing_is_sent():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Recorder.received.clear()
        off = run_shell(SENTRY_DSN="")
        assert "active False" in off.stdout, off.stderr
        assert Recorder.received == []
        on = run_shell(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/42")
        assert "active True" in on.stdout, on.stderr
    finally:
        server.shutdown()
    (path, encoding, body) = Recorder.received[0]
    assert path == "/api/42/envelope/"
    if encoding == "gzip":
        import gzip

        body = gzip.decompress(body)
    assert b"the reported error" in body and b"RuntimeError" in body
