"""Warm voice per worker process: a prefork child that runs voice stages loads the Piper voice
when it starts (in a background thread), not inside a brand's first job."""
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings

from generation.voice.backends import _load_piper_voice
from generation.voice.warm import voice_warm, voice_warm_in_background, voice_warm_wanted
from tests.conftest import require_service
from tests.generation.jobs.conftest import worker_env

ROOT = Path(__file__).resolve().parents[3]


def test_only_workers_of_the_voice_queue_with_an_offline_engine_warm(settings):
    settings.GENERATION = replace(settings.GENERATION, warm_voice=True, tts_backend="auto")
    assert voice_warm_wanted(consumed_queues={"default", "gpu"})
    assert voice_warm_wanted(consumed_queues=None)  # consumes every queue
    assert not voice_warm_wanted(consumed_queues={"render"})
    settings.GENERATION = replace(settings.GENERATION, tts_backend="openai")
    assert not voice_warm_wanted(consumed_queues={"default"})
    settings.GENERATION = replace(settings.GENERATION, tts_backend="piper", warm_voice=False)
    assert not voice_warm_wanted(consumed_queues={"default"})
    assert voice_warm_in_background(consumed_queues={"default"}) is None


def test_warming_loads_the_voice_once_and_reports_a_missing_one(settings):
    settings.GENERATION = replace(settings.GENERATION, warm_voice=True, tts_backend="auto", piper_voice="")
    assert voice_warm() is True
    loads = _load_piper_voice.cache_info().misses
    assert voice_warm() is True and _load_piper_voice.cache_info().misses == loads  # cached: no second load
    settings.GENERATION = replace(settings.GENERATION, piper_voice="/nonexistent/voice.onnx")
    assert voice_warm() is False  # logged; the voice stage reports the real error itself


@pytest.mark.redis
def test_a_real_prefork_child_of_the_voice_queue_warms_at_start(tmp_path):
    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool=prefork", "-c", "1",
         "-Q", "default", "-l", "info", "-n", f"warm-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=worker_env(GENERATION_WARM_VOICE="1"), stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "voice.warm_loaded" not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        text = log.read_text()
        assert "voice.warm_loaded" in text, text[-3000:]
        assert "voice.warm_failed" not in text
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
