"""The canonical CBOR encoding and its hardened decoder (SPEC.md section 4)."""

from __future__ import annotations

import pytest

from protocol.encoding import MAX_DEPTH, MAX_KEY, decode_canonical, encode_canonical
from protocol.errors import (
    DecodeError,
    NonCanonical,
    Oversize,
    PeerError,
    Truncated,
    UsageError,
)


def dec(hex_or_bytes: str | bytes, max_size: int = 2048) -> object:
    data = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
    return decode_canonical(data, max_size=max_size)


def raises_exactly(cls: type[Exception], hex_or_bytes: str | bytes) -> Exception:
    with pytest.raises(PeerError) as info:
        dec(hex_or_bytes)
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    return info.value


# --- the examples of SPEC.md 4.2 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hex_"),
    [
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (255, "18ff"),
        (256, "190100"),
        (65535, "19ffff"),
        (65536, "1a00010000"),
        (2**32 - 1, "1affffffff"),
        (2**32, "1b0000000100000000"),
        (2**64 - 1, "1bffffffffffffffff"),
        (-1, "20"),
        (-24, "37"),
        (-25, "3818"),
        (-(2**64), "3bffffffffffffffff"),
        (b"", "40"),
        (b"\x01\x02\x03\x04", "4401020304"),
        (bytes(32), "5820" + "00" * 32),
        ("", "60"),
        ("é", "62c3a9"),
        ("a" * 24, "7818" + "61" * 24),
        ([], "80"),
        ({}, "a0"),
        (True, "f5"),
        (False, "f4"),
        ({0: 1, 1: False}, "a2000101f4"),
        ([1, [2, [3]]], "820182028103"),
        ({23: b""}, "a11740"),
    ],
)
def test_canonical_examples_round_trip(value: object, hex_: str) -> None:
    assert encode_canonical(value).hex() == hex_
    decoded = dec(hex_)
    assert decoded == value
    assert type(decoded) is type(value)


def test_64_bit_integers_are_fine_in_both_directions() -> None:
    for value in (2**64 - 1, -(2**64), 2**63, -(2**63) - 1):
        assert dec(encode_canonical(value)) == value


# --- every rejection class -----------------------------------------------------------------


def test_oversize_is_checked_before_decoding() -> None:
    exc = raises_exactly(Oversize, b"\x00" * 2049)
    assert "2049 bytes (max 2048)" in str(exc)
    with pytest.raises(Oversize):
        decode_canonical(b"\x40" * 11, max_size=10)
    assert decode_canonical(b"\x4a" + bytes(10), max_size=11) == bytes(10)


@pytest.mark.parametrize(
    "hex_",
    [
        "",  # nothing at all
        "a1",  # a map without its entry
        "a100",  # a map entry without its value
        "62c3",  # a text string cut in its UTF-8
        "5820" + "00" * 31,  # 31 of 32 bytes
        "19ff",  # a 2-byte integer with 1 byte
        "1b00000000",
        "9bffffffffffffffff",  # an array claiming 2^64-1 items
        "7bffffffffffffffff",  # a text claiming 2^64-1 bytes
        "bb7fffffffffffffff",  # a map claiming 2^63-1 entries
    ],
)
def test_truncated(hex_: str) -> None:
    raises_exactly(Truncated, hex_)


@pytest.mark.parametrize(
    ("hex_", "why"),
    [
        ("1800", "0 in a 1-byte argument"),
        ("1817", "23 in a 1-byte argument"),
        ("190018", "24 in a 2-byte argument"),
        ("1a0000ffff", "65535 in a 4-byte argument"),
        ("1b00000000ffffffff", "2^32-1 in an 8-byte argument"),
        ("3800", "-1 in a 1-byte argument"),
        ("5800", "empty byte string with a 1-byte length"),
        ("780161", "1-byte text with a 1-byte length"),
        ("9800", "empty array with a 1-byte length"),
        ("b800", "empty map with a 1-byte length"),
        ("a1180000", "map key 0 in a 1-byte argument"),
        ("0000", "trailing byte"),
        ("a0a0", "two items"),
        ("a201000000", "keys 1, 0"),
        ("a3000102010101", "keys 0, 2, 1"),
        ("8101" + "00", "trailing byte after an array"),
    ],
)
def test_non_canonical(hex_: str, why: str) -> None:
    raises_exactly(NonCanonical, hex_)


