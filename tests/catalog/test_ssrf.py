"""SSRF matrix: every refused address class, schemes, redirects re-checked per hop, the
allow-list exception, and connecting to the checked IP (no DNS rebinding window)."""
import hypothesis
import pytest
from hypothesis import strategies as st

from catalog.ingest.errors import IngestError, UnsafeURLError
from catalog.ingest.fetch import fetch_url
from catalog.ingest.ssrf import check_url, ip_refusal


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"), ("100.64.0.1", "CGNAT"), ("2002:7f00:1::1", "6to4"),
])
def test_refused_addresses(address, reason):
    assert reason in ip_refusal(address)
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURLError, match="cannot be imported"):
        check_url(f"http://{host}/p", allowed_hosts=[])


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    host = f"[{address}]" if ":" in address else address
    target = check_url(f"https://{host}/item?id=1", allowed_hosts=[])
    assert target.ip == address and target.path == "/item?id=1" and target.port == 443


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://8.8.8.8/x", "gopher://8.8.8.8/",
                                 "javascript:alert(1)", "data:text/html,hi", "//8.8.8.8/x", "http:///nohost",
                                 "http://user:pw@8.8.8.8/", "http://8.8.8.8:99999/", "http://8.8.8.8/a b"])
def test_refused_url_shapes(url):
    with pytest.raises(UnsafeURLError):
        check_url(url, allowed_hosts=[])


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "localhost"])
def test_alternative_loopback_spellings_resolve_and_are_refused(host):
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url(f"http://{host}/", allowed_hosts=[])


def test_hostname_resolving_to_private_or_mixed_answers_is_refused():
    with pytest.raises(UnsafeURLError, match="private"):
        check_url("http://shop.example/", allowed_hosts=[], resolver=lambda h, p: ["10.1.2.3"])
    with pytest.raises(UnsafeURLError, match="link-local"):  # one bad record is enough
        check_url("http://shop.example/", allowed_hosts=[], resolver=lambda h, p: ["8.8.8.8", "169.254.169.254"])


def test_allow_list_is_by_host_or_host_and_port():
    resolver = lambda h, p: ["127.0.0.1"]  # noqa: E731
    assert check_url("http://demo.local:8000/", allowed_hosts=["demo.local"], resolver=resolver).exception
    assert check_url("http://demo.local:8000/", allowed_hosts=["demo.local:8000"], resolver=resolver).exception
    with pytest.raises(UnsafeURLError):
        check_url("http://demo.local:8001/", allowed_hosts=["demo.local:8000"], resolver=resolver)


def test_internationalised_names_travel_as_punycode_and_match_the_allow_list():
    target = check_url("http://bücher.example:8000/ä", allowed_hosts=["BÜCHER.example:8000"],
                       resolver=lambda h, p: ["127.0.0.1"] if h == "xn--bcher-kva.example" else [])
    assert target.exception and target.host_header == "xn--bcher-kva.example:8000" and target.path == "/%C3%A4"


