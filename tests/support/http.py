"""Loopback servers for tests: a free port, and an HTTP server run in a thread for a block."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def unused_port() -> int:
    """Return a loopback port nobody listens on (the kernel just handed it out)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on a free loopback port that never blocks the test's exit."""

    daemon_threads = True
    request_queue_size = 256  # crawls send requests in bursts

    def __init__(self, handler: type) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Serve in a background thread for the block, then shut down and close."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def answer_ok(handler: BaseHTTPRequestHandler, body: bytes, kind: str) -> None:
    """Answer 200 with body as kind (a Content-Type), its length declared."""
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
