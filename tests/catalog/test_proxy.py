"""The browser's guarded forward proxy, driven over real sockets: CONNECT and plain HTTP are
checked at connect time, refused targets get 403 and no packet, allowed ones are relayed to the
address that was checked (a second DNS answer is never used)."""
import socket

import pytest

from catalog.drills.listeners import Listeners, PageServer
from catalog.ingest.proxy import GuardedProxy


@pytest.fixture
def world():
    listeners, pages = Listeners(), PageServer()
    pages.page("/hello", "<h1>hello</h1>")
    yield listeners, pages
    listeners.close()
    pages.close()


def _ask(proxy: GuardedProxy, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def _connect(proxy: GuardedProxy, authority: str) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head and (chunk := sock.recv(1)):
        head += chunk
    return sock, head


def test_plain_http_to_the_allowed_host_is_relayed_with_its_host_header(world):
    listeners, pages = world
    with GuardedProxy(allowed_hosts=[pages.host]) as proxy:
        answer = _ask(proxy, f"GET {pages.origin}/hello HTTP/1.1\r\nHost: {pages.host}\r\n"
                             f"Proxy-Connection: keep-alive\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"<h1>hello</h1>")
    assert b"Connection: close" in answer
    assert pages.requests == [("GET", "/hello")]


@pytest.mark.parametrize("authority", ["127.0.0.2:{port}", "[::ffff:127.0.0.2]:{port}", "2130706434:{port}",
                                       "0x7f000002:{port}", "127.2:{port}"])
def test_refused_targets_get_403_and_no_packet(world, authority):
    listeners, pages = world
    port = listeners.tcp("target", "127.0.0.2")
    with GuardedProxy(allowed_hosts=[pages.host]) as proxy:
        sock, head = _connect(proxy, authority.format(port=port))
        sock.close()
        plain = _ask(proxy, f"GET http://{authority.format(port=port)}/x HTTP/1.1\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 403") and plain.startswith(b"HTTP/1.1 403")
    assert b"SSRF guard" in plain and len(proxy.refused) == 2
    assert listeners.hits == []


def test_another_port_of_the_allowed_host_is_refused(world):
    listeners, pages = world
    port = listeners.tcp("admin", "127.0.0.1")
    with GuardedProxy(allowed_hosts=[pages.host]) as proxy:
        sock, head = _connect(proxy, f"127.0.0.1:{port}")
        sock.close()
    assert head.startswith(b"HTTP/1.1 403") and listeners.hits == []


@pytest.mark.parametrize("answer", [["10.0.0.5"], ["169.254.169.254"], ["8.8.8.8", "127.0.0.2"], ["fec0::1"],
                                    ["64:ff9b::a9fe:a9fe"], ["100.64.0.1"]])
def test_names_resolving_to_refused_addresses_are_refused_before_connecting(world, answer):
    """The proxy resolves the name itself (the resolver stands in for DNS); no packet leaves."""
    listeners, _ = world
    with GuardedProxy(resolver=lambda host, port: answer) as proxy:
        sock, head = _connect(proxy, "intranet.example:443")
        sock.close()
    assert head.startswith(b"HTTP/1.1 403") and proxy.connected == []


def test_connect_tunnels_to_the_checked_address_and_rebinding_cannot_move_it(world):
    """An allowed name answers the page server first and a listener afterwards: the tunnel goes
    where the checked answer pointed, and the name is resolved exactly once."""
    listeners, pages = world
    listener_port = listeners.tcp("rebind", "127.0.0.2")
    calls = []

    def rebinding(host, port):
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["127.0.0.2"]

    with GuardedProxy(allowed_hosts=[f"shop.test:{pages.port}"], resolver=rebinding) as proxy:
        sock, head = _connect(proxy, f"shop.test:{pages.port}")
        with sock:
            assert head.startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    assert data.endswith(b"<h1>hello</h1>") and len(calls) == 1
    assert listeners.hits == [] and listener_port


def test_a_second_request_on_a_kept_alive_connection_is_not_forwarded(world):
    """Plain HTTP is one request per client connection: a second (pipelined) request for
    another host cannot ride the first host's upstream connection."""
    listeners, pages = world
    port = listeners.tcp("smuggled", "127.0.0.2")
    with GuardedProxy(allowed_hosts=[pages.host]) as proxy:
        answer = _ask(proxy, (f"GET {pages.origin}/hello HTTP/1.1\r\nHost: {pages.host}\r\n\r\n"
                              f"GET http://127.0.0.2:{port}/x HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n").encode())
    assert answer.count(b"HTTP/1.1 ") == 1 and pages.requests == [("GET", "/hello")]
    assert listeners.hits == []


def test_post_bodies_are_relayed_and_chunked_uploads_refused(world):
    listeners, pages = world
    pages.routes["/form"] = (200, {"Content-Type": "text/plain"}, b"thanks")
    with GuardedProxy(allowed_hosts=[pages.host]) as proxy:
        ok = _ask(proxy, f"POST {pages.origin}/form HTTP/1.1\r\nHost: {pages.host}\r\nContent-Length: 3\r\n\r\nabc"
                  .encode())
        chunked = _ask(proxy, f"POST {pages.origin}/form HTTP/1.1\r\nHost: {pages.host}\r\n"
                              f"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".encode())
    assert ok.startswith(b"HTTP/1.1 200") and ok.endswith(b"thanks")
    assert chunked.startswith(b"HTTP/1.1 411")
    assert pages.requests == [("POST", "/form")]


def test_the_browser_wide_default_proxy_connects_nowhere(world):
    listeners, pages = world
    with GuardedProxy(allowed_hosts=[pages.host], refuse_all=True) as proxy:
        answer = _ask(proxy, f"GET {pages.origin}/hello HTTP/1.1\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403") and pages.requests == []


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"CONNECT nohost HTTP/1.1\r\n\r\n",
                                 b"GET ftp://127.0.0.1/ HTTP/1.1\r\n\r\n", b"CONNECT [::1 HTTP/1.1\r\n\r\n",
                                 b"GET /relative HTTP/1.1\r\n\r\n", b"X" * 70000])
def test_malformed_requests_get_a_clean_error(world, raw):
    with GuardedProxy() as proxy:
        answer = _ask(proxy, raw)
    assert answer.split(b" ")[1] in (b"400", b"403", b"431") and proxy.connected == []
