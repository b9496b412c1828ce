"""Last step of extraction: facts must be storable. PostgreSQL refuses NUL characters in text
and jsonb columns, and a page (a JSON-LD ``"\\u0000"`` escape, say) can put them anywhere."""
from __future__ import annotations

import math


def storable(value):
    """``value`` with NUL characters removed from every string (keys too) and non-finite
    floats dropped to None; other values unchanged. Depth is that of the facts (shallow)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value
