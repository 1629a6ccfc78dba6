"""What counts as a name, and text made safe for places that draw it (PDF, charts).

One rule for every name a person types (enrollees, regions, usernames, display names), used
by the API's field types and by ``dolbom user add``:

* control characters (C0, DEL, C1, line and paragraph separators) and lone surrogates are
  refused: they break terminals, CSV readers and PDF fonts, and no name needs them;
* spaces and invisible characters around the name are removed (a U+FEFF byte-order mark or a
  U+200B zero-width space pasted from a spreadsheet is the usual case);
* what is left must show at least one visible character: a name of only spaces, zero-width
  or format characters, Hangul fillers or a blank braille cell is refused as blank.

Joiners and marks inside a name (U+200C/U+200D, U+200E/U+200F) are kept: some scripts need them.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

# Letters that draw nothing though Unicode does not class them as format characters.
_BLANK_LETTERS: Final = frozenset(
    "\u115f\u1160\u3164\uffa0"  # Hangul choseong/jungseong fillers, Hangul filler, half-width filler
    "\u2800"  # braille pattern blank
    "\u034f"  # combining grapheme joiner
    "\u17b4\u17b5"  # Khmer inherent vowels (invisible)
) | frozenset(chr(c) for c in range(0xFE00, 0xFE10))  # variation selectors

# Categories refused anywhere in a name: Cc (control), Cs (surrogate), Zl, Zp (line breaks).
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Categories removed from text that is drawn (matplotlib's text layout fails on some, e.g.
# U+FEFF raises IndexError, a lone surrogate UnicodeEncodeError): also format characters.
_UNDRAWABLE_CATEGORIES: Final = _REFUSED_CATEGORIES | {"Cf"}


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing: white space, format characters, fillers."""
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


def clean_name(value: str, what: str = "name") -> str:
    """``value`` without surrounding blanks; ValueError if it has control characters or
    nothing visible (``what`` names the field in the message)."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"{what} is not valid text (it contains a lone surrogate)")
        if category in _REFUSED_CATEGORIES:
            raise ValueError(f"{what} must not contain control characters (U+{ord(char):04X})")
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    if start == end:
        raise ValueError(f"{what} must not be blank (only spaces or invisible characters)")
    return value[start:end]


def storable(value: str) -> str:
    """``value`` if PostgreSQL can store it as text (no NUL, no lone surrogate); else ValueError."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("text is not valid (it contains a lone surrogate)")
    return value


def drawable(text: str) -> str:
    """``text`` for a PDF or chart: line breaks and tabs become spaces, control, format and
    surrogate characters are dropped."""
    out = []
    for char in text:
        if char in "\t\n\r\x0b\x0c\x85\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(char) not in _UNDRAWABLE_CATEGORIES:
            out.append(char)
    return "".join(out)


def drawable_tree(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string ``drawable``."""
    if isinstance(value, str):
        return drawable(value)
    if isinstance(value, dict):
        return {key: drawable_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [drawable_tree(item) for item in value]
    if isinstance(value, tuple):
        return tuple(drawable_tree(item) for item in value)
    return value
