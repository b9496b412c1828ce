"""End to end in Debian Chromium against the live server, a real Celery worker, Redis and
PostgreSQL: sign up -> verify -> onboarding -> brand kit with a logo -> paste the local
sample shop's link -> correct the preview -> two aspects -> the videos play; edit a caption
line -> re-render -> the new words are in the new captions; a viewer cannot create;
another workspace cannot open the job, its video or the brand; no horizontal scroll at 390 px.

Screenshots of every page go to $DASHBOARD_SCREENSHOTS_DIR (docs/screenshots/ when making the
docs), else to a temporary folder."""
from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from PIL import Image

from catalog.sample_shop import sample_shop_serve
from tests.browser import CHROMIUM, FLAGS
from tests.conftest import require_service

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]
PASSWORD = "e2e pass word 42"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def stack(live_server, settings, django_db_blocker, tmp_path):
    """Live server + in-process Celery worker + the sample shop on loopback + screenshots folder."""
    from django.db import connection

    from config.celery import app

    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (make test starts one)")
    require_service(Path(CHROMIUM).exists(), "needs Debian chromium at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls this test makes
    # between browser steps are plain blocking calls (e2e tests only).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sample_shop_serve() as shop_url, django_db_blocker.unblock():
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [urlsplit(shop_url).netloc]
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default", "render", "gpu"],
                          shutdown_timeout=30):
            yield {"url": live_server.url, "shop": shop_url, "shots": shots}
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _logo_file(tmp: Path) -> Path:
    img = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    for x in range(240):
        for y in range(80):
            if (x // 20 + y // 20) % 2 == 0:
                img.putpixel((x, y), (230, 57, 70, 255))
    path = tmp / "logo.png"
    img.save(path)
    return path


def _shot(page, path: Path) -> None:
    """A full-page screenshot once every picture on the page has loaded (lazy ones too)."""
    page.evaluate("""() => Promise.all([...document.images].map(img => {
        img.loading = 'eager';
        return img.complete ? null : new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 5000); });
    }))""")
    page.screenshot(path=str(path), full_page=True)


def _mail_link(pattern: str) -> str:
    for message in reversed(mail.outbox):
        found = re.search(r"https?://\S+", message.body)
        if found and pattern in found.group(0):
            return found.group(0)
    raise AssertionError(f"no mail with a {pattern} link: {[m.subject for m in mail.outbox]}")


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"


def _signup(page, base: str, email: str, workspace: str, shots: Path | None = None) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_workspace_name", workspace)
    if shots:
        _shot(page, shots / "signup.png")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(_mail_link("/accounts/confirm-email/"))


def _wait_video(page, timeout_s: float = 240) -> None:
    page.wait_for_selector("#player:not([hidden]) video", timeout=timeout_s * 1000)
    ok = page.evaluate("""() => new Promise(resolve => {
        const v = document.getElementById('video'); v.muted = true;
        const done = () => resolve({t: v.currentTime, w: v.videoWidth, h: v.videoHeight});
        v.addEventListener('timeupdate', () => { if (v.currentTime > 0.2) done(); });
        v.play().catch(() => resolve({t: -1, w: v.videoWidth, h: v.videoHeight}));
        setTimeout(done, 8000);
    })""")
    assert ok["w"] > 0 and ok["t"] > 0.2, f"the video did not play in the page: {ok}"


def test_first_video_from_sign_up_to_re_render(browser, stack, tmp_path):
    base, shots = stack["url"], stack["shots"]
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    _signup(page, base, "owner@northwind.example", "Northwind Outdoor", shots)
    assert page.url.endswith("/welcome/"), page.url
    assert "Set up your brand kit" in page.content()
    _shot(page, shots / "onboarding.png")

    # Brand kit with a logo and two default aspects.
    page.click("text=Set up your brand kit")
    page.fill("#id_name", "Northwind")
    page.set_input_files("#id_logo", str(_logo_file(tmp_path)))
    page.fill("#id_tone", "bold, outdoorsy")
    page.fill("#id_primary_color", "#0f3d3e")
    page.fill("#id_secondary_color", "#f4f0e8")
    page.check("input[name=default_aspects][value='1:1']")
    page.click("text=Save brand kit")
    assert "Brand kit saved." in page.content()
    _shot(page, shots / "brand-kit.png")

    # Paste the sample shop link, then correct the preview.
    page.goto(f"{base}/create/")
    page.fill("#id_product_url", stack["shop"])
    _shot(page, shots / "create.png")
    page.click("text=Read the product")
    page.wait_for_selector("#preview-form", timeout=60_000)
    assert "Aurora" in page.input_value("#id_title")
    preview_url = page.url
    page.fill("#id_title", "Aurora Bottle Trail Edition")
    page.select_option("#id_duration_s", "8")
    assert page.is_checked("input[name=aspects][value='9:16']") and page.is_checked("input[name=aspects][value='1:1']")
    assert page.text_content("#estimate") == "2"
    _shot(page, shots / "preview.png")
    page.click("button:has-text('Generate')")
    page.wait_for_url(re.compile(r"/library/\?batch="))
    job_links = page.eval_on_selector_all(".tile a[href*='/jobs/']", "els => [...new Set(els.map(e => e.href))]")
    assert len(job_links) == 2, job_links

    # Both aspects finish and play in the page.
    for link in job_links:
        page.goto(link)
        _wait_video(page)
    assert "Aurora Bottle Trail Edition" in page.content()
    _shot(page, shots / "job.png")
    page.goto(f"{base}/library/")
    _shot(page, shots / "library.png")

    # Edit one caption line and re-render from the timeline.
    page.goto(job_links[0])
    page.wait_for_selector("#line-0")
    page.fill("#line-0", "Trail tested twice")
    before = page.request.get(f"{job_links[0]}files/timeline").json()
    shot_layers = [ly for ly in before["layers"] if ly["type"] == "shot"]
    pictures = list(dict.fromkeys(ly["asset"] for ly in shot_layers))
    first_shot = page.get_attribute("input[name^='shot-']", "name")
    page.check(f"input[name='{first_shot}'][value='1']")  # scene 1 shows the second picture
    page.click("text=Re-render with my edits")
    page.wait_for_function("document.getElementById('rerender-state').textContent.includes('Re-rendering') === false "
                           "&& !document.querySelector('#player[hidden]')", timeout=180_000)
    page.wait_for_load_state()
    assert page.input_value("#line-0") == "Trail tested twice"
    srt = page.request.get(f"{job_links[0]}files/captions").text()
    assert "Trail tested twice" in srt
    after = page.request.get(f"{job_links[0]}files/timeline").json()
    assert [ly["asset"] for ly in after["layers"] if ly["type"] == "shot"][0] == pictures[1]
    _wait_video(page)

    # Developers, usage and team pages with real data.
    page.goto(f"{base}/developers/keys/")
    page.fill("#id_name", "Shopify sync")
    page.click("text=Create key")
    secret = page.text_content("#secret").strip()
    assert secret.startswith("adf_")
    _shot(page, shots / "keys.png")
    page.goto(f"{base}/usage/")
    assert "Credits spent per day" in page.content()
    _shot(page, shots / "usage.png")
    page.goto(f"{base}/members/")
    page.fill("#id_email", "viewer@northwind.example")
    page.select_option("#id_role", "viewer")
    page.click("text=Send invitation")
    _shot(page, shots / "team.png")
    invite = _mail_link("/invite/")

    # Phone width: no horizontal scroll on any page.
    phone = browser.new_context(viewport=PHONE, storage_state=context.storage_state())
    mobile = phone.new_page()
    for url in [base + p for p in ("/welcome/", "/create/", "/library/", "/brand/", "/developers/keys/", "/usage/",
                                   "/members/")] + [preview_url]:
        mobile.goto(url)
        _no_horizontal_scroll(mobile)
    mobile.goto(base + "/brand/")
    mobile.click("text=Brand style model (LoRA)")
    _no_horizontal_scroll(mobile)
    _shot(mobile, shots / "brand-lora.png")
    mobile.goto(job_links[0])
    _no_horizontal_scroll(mobile)
    _shot(mobile, shots / "mobile-job.png")
    phone.close()
    brand_url = page.evaluate("location.origin") + "/brand/"
    page.goto(brand_url)
    brand_edit = page.url
    context.close()

    # The invited viewer sees but cannot create.
    viewer_ctx = browser.new_context()
    viewer = viewer_ctx.new_page()
    viewer.goto(invite)
    assert "Join Northwind Outdoor" in viewer.content()
    _signup(viewer, base, "viewer@northwind.example", "")
    viewer.goto(f"{base}/create/")
    from tenancy.models import Membership
    roles = list(Membership.objects.filter(user__email="viewer@northwind.example").values_list("workspace__name", "role"))
    assert roles == [("Northwind Outdoor", "viewer")], roles
    assert "but not create them" in viewer.content() and not viewer.query_selector("#id_product_url")
    token = viewer.eval_on_selector("input[name=csrfmiddlewaretoken]", "e => e.value")
    refused = viewer.request.post(f"{base}/create/", form={"product_url": stack["shop"], "csrfmiddlewaretoken": token},
                                  headers={"Referer": f"{base}/create/"})
    assert refused.status == 403
    viewer.goto(job_links[0])
    assert viewer.query_selector("text=Re-render with my edits") is None
    viewer_ctx.close()

    # Another workspace cannot open the job, its video file or the brand by URL.
    other_ctx = browser.new_context()
    other = other_ctx.new_page()
    _signup(other, base, "rival@other.example", "Rival Shop")
    for url in (job_links[0], f"{job_links[0]}files/video", f"{job_links[0]}status.json", brand_edit,
                brand_edit + "logo", brand_edit + "sample.png"):
        assert other.request.get(url).status == 404, url
    other_ctx.close()
    assert time.monotonic() - started < 300
