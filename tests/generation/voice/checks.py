"""Independent checks of a voice result: ffprobe duration, ffmpeg loudness, SRT vs measured audio."""
from __future__ import annotations

import json
import re
import subprocess
import wave
from pathlib import Path

import numpy as np


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def ffmpeg_loudness(path: Path) -> float:
    err = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    def secs(stamp):
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        start, end = lines[1].split(" --> ")
        cues.append((secs(start), secs(end), "\n".join(lines[2:])))
    return cues


def measured_spans(wav_path: Path, sentences: list[dict]) -> list[tuple[float, float]]:
    """Voiced span of each sentence, found in the final WAV inside the silences around it."""
    with wave.open(str(wav_path)) as w:
        fs = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    frame = int(0.005 * fs)
    n = len(x) // frame
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1))
    threshold = np.max(np.abs(x)) * 10 ** (-45 / 20)
    spans = []
    for i, s in enumerate(sentences):
        lo = (sentences[i - 1]["end"] + s["start"]) / 2 if i else 0.0
        hi = (s["end"] + sentences[i + 1]["start"]) / 2 if i + 1 < len(sentences) else len(x) / fs
        frames = np.nonzero(rms[int(lo * fs / frame): int(hi * fs / frame)] > threshold)[0]
        base = int(lo * fs / frame)
        spans.append(((base + frames[0]) * frame / fs, (base + frames[-1] + 1) * frame / fs))
    return spans


def check_voice_dir(out: Path, result, *, max_caption_error: float = 0.080) -> dict:
    """Assert the invariants; return the measured figures for reporting."""
    assert {p.name for p in out.iterdir()} >= {"voice.wav", "captions.srt", "words.json", "voice.json"}
    duration = ffprobe_duration(out / "voice.wav")
    assert abs(duration - result.duration) < 0.02
    voice_json = json.loads((out / "voice.json").read_text())
    assert voice_json["wav"] == "voice.wav" and voice_json["srt"] == "captions.srt"
    words = json.loads((out / "words.json").read_text())
    assert words == voice_json["words"] and words
    sentences = voice_json["sentences"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts), "word starts are monotonic"
    assert all(0 <= w["start"] <= w["end"] <= duration for w in words)
    for w in words:  # every word lies inside one sentence of its segment
        assert any(s["start"] - 1e-3 <= w["start"] and w["end"] <= s["end"] + 1e-3 and s["segment"] == w["segment"]
                   for s in sentences), w
    cues = parse_srt((out / "captions.srt").read_text(encoding="utf-8"))
    assert all(a[1] <= b[0] + 1e-3 for a, b in zip(cues, cues[1:])), "cues are monotonic, never overlapping"
    assert all(0 <= c[0] < c[1] <= duration for c in cues)
    spans = measured_spans(out / "voice.wav", sentences)
    errors = []
    for s, (m_start, m_end) in zip(sentences, spans):
        own = [c for c in cues if s["start"] - 1e-3 <= c[0] and c[1] <= s["end"] + 1e-3]
        assert own, s
        errors += [abs(own[0][0] - m_start), abs(own[-1][1] - m_end)]
    worst = max(errors)
    assert worst <= max_caption_error, (worst, spans, sentences)
    loudness = ffmpeg_loudness(out / "voice.wav")
    assert abs(loudness - (-16.0)) <= 0.5, loudness
    return {"duration": duration, "caption_max_error_ms": round(worst * 1000, 1), "lufs_ffmpeg": loudness,
            "sentences": len(sentences), "words": len(words), "cues": len(cues)}