def test_settings_allow_list_is_the_default(settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = ["127.0.0.1:5555"]
    assert check_url("http://127.0.0.1:5555/x").exception
    with pytest.raises(UnsafeURLError):
        check_url("http://127.0.0.1:5556/x")


def test_fetch_refuses_loopback_without_the_exception(settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURLError):
        fetch_url("http://127.0.0.1:9/")


def test_redirect_to_metadata_address_is_refused_at_that_hop(shop):
    shop.routes["/go"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    with pytest.raises(UnsafeURLError, match="link-local"):
        fetch_url(f"{shop.origin}/go")


def test_redirect_to_another_local_port_is_refused(shop):
    shop.routes["/go"] = (301, {"Location": "http://127.0.0.1:1/admin"}, b"")
    with pytest.raises(UnsafeURLError, match="loopback"):
        fetch_url(f"{shop.origin}/go")


def test_redirects_are_followed_and_limited(shop):
    shop.html("/final", "<h1>ok</h1>")
    shop.routes["/a"] = (302, {"Location": "/b"}, b"")
    shop.routes["/b"] = (307, {"Location": f"{shop.origin}/final"}, b"")
    result = fetch_url(f"{shop.origin}/a")
    assert result.final_url == f"{shop.origin}/final" and result.redirects == [f"{shop.origin}/a", f"{shop.origin}/b"]
    shop.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(IngestError, match="Too many redirects"):
        fetch_url(f"{shop.origin}/loop")


def test_connects_to_the_checked_ip_and_sends_the_real_host(shop, settings):
    """The name resolves once (to the local server); the connection goes to that IP while the
    Host header keeps the name, so a second, different DNS answer could not be used."""
    settings.CATALOG_SSRF_ALLOWED_HOSTS = [f"shop.example:{shop.port}"]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a rebinding resolver: second answer differs
    shop.html("/p", "<h1>hello</h1>")
    result = fetch_url(f"http://shop.example:{shop.port}/p", resolver=lambda h, p: next(answers), use_cache=False)
    assert result.status == 200 and b"hello" in result.content
    assert shop.requests[-1] == ("/p", f"shop.example:{shop.port}")


def test_size_cap_and_timeout(shop, settings):
    from tests.catalog.conftest import slow
    settings.CATALOG_FETCH_MAX_BYTES = 10_000
    shop.html("/big", b"<p>" + b"x" * 20_000)
    with pytest.raises(IngestError, match="larger than"):
        fetch_url(f"{shop.origin}/big")
    shop.routes["/chunked"] = (200, {"Content-Type": "text/html", "Content-Length": "5"}, b"x" * 5)
    assert fetch_url(f"{shop.origin}/chunked").content == b"xxxxx"
    shop.routes["/slow"] = slow(b"late", 2.5)
    with pytest.raises(IngestError) as info:
        fetch_url(f"{shop.origin}/slow", timeout=0.5)
    assert info.value.transient


@pytest.mark.parametrize("status, transient", [(404, False), (403, False), (429, True), (503, True)])
def test_http_errors_are_readable(shop, status, transient):
    shop.routes["/x"] = (status, {"Content-Type": "text/html"}, b"no")
    with pytest.raises(IngestError) as info:
        fetch_url(f"{shop.origin}/x")
    assert info.value.transient is transient and str(status) in info.value.message


def test_cache_is_no_ssrf_bypass(shop, settings):
    shop.html("/p", "<h1>cached</h1>")
    fetch_url(f"{shop.origin}/p")
    fetch_url(f"{shop.origin}/p")
    assert len([r for r in shop.requests if r[0] == "/p"]) == 1  # second one from the cache
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURLError):
        fetch_url(f"{shop.origin}/p")


@pytest.mark.parametrize("address, reason", [
    ("fec0::1", "site-local"), ("feff:1::2", "site-local"),                       # deprecated IPv6 site-local
    ("100.64.0.1", "CGNAT"), ("100.127.255.254", "CGNAT"),
    ("192.0.0.8", "IETF protocol"), ("192.0.0.170", "IETF protocol"),
    ("198.18.0.1", "benchmarking"), ("198.19.255.255", "benchmarking"),
    ("0.1.2.3", "this network"), ("192.0.2.1", "documentation"), ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"), ("3fff::1", "documentation"), ("192.88.99.1", "6to4 relay"),
    ("233.252.0.1", "multicast"), ("255.255.255.255", "reserved"), ("100::1", "reserved"),
    ("fd00:ec2::254", "private"),                                                 # AWS IMDS over IPv6
    ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254"), ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1"),
    ("64:ff9b::a00:1", "NAT64 address of 10.0.0.1"), ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2002:a00:1::1", "6to4"), ("2002:a9fe:a9fe::1", "6to4"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("::127.0.0.1", "IPv4-mapped/compatible"), ("::ffff:a9fe:a9fe", "IPv4-mapped"), ("fe80::1%eth0", "link-local"),
])
def test_reserved_and_embedding_ranges_are_refused(address, reason):
    assert reason in ip_refusal(address)
    with pytest.raises(UnsafeURLError):
        check_url("http://host.example/", allowed_hosts=[], resolver=lambda h, p: [address])


def test_nat64_of_a_public_ipv4_address_is_public():
    assert ip_refusal("64:ff9b::808:808") is None


_URL_PIECES = ["http://", "https://", "HTTP://", "ftp://", "//", "[", "]", "::1", "@", ":", "%00", "%2e", "\\", "#",
               "?", "/", "127.0.0.1", "0x7f", "．", "。", "ü", "xn--", "localhost", ":99999", ":-1", ":80", "\t", " ",
               "user:pw@", "[::ffff:1.2.3.4]", "[fe80::1%25eth0]", "1e3", "..", "-", "_", "\ud7ff", "a" * 70]


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.lists(st.sampled_from(_URL_PIECES) | st.text(max_size=8), max_size=10).map("".join))
def test_the_guard_never_crashes_on_odd_urls(url):
    """Any string: a checked target with a public address, or UnsafeURLError; nothing else."""
    try:
        target = check_url(url, allowed_hosts=[], resolver=lambda h, p: ["8.8.8.8"])
    except UnsafeURLError:
        return
    assert target.scheme in ("http", "https") and target.host.isascii() and 0 < target.port < 65536
    target.host_header.encode("ascii")


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.ip_addresses() | st.text(max_size=45))
def test_ip_refusal_is_total(address):
    reason = ip_refusal(str(address))
    assert reason is None or isinstance(reason, str)
