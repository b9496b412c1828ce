import pytest

from generation.scripts.models import AdScript, Segment, Shot


def make_script(language: str, lines: list[str], target: float = 8.0) -> AdScript:
    segs = [Segment(role="hook" if i == 0 else "cta" if i == len(lines) - 1 else "scene", voice_line=line,
                    on_screen_text="", shot=Shot(kind="product", prompt="p")) for i, line in enumerate(lines)]
    return AdScript(language=language, framework="feature_tour", target_duration=target, hook=segs[0],
                    scenes=segs[1:-1], cta=segs[-1])


EN_LINES = ["Meet the Gothamite rolling duffle.",
            "It measures thirty-six by seventeen by fifteen inches. Rated four point two out of five.",
            "Now just eighty-seven eleven. Tap the link to get yours."]
ZH_LINES = ["认识一下Gothamite滚轮行李袋。", "买家评分四点二分，来自四百七十一条评价。", "现在只要八十七点一一美元，点击链接马上入手。"]


@pytest.fixture(scope="session")
def piper_voice():
    """The bundled Piper voice, loaded once per test session (~2-5 s)."""
    from generation.voice import TTSError, load_piper_voice
    try:
        return load_piper_voice("")
    except TTSError as exc:
        pytest.skip(f"Piper voice unavailable: {exc}")
