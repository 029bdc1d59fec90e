"""Plain JSON views of envelopes, for the CLI's ``--json``, the control socket and the app.

Enumerations become lower-case names ("help_request", "water"), bytes become hex, points
become ``[latitude, longitude]`` in degrees, times stay unix seconds.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

from .envelope import Envelope
from .errors import EntraideError, UsageError
from .kinds import BODY_TYPES, Kind
from .schema import Point

__all__ = ["body_from_json", "body_to_json", "envelope_to_json", "value_to_json"]


def value_to_json(value: Any) -> Any:
    """One field value as JSON."""
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Point):
        return [value.lat, value.lon]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return body_to_json(value)
    return value


def body_to_json(body: Any) -> dict[str, Any]:
    """Every field of a body (defaults included), by name."""
    return {
        f.name: value_to_json(getattr(body, f.name))
        for f in dataclasses.fields(body)
        if getattr(body, f.name) is not None
    }


def envelope_to_json(env: Envelope) -> dict[str, Any]:
    return {
        "id": env.id.hex(),
        "kind": env.kind.name.lower(),
        "author": env.author.hex(),
        "created": env.created,
        "expires": env.expires,
        "zone": env.zone.hex(),
        "refs": [r.hex() for r in env.refs],
        "body": body_to_json(env.body),
        "size": len(env.raw),
    }


def body_from_json(kind: str, data: Any) -> Any:
    """The body of kind ``kind`` (its lower-case name, e.g. ``"help_request"``) described by
    ``data`` in the form :func:`body_to_json` produces. Every field rule is checked; what a
    local client got wrong is a :class:`~protocol.errors.UsageError`."""
    try:
        cls = BODY_TYPES[Kind[kind.upper()]]
    except (KeyError, AttributeError):
        names = ", ".join(k.name.lower() for k in BODY_TYPES)
        raise UsageError(f"unknown message kind {kind!r}; expected one of: {names}") from None
    return _dataclass_from_json(cls, data, kind)


def _dataclass_from_json(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if "wire" in f.metadata}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    values = {
        name: _value_from_json(_without_none(hints[name]), value, f"{where}.{name}")
        for name, value in data.items()
        if value is not None
    }
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise UsageError(f"{where}: {exc}") from None
    except EntraideError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _without_none(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _value_from_json(tp: Any, value: Any, where: str) -> Any:
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        if isinstance(value, str):
            try:
                return tp[value.upper()]
            except KeyError:
                names = ", ".join(m.name.lower() for m in tp)
                raise UsageError(f"{where}: {value!r} is not one of {names}") from None
        return value  # an integer: checked by the body
    if tp is bytes:
        if not isinstance(value, str):
            raise UsageError(f"{where}: expected hexadecimal text")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise UsageError(f"{where}: {value!r} is not hexadecimal") from None
    if tp is Point:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            raise UsageError(f"{where}: expected [latitude, longitude] in degrees")
        return Point.from_degrees(float(value[0]), float(value[1]))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_from_json(tp, value, where)
    return value
