"""The dashboard: paste a link, preview and correct the product, generate several aspects,
watch progress; only your own workspace's rows, ever."""
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product, ProductImage
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_balance

from .conftest import NO_QUEUE, login

pytestmark = pytest.mark.django_db


def _product(ws, **kw) -> Product:
    with tenant_context(ws["workspace"]):
        product = Product.objects.create(workspace=ws["workspace"], source_url=kw.pop("url", "https://shop.example/p/1"),
                                         title=kw.pop("title", "Aurora Bottle"), price=Decimal("29.00"),
                                         currency="USD", features=["Leak-proof lid"], **kw)
        for i in range(2):
            ProductImage.objects.create(workspace=ws["workspace"], product=product, position=i,
                                        source_url=f"https://shop.example/{i}.jpg")
    return product


def test_login_required(client):
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_new_workspace_lands_on_onboarding(logged_in):
    response = logged_in.get(reverse("dashboard:home"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:onboarding")
    page = logged_in.get(reverse("dashboard:onboarding")).content.decode()
    assert "brand kit" in page and "first product link" in page


def test_preview_corrections_and_two_aspects_make_two_jobs(logged_in, two_workspaces,
                                                          django_capture_on_commit_callbacks):
    a = two_workspaces["a"]
    product = _product(a)
    with tenant_context(a["workspace"]):
        second = product.images.order_by("position")[1]
    page = logged_in.get(reverse("dashboard:preview", args=[product.pk]))
    assert page.status_code == 200 and "Aurora Bottle" in page.content.decode()
    assert two_workspaces["b"]["brand"].name not in page.content.decode()
    with NO_QUEUE as queued, django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("dashboard:preview", args=[product.pk]), {
            "title": "Aurora Bottle 750 ml", "price": "24.50", "features": "Leak-proof lid\nKeeps cold 24 h\n",
            "main_image": second.pk, "brand": a["brand"].pk, "template": "product_showcase",
            "aspects": ["9:16", "1:1"], "language": "en", "duration_s": 15, "variants": 1})
    assert response.status_code == 302 and "batch=" in response["Location"]
    assert queued.call_count == 2
    with tenant_context(a["workspace"]):
        jobs = list(VideoJob.objects.order_by("aspect"))
        product.refresh_from_db()
        assert product.images.order_by("position").first().pk == second.pk
    assert sorted(j.aspect for j in jobs) == ["1:1", "9:16"] and all(j.product_id == product.pk for j in jobs)
    assert (product.title, product.price, product.features) == ("Aurora Bottle 750 ml", Decimal("24.50"),
                                                                 ["Leak-proof lid", "Keeps cold 24 h"])
    assert credit_balance(workspace=a["workspace"]) == 8  # two held
    status = logged_in.get(reverse("dashboard:job-status", args=[jobs[0].pk])).json()
    assert (status["status"], status["stage"], status["finished"], status["has_video"]) == ("queued", "ingest", False, False)
    assert [s["state"] for s in status["stages"]] == ["waiting"] * 5
    assert "Video %d" % jobs[0].pk in logged_in.get(reverse("dashboard:job", args=[jobs[0].pk])).content.decode()


def test_batch_beyond_the_balance_creates_nothing(logged_in, two_workspaces):
    a = two_workspaces["a"]
    product = _product(a)
    with NO_QUEUE as queued:
        response = logged_in.post(reverse("dashboard:preview", args=[product.pk]), {
            "title": "Aurora", "brand": a["brand"].pk, "template": "product_showcase",
            "aspects": ["9:16", "1:1", "16:9"], "language": "en", "duration_s": 15, "variants": 4})
    assert response.status_code == 200 and "enough credits" in response.content.decode()
    assert queued.call_count == 0
    with tenant_context(a["workspace"]):
        assert not VideoJob.objects.exists()
    assert credit_balance(workspace=a["workspace"]) == 10


def test_preview_form_errors_sit_next_to_fields(logged_in, two_workspaces):
    product = _product(two_workspaces["a"])
    response = logged_in.post(reverse("dashboard:preview", args=[product.pk]), {
        "title": "  ", "brand": two_workspaces["a"]["brand"].pk, "template": "product_showcase",
        "language": "en", "duration_s": 15, "variants": 1})
    page = response.content.decode()
    assert response.status_code == 200 and "A product needs a title." in page and "Pick at least one aspect." in page


def test_other_workspaces_rows_are_404(client, two_workspaces):
    b = two_workspaces["b"]
    product = _product(b, url="https://shop.example/b")
    with tenant_context(b["workspace"]):
        job = VideoJob.objects.create(workspace=b["workspace"], brand=b["brand"], product_url="https://x.example",
                                      template="product_showcase")
        image = product.images.first()
    login(client, two_workspaces["a"]["user"])
    for name, args in [("dashboard:job", [job.pk]), ("dashboard:job-status", [job.pk]),
                       ("dashboard:job-file", [job.pk, "video"]), ("dashboard:preview", [product.pk]),
                       ("dashboard:product-image", [product.pk, image.pk]), ("dashboard:brand-edit", [b["brand"].pk]),
                       ("dashboard:brand-sample", [b["brand"].pk]), ("dashboard:brand-logo", [b["brand"].pk])]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.post(reverse("dashboard:job-retry", args=[job.pk])).status_code == 404
    assert client.post(reverse("dashboard:job-rerender", args=[job.pk])).status_code == 404
    response = client.post(reverse("dashboard:library-zip"), {"job": [job.pk]})
    assert response.status_code == 302  # "none of the chosen videos is ready": nothing of B's is streamed
    library = client.get(reverse("dashboard:library")).content.decode()
    assert f"Video {job.pk}" not in library


def test_workspace_switch_only_into_own_memberships(client, two_workspaces, member_of):
    user = member_of("b", "viewer")
    from tests.factories import MembershipFactory
    MembershipFactory(workspace=two_workspaces["a"]["workspace"], user=user, role="editor")
    login(client, user)
    assert client.post(reverse("dashboard:workspace-switch"), {"workspace": two_workspaces["a"]["workspace"].pk}).status_code == 302
    assert client.get(reverse("dashboard:library")).wsgi_request.workspace == two_workspaces["a"]["workspace"]
    outsider = member_of("b", "owner")
    client.logout()
    login(client, outsider)
    assert client.post(reverse("dashboard:workspace-switch"), {"workspace": two_workspaces["a"]["workspace"].pk}).status_code == 404


def test_a_bad_link_is_a_form_error_and_creates_nothing(logged_in, two_workspaces, settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    response = logged_in.post(reverse("dashboard:create"), {"product_url": "http://127.0.0.1:9/products/x"})
    assert response.status_code == 200
    errors = response.context["form"].errors["product_url"]
    assert errors and "Traceback" not in errors[0]
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert not Product.objects.exists()


def test_retry_of_a_failed_job_keeps_the_corrected_product(logged_in, two_workspaces, django_capture_on_commit_callbacks):
    a = two_workspaces["a"]
    product = _product(a)
    with tenant_context(a["workspace"]):
        failed = VideoJob.objects.create(workspace=a["workspace"], brand=a["brand"], product=product,
                                         product_url=product.source_url, template="product_showcase",
                                         aspect="1:1", status="failed", failure_reason="The render step failed.")
    page = logged_in.get(reverse("dashboard:job", args=[failed.pk])).content.decode()
    assert "The render step failed." in page and "Try again" in page
    with NO_QUEUE as queued, django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("dashboard:job-retry", args=[failed.pk]))
    with tenant_context(a["workspace"]):
        new = VideoJob.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("dashboard:job", args=[new.pk]) and queued.call_count == 1
    assert (new.product_id, new.aspect, new.status) == (product.pk, "1:1", "queued")
    assert credit_balance(workspace=a["workspace"]) == 9


def test_bad_inputs_get_clear_answers_not_500s(logged_in, two_workspaces):
    a = two_workspaces["a"]
    assert logged_in.post(reverse("dashboard:workspace-switch"), {"workspace": "abc"}).status_code == 404
    with tenant_context(a["workspace"]):
        bare = Product.objects.create(workspace=a["workspace"], source_url="https://shop.example/bare", title="Bare")
        done = VideoJob.objects.create(workspace=a["workspace"], brand=a["brand"], product_url="https://x.example",
                                       template="product_showcase", status="succeeded")
    response = logged_in.post(reverse("dashboard:preview", args=[bare.pk]), {
        "title": "Bare", "brand": a["brand"].pk, "template": "product_showcase", "aspects": ["9:16"],
        "language": "en", "duration_s": 15, "variants": 1})
    assert response.status_code == 200 and "no usable picture" in response.content.decode()
    response = logged_in.post(reverse("dashboard:job-rerender", args=[done.pk]), {"line-0": "x"}, follow=True)
    assert response.status_code == 200 and "no timeline to edit" in response.content.decode()
    assert logged_in.get(reverse("dashboard:job-shot", args=[done.pk, 0])).status_code == 404
    with tenant_context(a["workspace"]):
        assert VideoJob.objects.count() == 1


def test_preview_lists_the_facts_left_out_with_why(logged_in, two_workspaces):
    product = _product(two_workspaces["a"], rejected_facts=[
        {"field": "brand", "value": "eBay", "reason": "a marketplace name is not the brand"}])
    page = logged_in.get(reverse("dashboard:preview", args=[product.pk])).content.decode()
    assert "Left out" in page and "eBay" in page and "a marketplace name is not the brand" in page


def test_job_status_shows_voice_and_shots_running_side_by_side(logged_in, two_workspaces):
    from django.utils import timezone

    a = two_workspaces["a"]
    now = timezone.now().isoformat()
    with tenant_context(a["workspace"]):
        job = VideoJob.objects.create(
            workspace=a["workspace"], brand=a["brand"], product_url="https://shop.example/p/1", template="product_showcase",
            status="running", stage="voice", timings={"ingest": 1.0, "script": 0.5}, heartbeat_at=timezone.now(),
            branches={"voice": {"state": "running", "worker": "h:1", "heartbeat_at": now, "started_at": now},
                      "shots": {"state": "running", "worker": "h:2", "heartbeat_at": now, "started_at": now}})
    status = logged_in.get(reverse("dashboard:job-status", args=[job.pk])).json()
    assert [s["state"] for s in status["stages"]] == ["done", "done", "running", "running", "waiting"]
    with tenant_context(a["workspace"]):
        VideoJob.objects.filter(pk=job.pk).update(
            timings={"ingest": 1.0, "script": 0.5, "shots": 2.0}, branches={
                "voice": {"state": "running", "worker": "h:1", "heartbeat_at": now, "started_at": now},
                "shots": {"state": "done", "worker": "", "heartbeat_at": now, "started_at": now}})
    status = logged_in.get(reverse("dashboard:job-status", args=[job.pk])).json()
    assert [s["state"] for s in status["stages"]] == ["done", "done", "running", "done", "waiting"]
    login(logged_in, two_workspaces["b"]["user"])  # the other workspace cannot read it
    assert logged_in.get(reverse("dashboard:job-status", args=[job.pk])).status_code == 404
