"""The one rule for names (dolbom/text.py) and text made drawable for PDFs and charts."""

from __future__ import annotations

import psycopg
import pytest

from dolbom.accounts import AccountError, check_new_user
from dolbom.text import clean_name, drawable, drawable_tree, storable
from store.accounts import create_user


@pytest.mark.parametrize("name", ["", " ", "\u3000", "\ufeff", "\u200b\u200c\u200d", "\u2060", "\u00ad",
                                  "\u3164", "\u115f\u1160", "\u2800", "\u202e", "\ufe0f", " \ufeff\u200b "])
def test_blank_or_invisible_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must not be blank"):
        clean_name(name)


@pytest.mark.parametrize("name", ["\t", "a\x00b", "a\nb", "a\rb", "\x1b[2J", "a\x7f", "a\x85b", "a\u2028b",
                                  "a\u2029b"])
def test_control_characters_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        clean_name(name)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        clean_name("Kim\ud800")
    with pytest.raises(ValueError, match="lone surrogate"):
        storable("note \udfff")
    with pytest.raises(ValueError, match="NUL"):
        storable("note \x00")
    assert storable("two\nlines\tand a tab") == "two\nlines\tand a tab"


@pytest.mark.parametrize(("typed", "kept"), [
    ("김영희", "김영희"), ("  김영희 ", "김영희"), ("\ufeff김영희\u200b", "김영희"),
    ("O'Brien-Park", "O'Brien-Park"), ("a\u200db", "a\u200db"), ("Zoë", "Zoë"), ("x" * 200, "x" * 200),
])
def test_names_keep_what_shows(typed: str, kept: str) -> None:
    assert clean_name(typed) == kept


def test_drawable_drops_what_matplotlib_cannot_lay_out() -> None:
    assert drawable("\ufeff김\u200b영\u2060희\x01") == "김영희"
    assert drawable("a\nb\tc\u2028d") == "a b c d"
    assert drawable("lone \ud800 surrogate") == "lone  surrogate"
    tree = drawable_tree({"name": "\ufeffKim", "rows": [{"n": 1, "t": ("a\x00", None)}], "x": 1.5})
    assert tree == {"name": "Kim", "rows": [{"n": 1, "t": ("a", None)}], "x": 1.5}


def test_accounts_take_the_same_rule(db: psycopg.Connection) -> None:
    for username in (" ", "\ufeff", "bad\nname"):
        with pytest.raises(AccountError, match="username"):
            check_new_user(username, "long-enough-pw", "admin")
    user_id = create_user(db, " nurse-park\ufeff ", "long-enough-pw", "admin")
    row = db.execute("SELECT username FROM users WHERE id = %s", (user_id,)).fetchone()
    assert row is not None and row[0] == "nurse-park"
