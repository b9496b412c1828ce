"""The SSRF drill's page server reserves its port on a second loopback address too (the DNS
rebinding vector's listener), retrying when that address's port is taken."""
import socket
import urllib.request

from catalog.drills import listeners as listeners_mod
from catalog.drills.listeners import Listeners, PageServer


def test_the_twin_socket_listens_on_the_page_servers_port():
    pages, listeners = PageServer(twin="127.0.0.2"), Listeners()
    try:
        port = listeners.adopt("rebinding", pages.twin_socket)
        assert port == pages.port
        pages.page("/ok", "<h1>ok</h1>")
        assert urllib.request.urlopen(f"{pages.origin}/ok", timeout=5).read() == b"<h1>ok</h1>"
        with socket.create_connection(("127.0.0.2", port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            conn.recv(100)
        assert [hit.name for hit in listeners.hits_for("rebinding")] == ["rebinding"]
    finally:
        listeners.close()
        pages.close()


def test_a_port_taken_on_the_twin_address_moves_both(monkeypatch):
    real, calls = listeners_mod._bound_tcp, []

    def taken_once(address, port):
        calls.append(port)
        if len(calls) == 1:
            raise OSError(98, "Address already in use")
        return real(address, port)

    monkeypatch.setattr(listeners_mod, "_bound_tcp", taken_once)
    pages = PageServer(twin="127.0.0.2")
    try:
        assert len(calls) == 2 and pages.twin_socket.getsockname() == ("127.0.0.2", pages.port)
        assert pages.port == calls[1]
    finally:
        pages.close()


def test_without_a_twin_nothing_else_is_bound():
    pages = PageServer()
    try:
        assert pages.twin_socket is None
    finally:
        pages.close()

