"""The HTTP side of the fake: a threading server on a loopback port that hands every request to
`FakeIntercom.handle`, and the methods that start, stop and address it."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from integrations.intercom.fake.routing import _DROP

if TYPE_CHECKING:
    from integrations.intercom.fake import FakeIntercom

API_VERSION = "2.16"


class ServerLifecycle:
    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeIntercom is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _bind(self) -> _Server:
        if self._server is not None:
            raise RuntimeError("FakeIntercom is already running")
        self._server = _Server((self.host, self.port), _Handler, self)
        return self._server

    def start(self) -> FakeIntercom:
        """Bind the port and serve from a daemon thread. Returns self."""
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-intercom", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Bind and serve in the calling thread until KeyboardInterrupt (or stop() from elsewhere);
        `ready` is called once the port is bound (when `url` is known)."""
        server = self._bind()
        try:
            if ready is not None:
                ready()
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            server.close_connections()
            self._server = None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeIntercom:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def headers(self, token: str | None = None) -> dict[str, str]:
        """The headers a well-behaved client sends (for tests and demos)."""
        return {
            "Authorization": f"Bearer {self.token if token is None else token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Intercom-Version": API_VERSION,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeIntercom):
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on kept-alive clients too: a stopped server must not go on answering them."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (a timeout shorter than the latency knob): not our problem
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stalls
    server: _Server

    def handle_one_request(self) -> None:
        if self.server.fake.down:
            self.close_connection = True  # the service is down: hang up before reading anything
            return
        super().handle_one_request()

    def _dispatch(self) -> None:
        fake = self.server.fake
        if fake.down:  # went down while this kept-alive connection waited for its next request
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        result = fake.handle(self.command, self.path, self.headers, raw)
        if result is _DROP:
            self.close_connection = True  # read the request, then hang up without a response
            return
        status, payload, extra_headers = result
        if fake.latency_seconds:
            time.sleep(float(fake.latency_seconds))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        return
