"""Voice stage core: script -> voice.wav, captions.srt, words.json, voice.json.

Each sentence is synthesised on its own, its silence trimmed so its span is the measured
voiced audio, and placed on a timeline with fixed pauses (the same ones the script's duration
model assumes). Word timings come from the engine when it has them (Piper alignments,
espeak-ng events) and are otherwise spread by syllables/characters. Captions are built from
this same run, so they always match the audio. The whole track is normalised to -16 LUFS.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from generation.scripts.fitting import SEGMENT_PAUSE_S, SENTENCE_PAUSE_S, split_sentences
from generation.scripts.models import AdScript

from .audio import TARGET_LUFS, integrated_loudness, normalize_loudness, resample, voiced_bounds, write_wav
from .backends import TTSError, get_backend
from .captions import align_events, build_cues, numeral_words, proportional, to_srt, tokens

log = logging.getLogger(__name__)

LEAD_IN_S = 0.15
TAIL_S = 0.25
PAD_S = 0.01  # keep 10 ms around the voiced span so consonant onsets are not clipped
# A voice whose video (voice + end hold) runs over the script's target by more than this share
# is spoken again faster (engines with a ``pace``), at most MAX_PACE and twice: the script's
# length model only estimates.
OVERRUN_TOLERANCE = 0.10
MAX_PACE = 1.2  # the engine's rate factor (Piper: 1.2 ≈ 9 % shorter speech, measured; a brisk ad read)
PACE_TRIES = 2


class TimedText(BaseModel):
    text: str
    start: float
    end: float
    segment: int


class TimedWord(BaseModel):
    word: str
    start: float
    end: float
    segment: int


class VoiceResult(BaseModel):
    """What voice.json holds; the renderer reads it. Times are seconds from the WAV start."""
    duration: float
    sample_rate: int
    language: str
    wav: str = "voice.wav"
    srt: str = "captions.srt"
    backend: str = ""
    loudness_lufs: float | None = None
    word_timing: str = "engine"  # engine | proportional | mixed (per-sentence source of word times)
    pace: float = 1.0  # speaking-rate factor used (> 1: spoken faster to fit the script's target)
    sentences: list[TimedText]
    words: list[TimedWord]


def _settings():
    try:
        from django.conf import settings
        return settings.GENERATION
    except Exception:  # noqa: BLE001 - outside Django (scripts, tests): use the defaults
        from generation.config import GenerationSettings
        return GenerationSettings()


def _trimmed(samples: np.ndarray, fs: int) -> tuple[np.ndarray, int]:
    lo, hi = voiced_bounds(samples, fs)
    pad = int(PAD_S * fs)
    lo, hi = max(0, lo - pad), min(len(samples), hi + pad)
    return samples[lo:hi], lo


def synthesize(script: AdScript, out_dir: Path, *, backend: str | None = None, voice: str | None = None,
               settings=None, hold_s: float = 0.0) -> VoiceResult:
    """Speak ``script`` into ``out_dir``; overwrites the four outputs (a retry is idempotent).
    ``hold_s``: seconds the video runs on after the voice (the template's end card); the
    overrun check is on the video's length, voice + hold, against the script's target."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = settings or _settings()
    engine = get_backend(backend, script.language, voice=voice, settings=settings)
    plan = [(i, s) for i, seg in enumerate(script.segments()) for s in split_sentences(seg.voice_line)]
    if not plan:
        raise TTSError("the script has no voice lines")
    fs, pieces, sentences, words, sources = _speak(engine, plan, script.language)
    target = script.target_duration
    for _ in range(PACE_TRIES):
        total_s = sentences[-1]["end"] + TAIL_S + hold_s
        if not target or total_s <= target * (1 + OVERRUN_TOLERANCE) or not hasattr(engine, "pace") \
                or engine.pace >= MAX_PACE:
            break
        # Speak it again faster, aiming at the target: the speech shrinks, the pauses stay. A
        # model's speed does not follow its length scale exactly (Piper: 1/1.15 gave 7.5 %
        # shorter), so the next try corrects by what this one measured.
        speech = sum(s["end"] - s["start"] for s in sentences)
        pace = min(MAX_PACE, engine.pace * speech / max(speech - (total_s - target), 0.5 * speech))
        log.info("voice.overrun target_s=%.2f voice_s=%.2f pace=%.3f", target, total_s, pace)
        engine = dataclasses.replace(engine, pace=pace,  # the same ONNX-session lock
                                     **({"_lock": engine._lock} if hasattr(engine, "_lock") else {}))
        fs, pieces, sentences, words, sources = _speak(engine, plan, script.language)
    total = int(round((sentences[-1]["end"] + TAIL_S) * fs))
    track = np.zeros(total, np.float32)
    for start, samples in pieces:
        track[start:start + len(samples)] += samples[: total - start]
    track, _gain = normalize_loudness(track, fs, TARGET_LUFS)
    write_wav(out_dir / "voice.wav", track, fs)
    cues = build_cues(sentences, words, script.language)
    (out_dir / "captions.srt").write_text(to_srt(cues), encoding="utf-8")
    public_words = [{k: v for k, v in w.items() if k != "sentence"} for w in words]
    (out_dir / "words.json").write_text(json.dumps(public_words, ensure_ascii=False, indent=1), encoding="utf-8")
    result = VoiceResult(duration=round(total / fs, 3), sample_rate=fs, language=script.language,
                         backend=engine.name, loudness_lufs=round(integrated_loudness(track, fs), 2),
                         word_timing=sources.pop() if len(sources) == 1 else "mixed",
                         sentences=sentences, words=public_words, pace=getattr(engine, "pace", 1.0))
    (out_dir / "voice.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
    return result


def _speak(engine, plan: list[tuple[int, str]], language: str):
    """Each sentence synthesised, trimmed and placed with the script model's pauses:
    (sample rate, [(start sample, samples)], sentences, words, word-timing sources)."""
    fs, pieces, sentences, words, sources = None, [], [], [], set()
    t = LEAD_IN_S
    for k, (segment, text) in enumerate(plan):
        audio = engine.synth(text, language)
        samples = audio.samples
        if fs is None:
            fs = audio.sample_rate
        elif audio.sample_rate != fs:
            samples = resample(samples, audio.sample_rate, fs)
        samples, cut = _trimmed(samples, fs)
        if not len(samples):
            continue
        dur = len(samples) / fs
        offset = cut / (audio.sample_rate if audio.sample_rate == fs else fs)
        sources.add("engine" if audio.words else "proportional")
        if audio.words:
            events = [(w, s - offset, (e - offset) if e is not None else None) for w, s, e in audio.words]
            timed = align_events(text, events, t, t + dur)
        else:
            toks = [tok for tok, _ in tokens(text)]
            timed = [(tok, round(s, 3), round(e, 3)) for tok, (s, e) in zip(toks, proportional(toks, t, t + dur))]
        timed = numeral_words(timed, language)  # captions show "34", not "thirty-four"
        idx = len(sentences)
        sentences.append({"text": text, "start": round(t, 3), "end": round(t + dur, 3), "segment": segment})
        words += [{"word": w, "start": s, "end": e, "segment": segment, "sentence": idx} for w, s, e in timed]
        pieces.append((int(round(t * fs)), samples))
        pause = SEGMENT_PAUSE_S if k + 1 < len(plan) and plan[k + 1][0] != segment else SENTENCE_PAUSE_S
        t = t + dur + pause
    if not sentences:
        raise TTSError(f"the {engine.name} voice produced no audio for this script")
    return fs, pieces, sentences, words, sources
