"""Claim checker: the seeded-error set is fully caught, clean corpus scripts raise nothing."""
import pytest

from generation.scripts import check_claims, ground_script, write_script
from generation.scripts.models import Segment, Shot

from .conftest import SAMPLE_PRODUCT
from .seeded_errors import SEEDED_ERRORS


def _inject(script, voice, screen):
    bad = Segment(role="scene", voice_line=voice, on_screen_text=screen, shot=Shot(kind="product", prompt="x"))
    return script.with_segments([script.hook, bad, *script.scenes[1:], script.cta])


def test_no_false_alarms_on_clean_corpus_scripts(clean_scripts):
    alarms = [(name, s.framework, s.language, c.text, c.reason)
              for name, product, s in clean_scripts for c in check_claims(s, product)]
    assert alarms == [], alarms[:5]


def test_seeded_error_set_is_fully_caught(clean_scripts):
    injected = caught = 0
    missed = []
    kinds = set()
    for name, product, script in clean_scripts:
        if script.framework != "feature_tour" or script.requested_framework:
            continue  # one clean script per product and language carries every error
        for error in SEEDED_ERRORS:
            if error.language != script.language or (made := error.make(product)) is None:
                continue
            injected += 1
            claims = check_claims(_inject(script, *made), product)
            if any(c.segment == 1 for c in claims):
                caught += 1
                kinds.add(error.name)
            else:
                missed.append((name, error.name, made))
    assert injected >= 2 * 79 * 20  # products x languages x applicable errors
    assert caught == injected, missed[:5]
    assert kinds == {e.name for e in SEEDED_ERRORS}


def test_every_claim_kind_is_reported_with_reason():
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15)
    bad = _inject(script, "Only nineteen ninety-nine, rated four point nine out of five, the best bag ever.",
                  "#1 Best Seller, $19.99")
    claims = check_claims(bad, SAMPLE_PRODUCT)
    assert {c.kind for c in claims} >= {"price", "rating", "superlative"}
    assert all(c.segment == 1 and c.reason for c in claims)


def test_approved_claims_ground_a_superlative():
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15)
    bad = _inject(script, "Voted the best duffle of the year.", "Best duffle")
    assert check_claims(bad, SAMPLE_PRODUCT)
    assert check_claims(bad, SAMPLE_PRODUCT, approved_claims=["Voted the best duffle of the year"]) == []


@pytest.mark.parametrize("language", ["en", "zh"])
def test_ground_script_removes_ungrounded_lines(language):
    from .seeded_errors import EN, ZH
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language=language, duration=15)
    for error in (EN if language == "en" else ZH):
        made = error.make(SAMPLE_PRODUCT)
        if made is None:
            continue
        bad = _inject(script, *made)
        hook_bad = bad.model_copy(update={"hook": bad.scenes[0].model_copy(update={"role": "hook"})})
        for broken in (bad, hook_bad):
            fixed = ground_script(broken, SAMPLE_PRODUCT)
            assert check_claims(fixed, SAMPLE_PRODUCT) == [], error.name
            assert fixed.scenes and any(n.startswith(("removed", "rewrote")) for n in fixed.notes)
