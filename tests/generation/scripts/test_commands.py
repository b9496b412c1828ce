"""write_script / check_claims commands, run as a user would (subprocess for exit codes)."""
import json
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from generation.scripts import AdScript
from generation.scripts.frameworks import FRAMEWORK_NAMES

from .conftest import SAMPLE_PRODUCT

ROOT = Path(__file__).resolve().parents[3]


def _manage(*args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_list_frameworks(capsys):
    call_command("write_script", "--list-frameworks")
    assert capsys.readouterr().out.split() == list(FRAMEWORK_NAMES)


def test_write_then_check_claims_round_trip(tmp_path, capsys):
    product = tmp_path / "product.json"
    product.write_text(json.dumps(SAMPLE_PRODUCT) + "\n")
    call_command("write_script", str(product), "--framework", "social_proof", "--language", "zh",
                 "--duration", "15", "--seed", "3", "--json")
    script = AdScript.model_validate(json.loads(capsys.readouterr().out))
    assert script.language == "zh" and script.framework == "social_proof"
    (tmp_path / "script.json").write_text(json.dumps(script.model_dump(mode="json"), ensure_ascii=False))
    ok = _manage("check_claims", str(tmp_path / "script.json"), str(product))
    assert ok.returncode == 0, ok.stderr
    bad = script.model_copy(update={"cta": script.cta.model_copy(update={"on_screen_text": "销量第一 ¥9.99"})})
    (tmp_path / "bad.json").write_text(json.dumps(bad.model_dump(mode="json"), ensure_ascii=False))
    res = _manage("check_claims", str(tmp_path / "bad.json"), str(product))
    assert res.returncode == 1
    assert "第一" in res.stdout and "9.99" in res.stdout and "superlative" in res.stdout


def test_bad_input_is_a_clear_error(tmp_path):
    (tmp_path / "p.json").write_text("not json")
    res = _manage("write_script", str(tmp_path / "p.json"))
    assert res.returncode == 1 and "not a JSON product" in res.stderr


def test_check_claims_reads_the_pipelines_indented_files(tmp_path):
    """The pipeline writes product.json / script.json indented (json.dumps(indent=1))."""
    from generation.scripts import write_script
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15)
    (tmp_path / "product.json").write_text(json.dumps(SAMPLE_PRODUCT, indent=1, ensure_ascii=False))
    (tmp_path / "script.json").write_text(json.dumps(script.model_dump(mode="json"), indent=1, ensure_ascii=False))
    ok = _manage("check_claims", str(tmp_path / "script.json"), str(tmp_path / "product.json"))
    assert ok.returncode == 0 and "grounded" in ok.stdout, ok.stderr
    bad = script.model_copy(update={"cta": script.cta.model_copy(update={"on_screen_text": "FLASH SALE 50% OFF"})})
    (tmp_path / "bad.json").write_text(json.dumps(bad.model_dump(mode="json"), indent=1))
    res = _manage("check_claims", str(tmp_path / "bad.json"), str(tmp_path / "product.json"))
    assert res.returncode == 1 and "urgency" in res.stdout and "percent" in res.stdout, res.stdout
