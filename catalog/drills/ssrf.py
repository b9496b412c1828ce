"""`manage.py drill ssrf [--no-browser]`: attack the three ways the platform reaches out to a
user-supplied address — the page fetcher, the browser renderer, webhook delivery — and count
what gets through.

Real listeners on this machine's loopback addresses (127.0.0.2+, other ports of the allowed
127.0.0.1, ::1, a UDP "STUN server") record every connection and datagram. "Private" and
"link-local" targets are names a drill resolver maps to 10.x / 169.254.x / fd00:: (or literal
addresses): the guard must refuse them before connecting, and a tripwire on Python's sockets
refuses and counts any attempt to reach a non-loopback address, so no packet ever goes to a
real private network. A vector escapes when a listener saw anything, the tripwire tripped, or
(for fetcher and webhook vectors) the guard did not refuse it.

Result: {"vectors": N, "escapes": 0, "ok": true, "by_surface": {...}, "escaped": [...]}.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable

from catalog.drills.listeners import Listeners, PageServer, Tripwire
from catalog.ingest.errors import IngestError, UnsafeURLError
from catalog.ingest.fetch import fetch_url
from catalog.ingest.outbound import OutboundError, guarded_post
from catalog.ingest.ssrf import system_resolver

# Names the drill's resolver answers (stand-ins for hostile DNS); everything else resolves normally.
NAMES = {
    "intranet.drill": ["10.0.0.5"], "metadata.drill": ["169.254.169.254"], "v6-imds.drill": ["fd00:ec2::254"],
    "sitelocal.drill": ["fec0::1"], "cgnat.drill": ["100.64.0.1"], "mixed.drill": ["93.184.215.14", "10.9.9.9"],
    "nat64.drill": ["64:ff9b::a9fe:a9fe"],
}


class Drill:
    def __init__(self):
        self.listeners, self.tripwire = Listeners(), Tripwire()
        self.pages = PageServer(twin="127.0.0.2")  # the rebinding vector listens on its port there
        self.results: list[dict] = []
        self.extra_names: dict[str, list[str]] = {}
        self.ipv6 = _has_ipv6_loopback()

    def resolver(self, host: str, port: int) -> list[str]:
        key = host.lower().rstrip(".")
        if key in NAMES or key in self.extra_names:
            return NAMES.get(key) or self.extra_names[key]
        return system_resolver(host, port)

    @property
    def allowed(self) -> list[str]:
        return [self.pages.host]

    def listener(self, name: str, address: str = "127.0.0.2", port: int = 0) -> int:
        return self.listeners.tcp(name, address, port)

    def record(self, surface: str, name: str, refused: bool, detail: str = "") -> None:
        hits = self.listeners.hits_for(name)
        trips = [t for t in self.tripwire.trips if t[0] == name]
        escaped = bool(hits or trips or not refused)
        self.results.append({"surface": surface, "vector": name, "escaped": escaped,
                             "detail": detail or (f"{len(hits)} connection(s) reached a listener" if hits else "")})

    def attempt(self, surface: str, name: str, call: Callable[[], object], *, expect_refusal: bool = True) -> None:
        """Run one fetcher/webhook vector; refused = the guard raised UnsafeURLError (or, when
        no refusal is expected, the call reached only where it was allowed to)."""
        self.tripwire.current = name
        try:
            outcome = call()
            refused, detail = not expect_refusal, f"not refused: {str(outcome)[:120]}" if expect_refusal else ""
        except UnsafeURLError:
            refused, detail = True, ""
        except (IngestError, OutboundError) as exc:
            refused, detail = False, f"guard let it through, then: {exc}"
        except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported, not an escape
            self.results.append({"surface": surface, "vector": name, "escaped": bool(self.listeners.hits_for(name)),
                                 "detail": f"crashed: {type(exc).__name__}: {exc}", "failed": True})
            return
        self.record(surface, name, refused, detail)

    def close(self) -> None:
        self.listeners.close()
        self.pages.close()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


# --- the fetcher ---------------------------------------------------------------------------
def fetcher_vectors(d: Drill) -> None:
    def fetch(url: str):
        return lambda: fetch_url(url, allowed_hosts=d.allowed, resolver=d.resolver, use_cache=False,
                                 rate_limit=False, timeout=3)

    direct = {  # name -> (listener address, URL template)
        "loopback-ip": ("127.0.0.2", "http://127.0.0.2:{p}/"),
        "decimal-ip": ("127.0.0.2", "http://2130706434:{p}/"),
        "hex-ip": ("127.0.0.2", "http://0x7f000002:{p}/"),
        "octal-ip": ("127.0.0.2", "http://0177.0.0.2:{p}/"),
        "short-ip": ("127.0.0.2", "http://127.2:{p}/"),
        "hex-dotted-ip": ("127.0.0.2", "http://0x7f.0x0.0x0.0x2:{p}/"),
        "ideographic-dots": ("127.0.0.2", "http://127\u30020\u30020\u30022:{p}/"),
        "ipv4-mapped-ipv6": ("127.0.0.2", "http://[::ffff:127.0.0.2]:{p}/"),
        "ipv4-mapped-hex": ("127.0.0.2", "http://[::ffff:7f00:2]:{p}/"),
        "unspecified-0.0.0.0": ("127.0.0.1", "http://0.0.0.0:{p}/"),
        "localhost": ("127.0.0.1", "http://localhost:{p}/"),
        "localhost-trailing-dot": ("127.0.0.1", "http://localhost.:{p}/"),
        "other-port-of-allowed-host": ("127.0.0.1", "http://127.0.0.1:{p}/admin"),
        "userinfo-allowed-host": ("127.0.0.2", "http://" + d.pages.host + "@127.0.0.2:{p}/"),
        "backslash-userinfo": ("127.0.0.2", "http://127.0.0.2:{p}\\@" + d.pages.host + "/"),
        "fragment-at-trick": ("127.0.0.2", "http://127.0.0.2:{p}#@" + d.pages.host + "/"),
        "https-to-loopback": ("127.0.0.2", "https://127.0.0.2:{p}/"),
        "gopher-scheme": ("127.0.0.2", "gopher://127.0.0.2:{p}/_INFO"),
    }
    if d.ipv6:
        direct["ipv6-loopback"] = ("::1", "http://[::1]:{p}/")
        direct["ipv6-unspecified"] = ("::1", "http://[::]:{p}/")
    for name, (address, template) in direct.items():
        port = d.listener(name, address)
        d.attempt("fetcher", name, fetch(template.format(p=port)))

    d.extra_names["loopback.drill"] = ["127.0.0.2"]
    port = d.listener("name-to-loopback")
    d.attempt("fetcher", "name-to-loopback", fetch(f"http://loopback.drill:{port}/"))
    for name in NAMES:                     # guard-only: hostile DNS answers, no listener possible
        d.attempt("fetcher", f"name-to-{name.split('.')[0]}", fetch(f"http://{name}/latest/meta-data/"))
    for literal in ("[fec0::1]", "[fe80::1%25lo]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "100.64.0.1",
                    "198.18.0.1", "192.0.0.8", "[::127.0.0.1]"):
        d.attempt("fetcher", f"literal-{literal}", fetch(f"http://{literal}/"))
    d.attempt("fetcher", "file-scheme", fetch("file:///etc/passwd"))
    d.attempt("fetcher", "crlf-in-url", fetch("http://example.com/\r\nHost: 127.0.0.1"))

    redirects = {"redirect-302-loopback": ("127.0.0.2", 302, "http://127.0.0.2:{p}/"),
                 "redirect-307-decimal": ("127.0.0.2", 307, "http://2130706434:{p}/"),
                 "redirect-301-other-port": ("127.0.0.1", 301, "http://127.0.0.1:{p}/"),
                 "redirect-308-name-to-loopback": ("127.0.0.2", 308, "http://loopback.drill:{p}/")}
    if d.ipv6:
        redirects["redirect-302-ipv6"] = ("::1", 302, "http://[::1]:{p}/")
    for name, (address, status, template) in redirects.items():
        port = d.listener(name, address)
        d.pages.routes[f"/{name}"] = (status, {"Location": template.format(p=port)}, b"")
        d.attempt("fetcher", name, fetch(f"{d.pages.origin}/{name}"))
    d.pages.routes["/redirect-metadata"] = (302, {"Location": "http://metadata.drill/latest/meta-data/"}, b"")
    d.attempt("fetcher", "redirect-to-metadata-name", fetch(f"{d.pages.origin}/redirect-metadata"))

    # DNS rebinding: an allowed name answers the page server, then a listener on the same port.
    d.listeners.adopt("rebinding", d.pages.twin_socket)
    answers = iter([["127.0.0.1"]] + [["127.0.0.2"]] * 10)
    d.pages.page("/rebind", "<h1>ok</h1>")
    d.tripwire.current = "rebinding"
    try:
        result = fetch_url(f"http://rebind.drill:{d.pages.port}/rebind", allowed_hosts=[f"rebind.drill:{d.pages.port}"],
                           resolver=lambda h, p: next(answers), use_cache=False, rate_limit=False)
        d.record("fetcher", "rebinding", result.status == 200, "" if result.status == 200 else "page not reached")
    except IngestError as exc:
        d.record("fetcher", "rebinding", False, str(exc))


# --- the browser -----------------------------------------------------------------------------
BROWSER_VECTORS = ["iframe", "img", "script", "prefetch", "preconnect", "stylesheet", "fetch-post", "xhr",
                   "beacon", "eventsource", "websocket", "form-post", "window-open", "worker-fetch",
                   "service-worker", "frame-location", "frame-meta-refresh", "iframe-redirect",
                   "other-port-of-allowed-host", "name-to-loopback-iframe"]


def _attack_page(t: dict, stun: int) -> str:
    ws = t["websocket"].replace("http://", "ws://")
    v6 = f'<iframe src="{t["ipv6"]}/v6"></iframe>' if "ipv6" in t else ""
    return f"""<!doctype html><html><head><title>drill</title>
