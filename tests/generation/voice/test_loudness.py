"""The numpy EBU R128 meter agrees with ffmpeg's ebur128 at any length (the K-weighting FFT is
padded to a fast 2·3·5-smooth size, which must not change the measurement)."""
import shutil

import numpy as np
import pytest

from generation.voice.audio import fast_fft_size, integrated_loudness, write_wav

from .checks import ffmpeg_loudness


def _smooth(m: int) -> bool:
    for q in (2, 3, 5):
        while m % q == 0:
            m //= q
    return m == 1


@pytest.mark.parametrize("n", [1, 7, 331_234, 2 ** 20 + 1, 999_983])
def test_fast_fft_size_is_the_next_smooth_length(n):
    size = fast_fft_size(n)
    assert size >= n and _smooth(size)
    assert not any(_smooth(k) for k in range(n, min(size, n + 5000)))


@pytest.mark.parametrize("seconds", [3.3, 14.77])  # lengths whose padded size has a large prime factor
def test_loudness_matches_ffmpeg(seconds, tmp_path):
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    fs = 22050
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * fs)) / fs
    speechy = (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
               + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    write_wav(tmp_path / "x.wav", speechy, fs)
    assert abs(integrated_loudness(speechy, fs) - ffmpeg_loudness(tmp_path / "x.wav")) <= 0.3


def test_stereo_loudness_adds_the_channels_like_ffmpeg():
    """The video mix is measured in numpy before its limiter pass: stereo, channels unequal."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    from generation.video import ffmpeg as ff
    fs = 48000
    rng = np.random.default_rng(9)
    t = np.arange(6 * fs) / fs
    left = 0.25 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    right = 0.04 * rng.standard_normal(len(t))
    stereo = np.stack([left, right], axis=1).astype(np.float32)
    ours = integrated_loudness(stereo, fs)
    theirs = ff.loudness(pcm=stereo.tobytes(), sample_rate=fs, true_peak=False)["lufs"]
    assert abs(ours - theirs) <= 0.1
    # a mono signal counts once; the same signal on both channels is +3 LU
    mono = integrated_loudness(stereo[:, 0], fs)
    assert abs(integrated_loudness(np.repeat(stereo[:, :1], 2, axis=1), fs) - mono - 3.01) < 0.02
