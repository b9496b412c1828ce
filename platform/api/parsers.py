"""JSON request bodies with a size cap and a nesting cap, checked before decoding.

``json.loads`` recurses once per nesting level, so a 100,000-deep ``[[[[...`` body raised
RecursionError (a 500). The depth is measured first with a linear scan that skips strings,
and the body is refused with a 400 before the decoder sees it."""
from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BodyTooDeep(ParseError):
    default_detail = "JSON body is nested too deeply."
    default_code = "json_too_deep"


class BodyTooLarge(ParseError):
    status_code = 413
    default_detail = "Request body is too large."
    default_code = "body_too_large"


_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')


def json_depth(raw: bytes, *, limit: int) -> int:
    """Nesting depth of a JSON text, stopping as soon as it passes ``limit``; a text with at
    most ``limit`` brackets in all returns that count (an upper bound that is within limit).
    Brackets inside strings (and escaped quotes) are not counted. Linear, and only the
    structural bytes are visited (C-speed ``count``/``finditer``, not a Python byte loop)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return min(raw.count(b"[") + raw.count(b"{"), limit)  # cannot be deeper than that
    depth = deepest = 0
    in_string = escaped = False
    for match in _STRUCTURAL.finditer(raw):
        char = match.group()
        if escaped:  # the byte right after a backslash inside a string
            escaped = False
            if match.start() == last_backslash + 1:
                continue
        if in_string:
            if char == b"\\":
                escaped, last_backslash = True, match.start()
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def json_loads_limited(raw: bytes, *, max_bytes: int, max_depth: int):
    """Decode ``raw`` or raise BodyTooLarge / BodyTooDeep / ParseError (all 400s)."""
    if len(raw) > max_bytes:
        raise BodyTooLarge(f"Request body is larger than {max_bytes} bytes.")
    if json_depth(raw, limit=max_depth) > max_depth:
        raise BodyTooDeep(f"JSON body is nested deeper than {max_depth} levels.")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"JSON parse error - {type(exc).__name__}") from exc


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with DATA_UPLOAD_MAX_MEMORY_SIZE and API_JSON_MAX_DEPTH enforced."""

    def parse(self, stream, media_type=None, parser_context=None):
        max_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 1024 * 1024
        raw = stream.read(max_bytes + 1) if stream is not None else b""
        return json_loads_limited(raw, max_bytes=max_bytes, max_depth=settings.API_JSON_MAX_DEPTH)
