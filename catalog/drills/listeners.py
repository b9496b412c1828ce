"""Real listeners for SSRF drills and tests: TCP and UDP sockets on this machine's loopback
addresses (127.0.0.0/8, ::1) that record every connection or datagram they receive, and a small
page server for the pages the browser is allowed to load.

Nothing here ever sends traffic: the listeners only accept. "Private" and "link-local" targets
of a drill are names a custom resolver maps to 10.x / 169.254.x; the guard must refuse them
before any packet leaves, so they need no listener.
"""
from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 24\r\nConnection: close\r\n\r\n"
           b"<h1>internal secret</h1>")


@dataclass(frozen=True)
class Hit:
    name: str          # the vector that owns the listener
    proto: str         # "tcp" or "udp"
    address: str       # where it listened
    port: int
    first_bytes: bytes


class Listeners:
    """One thread polling many listening sockets; ``hits`` lists everything that reached them."""

    def __init__(self):
        self.hits: list[Hit] = []
        self._sockets: dict[socket.socket, tuple[str, str, str, int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ssrf-listeners", daemon=True)
        self._thread.start()

    def tcp(self, name: str, address: str = "127.0.0.2", port: int = 0) -> int:
        """Listen on address:port (0 = ephemeral) for vector ``name``; returns the port."""
        return self.adopt(name, _bound_tcp(address, port))

    def adopt(self, name: str, sock: socket.socket) -> int:
        """Listen on an already bound TCP socket for vector ``name``; returns its port."""
        sock.listen(64)
        sock.setblocking(False)
        address, port = sock.getsockname()[:2]
        with self._lock:
            self._sockets[sock] = (name, "tcp", address, port)
        return port

    def udp(self, name: str, address: str = "127.0.0.2") -> int:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, 0))
        sock.setblocking(False)
        with self._lock:
            self._sockets[sock] = (name, "udp", address, sock.getsockname()[1])
        return sock.getsockname()[1]

    def hits_for(self, name: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.name == name]

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                sockets = list(self._sockets)
            if not sockets:
                self._stop.wait(0.05)
                continue
            try:
                readable, _, _ = select.select(sockets, [], [], 0.05)
            except (OSError, ValueError):   # a socket closed under us
                continue
            for sock in readable:
                self._receive(sock)

    def _receive(self, sock: socket.socket) -> None:
        name, proto, address, port = self._sockets[sock]
        try:
            if proto == "udp":
                data, _ = sock.recvfrom(4096)
            else:
                conn, _ = sock.accept()
                data = _first_bytes(conn)
        except OSError:
            return
        with self._lock:
            self.hits.append(Hit(name, proto, address, port, data[:200]))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _bound_tcp(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _first_bytes(conn: socket.socket) -> bytes:
    """Read what the client sends first and answer like an internal service would."""
    conn.settimeout(0.3)
    try:
        data = conn.recv(1024)
        if data[:4] in (b"GET ", b"POST", b"HEAD", b"PUT "):
            conn.sendall(_ANSWER)
    except OSError:
        data = b""
    finally:
        conn.close()
    return data


class PageServer:
    """An allowed origin on loopback serving fixed pages (path -> (status, headers, body));
    records (method, path) of every request."""

    def __init__(self, address: str = "127.0.0.1", *, twin: str | None = None):
        """``twin``: another loopback address whose socket on the same port is bound now and
        kept in ``twin_socket`` (a DNS-rebinding drill's second answer). The port is chosen so
        both are free: reserving it only later could find it taken on the twin address by any
        other process on the machine (it did once, in CI)."""
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                server.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                status, headers, body = server.routes.get(self.path.split("?")[0],
                                                          (404, {"Content-Type": "text/plain"}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer   # noqa: N815 (http.server API)

            def log_message(self, *args):
                pass

        self.twin_socket: socket.socket | None = None
        for attempt in range(20):
            self.server = ThreadingHTTPServer((address, 0), Handler)
            if twin is None:
                break
            try:
                self.twin_socket = _bound_tcp(twin, self.server.server_address[1])
                break
            except OSError:
                self.server.server_close()
                if attempt == 19:
                    raise
        self.server.daemon_threads = True
        self.address, self.port = address, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def page(self, path: str, body: str, *, status: int = 200, headers: dict | None = None,
             content_type: str = "text/html; charset=utf-8") -> str:
        self.routes[path] = (status, {"Content-Type": content_type, **(headers or {})}, body.encode())
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.twin_socket is not None:
            self.twin_socket.close()  # a no-op once a Listeners has adopted and closed it


class Tripwire:
    """While active, any Python socket connect to an address outside this machine's loopback
    (127.0.0.0/8, ::1) is refused before a packet leaves and recorded: a safety net so that a
    broken guard in a drill never sends traffic to a real private or metadata address.
    Chromium is another process; its connections all go through the in-process guarded proxy."""

    def __init__(self):
        self.trips: list[tuple[str, object]] = []
        self.current = ""
        self._saved = None

    def __enter__(self):
        import ipaddress
        original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex
        wire = self

        def allowed(address) -> bool:
            if not isinstance(address, tuple):      # AF_UNIX paths
                return True
            try:
                return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
            except ValueError:
                return False

        def connect(sock, address):
            if not allowed(address):
                wire.trips.append((wire.current, address))
                raise ConnectionRefusedError(f"drill tripwire: {address!r} is not loopback")
            return original_connect(sock, address)

        def connect_ex(sock, address):
            if not allowed(address):
                wire.trips.append((wire.current, address))
                return 111
            return original_connect_ex(sock, address)

        self._saved = (original_connect, original_connect_ex)
        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
        return self

    def __exit__(self, *exc):
        socket.socket.connect, socket.socket.connect_ex = self._saved
