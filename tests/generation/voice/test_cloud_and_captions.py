"""OpenAI-compatible /v1/audio/speech backend against a local server; caption layout rules."""
import json
import subprocess

import pytest
from django.core.management import call_command

from generation.config import GenerationSettings
from generation.voice import TTSError, synthesize
from generation.voice.captions import build_cues, display_width, to_srt, wrap_line

from tests.fakes import LocalJSONServer

from .checks import check_voice_dir
from .conftest import EN_LINES, make_script


class FakeSpeechServer(LocalJSONServer):
    """Speaks the /v1/audio/speech protocol; the audio is real speech from the espeak-ng CLI
    (so caption checks measure real voiced spans), resampled to 24 kHz like the hosted API."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        super().__init__(self._respond)

    def _respond(self, body: dict) -> tuple[int, str, bytes]:
        if self.failures:
            self.failures -= 1
            return 503, "", b""
        wav = subprocess.run(["espeak-ng", "--stdout", "-v", "en-us", body["input"]], capture_output=True,
                             check=True, timeout=30).stdout
        wav = subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", "-ar", "24000", "-f", "wav", "pipe:1"],
                             input=wav, capture_output=True, check=True, timeout=30).stdout
        return 200, "audio/wav", wav


@pytest.fixture
def speech_server():
    server = FakeSpeechServer(failures=1)
    yield server
    server.httpd.shutdown()


def test_openai_speech_backend(tmp_path, speech_server):
    settings = GenerationSettings(tts_backend="openai", tts_base_url=speech_server.url, tts_api_key="sk-x",
                                  tts_model="tts-1", tts_voice="nova")
    result = synthesize(make_script("en", EN_LINES), tmp_path, settings=settings)
    figures = check_voice_dir(tmp_path, result)
    assert result.backend == "openai" and result.sample_rate == 24000 and result.word_timing == "proportional"
    first = speech_server.requests[0]
    assert first["path"] == "/v1/audio/speech" and first["auth"] == "Bearer sk-x"
    assert first["body"] == {"model": "tts-1", "input": "Meet the Gothamite rolling duffle.", "voice": "nova",
                             "response_format": "wav"}
    assert len(speech_server.requests) == 6  # 5 sentences + one retried 503
    print("openai-fake", figures)


def test_openai_speech_refusal_is_clear():
    server = LocalJSONServer(lambda body: (401, "", b""))
    try:
        settings = GenerationSettings(tts_backend="openai", tts_base_url=server.url)
        with pytest.raises(TTSError, match="HTTP 401"):
            synthesize(make_script("en", EN_LINES[:1] * 3), "/tmp/unused-voice-dir", settings=settings)
    finally:
        server.httpd.shutdown()


def test_cjk_lines_break_without_spaces_and_respect_punctuation():
    text = "选择Gothamite的三个理由，真的非常值得入手，快来看看吧。"
    lines = wrap_line(text, "zh")
    assert len(lines) == -(-display_width(text) // 32) == 2 and "".join(lines) == text
    assert abs(display_width(lines[0]) - display_width(lines[1])) <= 8  # balanced
    assert not any(line.startswith(("，", "。")) for line in lines)
    assert wrap_line("Short line.", "en") == ["Short line."]


def test_long_sentence_splits_into_timed_cues():
    words = [{"word": f"word{i}", "start": i * 0.3, "end": i * 0.3 + 0.25, "segment": 0, "sentence": 0}
             for i in range(30)]
    sentences = [{"text": " ".join(w["word"] for w in words), "start": 0.0, "end": 8.95, "segment": 0}]
    cues = build_cues(sentences, words, "en")
    assert len(cues) >= 3 and cues[0]["start"] == 0.0 and cues[-1]["end"] == 8.95
    assert all(a["end"] <= b["start"] for a, b in zip(cues, cues[1:]))
    assert all(len(line) <= 42 for c in cues for line in c["text"].splitlines())
    assert to_srt(cues).startswith("1\n00:00:00,000 --> ")


def test_synthesize_command(tmp_path):
    script = make_script("zh", ["现在只要八十七点一一美元。", "点击链接。", "马上入手。"])
    (tmp_path / "script.json").write_text(json.dumps(script.model_dump(mode="json"), ensure_ascii=False))
    call_command("synthesize", str(tmp_path / "script.json"), "--out", str(tmp_path / "out"), "--backend", "espeak")
    assert json.loads((tmp_path / "out" / "voice.json").read_text())["language"] == "zh"
    assert (tmp_path / "out" / "captions.srt").read_text(encoding="utf-8").count("-->") == 3
