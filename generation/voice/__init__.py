"""Voiceover and captions (docs/scripts-and-voice.md).

``synthesize(script, out_dir, *, backend=None, voice=None) -> VoiceResult`` writes
``voice.wav``, ``captions.srt``, ``words.json`` and ``voice.json`` into ``out_dir``.
"""
from .backends import TTSError, get_backend, load_piper_voice
from .synth import VoiceResult, synthesize

__all__ = ["TTSError", "VoiceResult", "get_backend", "load_piper_voice", "synthesize"]
