"""Language follows the product and the brand unless the caller chose one: a Chinese page gets
a Chinese script (and so a Chinese voice); an explicit choice always wins."""
from decimal import Decimal

import pytest

from catalog.models import Product
from generation.jobs.models import VideoJob
from generation.jobs.pipeline import stage_ingest
from generation.jobs.services import LANGUAGE_AUTO, video_job_create
from tenancy.context import tenant_context
from tenancy.services import credit_grant
from tests.factories import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_workspaces(db):
    out = {}
    for name in ("a", "b"):
        workspace = MembershipFactory().workspace
        credit_grant(workspace=workspace, amount=5)
        out[name] = {"workspace": workspace, "brand": BrandFactory(workspace=workspace, language="en")}
    return out


def _job(ws, title: str, **kw) -> VideoJob:
    with tenant_context(ws["workspace"]):
        product = Product.objects.create(workspace=ws["workspace"], source_url="https://shop.example/p/1",
                                         title=title, price=Decimal("99"), currency="CNY")
        job = VideoJob.objects.create(workspace=ws["workspace"], brand=ws["brand"], product=product,
                                      product_url=product.source_url, template="product_showcase", **kw)
        stage_ingest(job)
        job.refresh_from_db()
    return job


@pytest.mark.parametrize("title, chosen, expected", [
    ("不锈钢保温杯 500毫升", LANGUAGE_AUTO, "zh"),   # a Chinese page, nothing chosen
    ("Stainless steel bottle", LANGUAGE_AUTO, "en"),  # the brand's language
    ("不锈钢保温杯 500毫升", "en", "en"),             # the caller's choice wins
])
def test_ingest_resolves_an_unchosen_language(two_workspaces, title, chosen, expected):
    job = _job(two_workspaces["a"], title, language=chosen)
    assert job.language == expected
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not VideoJob.objects.exists()


def test_create_without_a_language_leaves_it_to_the_product(two_workspaces, django_capture_on_commit_callbacks):
    from unittest import mock

    a = two_workspaces["a"]
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async"):
        job = video_job_create(workspace=a["workspace"], brand=a["brand"], product_url="https://shop.example/p/2")
        chosen = video_job_create(workspace=a["workspace"], brand=a["brand"], product_url="https://shop.example/p/2",
                                  language="zh")
    assert (job.language, chosen.language) == (LANGUAGE_AUTO, "zh")
