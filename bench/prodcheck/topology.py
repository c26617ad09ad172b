"""The processes of the rehearsal: Redis, PostgreSQL (already started by scripts/prod_check.sh),
two gunicorn web nodes, three django-q2 clusters, the fake Intercom and a chat webhook for pages.
Each can be stopped, killed and started again; `Topology.stop()` stops everything it started."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Process:
    """One child process with its log file; started again with the same command line."""

    def __init__(self, name: str, command: list[str], logs: Path):
        self.name, self.command, self.log_path = name, command, logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        # Its own process group: a kill reaches the children (gunicorn's workers, the cluster's).
        self.popen = subprocess.Popen(
            self.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """kill -9 of the whole process group: no clean-up, as a crashed machine."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def stop(self, timeout: float = 15) -> None:
        if not self.running:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Redis(Process):
    def __init__(self, logs: Path, workdir: Path):
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        # No persistence, as a cache-sized broker is often run: a restart loses every queued task,
        # which is the fault the rehearsal wants.
        command = [
            server,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        super().__init__("redis", [*command, "--dir", str(workdir)], logs)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def wait_up(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Redis did not answer on port {self.port}; see {self.log_path}")


class Postgres:
    """The throwaway cluster scripts/prod_check.sh started (PGTMP, PG_BIN): stopped and started
    again for the health checks."""

    def __init__(self):
        self.data = Path(os.environ["PGTMP"]) / "data"
        self.pg_ctl = str(Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_ctl")
        # The options it was started with (port, socket directory, …), to start it the same way.
        opts = shlex.split((self.data / "postmaster.opts").read_text())
        self.options = shlex.join(opts[opts.index("-D") + 2 :])

    def stop(self) -> None:
        subprocess.run(
            as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"]), check=True
        )

    def start(self) -> None:
        log = str(self.data.parent / "server.log")
        command = [self.pg_ctl, "-D", str(self.data), "-l", log, "-o", self.options, "-w", "start"]
        subprocess.run(as_postgres(command), check=True, stdout=subprocess.DEVNULL)


class WebNode(Process):
    def __init__(self, number: int, logs: Path):
        self.port = free_port()
        command = [
            str(BIN / "gunicorn"),
            "portal.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "10",
        ]
        super().__init__(f"web{number}", command, logs)
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **headers) -> tuple[int, dict | str]:
        request = urllib.request.Request(self.url + path, headers=headers)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=5) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        except OSError as error:
            return 0, str(error)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get("/healthz")[0] == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz 200; see {self.log_path}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Cluster(Process):
    def __init__(self, number: int, logs: Path):
        super().__init__(f"qcluster{number}", [PYTHON, "manage.py", "qcluster"], logs)


class ChatHook(BaseHTTPRequestHandler):
    """The on-call rota's chat webhook on a loopback port (the rehearsal's and bench_oncall's):
    keeps every page it is sent, and keeps connections open as Slack's does."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each keep-alive reply waits on a delayed ACK (40 ms)
    received: list[bytes] = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with ChatHook.lock:
            ChatHook.received.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A sender killed mid-request (the kill -9 step) resets its connection: not news."""


def serve_chat_hook() -> tuple[ThreadingHTTPServer, str]:
    server = QuietServer(("127.0.0.1", 0), ChatHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


class Topology:
    """Two web nodes and three clusters on Redis; everything started is stopped by `stop()`."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.redis = Redis(logs, logs / "redis")
        self.postgres = Postgres()
        self.web = [WebNode(n, logs) for n in (1, 2)]
        self.clusters = [Cluster(n, logs) for n in (1, 2, 3)]

    def start(self) -> None:
        if not self.redis.running:
            self.redis.start().wait_up()
        for process in [*self.web, *self.clusters]:
            process.start()
        for node in self.web:
            node.wait_up()

    def stop(self) -> None:
        """SIGTERM to every process at once, then wait for each (kill -9 after 15 s)."""
        processes = [*self.clusters, *self.web, self.redis]
        for process in processes:
            process.signal(signal.SIGTERM)
        for process in processes:
            process.stop()

    def errors_in_logs(self) -> list[str]:
        """Tracebacks the processes wrote (JSON log lines carry them in exc_info)."""
        found = []
        for process in [*self.web, *self.clusters]:
            if process.log_path.exists():
                for line in process.log_path.read_text(errors="replace").splitlines():
                    if "Traceback" in line or '"level": "ERROR"' in line or '"level": "CRITICAL"' in line:
                        found.append(f"{process.name}: {line}")
        return found