@pytest.mark.parametrize(
    ("hex_", "why"),
    [
        ("a200000000", "duplicate key, same value"),
        ("a200000001", "duplicate key, other value"),
        ("bf0001ff", "indefinite-length map"),
        ("9f01ff", "indefinite-length array"),
        ("5f4101ff", "indefinite-length byte string"),
        ("7f6161ff", "indefinite-length text string"),
        ("ff", "a stray break"),
        ("1c", "reserved additional information 28"),
        ("1d", "reserved additional information 29"),
        ("1e", "reserved additional information 30"),
        ("62c328", "invalid UTF-8"),
        ("63eda080", "an encoded surrogate"),
        ("f93c00", "half float 1.0"),
        ("fa3f800000", "single float 1.0"),
        ("fb3ff0000000000000", "double float 1.0"),
        ("f97e00", "NaN"),
        ("f6", "null"),
        ("f7", "undefined"),
        ("e0", "simple value 0"),
        ("f820", "simple value 32"),
        ("f810", "badly encoded simple value"),
        ("a11818" + "00", "map key 24"),
        ("a12000", "negative map key"),
        ("a1616100", "text map key"),
        ("a1410000", "byte-string map key"),
        ("a1f500", "boolean map key"),
        ("a1810000", "array map key"),
        ("a1a1000000", "map map key"),
    ],
)
def test_malformed_or_outside_the_data_model(hex_: str, why: str) -> None:
    raises_exactly(DecodeError, hex_)


@pytest.mark.parametrize(
    ("hex_", "tag"),
    [
        ("c11a6a18a500", "1: epoch time"),
        ("c074323032362d30352d32385432303a32363a34305a", "0: date string"),
        ("c249010000000000000000", "2: bignum 2^64"),
        ("c349010000000000000000", "3: negative bignum"),
        ("c4820102", "4: decimal fraction"),
        ("d81c80", "28: shareable"),
        ("d81d00", "29: shared reference"),
        ("d8236161", "35: regular expression"),
        ("d825" + "50" + "00" * 16, "37: UUID"),
        ("d9010280", "258: set"),
        ("d9d9f700", "55799: self-described CBOR"),
        ("dbffffffffffffffff00", "2^64-1: the largest tag"),
        ("81c100", "a tag inside an array"),
        ("a100c100", "a tag as a map value"),
    ],
)
def test_every_tag_is_refused(hex_: str, tag: str) -> None:
    raises_exactly(DecodeError, hex_)


def test_shared_reference_bomb_is_refused_cheaply() -> None:
    """The 'billion laughs' of CBOR: shared references expanding exponentially."""
    # Item i is a shareable array holding two references to item i-1: 2^19 leaves.
    items = [bytes.fromhex("d81c8100")]
    for i in range(1, 20):
        ref = bytes.fromhex("d81d") + bytes([i - 1])
        items.append(bytes.fromhex("d81c82") + ref + ref)
    bomb = bytes([0x80 | len(items)]) + b"".join(items)
    assert len(bomb) < 200
    raises_exactly(DecodeError, bomb)


def test_regex_tag_is_never_compiled() -> None:
    """A catastrophic-backtracking pattern behind tag 35 must not even be looked at."""
    pattern = "(a+)+$"
    raw = bytes.fromhex("d823") + encode_canonical(pattern)
    raises_exactly(DecodeError, raw)


