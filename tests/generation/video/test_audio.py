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