<link rel="prefetch" href="{t['prefetch']}/p"><link rel="preconnect" href="{t['preconnect']}">
<link rel="stylesheet" href="{t['stylesheet']}/c.css"></head><body><h1>drill page</h1>
<iframe src="{t['iframe']}/f"></iframe><img src="{t['img']}/i.png"><script src="{t['script']}/s.js"></script>
<iframe name="sink"></iframe><iframe src="/frame-location"></iframe><iframe src="/frame-meta"></iframe>
<iframe src="/redirect"></iframe><iframe src="{t['other-port-of-allowed-host']}/admin"></iframe>{v6}
<iframe src="{t['name-to-loopback-iframe']}/n"></iframe>
<iframe src="http://intranet.drill/"></iframe><iframe src="http://metadata.drill/latest/meta-data/"></iframe>
<form id="f" method="post" action="{t['form-post']}/p" target="sink"><input name="a" value="b"></form>
<script>
fetch("{t['fetch-post']}/x", {{method: "POST", body: "x"}}).catch(() => {{}});
fetch("http://metadata.drill/latest/api/token", {{method: "PUT"}}).catch(() => {{}});
var x = new XMLHttpRequest(); x.open("GET", "{t['xhr']}/x"); x.send();
try {{ navigator.sendBeacon("{t['beacon']}/b", "x"); }} catch (e) {{}}
try {{ new EventSource("{t['eventsource']}/es"); }} catch (e) {{}}
try {{ new WebSocket("{ws}/ws"); }} catch (e) {{}}
try {{ window.open("{t['window-open']}/w"); }} catch (e) {{}}
document.getElementById("f").submit();
try {{ new Worker(URL.createObjectURL(new Blob(['fetch("{t['worker-fetch']}/w").catch(()=>{{}})'],
  {{type: "text/javascript"}}))); }} catch (e) {{}}
