"""Short real inputs for render tests: an espeak-ng voice (~3 s) and procedural shots,
built once per session at tiny scale."""
import shutil
from pathlib import Path

import pytest

from generation.video import demo

SHORT_SCRIPT = {
    "language": "en", "framework": "price_drop", "target_duration": 3,
    "hook": {"role": "hook", "voice_line": "Cold for a day.", "on_screen_text": "Cold for 24 hours",
             "shot": {"kind": "product", "prompt": ""}, "facts": []},
    "scenes": [{"role": "scene", "voice_line": "No leaks.", "on_screen_text": "Leak-proof lid",
                "shot": {"kind": "detail", "prompt": ""}, "facts": []}],
    "cta": {"role": "cta", "voice_line": "Shop now.", "on_screen_text": "Shop now",
            "shot": {"kind": "product", "prompt": ""}, "facts": []},
}


@pytest.fixture(scope="session")
def short_inputs(tmp_path_factory):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed")
    work = tmp_path_factory.mktemp("video_inputs")
    voice = demo.espeak_voice(SHORT_SCRIPT, work)
    shots, pack = demo.procedural_shots(work / "shots", product=demo.DEMO_PRODUCT, brand=demo.DEMO_BRAND, n=2,
                                        size=(270, 480))
    return {"script": SHORT_SCRIPT, "voice": voice, "voice_dir": work, "shots": shots,
            "product": {**demo.DEMO_PRODUCT, "images": [{"key": str(pack)}]}, "brand": demo.DEMO_BRAND}, work


def pytest_configure(config):
    config.addinivalue_line("markers", "render: renders real MP4s with ffmpeg")
