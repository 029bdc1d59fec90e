"""Plain JSON views of envelopes, for the CLI's ``--json``, the control socket and the app.

Enumerations become lower-case names ("help_request", "water"), bytes become hex, points
become ``[latitude, longitude]`` in degrees, times stay unix seconds.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from .envelope import Envelope
from .schema import Point

__all__ = ["body_to_json", "envelope_to_json", "value_to_json"]


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
