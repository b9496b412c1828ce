"""#10.8: a stage's own errors (ScriptError, TTSError, ...) end the job with a readable reason
instead of "Internal error"; unknown errors stay generic and are logged with a traceback."""
import importlib
import json
import logging

import pytest

from generation.jobs.failures import KNOWN_ERRORS, stage_failure_reason
from generation.jobs.models import VideoJob
from generation.jobs.pipeline import job_path
from generation.jobs.runner import video_job_run_stage
from generation.scripts.models import ScriptError
from generation.video import list_templates
from generation.voice.backends import TTSError
from tenancy.context import tenant_context
from tests.factories import BrandFactory, MembershipFactory


def test_every_mapped_error_type_exists():
    for dotted in KNOWN_ERRORS:
        module, _, name = dotted.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, BaseException), dotted


def test_known_errors_read_well_and_hide_server_paths(caplog):
    reason = stage_failure_reason(stage="voice", exc=TTSError("Piper voice '/srv/models/en/voice.onnx' does not exist"))
    assert reason == "The voice-over could not be generated: Piper voice 'voice.onnx' does not exist"
    assert stage_failure_reason(stage="script", exc=ScriptError("unknown language 'xx'\nstack...")) == \
        "The ad script could not be written: unknown language 'xx'"
    long = stage_failure_reason(stage="script", exc=ScriptError("x\x00" * 1000))
    assert len(long) < 400 and "\x00" not in long
    with caplog.at_level(logging.ERROR, logger="generation.jobs.failures"):
        generic = stage_failure_reason(stage="render", exc=KeyError("boom"))
    assert generic.startswith("Internal error during the render step")
    assert caplog.records[-1].exc_info  # a bug keeps its traceback in the log


@pytest.fixture
def two_workspaces(db):
    out = {}
    for name in ("a", "b"):
        workspace = MembershipFactory().workspace
        out[name] = {"workspace": workspace, "brand": BrandFactory(workspace=workspace)}
    return out


def test_runner_records_a_readable_reason_for_a_script_error(two_workspaces):
    from catalog.facts import ProductFacts

    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(a["workspace"]):
        job = VideoJob.objects.create(workspace=a["workspace"], brand=a["brand"], product_url="https://x.example/p",
                                      template=list_templates()[0], stage="script", language="xx")
        job_path(job, "product.json").write_text(ProductFacts(title="Aurora Bottle").model_dump_json())
        video_job_run_stage(job_id=job.pk, stage="script")
        job.refresh_from_db()
    assert job.status == VideoJob.Status.FAILED
    assert job.failure_reason.startswith("The ad script could not be written: no phrase bank for language 'xx'"), \
        job.failure_reason
    with tenant_context(b["workspace"]):
        assert not VideoJob.objects.filter(pk=job.pk).exists()


def test_runner_names_the_stage_file_that_does_not_match_its_type(two_workspaces):
    a = two_workspaces["a"]
    with tenant_context(a["workspace"]):
        job = VideoJob.objects.create(workspace=a["workspace"], brand=a["brand"], product_url="https://x.example/p",
                                      template=list_templates()[0], stage="script")
        job_path(job, "product.json").write_text(json.dumps({"title": "", "brand": ""}))
        video_job_run_stage(job_id=job.pk, stage="script")
        job.refresh_from_db()
    assert job.status == VideoJob.Status.FAILED
    assert job.failure_reason.startswith("product.json is not a valid ProductFacts: title"), job.failure_reason
