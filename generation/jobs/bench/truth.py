"""`manage.py bench truth [--limit N] [--corpus DIR]`: is every video product-true?

For each shared-corpus product page: serve the saved page on loopback with every image URL
rewritten to a locally generated stand-in picture (each unique: a seeded colour grid, so it
can be found again in frames), run the whole pipeline with the offline defaults (ingest →
script → voice → shots → render, the real stage services), then look at the video's frames:

- ``main_photo_visible``: share of sampled frames where the page's main product photo
  (the manifest's ``image_main``) is found (``presence.ProductMatcher``);
- ``foreign_picture_frames``: sampled frames showing a stand-in that is *not* one of this
  product's own pictures (own = the expected main image + the JSON-LD/OpenGraph images of
  the page: the product's structured gallery);
- ``rejected_facts_used``: rejected facts (catalog sanity) whose value appears in the script
  or on screen;
- ``endcard_photo_width``: the product photo's width in the last scene, share of the frame;
- stage timings.

Benchmark code: the runtime never imports this module.
"""
from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import re
import statistics
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

DEFAULT_CORPUS = Path("/work/shared/corpus/product_pages")
_ABS_IMG = re.compile(r"(?:https?:)?(?:\\?/){2}[\w-]+(?:\.[\w-]+)+(?:\\?/[^\s\"'<>()\\/]*)*?"
                      r"\.(?:jpe?g|png|webp|gif|avif)(?:\?[^\s\"'<>()\\]*)?(?=[\s\"'<>(),\\&]|$)", re.I)
_REL_IMG = re.compile(r"((?:src|data-src|data-zoom-image|data-old-hires|data-large|href|content)=[\"']|"
                      r"\"(?:image|url|contentUrl|thumbnailUrl)\"\s*:\s*\[?\s*\")"
                      r"(/[^/\"'][^\"'<>]*?\.(?:jpe?g|png|webp|gif|avif)(?:\?[^\"'<>]*)?)([\"'])", re.I)
# Pictures named without a file extension (image servers such as Scene7's /is/image/…): an
# <img> source attribute or a JSON "image" value that is an absolute URL.
_EXTLESS_IMG = re.compile(r"""((?:<img\b[^>]*?\s(?:src|data-src|data-zoom-image|data-old-hires|data-large)\s*=\s*"""
                          r"""|"(?:image|contentUrl)"\s*:\s*\[?\s*)(["']))((?:https?:)?(?:\\?/){2}[^"'\s<>]+?)(\2)""", re.I)
_IMAGE_SERVER = re.compile(r"^(?:https?:)?//[^/]+(?:/[^/?#]*)*?/(?:is/image|images?|img|i|imageservice|imagedelivery"
                           r"|get-mpic)(?:/|\?)", re.I)
_TRACKER = re.compile(r"beacon|track|pixel|uedata|/imp\b|rover|conversion|collect|analytics|\.svg|logo|icon|\{|\$\{",
                      re.I)
_TINY_HINT = re.compile(r"sprite|icon|pixel|spacer|1x1|blank|logo|_SS\d{2}_|_US\d{2}_|\.gif", re.I)


