"""The API's `music` option reaches the render timeline: a mood for the bed, or no bed."""
from generation.jobs.pipeline import _with_music_choice
from generation.video.schema import MusicLayer, Timeline, VoiceoverLayer


def _timeline():
    layers = [VoiceoverLayer.model_construct(type="voiceover"), MusicLayer.model_construct(type="music", mood="upbeat")]
    return Timeline.model_construct(layers=layers)


def test_music_mood_and_none():
    assert _with_music_choice(_timeline(), "").layers[1].mood == "upbeat"
    assert _with_music_choice(_timeline(), "calm").layers[1].mood == "calm"
    assert [layer.type for layer in _with_music_choice(_timeline(), "none").layers] == ["voiceover"]
