"""espeak-ng through libespeak-ng (ctypes): audio plus word events in audio time.

One engine per process, guarded by a lock (the C library is global state). Word events give
each word's start in milliseconds; in Chinese (voice ``cmn``) they come per character. A
word ends where the next one starts, or at the end of the voiced audio.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading

import numpy as np

_LOCK = threading.Lock()
_STATE: dict = {}
AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
EVENT_LIST_TERMINATED, EVENT_WORD = 0, 1
RATE_PARAM = 1
VOICES = {"en": "en-us", "zh": "cmn"}
# Words per minute per language: 175 is espeak's default; its Mandarin at 175 runs ~2.8
# characters/s, slow for ads, so zh uses 270 (~4.3 characters/s, measured).
SPEEDS = {"en": 175, "zh": 270}


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_byte * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakUnavailable(RuntimeError):
    pass


def _engine():
    if "lib" in _STATE:
        return _STATE["lib"], _STATE["rate"]
    name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise EspeakUnavailable("libespeak-ng is not installed (apt install libespeak-ng1)") from exc
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        raise EspeakUnavailable("espeak_Initialize failed (espeak-ng-data missing?)")
    chunks: list[np.ndarray] = []
    events: list[tuple[int, int, int]] = []

    def on_audio(wav, numsamples, event_ptr):
        if numsamples > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while event_ptr[i].type != EVENT_LIST_TERMINATED:
            ev = event_ptr[i]
            if ev.type == EVENT_WORD:
                events.append((ev.text_position, ev.length, ev.audio_position))
            i += 1
        return 0

    callback = _CALLBACK(on_audio)
    lib.espeak_SetSynthCallback(callback)
    _STATE.update(lib=lib, rate=rate, callback=callback, chunks=chunks, events=events)
    return lib, rate


def espeak_synth(text: str, language: str, *, voice: str | None = None,
                 words_per_minute: int | None = None) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """(float32 audio, sample rate, [(word, start_s)]) for one sentence."""
    with _LOCK:
        lib, rate = _engine()
        name = voice or VOICES.get(language.split("-")[0], language)
        if lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise EspeakUnavailable(f"espeak-ng has no voice {name!r}")
        speed = words_per_minute or SPEEDS.get(language.split("-")[0], 175)
        lib.espeak_SetParameter(RATE_PARAM, int(speed), 0)
        _STATE["chunks"].clear()
        _STATE["events"].clear()
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data)
        status = lib.espeak_Synth(buf, len(data), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if status != 0:
            raise EspeakUnavailable(f"espeak_Synth failed with status {status}")
        chunks = list(_STATE["chunks"])
        events = list(_STATE["events"])
    audio = (np.concatenate(chunks).astype(np.float32) / 32768) if chunks else np.zeros(0, np.float32)
    words = []
    for position, length, ms in events:
        word = text[position - 1: position - 1 + length].strip()  # positions are 1-based characters
        if word:
            words.append((word, ms / 1000.0))
    return audio, rate, words
