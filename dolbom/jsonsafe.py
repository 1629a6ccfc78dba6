"""JSON that can always be stored and shown: bounded depth and size, nothing unserialisable.

Device data reaches alerts (an SOS's ``data`` is copied into the alert's evidence), and an
alert is rendered in lists, pages and the live stream. orjson refuses to encode past 255
levels and pydantic past its own limit, so one hostile payload stored whole could fail every
list it appears in (issue 12). The decoder refuses such input (CONTRACT §5.9); these helpers
make the writers and renderers safe by construction, whatever is already stored:

- ``nesting`` measures depth and keys without recursion (the decoder's limits use it);
- ``shown`` rebuilds a value with containers past ``max_depth`` replaced by a short text,
  non-finite floats as null and anything else unknown as its (bounded) text;
- ``bounded`` is what ``store.alerts.raise_alert`` stores: ``shown`` at ``EVIDENCE_DEPTH``
  and, past ``EVIDENCE_BYTES``, the evidence replaced by a note of what it was.

Pure: no I/O, no logging.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any, Final

import orjson

EVIDENCE_DEPTH: Final = 16
EVIDENCE_BYTES: Final = 64 * 1024
SHOWN_DEPTH: Final = 32
_TEXT_CHARS: Final = 200
OMITTED: Final = "(omitted: nested too deeply to show)"


class TooDeep(ValueError):
    """Nested deeper than the limit a caller gave ``nesting``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep")
        self.limit = limit


def nesting(value: object, limit: int) -> tuple[int, int]:
    """(depth, keys) of parsed JSON: how deeply it nests (a scalar 0, ``{}`` or ``[]`` 1) and
    how many object keys it holds in all. Iterative, so no input can exhaust the stack;
    raises ``TooDeep`` as soon as the depth passes ``limit``."""
    depth = 0
    keys = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if type(node) is dict:
            keys += len(node)
            children: Iterable[object] = node.values()
        elif type(node) is list:
            children = node
        else:
            continue
        if level > depth:
            if level > limit:
                raise TooDeep(limit)
            depth = level
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, level + 1))
    return depth, keys


def _text(value: object) -> str:
    text = str(value)
    return text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 3] + "..."


def shown(value: Any, max_depth: int = SHOWN_DEPTH) -> Any:
    """``value`` as plain JSON data: containers deeper than ``max_depth`` become ``OMITTED``,
    NaN and infinities null, keys text, and any other object its text (datetimes are left
    for orjson, which encodes them)."""
    if isinstance(value, Mapping):
        if max_depth <= 0:
            return OMITTED
        return {k if isinstance(k, str) else _text(k): shown(v, max_depth - 1)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        if max_depth <= 0:
            return OMITTED
        return [shown(v, max_depth - 1) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date | time):
        return value  # orjson encodes these
    if callable(getattr(value, "tolist", None)):  # numpy scalars and arrays
        return shown(value.tolist(), max_depth)
    return _text(value)


def bounded(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence as stored: at most ``EVIDENCE_DEPTH`` levels and ``EVIDENCE_BYTES`` bytes.

    The common case (small, shallow, plain) is returned as it came, after one measurement."""
    try:
        depth, _ = nesting(evidence, EVIDENCE_DEPTH)
        size = len(orjson.dumps(evidence, option=orjson.OPT_SERIALIZE_NUMPY))
    except (TooDeep, TypeError, orjson.JSONEncodeError):
        depth, size = EVIDENCE_DEPTH + 1, 0
    result = dict(evidence) if depth <= EVIDENCE_DEPTH else shown(evidence, EVIDENCE_DEPTH)
    if depth > EVIDENCE_DEPTH or size == 0:
        size = len(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY))
    if size <= EVIDENCE_BYTES:
        return result
    kept = {k: v for k, v in result.items() if isinstance(v, str | int | float | bool)}
    kept["omitted"] = f"evidence of {size} bytes (over {EVIDENCE_BYTES}) not kept whole"
    return kept
