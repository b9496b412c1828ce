"""`manage.py make_shots PRODUCT.json --brand ID --n 4 --out DIR`: shots for one product.

PRODUCT.json is one line of `extract_product --jsonl`; its images may be local paths or
file:// URLs (remote URLs must be ingested first: this command never fetches). Writes
shot_<i>.png + shot_<i>.json per shot and shots.json with all scores."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def default_requests(product: dict) -> list[dict]:
    title = product.get("title") or "the product"
    feature = (product.get("features") or [title])[0]
    return [{"kind": "product", "prompt": f"hero shot of {title}", "segment": 0},
            {"kind": "detail", "prompt": f"close-up: {feature}", "segment": 1},
            {"kind": "lifestyle", "prompt": f"{title} in everyday use", "segment": 2},
            {"kind": "model", "prompt": f"a model with {title}", "segment": 3}]


def local_images(product: dict, base: Path) -> list[Path]:
    paths = []
    for ref in product.get("images") or []:
        if ref.startswith(("http://", "https://")):
            continue
        path = Path(ref.removeprefix("file://"))
        paths.append(path if path.is_absolute() else base / path)
    return paths


class Command(BaseCommand):
    help = "Render scored product/model shots for one extracted product."

    def add_arguments(self, parser):
        parser.add_argument("product_json")
        parser.add_argument("--brand", type=int, help="Brand id (colours, active LoRA)")
        parser.add_argument("--n", type=int, default=None, help="best-of-N candidates per shot")
        parser.add_argument("--out", required=True)
        parser.add_argument("--backend", choices=["procedural", "dit"], default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--size", default="1080x1920")

    def handle(self, *args, **opts):
        from generation.images import ProductImageError, make_shots

        source = Path(opts["product_json"])
        try:
            product = json.loads(source.read_text(encoding="utf-8").strip().splitlines()[0])
        except (OSError, ValueError, IndexError) as exc:
            raise CommandError(f"cannot read product JSON {source}: {exc}") from exc
        images = local_images(product, source.parent)
        if not images:
            raise CommandError("no local product image (use local paths or file:// URLs; remote URLs are not fetched)")
        brand, lora = self._brand(opts["brand"])
        width, _, height = opts["size"].partition("x")
        try:
            results = make_shots(product_images=images, requests=default_requests(product), brand=brand,
                                 out_dir=Path(opts["out"]), backend=opts["backend"] or settings.GENERATION.shots_backend,
                                 n=opts["n"] or settings.GENERATION.best_of_n, seed=opts["seed"], lora=lora,
                                 size=(int(width), int(height)))
        except (ProductImageError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        summary = [r.as_dict() for r in results]
        (Path(opts["out"]) / "shots.json").write_text(json.dumps(summary, indent=2, default=str))
        for r in results:
            self.stdout.write(f"{r.kind:9} fidelity={r.fidelity} total={r.scores['total']} {r.path}")

    def _brand(self, brand_id):
        if brand_id is None:
            return {"name": "Demo", "primary_color": "#1E3A8A", "secondary_color": "#F1F5F9",
                    "accent_color": "#F97316"}, None
        from generation.images.services import lora_active_adapter
        from tenancy.context import tenant_context
        from tenancy.selectors import brand_find_for_operator

        brand = brand_find_for_operator(brand_id=brand_id)  # the tenant is not known yet
        if brand is None:
            raise CommandError(f"brand {brand_id} not found")
        with tenant_context(brand.workspace_id):
            adapter = lora_active_adapter(brand=brand)
        return brand.as_style(), adapter.path if adapter else None
