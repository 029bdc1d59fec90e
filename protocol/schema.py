"""Declarative field schemas: one dataclass per body, one place for each field's rules.

A body is a frozen dataclass whose fields are declared with :func:`field`, giving the field's
CBOR map key, its default (omitted on the wire; an explicit default is non-canonical) and its
limits. :func:`to_wire` and :func:`from_wire` convert between a body and its CBOR map and
enforce every rule, so a value that exists in memory is always valid.

Supported field types: ``bool``, ``int``, ``str`` (UTF-8, size in bytes), ``bytes`` (fixed
length), an ``IntEnum``, :class:`Point`, a nested schema dataclass, and ``X | None`` of those.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from .errors import InvalidMessage, NonCanonical

__all__ = ["FieldSpec", "Point", "check_text", "field", "from_wire", "is_blank", "to_wire"]

T = TypeVar("T")

#: Characters refused in any text (SPEC.md 7.1): the C0/C1 controls except newline (terminal
#: and handset injection), and every format character (Unicode general category Cf, as of
#: Unicode 14.0) except U+200C ZWNJ and U+200D ZWJ, which Indic scripts and emoji sequences
#: need. Cf holds the bidirectional controls (text that displays differently than it reads)
#: and the invisible characters (zero-width space, word joiner, BOM, soft hyphen, tags...)
#: that make two texts look alike, or a text look empty. Hard-coded, so that what a node
#: refuses does not depend on its Python's Unicode version; tests/protocol/test_text_rules.py
#: checks the list against ``unicodedata``. Newline is allowed in multi-line fields only.
_FORBIDDEN = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f"  # C0 (but newline), DEL, C1; then Cf up to U+FFFF
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
#: Cf beyond U+FFFF, in a class of its own: each range past U+FFFF costs every character of
#: every search a comparison, so only text with such characters is searched for these.
_FORBIDDEN_ASTRAL = re.compile(
    "[\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# One-line fields also refuse newlines, including the Unicode line and paragraph separators.
_FORBIDDEN_LINE = re.compile(f"[{_FORBIDDEN}\n\u2028\u2029]")
_FORBIDDEN_MULTILINE = re.compile(f"[{_FORBIDDEN}]")


@dataclass(frozen=True, slots=True)
class Point:
    """A precise location: latitude and longitude in units of 1e-5 degree (about 1.1 m)."""

    lat_e5: int
    lon_e5: int

    def __post_init__(self) -> None:
        if type(self.lat_e5) is not int or not -9_000_000 <= self.lat_e5 <= 9_000_000:
            raise InvalidMessage(f"point: latitude {self.lat_e5!r} outside -90..90 degrees")
        if type(self.lon_e5) is not int or not -18_000_000 <= self.lon_e5 <= 18_000_000:
            raise InvalidMessage(f"point: longitude {self.lon_e5!r} outside -180..180 degrees")

    @classmethod
    def from_degrees(cls, lat: float, lon: float) -> Point:
        return cls(round(lat * 100_000), round(lon * 100_000))

    @property
    def lat(self) -> float:
        return self.lat_e5 / 100_000

    @property
    def lon(self) -> float:
        return self.lon_e5 / 100_000

    def __str__(self) -> str:
        return f"{self.lat:.5f},{self.lon:.5f}"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """The wire rules of one body field."""

    key: int
    max_bytes: int = 0  # str: maximum UTF-8 size; bytes: exact size (or maximum)
    min_bytes: int | None = None  # bytes: minimum size, when the size may vary
    min_value: int | None = None
    max_value: int | None = None
    multiline: bool = False  # str: newlines allowed
    required: bool = False


def field(
    key: int,
    *,
    default: Any = dataclasses.MISSING,
    max_bytes: int = 0,
    min_bytes: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    multiline: bool = False,
) -> Any:
    """Declare a body field with its map key and rules (see module docstring)."""
    spec = FieldSpec(
        key=key,
        max_bytes=max_bytes,
        min_bytes=min_bytes,
        min_value=min_value,
        max_value=max_value,
        multiline=multiline,
        required=default is dataclasses.MISSING,
    )
    return dataclasses.field(default=default, metadata={"wire": spec})


#: Allowed characters that show nothing on their own, besides white space: the Hangul fillers
#: U+115F, U+1160, U+3164, U+FFA0, the blank Braille pattern U+2800, ZWNJ and ZWJ.
_INVISIBLE = "\u115f\u1160\u3164\uffa0\u2800\u200c\u200d"
_NOT_BLANK = re.compile(f"[^\\s{_INVISIBLE}]")


def is_blank(value: str) -> bool:
    """Whether a text shows nothing: only white space (``str.isspace``) and the invisible
    characters above. For the "not blank" rules of the kinds (SPEC.md 7.1)."""
    return _NOT_BLANK.search(value) is None


def check_text(value: str, name: str, max_bytes: int, multiline: bool) -> None:
    """Enforce the rules every text obeys: size, no control or format (Cf) characters."""
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidMessage(f"{name}: not valid Unicode (lone surrogate)") from None
    if len(encoded) > max_bytes:
        raise InvalidMessage(f"{name}: {len(encoded)} bytes of text (max {max_bytes})")
    bad = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_LINE).search(value)
    # The refused characters past U+FFFF are in planes 1 and 14, whose UTF-8 starts with the
    # byte F0 or F3: a byte search (memchr) spares the regex search to all other text.
    if bad is None and (0xF0 in encoded or 0xF3 in encoded):
        bad = _FORBIDDEN_ASTRAL.search(value)
    if bad:
        raise InvalidMessage(f"{name}: control character U+{ord(bad.group()):04X} not allowed")


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    spec: FieldSpec
    base: Any  # the field's type with ``| None`` removed
    optional: bool
    default: Any


def _compute_fields(cls: Any) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("wire")
        if spec is None:
            continue
        tp = hints[f.name]
        optional = False
        if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            optional = len(args) == 1
            tp = args[0]
        out.append(_Field(f.name, spec, tp, optional, f.default))
    keys = [f.spec.key for f in out]
    assert len(set(keys)) == len(keys), f"{cls.__name__}: duplicate wire keys"
    return tuple(out)


def _compute_by_key(cls: Any) -> dict[int, _Field]:
    return {fd.spec.key: fd for fd in _fields(cls)}


# Schemas are fixed at import time; memoised per class.
_fields: Callable[[Any], tuple[_Field, ...]] = cache(_compute_fields)
_by_key: Callable[[Any], dict[int, _Field]] = cache(_compute_by_key)


def _check_value(fd: _Field, value: Any, where: str) -> Any:
    """Validate one field value; return it converted to its Python type."""
    spec, base = fd.spec, fd.base
    name = f"{where}.{fd.name}"
    if base is bool:
        if type(value) is not bool:
            raise InvalidMessage(f"{name}: expected true or false, got {type(value).__name__}")
        return value
    if isinstance(base, type) and issubclass(base, enum.IntEnum):
        if type(value) is not int and not isinstance(value, base):
            raise InvalidMessage(f"{name}: expected a number, got {type(value).__name__}")
        try:
            return base(value)
        except ValueError:
            raise InvalidMessage(f"{name}: {value} is not a known value") from None
    if base is int:
        if type(value) is not int:
            raise InvalidMessage(f"{name}: expected an integer, got {type(value).__name__}")
        if spec.min_value is not None and value < spec.min_value:
            raise InvalidMessage(f"{name}: {value} is below the minimum {spec.min_value}")
        if spec.max_value is not None and value > spec.max_value:
            raise InvalidMessage(f"{name}: {value} is above the maximum {spec.max_value}")
        return value
    if base is str:
        if type(value) is not str:
            raise InvalidMessage(f"{name}: expected text, got {type(value).__name__}")
        check_text(value, name, spec.max_bytes, spec.multiline)
        return value
    if base is bytes:
        if type(value) is not bytes:
            raise InvalidMessage(f"{name}: expected bytes, got {type(value).__name__}")
        if spec.min_bytes is None and len(value) != spec.max_bytes:
            raise InvalidMessage(f"{name}: {len(value)} bytes (must be {spec.max_bytes})")
        if spec.min_bytes is not None and not spec.min_bytes <= len(value) <= spec.max_bytes:
            raise InvalidMessage(
                f"{name}: {len(value)} bytes (must be {spec.min_bytes}..{spec.max_bytes})"
            )
        return value
    if base is Point:
        if isinstance(value, Point):
            return value
        if type(value) is not list or len(value) != 2 or any(type(v) is not int for v in value):
            raise InvalidMessage(f"{name}: expected [latitude, longitude] as two integers")
        try:
            return Point(value[0], value[1])
        except InvalidMessage as exc:
            raise InvalidMessage(f"{name}: {exc}") from None
    if isinstance(base, type) and dataclasses.is_dataclass(base):
        if isinstance(value, base):
            return value
        if type(value) is not dict:
            raise InvalidMessage(f"{name}: expected a map, got {type(value).__name__}")
        return from_wire(base, value, name)
    raise AssertionError(f"unsupported schema type {base!r}")  # a bug in a body declaration


def _to_plain(fd: _Field, value: Any) -> Any:
    if isinstance(value, Point):
        return [value.lat_e5, value.lon_e5]
    if isinstance(value, enum.IntEnum):
        return int(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_wire(value)
    return value


def from_wire(cls: type[T], data: Mapping[int, Any], where: str = "body") -> T:
    """Build a body from its CBOR map, enforcing every field rule."""
    by_key = _by_key(cls)
    previous = -1
    for key in data:
        # Exact type: a CBOR true or 1.0 as a key must not pass for the integer 1.
        if type(key) is not int or key not in by_key:
            raise InvalidMessage(f"{where}: unknown field {key!r}")
        if key <= previous:
            raise NonCanonical(f"{where}: fields not in ascending key order")
        previous = key
    values: dict[str, Any] = {}
    for key, fd in by_key.items():
        if key in data:
            value = _check_value(fd, data[key], where)
            if not fd.spec.required and value == fd.default:
                raise NonCanonical(f"{where}.{fd.name}: default value must be omitted")
            values[fd.name] = value
        elif fd.spec.required:
            raise InvalidMessage(f"{where}: required field {fd.name} is missing")
    obj = cls.__new__(cls)
    for f in _fields(cls):
        object.__setattr__(obj, f.name, values.get(f.name, f.default))
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except InvalidMessage as exc:
            raise InvalidMessage(f"{where}: {exc}") from None
    return obj


def validate_fields(obj: Any, where: str) -> None:
    """Check every field of a body built in memory (used by ``__post_init__``)."""
    for fd in _fields(type(obj)):
        value = getattr(obj, fd.name)
        if value is None and (fd.optional or fd.default is None):
            continue
        converted = _check_value(fd, value, where)
        if converted is not value:  # e.g. a plain int given for an enum field
            object.__setattr__(obj, fd.name, converted)


def to_wire(obj: Any) -> dict[int, Any]:
    """The CBOR map of a body: defaults omitted, keys as small integers."""
    out: dict[int, Any] = {}
    for fd in _fields(type(obj)):
        value = getattr(obj, fd.name)
        if not fd.spec.required and value == fd.default:
            continue
        out[fd.spec.key] = _to_plain(fd, value)
    return out