def test_bignum_is_refused_even_when_small() -> None:
    raises_exactly(DecodeError, "c24101")  # bignum 1


# --- depth ---------------------------------------------------------------------------------


def test_max_depth_is_four_levels() -> None:
    assert MAX_DEPTH == 4
    assert dec("81818181" + "00") == [[[[0]]]]
    assert dec("a100a100a1008100") == {0: {0: {0: [0]}}}
    raises_exactly(DecodeError, "8181818181" + "00")
    raises_exactly(DecodeError, "a100a100a100a1008100")


@pytest.mark.parametrize("depth", [5, 10, 100, 1000, 2000])
def test_big_depth_is_refused_without_recursion_error(depth: int) -> None:
    for data in (b"\x81" * depth + b"\x00", b"\xa1\x00" * depth + b"\x00"):
        with pytest.raises(DecodeError, match="depth") as info:
            decode_canonical(data, max_size=len(data))
        assert type(info.value) is DecodeError


def test_depth_bomb_at_the_size_cap() -> None:
    raises_exactly(DecodeError, b"\x81" * 2047 + b"\x00")
    raises_exactly(DecodeError, b"\x9f" * 2048)


# --- the encoder ---------------------------------------------------------------------------


def test_keys_up_to_23_are_allowed() -> None:
    assert MAX_KEY == 23
    value = {k: k for k in range(24)}
    assert dec(encode_canonical(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        None,
        {24: 0},
        {-1: 0},
        {"a": 0},
        {True: 0},
        2**64,
        -(2**64) - 1,
        bytearray(b"x"),
        (1, 2),
        {0: {0: 1.5}},
        [[None]],
    ],
)
def test_encoder_refuses_values_outside_the_model(value: object) -> None:
    with pytest.raises(UsageError, match="cannot encode"):
        encode_canonical(value)


def test_encoder_sorts_map_keys() -> None:
    """A Python dict's insertion order means nothing: the encoder sorts the keys.

    (Until e1bc077 the model check refused unsorted dicts, which broke ``seal`` for every
    non-default lifetime.)
    """
    assert encode_canonical({1: 0, 0: 0}).hex() == "a200000100"
    assert encode_canonical({0: {5: 1, 2: 3}}).hex() == "a100a202030501"


def test_encoder_refuses_text_that_is_not_unicode_scalar_values() -> None:
    """BUG (protocol/encoding.py): a lone surrogate escapes as UnicodeEncodeError."""
    with pytest.raises(UsageError):
        encode_canonical("\ud800")
    with pytest.raises(UsageError):
        encode_canonical({0: ["ok", "\udcff"]})


def test_decoded_types_are_exact() -> None:
    value = dec("a4" + "00f5" + "0101" + "0240" + "0360")
    assert value == {0: True, 1: 1, 2: b"", 3: ""}
    assert [type(v) for v in value.values()] == [bool, int, bytes, str]


def test_error_messages_name_the_thing() -> None:
    with pytest.raises(NonCanonical, match=r"^envelope: "):
        decode_canonical(bytes.fromhex("1800"), max_size=10, what="envelope")
    with pytest.raises(DecodeError, match=r"^bundle: .*tag"):
        decode_canonical(bytes.fromhex("c100"), max_size=10, what="bundle")
    with pytest.raises(DecodeError, match=r"value\.0: CBOR type float"):
        decode_canonical(bytes.fromhex("a100f93c00"), max_size=10, what="value")


@pytest.mark.parametrize(
    ("hex_item", "tag"),
    [("c11a5f5e1000", 1), ("c24101", 2), ("d8236161", 35), ("d81c8100", 28), ("d9270f00", 9999)],
)
def test_a_refused_tag_is_named(hex_item: str, tag: int) -> None:
    with pytest.raises(DecodeError, match=rf"CBOR tag {tag} is not allowed"):
        decode_canonical(bytes.fromhex(hex_item), max_size=100)
