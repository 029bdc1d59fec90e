"""Canonical CBOR: the one encoding of every signed structure.

Values are restricted to a small data model: unsigned and negative integers (64-bit),
byte strings, UTF-8 text strings, arrays, maps whose keys are integers 0..23, and the booleans.
No floats, no null, no tags, no indefinite lengths. With keys limited to 0..23, RFC 8949's
deterministic ordering (bytewise on encoded keys) and RFC 7049's canonical ordering
(length first) agree, so ``cbor2``'s ``canonical=True`` produces the canonical form.

Decoding untrusted bytes is hardened: size and depth caps, every tag refused, indefinite
lengths and duplicate keys refused, the data model enforced, and the input must be exactly
the canonical encoding of the value it decodes to (checked by re-encoding), so that no two
byte strings mean the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import cbor2

from .errors import DecodeError, NonCanonical, Oversize, Truncated, UsageError

__all__ = ["MAX_DEPTH", "MAX_KEY", "decode_canonical", "encode_canonical"]

#: Deepest nesting of arrays and maps anywhere in an envelope.
MAX_DEPTH = 4
#: Largest map key (keys are small integers, one byte on the wire).
MAX_KEY = 23
_INT_MIN = -(2**64)
_INT_MAX = 2**64 - 1


def _refusal(tag: int) -> Any:
    def refuse(*args: Any) -> NoReturn:  # cbor2 passes (decoder, value)
        raise DecodeError(f"CBOR tag {tag} is not allowed (no tags are)")

    return refuse


class _RefuseEveryTag(Mapping[int, Any]):
    """A ``semantic_decoders`` mapping that claims every tag and refuses it.

    cbor2 consults this mapping before its built-in tag decoders, so no tag (regex,
    shared references, bignums, dates...) is ever interpreted.
    """

    def __getitem__(self, tag: int) -> Any:
        return _refusal(tag)

    def __contains__(self, tag: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


_REFUSE_TAGS = _RefuseEveryTag()


def _refuse_unknown_tag(decoder: Any, tag: Any) -> NoReturn:
    # Unreachable while _REFUSE_TAGS claims every tag; kept as a second lock.
    raise DecodeError("CBOR tags are not allowed")


def _check_model(value: Any, where: str) -> None:
    """Raise unless ``value`` lies in the restricted data model with map keys ascending.

    Ascending keys plus a byte-identical re-encoding (in the decoded order) is exactly the
    canonical form, and cheaper to check than a sorted re-encoding.
    """
    t = type(value)
    if t is dict:
        previous = -1
        for key, item in value.items():
            if type(key) is not int or not 0 <= key <= MAX_KEY:
                raise DecodeError(f"{where}: map key {key!r} is not an integer 0..{MAX_KEY}")
            if key <= previous:
                raise NonCanonical(f"{where}: map keys not in ascending order")
            previous = key
            if type(item) in _CONTAINERS or type(item) not in _SCALARS:
                _check_model(item, f"{where}.{key}")
    elif t is list:
        for i, item in enumerate(value):
            if type(item) in _CONTAINERS or type(item) not in _SCALARS:
                _check_model(item, f"{where}[{i}]")
    elif t is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise DecodeError(f"{where}: integer out of 64-bit range")
    elif t not in _SCALARS:
        raise DecodeError(f"{where}: CBOR type {t.__name__} is not allowed")


_CONTAINERS = frozenset({dict, list})
_SCALARS = frozenset({bytes, str, bool})


def _sort_maps(value: Any) -> Any:
    if type(value) is dict:
        return {key: _sort_maps(value[key]) for key in sorted(value, key=_sort_key)}
    if type(value) is list:
        return [_sort_maps(item) for item in value]
    return value


def _sort_key(key: Any) -> tuple[int, Any]:
    return (0, key) if type(key) is int else (1, repr(key))


def encode_canonical(value: Any) -> bytes:
    """Encode ``value`` (in the restricted data model) canonically, in any key order."""
    value = _sort_maps(value)
    try:
        _check_model(value, "value")
    except DecodeError as exc:
        raise UsageError(f"cannot encode: {exc}") from None
    try:
        return cbor2.dumps(value, canonical=True)
    except (cbor2.CBOREncodeError, UnicodeEncodeError) as exc:
        raise UsageError(f"cannot encode: {exc}") from None


def decode_canonical(data: bytes, *, max_size: int, what: str = "CBOR item") -> Any:
    """Decode one canonical CBOR item filling ``data`` exactly.

    Raises ``Oversize``, ``Truncated``, ``NonCanonical`` or ``DecodeError``; never anything
    else for any input.
    """
    if len(data) > max_size:
        raise Oversize(f"{what}: {len(data)} bytes (max {max_size})")
    if not data:
        raise Truncated(f"{what}: empty")
    try:
        value = cbor2.loads(
            data,
            semantic_decoders=_REFUSE_TAGS,
            tag_hook=_refuse_unknown_tag,
            max_depth=MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except DecodeError:
        raise
    except cbor2.CBORDecodeEOF:
        raise Truncated(f"{what}: ends in the middle of an item") from None
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, DecodeError) else exc
        raise DecodeError(f"{what}: {cause}") from None
    _check_model(value, what)
    if cbor2.dumps(value) != data:
        raise NonCanonical(
            f"{what}: not in canonical form (trailing bytes, non-shortest integer or length, "
            "or unsorted map keys)"
        )
    return value
