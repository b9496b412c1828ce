"""products, brands (+ logo), keys, usage: behaviour, two-workspace isolation with forged
ids, and scopes on every route."""
import io

import pytest
from PIL import Image

from catalog.models import Product, ProductSnapshot
from tenancy.context import tenant_context
from tenancy.models import ApiKey, Brand

from .conftest import client_for

pytestmark = pytest.mark.django_db


def png(size=(64, 32), fmt="PNG") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#ff0000").save(buffer, fmt)
    buffer.seek(0)
    buffer.name = f"logo.{fmt.lower()}"
    return buffer


@pytest.fixture
def product(api):
    ws = api["a"]["workspace"]
    with tenant_context(ws):
        product = Product.objects.create(workspace=ws, source_url="https://shop.example/p/1", title="Aurora")
        ProductSnapshot.objects.create(workspace=ws, product=product, url=product.source_url, extraction={
            "rejected": [{"field": "price", "value": "0.00", "reason": "a zero price is not a real price"}]})
    return product


def test_products_list_get_with_rejected_facts_and_reingest(api, product, django_capture_on_commit_callbacks):
    from unittest import mock

    client = api["a"]["write"]
    assert [p["id"] for p in client.get("/api/v1/products").json()["data"]] == [product.pk]
    body = client.get(f"/api/v1/products/{product.pk}").json()
    assert body["title"] == "Aurora" and body["rejected"][0]["reason"] == "a zero price is not a real price"
    with mock.patch("api.tasks.product_ingestion_task.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/api/v1/products/{product.pk}/reingest")
        created = client.post("/api/v1/products", {"url": "https://shop.example/p/2"}, format="json")
    assert again.status_code == 202 and again.json()["status"] == "queued" and again.json()["product"] == product.pk
    assert created.status_code == 202 and delay.call_count == 2
    status = client.get(f"/api/v1/product-ingestions/{created.json()['id']}").json()
    assert status["status"] == "queued" and status["url"] == "https://shop.example/p/2"
    assert client.post("/api/v1/products", {"url": "ftp://x"}, format="json").json()["param"] == "url"


def test_products_are_isolated_and_scoped(api, product):
    other = api["b"]
    assert other["read"].get(f"/api/v1/products/{product.pk}").status_code == 404
    assert other["write"].post(f"/api/v1/products/{product.pk}/reingest").status_code == 404
    assert other["read"].get("/api/v1/products").json()["data"] == []
    ingestion = api["a"]["write"].post("/api/v1/products", {"url": "https://shop.example/p/3"}, format="json").json()
    assert other["read"].get(f"/api/v1/product-ingestions/{ingestion['id']}").status_code == 404
    reader = api["a"]["read"]
    assert reader.post("/api/v1/products", {"url": "https://shop.example/p/4"}, format="json").status_code == 403
    assert reader.post(f"/api/v1/products/{product.pk}/reingest").status_code == 403


def test_brands_create_patch_and_isolation(api):
    client = api["a"]["write"]
    created = client.post("/api/v1/brands", {"name": "Northwind", "primary_color": "#0F3D3E",
                                             "default_template": "product_showcase"}, format="json")
    assert created.status_code == 201, created.content
    brand_id = created.json()["id"]
    assert client.post("/api/v1/brands", {"name": "Northwind"}, format="json").json()["code"] == "conflict"
    assert client.post("/api/v1/brands", {"name": "X", "primary_color": "red"}, format="json").json()["param"] == \
        "primary_color"
    patched = client.patch(f"/api/v1/brands/{brand_id}", {"tone": "bold", "voice": "en-us"}, format="json")
    assert patched.json()["tone"] == "bold"
    other = api["b"]
    assert other["read"].get(f"/api/v1/brands/{brand_id}").status_code == 404
    assert other["write"].patch(f"/api/v1/brands/{brand_id}", {"tone": "x"}, format="json").status_code == 404
    assert other["write"].post(f"/api/v1/brands/{brand_id}/logo", {"logo": png()}, format="multipart").status_code == 404
    assert brand_id not in [b["id"] for b in other["read"].get("/api/v1/brands").json()["data"]]
    assert api["a"]["read"].patch(f"/api/v1/brands/{brand_id}", {"tone": "x"}, format="json").status_code == 403
    with tenant_context(api["a"]["workspace"]):
        assert Brand.objects.get(pk=brand_id).tone == "bold"


