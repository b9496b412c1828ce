"""Create video: voice, script framework, music and "auto" language chosen on the preview page
land on every job of the batch (aspects x variants), bad values are refused next to the field."""

import pytest
from django.urls import reverse

from generation.jobs.models import VideoJob
from generation.jobs.services import LANGUAGE_AUTO
from tenancy.context import tenant_context
from tenancy.services import credit_balance

from .conftest import NO_QUEUE
from .test_dashboard import _product

pytestmark = pytest.mark.django_db


def _post(client, product, brand, **options):
    data = {"title": "Aurora Bottle", "brand": brand.pk, "template": "product_showcase",
            "aspects": ["9:16", "1:1"], "language": "", "duration_s": 15, "variants": 2}
    data.update(options)
    return client.post(reverse("dashboard:preview", args=[product.pk]), data)


def test_the_page_offers_voice_framework_music_and_auto_language(logged_in, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(b["workspace"]):
        b["brand"].voice = "b-secret-voice"
        b["brand"].save(update_fields=["voice"])
    page = logged_in.get(reverse("dashboard:preview", args=[_product(a).pk])).content.decode()
    assert page.index("Auto (from the product)") < page.index(">English<")
    for text in ('name="voice"', '<option value="en-gb">', 'value="problem_solution"', 'value="three_reasons"',
                 'value="upbeat"', 'value="none"', "No music", "Play this voice"):
        assert text in page, text
    assert "b-secret-voice" not in page  # voices suggested from this workspace's brands only


def test_chosen_options_land_on_every_job(logged_in, two_workspaces, django_capture_on_commit_callbacks):
    a, b = two_workspaces["a"], two_workspaces["b"]
    product = _product(a)
    with NO_QUEUE as queued, django_capture_on_commit_callbacks(execute=True):
        response = _post(logged_in, product, a["brand"], voice="en-gb", framework="three_reasons", music="calm")
    assert response.status_code == 302 and "batch=" in response["Location"]
    assert queued.call_count == 4
    with tenant_context(a["workspace"]):
        jobs = list(VideoJob.objects.order_by("pk"))
    assert len(jobs) == 4
    assert {(j.voice, j.framework, j.music, j.language) for j in jobs} == {("en-gb", "three_reasons", "calm",
                                                                            LANGUAGE_AUTO)}
    assert len({j.request_id for j in jobs}) == 1 and jobs[0].request_id.startswith("req_")
    assert sorted((j.aspect, j.variant) for j in jobs) == [("1:1", 1), ("1:1", 2), ("9:16", 1), ("9:16", 2)]
    assert credit_balance(workspace=a["workspace"]) == 6
    with tenant_context(b["workspace"]):
        assert not VideoJob.objects.exists()  # nothing leaks into the other workspace
    assert credit_balance(workspace=b["workspace"]) == 10


def test_defaults_mean_brand_voice_and_template_framework(logged_in, two_workspaces):
    a = two_workspaces["a"]
    with NO_QUEUE:
        response = _post(logged_in, _product(a), a["brand"], aspects=["9:16"], variants=1, language="zh")
    assert response.status_code == 302
    with tenant_context(a["workspace"]):
        job = VideoJob.objects.get()
    assert (job.voice, job.framework, job.music, job.language, job.variant) == ("", "", "", "zh", 1)


@pytest.mark.parametrize("field,value,message", [
    ("voice", "en us; rm -rf", "A voice name is letters, digits"),
    ("framework", "hard_sell", "Select a valid choice"),
    ("music", "loud", "Select a valid choice"),
    ("language", "fr", "Select a valid choice"),
])
def test_bad_values_are_refused_next_to_the_field(logged_in, two_workspaces, field, value, message):
    a = two_workspaces["a"]
    with NO_QUEUE as queued:
        response = _post(logged_in, _product(a), a["brand"], **{field: value})
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    # The error sits right before that field's input.
    error_at = page.index(message)
    assert page.index(f'name="{field}"', error_at) - error_at < 400
    assert queued.call_count == 0
    with tenant_context(a["workspace"]):
        assert not VideoJob.objects.exists()
    assert credit_balance(workspace=a["workspace"]) == 10


def test_the_voice_sample_refuses_a_bad_voice_name(logged_in, two_workspaces):
    brand = two_workspaces["a"]["brand"]
    response = logged_in.get(reverse("dashboard:brand-voice", args=[brand.pk]), {"voice": "../../etc"})
    assert response.status_code == 400
    other = two_workspaces["b"]["brand"]
    assert logged_in.get(reverse("dashboard:brand-voice", args=[other.pk]), {"voice": "en-gb"}).status_code == 404
