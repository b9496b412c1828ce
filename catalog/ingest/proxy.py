"""A guarded forward proxy for the browser: every connection Chromium makes goes through here.

Playwright's ``route`` sees requests, not sockets: Chromium still pre-connects TCP to a
navigation's target (iframes, ``window.open``, form posts) before the route handler runs, and
WebRTC does not use HTTP at all. So the browser is launched with this proxy as its only way
out (``--proxy-server``, bypass list ``<-loopback>`` so that loopback goes through it too) and
the proxy applies the fetcher's SSRF guard at connect time:

- ``CONNECT host:port`` (HTTPS, WSS, WS): the proxy resolves ``host`` itself, refuses any
  non-public answer (``ssrf.check_url``), connects to the checked IP and relays bytes;
- ``GET http://host/...`` (plain HTTP): the same check, then one request to the checked IP
  with ``Connection: close``; the answer goes back close-delimited, so a kept-alive client
  connection can never carry a second request to the first host.

The name is resolved once, by the proxy, and the connection goes to that address: no DNS
rebinding window. Refusals answer 403 and are recorded in ``refused``. The proxy listens on
127.0.0.1 on an ephemeral port and runs in threads of this process.
"""
from __future__ import annotations

import http.client
import logging
import select
import socket
import socketserver
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from catalog.ingest.errors import UnsafeURLError
from catalog.ingest.ssrf import Resolver, ResolvedTarget, check_url

log = logging.getLogger(__name__)

_HEAD_MAX = 64 * 1024
_BODY_MAX = 8 * 1024 * 1024
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
               "te", "trailer", "transfer-encoding", "upgrade", "content-length"}


