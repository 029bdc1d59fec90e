"""The characters text may hold, and what counts as blank (SPEC.md 7.1, *text*).

protocol/schema.py hard-codes the refused characters, so that a node's verdict never depends
on its Python's Unicode version; these tests recompute the set from ``unicodedata`` over every
code point. When a new Python brings a Unicode version with new format (Cf) characters, they
fail: add the characters to ``_FORBIDDEN``/``_FORBIDDEN_ASTRAL`` and to SPEC.md 7.1.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from protocol.errors import InvalidMessage
from protocol.kinds import Alert, Comment
from protocol.schema import check_text, is_blank

SPEC = Path(__file__).resolve().parents[2] / "SPEC.md"
SURROGATES = range(0xD800, 0xE000)
#: Format characters that text needs: ZWNJ and ZWJ (Indic scripts, emoji sequences).
KEPT_FORMAT = {0x200C, 0x200D}
CONTROLS = {*range(0x00, 0x20), *range(0x7F, 0xA0)} - {0x0A}
LINE_BREAKS = {0x0A, 0x2028, 0x2029}
#: Allowed characters that show nothing, and so count as blank besides white space.
INVISIBLE = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x200C, 0x200D}


def code_points() -> list[int]:
    return [c for c in range(sys.maxunicode + 1) if c not in SURROGATES]


@cache
def format_characters() -> frozenset[int]:
    return frozenset(c for c in code_points() if unicodedata.category(chr(c)) == "Cf")


def refused_by_check_text(multiline: bool) -> set[int]:
    refused = set()
    for c in code_points():
        try:
            check_text(chr(c), "x", 4, multiline)
        except InvalidMessage:
            refused.add(c)
    return refused


def show(code_points: set[int]) -> str:
    return ", ".join(f"U+{c:04X} {unicodedata.name(chr(c), '?')}" for c in sorted(code_points))


@pytest.mark.parametrize("multiline", [False, True], ids=["one-line", "multi-line"])
def test_exactly_controls_and_format_characters_are_refused(multiline: bool) -> None:
    expected = CONTROLS | (format_characters() - KEPT_FORMAT)
    if not multiline:
        expected |= LINE_BREAKS
    refused = refused_by_check_text(multiline)
    version = unicodedata.unidata_version
    assert not expected - refused, f"Unicode {version}: not refused: {show(expected - refused)}"
    assert not refused - expected, f"Unicode {version}: not Cf: {show(refused - expected)}"


def test_refused_in_the_middle_of_text_too() -> None:
    for c in sorted(format_characters() - KEPT_FORMAT):
        with pytest.raises(InvalidMessage, match=f"U\\+{c:04X} not allowed"):
            check_text(f"Crue 🌊 rue de l’Église{chr(c)}, 3 personnes", "x", 200, True)


def test_the_spec_lists_the_refused_format_characters() -> None:
    """SPEC.md 7.1 lists the refused format characters as U+XXXX and U+XXXX–U+XXXX."""
    spec = SPEC.read_text(encoding="utf-8")
    start = spec.index("### 7.1 Common rules")
    section = spec[start : spec.index("\n### ", start + 1)]
    listing = re.search(r"the format characters .*?:(.*?);", section, re.DOTALL)
    assert listing is not None, "SPEC.md 7.1: the list of format characters is missing"
    listed: set[int] = set()
    for first, last in re.findall(r"U\+([0-9A-F]{4,6})(?:–U\+([0-9A-F]{4,6}))?", listing[1]):
        listed.update(range(int(first, 16), int(last or first, 16) + 1))
    assert listed == format_characters() - KEPT_FORMAT


def test_invisible_text_is_refused_in_bodies() -> None:
    for text in ["a\u200bb", "\ufeffCrue", "Cr\u00adue", "a\u2060b", "a\U000e0041b", "a\u180eb"]:
        with pytest.raises(InvalidMessage, match="not allowed"):
            Alert(headline=text)
        with pytest.raises(InvalidMessage, match="not allowed"):
            Comment(text=text)


def test_text_that_needs_zwj_or_zwnj_is_allowed() -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # woman, ZWJ, woman, ZWJ, girl
    hindi = "क्\u200dष"  # a half form: virama then ZWJ
    persian = "می\u200cخواهم"  # ZWNJ between the prefix and the verb
    for text in [family, hindi, persian, "🇫🇷", "🏳️‍🌈", "👍🏽"]:
        Comment(text=text)
        Alert(headline=text)


def test_emoji_tag_sequences_are_refused() -> None:
    """The subdivision flags (England, Scotland, Wales) are spelt with tag characters: the
    price of refusing the tags, which otherwise hide text nobody sees."""
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    with pytest.raises(InvalidMessage, match="U\\+E0067"):
        Comment(text=england)


# --- blank text -------------------------------------------------------------------------------


def test_blank_is_white_space_and_invisible_characters() -> None:
    for c in code_points():
        char = chr(c)
        try:
            check_text(char, "x", 4, True)
        except InvalidMessage:
            continue  # refused anyway
        assert is_blank(char) == (char.isspace() or c in INVISIBLE), f"U+{c:04X}"


@pytest.mark.parametrize(
    "text",
    ["", " ", "\n\n", "  \u3000\xa0", "\u3164", "\u115f\u1160", "\uffa0 \u2800", "\u200d\u200c"],
)
def test_blank_texts(text: str) -> None:
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", " a ", "\u3164x", "\u2801", ".", "🌊", "\u200dé"])
def test_texts_that_are_not_blank(text: str) -> None:
    assert not is_blank(text)


def test_blank_agrees_with_strip_on_white_space() -> None:
    """On white space alone, is_blank is what the kinds' ``not text.strip()`` checks were."""
    for text in ["", " ", "\t\n", "\u3000\xa0\u202f", "a", " a", "\u2028x"]:
        assert is_blank(text) == (not text.strip())
