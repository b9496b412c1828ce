"""`manage.py drill ssrf` runs in the suite: >= 30 vectors against the fetcher, the browser and
webhook delivery, real loopback listeners, zero escapes."""
import io
import json
import shutil

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

pytestmark = pytest.mark.skipif(not shutil.which(django_settings.CATALOG_CHROMIUM_PATH)
                                and not shutil.which("chromium"), reason="chromium not installed")


def test_drill_ssrf_finds_no_escape():
    out = io.StringIO()
    call_command("drill", "ssrf", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["escapes"] == 0 and result["escaped"] == [] and result["failures"] == []
    assert result["vectors"] >= 30 and result["ok"] is True and result["tripwire"] == 0
    assert set(result["by_surface"]) == {"fetcher", "browser", "webhook"}
    assert min(result["by_surface"].values()) >= 10
