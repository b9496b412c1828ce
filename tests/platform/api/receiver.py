"""A real webhook receiver on loopback: records every request; answers from a script of
status codes (the last one repeats); can redirect or stall."""
from __future__ import annotations

import contextlib
import http.server
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    statuses: list = field(default_factory=lambda: [200])
    delay_s: float = 0.0
    redirect_to: str = ""
    requests: list = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= count, f"receiver got {len(self.requests)} requests, wanted {count}"
        return self.requests


@contextlib.contextmanager
def receiver_serve(**options):
    state = Receiver(url="", **options)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                           time.monotonic()))
            if state.delay_s:
                time.sleep(state.delay_s)
            status = state.statuses[min(len(state.requests) - 1, len(state.statuses) - 1)]
            self.send_response(status)
            if state.redirect_to:
                self.send_header("Location", state.redirect_to)
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(b"ok")

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
