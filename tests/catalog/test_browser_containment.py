"""The rendered page cannot make Chromium connect anywhere the SSRF guard refuses.

Real listeners on loopback addresses (127.0.0.2+, another port of the allowed 127.0.0.1, ::1,
and a UDP socket standing in for a STUN server) record every TCP connection and datagram; an
allowed page (the shop, let through by ``allowed_hosts``) then tries every way a page can
reach them. Zero connections may arrive, while the allowed page itself still renders."""
import shutil
import socket

import pytest
from django.conf import settings as django_settings

from catalog.drills.listeners import Listeners
from catalog.ingest.errors import IngestError

pytestmark = pytest.mark.skipif(not shutil.which(django_settings.CATALOG_CHROMIUM_PATH)
                                and not shutil.which("chromium"), reason="chromium not installed")


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture
def listeners():
    recorder = Listeners()
    yield recorder
    recorder.close()


def _targets(listeners, shop, names):
    """One listener per vector, spread over loopback addresses; returns name -> origin."""
    origins = {}
    for i, name in enumerate(names):
        address = f"127.0.0.{2 + i % 5}"
        origins[name] = f"http://{address}:{listeners.tcp(name, address)}"
    origins["same-ip-other-port"] = f"http://127.0.0.1:{listeners.tcp('same-ip-other-port', '127.0.0.1')}"
    if _has_ipv6_loopback():
        origins["ipv6"] = f"http://[::1]:{listeners.tcp('ipv6', '::1')}"
    return origins


SUBRESOURCE_VECTORS = ["iframe", "img", "script", "prefetch", "preconnect", "preload", "stylesheet",
                       "fetch", "xhr", "beacon", "eventsource", "websocket", "form-post", "window-open",
                       "worker-fetch", "sw-fetch", "frame-location", "frame-meta-refresh", "redirect"]


def _attack_page(t: dict, stun: int, shop) -> str:
    ws = t["websocket"].replace("http://", "ws://")
    return f"""<!doctype html><html><head><title>Attack</title>
<link rel="prefetch" href="{t['prefetch']}/p"><link rel="preconnect" href="{t['preconnect']}">
<link rel="preload" as="script" href="{t['preload']}/s.js"><link rel="stylesheet" href="{t['stylesheet']}/c.css">
<link rel="dns-prefetch" href="{t['preconnect']}">
</head><body><h1 id="ok">Allowed page renders</h1>
<iframe src="{t['iframe']}/frame"></iframe><img src="{t['img']}/i.png"><script src="{t['script']}/s.js"></script>
<iframe name="sink"></iframe>
<iframe src="/frame-location"></iframe><iframe src="/frame-meta"></iframe><iframe src="/redirect"></iframe>
<iframe src="{t['same-ip-other-port']}/admin"></iframe>
{f'<iframe src="{t["ipv6"]}/v6"></iframe>' if 'ipv6' in t else ''}
<form id="f" method="post" action="{t['form-post']}/post" target="sink"><input name="a" value="b"></form>
<script>
fetch("{t['fetch']}/x", {{method: "POST", body: "x"}}).catch(() => {{}});
var x = new XMLHttpRequest(); x.open("GET", "{t['xhr']}/x"); x.send();
try {{ navigator.sendBeacon("{t['beacon']}/b", "x"); }} catch (e) {{}}
try {{ new EventSource("{t['eventsource']}/es"); }} catch (e) {{}}
try {{ new WebSocket("{ws}/ws"); }} catch (e) {{}}
try {{ window.open("{t['window-open']}/popup"); }} catch (e) {{}}
document.getElementById("f").submit();
try {{ new Worker(URL.createObjectURL(new Blob(['fetch("{t['worker-fetch']}/w").catch(()=>{{}})'],
  {{type: "text/javascript"}}))); }} catch (e) {{}}
try {{ navigator.serviceWorker.register("/sw.js"); }} catch (e) {{}}
function stun(RTC) {{
  var pc = new RTC({{iceServers: [{{urls: "stun:127.0.0.2:{stun}"}}, {{urls: "turn:127.0.0.2:{stun}?transport=udp",
    username: "u", credential: "p"}}]}});
  pc.createDataChannel("d"); pc.createOffer().then(function (o) {{ return pc.setLocalDescription(o); }});
}}
var rtc = [];
try {{ stun(window.RTCPeerConnection); rtc.push("page"); }} catch (e) {{ rtc.push("page:" + e.name); }}
// A fresh about:blank frame is the classic way around page-level patches: the flag must hold.
try {{ var blank = document.createElement("iframe"); document.body.appendChild(blank);
  stun(blank.contentWindow.RTCPeerConnection); rtc.push("blank"); }} catch (e) {{ rtc.push("blank:" + e.name); }}
document.getElementById("ok").setAttribute("data-rtc", rtc.join(","));
</script></body></html>"""


