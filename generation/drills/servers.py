"""Loopback servers for reliability drills and tests (never imported by the runtime).

``SlowOrigin`` is a shop that trickles its page one byte a second, in the headers or in the
body, and records every connection so a drill can tell how long each one was held open and
whether two ran at once for the same path (a duplicated stage)."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Connection:
    path: str
    opened: float
    closed: float | None = None


class SlowOrigin:
    """``http://127.0.0.1:PORT/<anything>``; ``mode`` "body": headers at once, then 1 B/s of
    HTML without end; "headers": the status line itself trickles. ``rate_s`` between bytes."""

    def __init__(self, *, mode: str = "body", rate_s: float = 1.0):
        self.mode, self.rate_s = mode, rate_s
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="slow-origin", daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/product") -> str:
        return f"http://{self.host}{path}"

    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self.connections if c.closed is None)

    def max_concurrent_per_path(self) -> int:
        """The most connections ever open at once for one path (2+ = a duplicated fetch)."""
        with self._lock:
            conns = list(self.connections)
        best = 0
        for c in conns:
            same = [o for o in conns if o.path == c.path and o.opened <= c.opened
                    and (o.closed is None or o.closed > c.opened)]
            best = max(best, len(same))
        return best

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> "SlowOrigin":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        record = Connection(path="?", opened=time.monotonic())
        with self._lock:
            self.connections.append(record)
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            record.path = request.split(b" ", 2)[1].decode("latin-1") if request.count(b" ") >= 2 else "?"
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
            if self.mode == "body":
                conn.sendall(head)
                payload = b"<html><head><title>Slow</title></head><body>" + b"." * 10_000_000
            else:
                payload = head + b"<html></html>"
            for i in range(len(payload)):
                if self._stop.wait(self.rate_s):
                    return
                conn.sendall(payload[i:i + 1])  # raises once the client has hung up
        except OSError:
            return
        finally:
            record.closed = time.monotonic()
            conn.close()