try {{ navigator.serviceWorker.register("/sw.js"); }} catch (e) {{}}
function rtc(RTC, kind) {{
  var server = {{urls: kind + ":127.0.0.2:{stun}", username: "u", credential: "p"}};
  var pc = new RTC({{iceServers: [server]}});
  pc.createDataChannel("d"); pc.createOffer().then(function (o) {{ return pc.setLocalDescription(o); }});
}}
try {{ rtc(window.RTCPeerConnection, "stun"); }} catch (e) {{}}
try {{ var b = document.createElement("iframe"); document.body.appendChild(b);
  rtc(b.contentWindow.RTCPeerConnection, "stun"); rtc(b.contentWindow.RTCPeerConnection, "turn"); }} catch (e) {{}}
</script></body></html>"""


def browser_vectors(d: Drill, renderer) -> None:
    t = {}
    for i, name in enumerate(BROWSER_VECTORS):
        address = "127.0.0.1" if name == "other-port-of-allowed-host" else f"127.0.0.{2 + i % 6}"
        t[name] = f"http://{address}:{d.listener('browser-' + name, address)}"
    d.extra_names["loopback-browser.drill"] = ["127.0.0.7"]
    t["name-to-loopback-iframe"] = (f"http://loopback-browser.drill:"
                                    f"{d.listener('browser-name-to-loopback-iframe-2', '127.0.0.7')}")
    if d.ipv6:
        t["ipv6"] = f"http://[::1]:{d.listener('browser-ipv6', '::1')}"
    stun = d.listeners.udp("browser-webrtc", "127.0.0.2")
    d.pages.page("/attack", _attack_page(t, stun))
    d.pages.page("/frame-location", f'<script>location.href = "{t["frame-location"]}/nav";</script>')
    d.pages.page("/frame-meta", f'<meta http-equiv="refresh" content="0;url={t["frame-meta-refresh"]}/m">')
    d.pages.routes["/redirect"] = (302, {"Location": f"{t['iframe-redirect']}/r"}, b"")
    d.pages.page("/sw.js", f'fetch("{t["service-worker"]}/sw"); importScripts("{t["service-worker"]}/i.js");',
                 content_type="text/javascript")
    top = {"top-location": "<script>location.href = '{u}';</script>",
           "top-meta-refresh": '<meta http-equiv="refresh" content="0;url={u}">',
           "top-form-get": '<form id="f" action="{u}"></form><script>document.getElementById("f").submit()</script>'}
    for name, template in top.items():
        url = f"http://127.0.0.3:{d.listener('browser-' + name, '127.0.0.3')}/internal"
        d.pages.page(f"/{name}", template.format(u=url))

    d.tripwire.current = "browser"
    rendered = None
    try:
        rendered = renderer.render(f"{d.pages.origin}/attack", allowed_hosts=d.allowed, timeout_s=15)
    except Exception as exc:  # noqa: BLE001 - reported as a drill failure, listeners still checked
        d.results.append({"surface": "browser", "vector": "allowed-page-renders", "escaped": False,
                          "detail": f"render failed: {type(exc).__name__}: {exc}", "failed": True})
    for name in top:
        try:
            renderer.render(f"{d.pages.origin}/{name}", allowed_hosts=d.allowed, timeout_s=8)
        except IngestError:
            pass   # a refused navigation may end the render; the listeners tell what happened
        except Exception as exc:  # noqa: BLE001
            d.results.append({"surface": "browser", "vector": name, "escaped": False,
                              "detail": f"render crashed: {type(exc).__name__}: {exc}", "failed": True})
    time.sleep(0.3)   # late datagrams or connects would still be counted
    browser_trips = [trip for trip in d.tripwire.trips if trip[0] == "browser"]
    names = [*BROWSER_VECTORS, *top, "webrtc", "name-to-loopback-iframe-2"] + (["ipv6"] if d.ipv6 else [])
    for name in names:   # escapes here are connections (or datagrams) the listeners saw
        d.record("browser", "browser-" + name, refused=True)
    # Hostile DNS inside the page: refused by the guard (route or proxy) before any connect.
    seen = " ".join((rendered.blocked + rendered.proxy_refused) if rendered else [])
    for host in ("intranet.drill", "metadata.drill"):
        d.record("browser", f"browser-name-to-{host.split('.')[0]}", host in seen and not browser_trips,
                 "" if host in seen else "never reached the guard")
    ok_page = bool(rendered and "drill page" in rendered.html)
    if rendered is not None:   # a failed render was reported above
        d.results.append({"surface": "browser", "vector": "allowed-page-renders", "escaped": False,
                          "detail": "" if ok_page else "the allowed page did not render", "failed": not ok_page})


# --- webhooks -------------------------------------------------------------------------------
def webhook_vectors(d: Drill) -> None:
    def post(url: str, allowed=None, resolver=None):
        return lambda: guarded_post(url, body=b'{"type":"video.succeeded"}', headers={"Content-Type": "application/json"},
                                    timeout_s=3, allowed_hosts=d.allowed if allowed is None else allowed,
                                    resolver=resolver or d.resolver)

    direct = {"webhook-loopback": ("127.0.0.2", "http://127.0.0.2:{p}/hook"),
              "webhook-decimal": ("127.0.0.2", "http://2130706434:{p}/hook"),
              "webhook-ipv4-mapped": ("127.0.0.2", "http://[::ffff:127.0.0.2]:{p}/hook"),
              "webhook-localhost": ("127.0.0.1", "http://localhost:{p}/hook"),
              "webhook-0.0.0.0": ("127.0.0.1", "http://0.0.0.0:{p}/hook"),
              "webhook-other-port-of-allowed-host": ("127.0.0.1", "http://127.0.0.1:{p}/hook"),
              "webhook-userinfo": ("127.0.0.2", "https://" + d.pages.host + "@127.0.0.2:{p}/hook"),
              "webhook-name-to-loopback": ("127.0.0.2", "http://loopback.drill:{p}/hook")}
    if d.ipv6:
        direct["webhook-ipv6-loopback"] = ("::1", "http://[::1]:{p}/hook")
    for name, (address, template) in direct.items():
        d.attempt("webhook", name, post(template.format(p=d.listener(name, address))))
    for name in ("intranet.drill", "metadata.drill", "v6-imds.drill", "mixed.drill", "nat64.drill"):
        d.attempt("webhook", f"webhook-name-to-{name.split('.')[0]}", post(f"https://{name}/hook"))
    # A receiver that redirects to an internal address: the 3xx comes back, nothing is followed.
    for status in (302, 307):
        name = f"webhook-redirect-{status}"
        d.pages.routes[f"/{name}"] = (status, {"Location": f"http://127.0.0.2:{d.listener(name)}/internal"}, b"")
        d.attempt("webhook", name, post(f"{d.pages.origin}/{name}"), expect_refusal=False)
    # Rebinding: the allowed receiver name flips to a listener after the check; the POST is pinned.
    d.pages.routes["/hook"] = (204, {}, b"")
    d.listener("webhook-rebinding", "127.0.0.3", d.pages.port)
    answers = iter([["127.0.0.1"]] + [["127.0.0.3"]] * 10)
    d.attempt("webhook", "webhook-rebinding",
              post(f"http://hooks.drill:{d.pages.port}/hook", allowed=[f"hooks.drill:{d.pages.port}"],
                   resolver=lambda h, p: next(answers)), expect_refusal=False)


def run(args: list[str], out) -> dict:
    started = time.monotonic()
    d = Drill()
    surfaces = ["fetcher", "webhook"] + ([] if "--no-browser" in args else ["browser"])
    try:
        with d.tripwire:
            fetcher_vectors(d)
            webhook_vectors(d)
            if "browser" in surfaces:
                from catalog.ingest.browser import BrowserRenderer
                renderer = BrowserRenderer(resolver=d.resolver)
                try:
                    browser_vectors(d, renderer)
                finally:
                    renderer.close()
    finally:
        d.close()
    vectors = [r for r in d.results if r["vector"] != "allowed-page-renders"]
    escaped = [f"{r['surface']}:{r['vector']} {r['detail']}".strip() for r in vectors if r["escaped"]]
    failed = [r["detail"] for r in d.results if r.get("failed")]
    for line in escaped + failed:
        out.write(f"ESCAPE/FAIL {line}\n")
    by_surface = {s: sum(1 for r in vectors if r["surface"] == s) for s in surfaces}
    return {"drill": "ssrf", "vectors": len(vectors), "escapes": len(escaped), "escaped": escaped,
            "by_surface": by_surface, "tripwire": len(d.tripwire.trips), "failures": failed,
            "seconds": round(time.monotonic() - started, 1),
            "ok": not escaped and not failed and len(vectors) >= 30}