def test_no_connection_escapes_the_rendered_page(shop, listeners):
    from catalog.ingest.browser import render_url
    t = _targets(listeners, shop, SUBRESOURCE_VECTORS)
    stun = listeners.udp("webrtc-stun", "127.0.0.2")
    shop.html("/attack", _attack_page(t, stun, shop))
    shop.html("/frame-location", f'<script>location.href = "{t["frame-location"]}/nav";</script>')
    shop.html("/frame-meta", f'<meta http-equiv="refresh" content="0;url={t["frame-meta-refresh"]}/meta">')
    shop.routes["/redirect"] = (302, {"Location": f"{t['redirect']}/after-redirect"}, b"")
    shop.routes["/sw.js"] = (200, {"Content-Type": "text/javascript"},
                             f'fetch("{t["sw-fetch"]}/sw"); importScripts("{t["sw-fetch"]}/i.js");'.encode())

    rendered = render_url(f"{shop.origin}/attack", allowed_hosts=[shop.host], timeout_s=15)

    assert "Allowed page renders" in rendered.html and rendered.status == 200
    assert 'data-rtc="page:TypeError,blank:TypeError"' in rendered.html   # no WebRTC, even in a fresh frame
    assert listeners.hits == []
    # The vectors did fire: the guard saw (and refused) them, in the route or in the proxy.
    refused = " ".join(rendered.blocked + rendered.proxy_refused)
    for name in ("iframe", "fetch", "xhr", "beacon", "form-post", "window-open", "frame-location",
                 "same-ip-other-port"):
        assert t[name].split("//")[1] in refused, name
    assert ("/frame-location", shop.host) in shop.requests and ("/redirect", shop.host) in shop.requests


@pytest.mark.parametrize("how", ["location", "meta-refresh", "form-get", "redirect"])
def test_top_level_navigation_to_loopback_is_refused(shop, listeners, how):
    from catalog.ingest.browser import render_url
    target = f"http://127.0.0.3:{listeners.tcp(how, '127.0.0.3')}/internal"
    pages = {
        "location": f"<h1>shop</h1><script>location.href = '{target}';</script>",
        "meta-refresh": f'<meta http-equiv="refresh" content="0;url={target}"><h1>shop</h1>',
        "form-get": f'<form id="f" action="{target}"></form><script>document.getElementById("f").submit()</script>',
    }
    if how == "redirect":
        shop.routes["/start"] = (302, {"Location": target}, b"")
    else:
        shop.html("/start", pages[how])
    try:
        render_url(f"{shop.origin}/start", allowed_hosts=[shop.host], timeout_s=8)
    except IngestError:
        pass   # a refused navigation may end the render; what matters is where Chromium connected
    assert listeners.hits_for(how) == []


def test_the_allowed_page_and_its_same_origin_calls_still_work(shop, listeners):
    """The exception is by host:port: the shop's own scripts and POSTs reach it (via the
    route and the proxy), nothing else on the same address does."""
    from catalog.ingest.browser import render_url
    other = listeners.tcp("other-port", "127.0.0.1")
    shop.html("/p", f"""<h1>Kettle</h1><p id="r"></p><script>
fetch("/api", {{method: "POST", body: "q"}}).then(r => r.text()).then(t => {{
  document.getElementById("r").textContent = "api:" + t; }});
fetch("http://127.0.0.1:{other}/x").catch(() => {{}});
</script>""")
    shop.html("POST /api", "42")
    rendered = render_url(f"{shop.origin}/p", allowed_hosts=[shop.host], timeout_s=10)
    assert "api:42" in rendered.html
    assert ("POST /api", shop.host) in shop.requests
    assert listeners.hits == []


def test_chromium_runs_with_the_guarded_proxy_and_no_loopback_bypass(shop):
    """The launch flags themselves: the default proxy, loopback through it, the WebRTC policy and
    the resolver rule are on Chromium's command line."""
    from pathlib import Path

    from catalog.ingest.browser import get_renderer
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs Linux /proc to read Chromium's command line")
    renderer = get_renderer()
    wanted = f"--proxy-server=http://127.0.0.1:{renderer._default_proxy.port}"
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted.encode() in args:
            lines.append([a.decode(errors="replace") for a in args])
    assert lines, "no Chromium process runs with the guarded proxy"
    args = lines[0]
    assert "--proxy-bypass-list=<-loopback>" in args
    assert "--webrtc-ip-handling-policy=disable_non_proxied_udp" in args
    assert any(a.startswith("--host-resolver-rules=MAP * ~NOTFOUND") for a in args)
