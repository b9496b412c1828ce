"""Text cleaning at the database boundary: what a page says must not be able to crash a save.

PostgreSQL refuses NUL in ``text`` and ``jsonb``; psycopg refuses lone surrogates; other C0/C1
control characters (escape sequences, bell, form feed) are noise in a title and a hazard in
logs and terminals. Tab, newline and carriage return are kept."""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def db_text_clean(value):
    """``value`` with unsafe characters removed from every string, recursively through dicts
    (keys too), lists and tuples; other types are returned unchanged."""
    if isinstance(value, str):
        return _UNSAFE.sub("", value)
    if isinstance(value, dict):
        return {db_text_clean(k): db_text_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(db_text_clean(v) for v in value)
    return value