def test_logo_upload_checks_type_size_and_pixels(api, settings):
    client, brand = api["a"]["write"], api["a"]["brand"]
    url = f"/api/v1/brands/{brand.pk}/logo"
    ok = client.post(url, {"logo": png()}, format="multipart")
    assert ok.status_code == 200 and ok.json()["logo"] is True
    gif = client.post(url, {"logo": png(fmt="GIF")}, format="multipart")
    assert gif.status_code == 400 and gif.json()["param"] == "logo"
    text = io.BytesIO(b"<svg onload=alert(1)>")
    text.name = "logo.png"
    assert client.post(url, {"logo": text}, format="multipart").json()["param"] == "logo"
    settings.API_LOGO_MAX_PIXELS = 100
    assert "pixels" in client.post(url, {"logo": png((200, 50))}, format="multipart").json()["detail"]
    settings.API_LOGO_MAX_BYTES = 100
    assert client.post(url, {"logo": png()}, format="multipart").json()["code"] == "payload_too_large"


def test_keys_are_shown_once_listed_by_prefix_and_revocable(api):
    admin = api["a"]["admin"]
    created = admin.post("/api/v1/keys", {"name": "ci", "scopes": ["read"]}, format="json")
    assert created.status_code == 201
    raw, key_id = created.json()["key"], created.json()["id"]
    listed = admin.get("/api/v1/keys").json()["data"]
    assert key_id in [k["id"] for k in listed] and all("key" not in k and "key_hash" not in k for k in listed)
    fresh = client_for(raw)
    assert fresh.get("/api/v1/videos").status_code == 200
    assert fresh.get("/api/v1/keys").status_code == 403  # read scope only
    assert admin.post(f"/api/v1/keys/{key_id}/revoke").json()["revoked_at"]
    assert fresh.get("/api/v1/videos").json()["code"] == "invalid_api_key"
    assert admin.post("/api/v1/keys", {"name": "x", "scopes": ["root"]}, format="json").json()["param"] == "scopes"


def test_keys_are_isolated_and_need_admin(api):
    other_key = api["b"]["read_key"]
    assert api["a"]["admin"].post(f"/api/v1/keys/{other_key.pk}/revoke").status_code == 404
    assert ApiKey.objects.get(pk=other_key.pk).revoked_at is None
    assert other_key.pk not in [k["id"] for k in api["a"]["admin"].get("/api/v1/keys").json()["data"]]
    for client in (api["a"]["write"], api["a"]["read"]):
        assert client.get("/api/v1/keys").status_code == 403
        assert client.post("/api/v1/keys", {"name": "x"}, format="json").status_code == 403


def test_usage_shows_balance_holds_and_consumption(api, queued):
    from tenancy.services import credit_commit

    client = api["a"]["write"]
    videos = client.post("/api/v1/videos", {"product_url": "https://shop.example/p", "variants": 3},
                         format="json").json()["videos"]
    credit_commit(workspace=api["a"]["workspace"], reference=f"video_job:{videos[0]['id']}")
    usage = api["a"]["read"].get("/api/v1/usage").json()
    assert (usage["balance"], usage["reserved"], usage["reservations"]) == (7, 2, 2)
    assert usage["consumption"][-1]["credits"] == 1 and usage["consumption"][-1]["videos"] == 1
    other = api["b"]["read"].get("/api/v1/usage").json()
    assert (other["balance"], other["reserved"], other["consumption"]) == (10, 0, [])
    assert api["a"]["read"].get("/api/v1/usage?days=0").json()["param"] == "days"


def test_loras_train_list_activate_isolated_and_scoped(api, django_capture_on_commit_callbacks):
    from unittest import mock

    from generation.images.models import LoraVersion

    brand, client = api["a"]["brand"], api["a"]["write"]
    url = f"/api/v1/brands/{brand.pk}/loras"
    assert client.post(url, {"images": [png(), png()]}, format="multipart").json()["param"] == "images"
    with mock.patch("generation.images.tasks.lora_train_task.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        started = client.post(url, {"images": [png(), png((40, 40)), png((50, 20))]}, format="multipart")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    delay.assert_called_once_with(api["a"]["workspace"].pk, started.json()["id"])
    lora_id = started.json()["id"]
    assert client.post(f"{url}/{lora_id}/activate").json()["code"] == "conflict"  # not trained yet
    with tenant_context(api["a"]["workspace"]):
        LoraVersion.objects.filter(pk=lora_id).update(status="ready")
    assert client.post(f"{url}/{lora_id}/activate").json()["is_active"] is True
    assert [v["id"] for v in client.get(url).json()] == [lora_id]
    other = api["b"]
    assert other["read"].get(url).status_code == 404
    assert other["write"].post(f"/api/v1/brands/{other['brand'].pk}/loras/{lora_id}/activate").status_code == 404
    assert api["a"]["read"].post(f"{url}/{lora_id}/activate").status_code == 403