class GuardedProxy:
    """Forward proxy that lets through only connections the SSRF guard accepts.

    ``allowed_hosts`` is the same operator exception as the fetcher's (host or host:port);
    ``resolver`` is for tests and drills (names mapped to chosen addresses); ``refuse_all``
    makes a proxy that connects nowhere (the browser-wide default, under the per-render ones)."""

    def __init__(self, *, allowed_hosts: Iterable[str] = (), resolver: Resolver | None = None,
                 refuse_all: bool = False,
                 connect_timeout_s: float = 10.0, idle_timeout_s: float = 30.0,
                 max_lifetime_s: float = 120.0, max_bytes: int = 64 * 1024 * 1024):
        self.allowed_hosts = list(allowed_hosts)
        self.resolver = resolver
        self.refuse_all = refuse_all
        self.connect_timeout_s = connect_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_lifetime_s = max_lifetime_s
        self.max_bytes = max_bytes
        self.refused: list[str] = []        # "host:port: reason" for every refused connection
        self.connected: list[str] = []      # "host:port -> ip" for every connection made
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"browser-proxy-{self.port}", daemon=True)
        self._thread.start()

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- guard ---------------------------------------------------------------------------
    def check(self, scheme: str, host: str, port: int, path: str = "/") -> ResolvedTarget:
        """The fetcher's guard, for a host the browser wants to reach; raises UnsafeURLError."""
        name = f"[{host}]" if ":" in host else host
        try:
            if self.refuse_all:
                raise UnsafeURLError("No page is being rendered; the browser may not connect anywhere.")
            return check_url(f"{scheme}://{name}:{port}{path}", allowed_hosts=self.allowed_hosts,
                             resolver=self.resolver)
        except UnsafeURLError as exc:
            with self._lock:
                self.refused.append(f"{name}:{port}: {exc.message}")
            log.info("browser_proxy_refused host=%s port=%s reason=%s", name, port, exc.message)
            raise

    def _connect(self, target: ResolvedTarget) -> socket.socket:
        upstream = socket.create_connection((target.ip, target.port), timeout=self.connect_timeout_s)
        with self._lock:
            self.connected.append(f"{target.host}:{target.port} -> {target.ip}")
        return upstream

    # --- connection handling ----------------------------------------------------------------
    def _serve(self, client: socket.socket) -> None:
        client.settimeout(self.idle_timeout_s)
        try:
            head, rest = _read_head(client)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                _reply(client, 400, "Bad request line")
                return
            method, target, _version = parts
            headers = [line.split(":", 1) for line in lines[1:] if ":" in line]
            if method.upper() == "CONNECT":
                self._tunnel(client, target, rest)
            else:
                self._forward(client, method, target, headers, rest)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            log.info("browser_proxy_error %s: %s", type(exc).__name__, exc)
        finally:
            try:
                client.close()
            except OSError:
                pass

    def _tunnel(self, client: socket.socket, authority: str, rest: bytes) -> None:
        host, port = _split_authority(authority)
        if host is None:
            _reply(client, 400, "Bad CONNECT target")
            return
        try:
            target = self.check("https", host, port)
        except UnsafeURLError as exc:
            _reply(client, 403, exc.message)
            return
        try:
            upstream = self._connect(target)
        except OSError:
            _reply(client, 502, "Upstream unreachable")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            self._relay(client, upstream)

    def _forward(self, client: socket.socket, method: str, url: str, headers: list, rest: bytes) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            _reply(client, 400, "Only absolute http:// requests or CONNECT")
            return
        try:
            target = self.check("http", parts.hostname, parts.port or 80,
                                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        except (UnsafeURLError, ValueError) as exc:
            _reply(client, 403, getattr(exc, "message", "Refused"))
            return
        clean = [(k.strip(), v.strip()) for k, v in headers if k.strip().lower() not in _HOP_BY_HOP]
        lengths = [v for k, v in headers if k.strip().lower() == "content-length"]
        if any(k.strip().lower() == "transfer-encoding" for k, _ in headers):
            _reply(client, 411, "Chunked request bodies are not relayed")
            return
        length = int(lengths[0]) if lengths and lengths[0].strip().isdigit() else 0
        if length > _BODY_MAX:
            _reply(client, 413, "Request body too large")
            return
        body = rest + _read_exact(client, length - len(rest)) if length > len(rest) else rest[:length]
        self._exchange(client, target, method, clean, body)

    def _exchange(self, client: socket.socket, target: ResolvedTarget, method: str, headers: list,
                  body: bytes) -> None:
        """One request to the checked address; the answer goes back close-delimited."""
        conn = http.client.HTTPConnection(target.ip, target.port, timeout=self.idle_timeout_s)
        try:
            conn.sock = self._connect(target)
        except OSError:
            _reply(client, 502, "Upstream unreachable")
            return
        try:
            conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            for key, value in headers:
                if key.lower() != "host":
                    conn.putheader(key, value)
            conn.putheader("Connection", "close")
            if body or method.upper() in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            out = [f"HTTP/1.1 {response.status} {response.reason}"]
            out += [f"{k}: {v}" for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            client.sendall(("\r\n".join(out + ["Connection: close", "", ""])).encode("latin-1"))
            sent, deadline = 0, time.monotonic() + self.max_lifetime_s
            while chunk := response.read1(64 * 1024):
                sent += len(chunk)
                if sent > self.max_bytes or time.monotonic() > deadline:
                    break
                client.sendall(chunk)
        finally:
            conn.close()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        """Copy bytes both ways until one side closes, the connection idles or outlives its cap."""
        deadline, total, idle_since = time.monotonic() + self.max_lifetime_s, 0, time.monotonic()
        while time.monotonic() < deadline and total < self.max_bytes:
            readable, _, broken = select.select([a, b], [], [a, b], 1.0)
            if broken:
                return
            if not readable:
                if time.monotonic() - idle_since > self.idle_timeout_s:
                    return
                continue
            idle_since = time.monotonic()
            for source in readable:
                data = source.recv(64 * 1024)
                if not data:
                    return
                total += len(data)
                (b if source is a else a).sendall(data)


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(8192)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > _HEAD_MAX:
            _reply(sock, 431, "Request head too large")
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_exact(sock: socket.socket, count: int) -> bytes:
    chunks = []
    while count > 0:
        chunk = sock.recv(min(count, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _split_authority(authority: str) -> tuple[str | None, int]:
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port_text = rest.lstrip(":")
    else:
        host, _, port_text = authority.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None, 0
    return host, int(port_text)


def _reply(sock: socket.socket, status: int, reason: str) -> None:
    body = f"Refused by the platform's SSRF guard: {reason}\n".encode()
    try:
        sock.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (status, http.client.responses.get(status, "Error").encode(),
                                                       len(body), body))
    except OSError:
        pass
