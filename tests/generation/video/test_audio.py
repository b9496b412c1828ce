"""Audio pieces: the procedural bed is deterministic, music ducks under speech and fades."""
import numpy as np

from generation.video.audio import SR, duck_envelope, fade, music_bed


def test_music_bed_is_seeded_and_bounded():
    a, b = music_bed(2.0, seed=3), music_bed(2.0, seed=3)
    assert a.shape == (2 * SR, 2) and np.array_equal(a, b)
    assert 0.3 < np.abs(a).max() <= 0.5
    assert not np.array_equal(a, music_bed(2.0, seed=4))  # hats are seeded noise


def test_ducking_lowers_music_only_under_speech():
    g = duck_envelope(3 * SR, [(1.0, 2.0)], duck_db=-12.0)
    assert g[int(0.5 * SR)] == 1.0 and g[int(2.8 * SR)] == 1.0
    assert abs(20 * np.log10(g[int(1.5 * SR)]) + 12.0) < 0.01
    assert 10 ** (-12 / 20) < g[int(0.95 * SR)] < 1.0  # ramps, no click


def test_fades_start_and_end_silent():
    f = fade(2 * SR, 0.5, 1.0)
    assert f[0] == 0 and f[-1] < 0.01 and f[SR // 2 + 10] == 1.0


def test_wav_voices_decode_in_process_like_ffmpeg(tmp_path):
    """16-bit WAV (every voice engine's output) is read and resampled without an ffmpeg start,
    and comes out as ffmpeg gave it: 48 kHz stereo, mono spread at -3 dB per channel."""
    import shutil
    import subprocess
    import wave

    import pytest

    from generation.video import ffmpeg as ff
    from generation.video.audio import decode
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    fs = 22050
    t = np.arange(int(1.5 * fs)) / fs
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t * 20)).astype(np.float32)
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(fs)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    ours = decode(path)
    proc = ff.run([ff.ffmpeg_bin(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "f32le",
                   "-ac", "2", "-ar", str(SR), "-"])
    theirs = np.frombuffer(proc.stdout, np.float32).reshape(-1, 2)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    err = np.sqrt(np.mean((ours - theirs) ** 2)) / np.sqrt(np.mean(theirs ** 2))
    assert err < 0.01  # two good resamplers, -40 dB apart at most
    assert np.array_equal(ours[:, 0], ours[:, 1])
    # anything else still goes through ffmpeg (here: an MP3 of the same tone)
    mp3 = tmp_path / "voice.mp3"
    subprocess.run([ff.ffmpeg_bin(), "-y", "-loglevel", "error", "-i", str(path), str(mp3)], check=True)
    other = decode(mp3)
    assert other.shape[1] == 2 and abs(len(other) - len(theirs)) < 0.1 * SR
