"""#10 fuzzing (bounded): any byte string posted as JSON is either decoded exactly as the
standard decoder would, or refused with a ParseError (a 400) — never another exception."""
import json

from hypothesis import HealthCheck, given, settings, strategies as st
from rest_framework.exceptions import ParseError

from api.parsers import json_depth, json_loads_limited

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(), max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=40)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON, st.integers(min_value=0, max_value=12))
def test_depth_scan_agrees_with_the_decoder(value, limit):
    raw = json.dumps(value).encode()
    depth = _depth(value)
    measured = json_depth(raw, limit=limit)
    assert (measured > limit) == (depth > limit)
    if depth > limit:
        return
    assert json_loads_limited(raw, max_bytes=1 << 20, max_depth=limit) == value


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300) | st.text(alphabet='[]{}"\\:,0 ae', max_size=300).map(str.encode))
def test_arbitrary_bytes_decode_or_are_a_parse_error(raw):
    try:
        json_loads_limited(raw, max_bytes=200, max_depth=8)
    except ParseError:
        pass
