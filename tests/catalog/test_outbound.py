"""guarded_post (webhook delivery): SSRF-checked and pinned, no redirects followed, one
wall-clock deadline, capped response; against real loopback servers."""
import socket
import threading
import time

import pytest

from catalog.drills.listeners import Listeners, PageServer
from catalog.ingest.errors import UnsafeURLError
from catalog.ingest.outbound import OutboundError, guarded_post


@pytest.fixture
def world():
    listeners, receiver = Listeners(), PageServer()
    yield listeners, receiver
    listeners.close()
    receiver.close()


def test_posts_the_body_and_returns_status_headers_and_a_capped_prefix(world):
    _, receiver = world
    receiver.routes["/hook"] = (202, {"Content-Type": "text/plain", "X-Seen": "1"}, b"y" * 100_000)
    status, headers, body = guarded_post(f"{receiver.origin}/hook", body=b'{"a":1}',
                                         headers={"Content-Type": "application/json", "Host": "evil"},
                                         allowed_hosts=[receiver.host], max_response_bytes=1000)
    assert (status, headers["x-seen"], body) == (202, "1", b"y" * 1000)
    assert receiver.requests == [("POST", "/hook")]
    receiver.routes["/h%C3%BCk"] = (204, {}, b"")
    assert guarded_post(f"{receiver.origin}/hük", body=b"", headers={}, allowed_hosts=[receiver.host]).status == 204


def test_redirects_are_returned_not_followed(world):
    listeners, receiver = world
    port = listeners.tcp("redirect-target", "127.0.0.2")
    for code in (301, 302, 307, 308):
        receiver.routes[f"/r{code}"] = (code, {"Location": f"http://127.0.0.2:{port}/internal"}, b"")
        result = guarded_post(f"{receiver.origin}/r{code}", body=b"x", headers={}, allowed_hosts=[receiver.host])
        assert result.status == code and result.headers["location"].endswith("/internal")
    assert listeners.hits == []


@pytest.mark.parametrize("url", ["http://127.0.0.2:{port}/", "http://2130706434:{port}/", "http://0x7f.0.0.2:{port}/",
                                 "http://[::ffff:127.0.0.2]:{port}/", "http://u:p@127.0.0.2:{port}/",
                                 "http://127.0.0.1:{other}/", "http://0.0.0.0:{other}/", "http://localhost:{other}/"])
def test_loopback_targets_are_refused_without_a_packet(world, url):
    listeners, receiver = world
    port, other = listeners.tcp("t", "127.0.0.2"), listeners.tcp("other", "127.0.0.1")
    with pytest.raises(UnsafeURLError):
        guarded_post(url.format(port=port, other=other), body=b"x", headers={}, allowed_hosts=[receiver.host])
    assert listeners.hits == []


@pytest.mark.parametrize("answer", [["10.0.0.5"], ["169.254.169.254"], ["fd00:ec2::254"], ["fec0::1"],
                                    ["192.0.0.8"], ["8.8.8.8", "10.1.1.1"]])
def test_names_resolving_to_private_addresses_are_refused(answer):
    with pytest.raises(UnsafeURLError):
        guarded_post("https://hooks.example/x", body=b"x", headers={}, allowed_hosts=[],
                     resolver=lambda h, p: answer)


def test_rebinding_cannot_move_the_connection(world):
    listeners, receiver = world
    port = listeners.tcp("rebind", "127.0.0.2")
    receiver.routes["/hook"] = (200, {}, b"ok")
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    result = guarded_post(f"http://hooks.test:{receiver.port}/hook", body=b"x", headers={},
                          allowed_hosts=[f"hooks.test:{receiver.port}"], resolver=lambda h, p: next(answers))
    assert result.status == 200 and result.body_prefix == b"ok"
    assert receiver.requests == [("POST", "/hook")] and listeners.hits == [] and port


def _trickler(delay: float) -> tuple[socket.socket, int]:
    """A receiver that answers one byte every ``delay`` seconds, forever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve():
        try:
            conn, _ = server.accept()
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
                conn.sendall(bytes([byte]))
                time.sleep(delay)
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_trickling_receiver_cannot_hold_the_caller_past_the_deadline():
    server, port = _trickler(0.05)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="did not answer within") as info:
        guarded_post(f"http://127.0.0.1:{port}/hook", body=b"x", headers={}, timeout_s=0.6,
                     allowed_hosts=[f"127.0.0.1:{port}"])
    assert time.monotonic() - started < 1.5 and info.value.transient
    server.close()


def test_unreachable_and_bad_headers_are_clean_errors(world):
    listeners, receiver = world
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(OutboundError):
        guarded_post(f"http://127.0.0.1:{closed}/", body=b"x", headers={}, allowed_hosts=[f"127.0.0.1:{closed}"])
    with pytest.raises(OutboundError):   # TLS to a plain-HTTP receiver: no handshake, clean error
        guarded_post(f"https://{receiver.host}/", body=b"x", headers={}, allowed_hosts=[receiver.host], timeout_s=3)
    with pytest.raises(ValueError):
        guarded_post(f"{receiver.origin}/", body=b"x", headers={"X-A": "b\r\nInjected: 1"},
                     allowed_hosts=[receiver.host])
    assert receiver.requests == []