def standin_picture(n: int, *, size: int = 480) -> bytes:
    """A unique, detectable picture: a seeded 5×5 colour grid on a white margin (PNG bytes)."""
    import io

    rng = np.random.default_rng(10_000 + n)
    cells = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    inner = size - 2 * (size // 8)
    grid = np.kron(cells, np.ones((inner // 5, inner // 5, 1), np.uint8))
    img = np.full((size, size, 3), 255, np.uint8)
    m = (size - grid.shape[0]) // 2
    img[m:m + grid.shape[0], m:m + grid.shape[1]] = grid
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def photo_standin(n: int) -> bytes:
    """A photo-like stand-in (JPEG): a shaded product on a white sweep with sensor noise
    (``generation.images.samples.product_photo``), unique per ``n``. For latency benches: a real
    photo costs the encoder more than ``standin_picture``'s flat colour grid."""
    import io

    from generation.images.samples import SHAPES, product_photo

    buf = io.BytesIO()
    Image.fromarray(product_photo(SHAPES[n % len(SHAPES)], size=(800, 1000), seed=n)).save(buf, format="JPEG",
                                                                                           quality=90)
    return buf.getvalue()


class StandinPage:
    """One saved page with its image URLs rewritten to ``/img/<n>.png`` (``.jpg`` with
    ``photos``) on a loopback server: colour-grid stand-ins that ``video_checks`` can find
    again, or with ``photos`` photo-like JPEGs (``photo_standin``)."""

    def __init__(self, html: str, *, photos: bool = False):
        from catalog.ingest.normalise import image_identity

        self.photos = photos
        ext = "jpg" if photos else "png"
        self._pictures: dict[int, bytes] = {}
        self.urls: dict[str, int] = {}  # original URL (as written in the page) -> stand-in number
        self.tiny: set[int] = set()
        by_picture: dict[str, int] = {}

        def number(url: str) -> int:
            # Renditions of one picture (CDN size tokens) are one stand-in: the same picture.
            ident = image_identity("https:" + url if url.startswith("//") else url)
            if url not in self.urls:
                self.urls[url] = by_picture.setdefault(ident, len(by_picture) + 1)
                if _TINY_HINT.search(url):
                    self.tiny.add(self.urls[url])
            return self.urls[url]

        def standin(url: str) -> str:
            sep = "\\/" if "\\/" in url else "/"  # URLs inside JSON strings keep their escaping
            n = number(url.replace("\\/", "/"))
            return "http:" + sep + sep + "HOST" + sep + "img" + sep + f"{n}.{ext}"
        html = _ABS_IMG.sub(lambda m: standin(m.group(0)), html)
        html = _REL_IMG.sub(lambda m: f"{m.group(1)}/img/{number(m.group(2))}.{ext}{m.group(3)}", html)

        def extensionless(m):
            url = m.group(3)
            plain = url.replace("\\/", "/")
            # only an image server's address (…/is/image/…, /images/…, /i/…), never a tracker's
            if "//HOST" in plain or not _IMAGE_SERVER.search(plain) or _TRACKER.search(plain):
                return m.group(0)
            return m.group(1) + standin(url) + m.group(4)
        self.html = _EXTLESS_IMG.sub(extensionless, html)

    def picture(self, n: int) -> tuple[bytes, str]:
        """Stand-in ``n``'s bytes and content type (built once)."""
        if n not in self._pictures:  # a sprite or icon stays a tiny picture in either mode
            self._pictures[n] = (standin_picture(n, size=32) if n in self.tiny
                                 else photo_standin(n) if self.photos else standin_picture(n))
        body = self._pictures[n]
        return body, "image/png" if body.startswith(b"\x89PNG") else "image/jpeg"

    def number_of(self, url: str | None) -> int | None:
        """The stand-in number of an original image URL (same picture by image identity)."""
        from catalog.ingest.normalise import image_identity

        if not url:
            return None
        want = image_identity(url)
        for u, n in self.urls.items():
            got = image_identity("https:" + u if u.startswith("//") else u)
            if got == want or (u.startswith("/") and not u.startswith("//") and want.endswith(got)):
                return n
        return None

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0):
        """Serves ``/product.html`` and its stand-ins; yields the origin."""
        page = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: D401 - quiet
                pass

            def do_GET(self):  # noqa: N802 - stdlib name
                path = self.path.split("?", 1)[0]
                if path == "/product.html":
                    body, ctype = page.html.replace("HOST", self.headers.get("Host", "")).encode(), "text/html; charset=utf-8"
                elif (m := re.fullmatch(r"/img/(\d+)\.(?:png|jpg)", path)):
                    body, ctype = page.picture(int(m.group(1)))
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = http.server.ThreadingHTTPServer((host, port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def own_picture_numbers(page: StandinPage, entry: dict, html: str) -> set[int]:
    """The product's own pictures: the expected main image and the page's JSON-LD/og images."""
    from catalog.ingest.extract import parse_document
    from catalog.ingest.extract.structured import opengraph_candidates, product_candidates, product_nodes, run_extruct

    own = {page.number_of((entry.get("expected") or {}).get("image_main"))}
    doc, text = parse_document(html)
    data = run_extruct(doc, text, base_url=None)
    for node in product_nodes(data.get("json-ld") or []) + product_nodes(data.get("microdata") or []):
        own |= {page.number_of(u) for u in product_candidates(node).get("images") or [] if isinstance(u, str)}
    own |= {page.number_of(u) for u in opengraph_candidates(data.get("opengraph") or []).get("images") or []
            if isinstance(u, str)}
    return {n for n in own if n}


def _frames(video: Path, fps: float) -> list[np.ndarray]:
    import subprocess

    from generation.video.ffmpeg import ffmpeg_bin, probe as ffprobe

    s = next(st for st in ffprobe(video)["streams"] if st["codec_type"] == "video")
    w, h = s["width"], s["height"]
    probe = subprocess.run([ffmpeg_bin(), "-v", "error", "-i", str(video), "-vf", f"fps={fps}", "-f", "rawvideo",
                            "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    raw = np.frombuffer(probe.stdout, np.uint8)
    return [f for f in raw.reshape(-1, h, w, 3)]


def video_checks(video: Path, *, main_image: Path | None, foreign: dict[int, Path], fps: float = 2.0,
                 min_score: float = 0.6) -> dict:
    """Main-photo share and foreign-picture frames in the *encoded* video's frames."""
    from generation.video.presence import ProductMatcher

    frames = _frames(video, fps)
    main = ProductMatcher(main_image) if main_image else None
    main_hits = [main.score(f, stop_at=min_score) >= min_score for f in frames] if main else [False] * len(frames)
    matchers = {n: ProductMatcher(p) for n, p in foreign.items()}
    foreign_frames = sum(any(m.score(f, stop_at=min_score) >= min_score for m in matchers.values()) for f in frames)
    return {"frames": len(frames), "main_photo_visible": round(sum(main_hits) / max(1, len(frames)), 3),
            "foreign_picture_frames": foreign_frames}


def run_product(entry: dict, html: str, *, workspace, brand, duration: int, template: str, aspect: str,
                work: Path) -> dict:
    """One corpus product through the whole pipeline behind a stand-in server."""
    from django.conf import settings

    from catalog.facts import ProductFacts
    from generation.jobs import pipeline
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    page = StandinPage(html)
    own = own_picture_numbers(page, entry, html)
    main_n = page.number_of((entry.get("expected") or {}).get("image_main"))
    result: dict = {"page": Path(entry["file"]).name, "timings": {}}
    with page.serve() as origin:
        host = origin.split("//", 1)[1]
        old_hosts = getattr(settings, "CATALOG_SSRF_ALLOWED_HOSTS", [])
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [host]
        try:
            with tenant_context(workspace):
                job = VideoJob.objects.create(workspace=workspace, brand=brand, product_url=f"{origin}/product.html",
                                              template=template, aspect=aspect, duration_s=duration)
                for stage, service in pipeline.STAGE_SERVICES.items():
                    started = time.perf_counter()
                    try:
                        service(job)
                    except Exception as exc:  # noqa: BLE001 - a bench records, it does not stop
                        result.update(ok=False, failed_stage=stage, reason=str(exc)[:300])
                        if stage != "render":
                            return result
                    result["timings"][stage] = round(time.perf_counter() - started, 2)
        finally:
            settings.CATALOG_SSRF_ALLOWED_HOSTS = old_hosts
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    facts = ProductFacts.model_validate_json((folder / "product.json").read_text())
    video = folder / "render" / "video.mp4"
    if not video.is_file():
        result.update(ok=False)
        return result
    work.mkdir(parents=True, exist_ok=True)
    pictures = {}
    # Only a picture the pipeline downloaded can reach the video: those are the candidates.
    used = {int(m.group(1)) for img in facts.images if img.source_url
            and (m := re.search(r"/img/(\d+)\.png$", img.source_url))}
    for n in used - own:
        path = work / f"standin_{n}.png"
        path.write_bytes(standin_picture(n))
        pictures[n] = path
    main_path = None
    if main_n:
        main_path = work / f"standin_{main_n}.png"
        main_path.write_bytes(standin_picture(main_n))
    checks = video_checks(video, main_image=main_path, foreign=pictures)
    quality = json.loads((folder / "render" / "quality.json").read_text()) if (folder / "render" / "quality.json").exists() else {}
    script = (folder / "script.json").read_text()
    timeline = json.loads((folder / "render" / "timeline.json").read_text())
    shown = script + " ".join(ly.get("text") or "" for ly in timeline["layers"])
    used = [r for r in facts.rejected if r.value and len(r.value) >= 3 and r.value in shown]
    result.update(ok=result.get("ok", True), main_known=bool(main_n), **checks,
                  gate_share=quality.get("share"), rejected=len(facts.rejected), rejected_facts_used=len(used),
                  endcard_photo_width=endcard_photo_width(timeline), thumbnail=str(folder / "render" / "thumbnail.jpg"),
                  video=str(video))
    return result


def contact_sheet(videos: list[tuple[str, Path]], out: Path, *, per_row: int = 6, times=(0.3, 0.97)) -> Path:
    """One tile per video (a frame early in the ad and the end card, side by side), labelled
    with the page name: a reviewer sees at a glance that each video shows its own product."""
    from PIL import ImageDraw

    from generation.video.ffmpeg import ffmpeg_bin, probe
    import subprocess

    tiles = []
    for label, video in videos:
        duration = float(probe(video)["format"]["duration"])
        frames = []
        for share in times:
            raw = subprocess.run([ffmpeg_bin(), "-v", "error", "-ss", f"{duration * share:.2f}", "-i", str(video),
                                  "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"],
                                 capture_output=True, check=True).stdout
            import io
            frames.append(Image.open(io.BytesIO(raw)).convert("RGB"))
        h = 320
        frames = [f.resize((round(f.width * h / f.height), h)) for f in frames]
        tile = Image.new("RGB", (sum(f.width for f in frames) + 8, h + 26), (245, 245, 245))
        x = 0
        for f in frames:
            tile.paste(f, (x, 0))
            x += f.width + 8
        ImageDraw.Draw(tile).text((4, h + 6), label[:44], fill=(20, 20, 20))
        tiles.append(tile)
    if not tiles:
        raise ValueError("no videos for the contact sheet")
    tw, th = max(t.width for t in tiles), max(t.height for t in tiles)
    rows = (len(tiles) + per_row - 1) // per_row
    sheet = Image.new("RGB", (per_row * (tw + 10) + 10, rows * (th + 10) + 10), (255, 255, 255))
    for k, tile in enumerate(tiles):
        sheet.paste(tile, (10 + (k % per_row) * (tw + 10), 10 + (k // per_row) * (th + 10)))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=85)
    return out


def endcard_photo_width(timeline: dict) -> float | None:
    """Width of the product photo layer shown in the last scene, as a share of the frame."""
    last = timeline["scenes"][-1]
    prods = [ly for ly in timeline["layers"] if ly["type"] == "product" and ly["end"] > last["start"]]
    if not prods:
        return None
    return round(max(ly["rect"][2] for ly in prods) / timeline["width"], 3)


def run(args: list[str], out) -> dict:
    parser = argparse.ArgumentParser(prog="bench truth")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--template", default="product_showcase")
    parser.add_argument("--aspect", default="9:16")
    parser.add_argument("--work", default="")
    parser.add_argument("--sheet", default="", help="write a contact sheet of the videos here (JPEG)")
    opts = parser.parse_args(args)
    corpus = Path(opts.corpus)
    if not (corpus / "manifest.json").exists():
        raise FileNotFoundError(f"no manifest.json in {corpus}")
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    entries = [e for e in manifest if (e.get("expected") or {}).get("image_main")]
    if opts.limit:
        entries = entries[: opts.limit]
    workspace, brand = _bench_tenant()
    work = Path(opts.work or f"/tmp/bench_truth_{int(time.time())}")
    rows = []
    for entry in entries:
        html = (corpus / entry["file"]).read_bytes()
        from catalog.ingest.charset import decode_html
        text, _ = decode_html(html)
        row = run_product(entry, text, workspace=workspace, brand=brand, duration=opts.duration,
                          template=opts.template, aspect=opts.aspect, work=work / Path(entry["file"]).stem)
        rows.append(row)
        out.write(json.dumps({k: v for k, v in row.items() if k not in ("video", "thumbnail")}) + "\n")
    summary = summarise(rows)
    if opts.sheet:
        videos = [(r["page"], Path(r["video"])) for r in rows if r.get("video")]
        summary["contact_sheet"] = str(contact_sheet(videos, Path(opts.sheet)))
    return summary


def summarise(rows: list[dict]) -> dict:
    done = [r for r in rows if r.get("frames")]
    known = [r for r in done if r.get("main_known")]
    vis = [r["main_photo_visible"] for r in known]
    ends = [r["endcard_photo_width"] for r in done if r.get("endcard_photo_width")]
    stages = {s: round(statistics.median([r["timings"][s] for r in rows if s in r["timings"]]), 2)
              for s in ("ingest", "script", "voice", "shots", "render") if any(s in r["timings"] for r in rows)}
    return {"products": len(rows), "videos": len(done), "failed": [r["page"] + ": " + r.get("reason", "")[:120]
                                                                      for r in rows if not r.get("ok", True)],
            "main_photo_visible_median": round(statistics.median(vis), 3) if vis else None,
            "main_photo_visible_min": round(min(vis), 3) if vis else None,
            "foreign_picture_frames": sum(r["foreign_picture_frames"] for r in done),
            "videos_with_foreign_frames": sum(1 for r in done if r["foreign_picture_frames"]),
            "rejected_facts": sum(r.get("rejected", 0) for r in done),
            "rejected_facts_used": sum(r.get("rejected_facts_used", 0) for r in done),
            "endcard_photo_width_median": round(statistics.median(ends), 3) if ends else None,
            "stage_seconds_median": stages}


def _bench_tenant():
    """A dedicated bench workspace and brand (created once, reused)."""
    from tenancy.context import tenant_context
    from tenancy.models import Brand, Workspace

    ws, _ = Workspace.objects.get_or_create(slug="bench-truth", defaults={"name": "Bench truth"})
    with tenant_context(ws):
        brand = Brand.objects.filter(workspace=ws).first() or Brand.objects.create(workspace=ws, name="Bench")
    return ws, brand

