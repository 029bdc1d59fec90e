"""Compose forms: which fields each message kind asks for, and how typed text becomes a body.

Pure (no Textual): :func:`form_fields` lists the fields of a kind from its body dataclass
(:mod:`protocol.kinds`), :func:`parse_form` turns what the user typed into a valid body or
into one error per field, in the user's language. The body's own rules run last, so a form
never lets through what the node would refuse.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from protocol import kinds as k
from protocol.errors import EntraideError, InvalidMessage
from protocol.i18n import error_text, label, tr
from protocol.schema import FieldSpec, Point, check_text

from .text import duration

FieldType = Literal["enum", "bool", "int", "text", "multiline", "point", "key", "time", "duration"]

#: The kinds a neighbour writes from the app, in menu order.
COMPOSABLE: tuple[k.Kind, ...] = (
    k.Kind.CHECKIN,
    k.Kind.HELP_REQUEST,
    k.Kind.HELP_OFFER,
    k.Kind.CLAIM,
    k.Kind.RESOLUTION,
    k.Kind.COMMENT,
    k.Kind.INCIDENT,
    k.Kind.RESOURCE_POINT,
    k.Kind.ALERT,
    k.Kind.TIP,
    k.Kind.RETRACTION,
)

#: Kinds that refer to one earlier message (the form asks for it unless it is given).
TARGETED = frozenset(
    {
        k.Kind.CLAIM,
        k.Kind.RESOLUTION,
        k.Kind.COMMENT,
        k.Kind.RETRACTION,
        k.Kind.CORROBORATION,
        k.Kind.MARK,
    }
)

#: Fields the app never asks for: an official mirror's source (bridges only), its origin,
#: and the handset a message was relayed for (radio gateways only).
_HIDDEN = frozenset({"origin", "official", "via"})

#: Fields given in minutes but typed as a duration ("30m", "2h").
_DURATIONS = frozenset({"eta_minutes"})
#: Fields given in unix seconds but typed as a local date and time.
_TIMES = frozenset({"drill_start", "drill_end"})

#: Request needs: the rest are things one offers.
_REQUEST_NEEDS = tuple(n for n in k.Need if n <= k.Need.OTHER)

#: The "lifetime" pseudo-field: how long the message lasts (the kind's default if empty).
LIFETIME = "lifetime"

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|j|w|sem)?\s*$", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440, "j": 1440, "w": 10080, "sem": 10080}


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    type: FieldType
    required: bool
    default: Any
    spec: FieldSpec | None = None
    #: For enumerations: the members offered, in order.
    choices: tuple[enum.IntEnum, ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """A message the user wrote and the form checked; the app signs nothing itself: the node
    does (``post``)."""

    body: k.Body
    refs: tuple[bytes, ...] = ()
    #: Minutes; None for the kind's default.
    lifetime: int | None = None

    @property
    def kind(self) -> k.Kind:
        return self.body.KIND


def _base_type(tp: Any) -> tuple[Any, bool]:
    """The type without ``| None``, and whether None was allowed."""
    args = typing.get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def form_fields(kind: k.Kind) -> list[FormField]:
    """The fields a compose form shows for ``kind``, in declaration order, then lifetime
    for the kinds whose lifetime is the user's choice."""
    body_cls = k.BODY_TYPES[kind]
    hints = typing.get_type_hints(body_cls)
    out = []
    for f in dataclasses.fields(body_cls):
        spec = f.metadata.get("wire")
        if spec is None or f.name in _HIDDEN:
            continue
        base, _optional = _base_type(hints[f.name])
        default = None if f.default is dataclasses.MISSING else f.default
        required = spec.required
        field_type: FieldType
        choices: tuple[enum.IntEnum, ...] = ()
        if isinstance(base, type) and issubclass(base, enum.IntEnum):
            field_type = "enum"
            asked = kind is k.Kind.HELP_REQUEST and f.name == "need"
            choices = _REQUEST_NEEDS if asked else tuple(base)
        elif base is bool:
            field_type = "bool"
        elif f.name in _DURATIONS:
            field_type = "duration"
        elif f.name in _TIMES:
            field_type = "time"
        elif base is int:
            field_type = "int"
        elif base is str:
            field_type = "multiline" if spec.multiline else "text"
        elif base is Point:
            field_type = "point"
        elif base is bytes:
            field_type = "key"
        else:
            continue  # a nested structure: not typed by hand
        out.append(FormField(f.name, field_type, required, default, spec, choices))
    if kind not in _COMPUTED_LIFETIME:
        out.append(FormField(LIFETIME, "duration", False, None))
    return out


#: Kinds whose lifetime the app computes so that they outlive what they refer to.
_COMPUTED_LIFETIME = frozenset({k.Kind.CLAIM, k.Kind.RESOLUTION, k.Kind.RETRACTION, k.Kind.CHECKIN})


def field_label(name: str, lang: str) -> str:
    """What a form calls a body field."""
    labels = {
        "headline": tr("headline", lang),
        "severity": tr("severity", lang),
        "urgency": tr("urgency", lang),
        "certainty": tr("certainty", lang),
        "category": tr("category", lang),
        "instruction": tr("instruction", lang),
        "area": tr("area", lang),
        "exercise": tr("exercise", lang),
        "all_clear": tr("all clear", lang),
        "need": tr("need", lang),
        "people": tr("people", lang),
        "vulnerable": tr("vulnerable person", lang),
        "place": tr("place", lang),
        "point": tr("position", lang),
        "text": tr("text", lang),
        "what": tr("offer", lang),
        "standing": tr("standing offer", lang),
        "capacity": tr("capacity", lang),
        "eta_minutes": tr("expected in", lang),
        "outcome": tr("outcome", lang),
        "status": tr("status", lang),
        "subject_key": tr("household visited", lang),
        "subject_name": tr("person visited", lang),
        "type": tr("type", lang),
        "name": tr("name", lang),
        "open": tr("open", lang),
        "hours": tr("opening hours", lang),
        "title": tr("title", lang),
        "language": tr("language", lang),
        "drill_start": tr("drill starts", lang),
        "drill_end": tr("drill ends", lang),
        "reason": tr("reason", lang),
        LIFETIME: tr("lasts", lang),
    }
    return labels.get(name, name.replace("_", " "))


def field_hint(form_field: FormField, lang: str) -> str:
    """The placeholder of a text field: the expected form, or the default."""
    match form_field.type:
        case "point":
            return tr("latitude,longitude, e.g. {example}", lang, example="43.6045,1.4440")
        case "key":
            return tr("64 hex digits", lang)
        case "time":
            return tr("e.g. {example}", lang, example="2026-11-22T14:00")
        case "duration":
            return tr("e.g. 30m, 4h, 3d", lang)
        case "int":
            return str(form_field.default) if form_field.default is not None else ""
    return ""


def values_from_body(body: k.Body) -> dict[str, Any]:
    """A form's values for an existing message (to write a new version of it)."""
    values: dict[str, Any] = {}
    for form_field in form_fields(body.KIND):
        value = getattr(body, form_field.name, None)
        if value is None or form_field.type in ("enum", "bool"):
            values[form_field.name] = value
        elif form_field.type == "key":
            values[form_field.name] = value.hex()
        elif form_field.type == "time":
            values[form_field.name] = (
                datetime.fromtimestamp(value).strftime("%Y-%m-%dT%H:%M") if value else ""
            )
        elif form_field.type in ("int", "duration") and value == form_field.default:
            values[form_field.name] = ""
        else:
            values[form_field.name] = str(value)
    return values


# --- parsing ----------------------------------------------------------------------------


class FieldError(Exception):
    """What is wrong with one field, already in the user's language."""


def parse_duration(text: str, lang: str) -> int:
    match = _DURATION.match(text)
    if not match:
        raise FieldError(
            tr('"{text}" is not a duration: use minutes, or 30m, 4h, 3d, 1w', lang, text=text)
        )
    return int(match.group(1)) * _UNIT_MINUTES[(match.group(2) or "m").lower()]


def _parse_int(text: str, spec: FieldSpec, lang: str) -> int:
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()):
        raise FieldError(tr('"{text}" is not a whole number', lang, text=text))
    return _in_range(int(stripped), spec, lang)


def _in_range(value: int, spec: FieldSpec, lang: str) -> int:
    low, high = spec.min_value, spec.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        raise FieldError(
            tr("{value} is out of range: from {min} to {max}", lang, value=value, min=low, max=high)
        )
    return value


def _parse_text(text: str, spec: FieldSpec, required: bool, lang: str) -> str:
    if required and not text.strip():
        raise FieldError(tr("must not be empty", lang))
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > spec.max_bytes:
        raise FieldError(
            tr(
                "too long: {size} bytes, at most {max} (an accented letter counts as 2)",
                lang,
                size=size,
                max=spec.max_bytes,
            )
        )
    try:
        check_text(text, "text", spec.max_bytes, spec.multiline)
    except InvalidMessage:
        raise FieldError(tr("contains a control character, which is not allowed", lang)) from None
    return text


def _parse_point(text: str, lang: str) -> Point:
    try:
        lat_text, lon_text = text.split(",")
        return Point.from_degrees(float(lat_text), float(lon_text))
    except (ValueError, OverflowError, InvalidMessage):
        raise FieldError(
            tr(
                '"{text}" is not a position: use LATITUDE,LONGITUDE in degrees with a '
                "decimal point, e.g. 43.6045,1.4440",
                lang,
                text=text,
            )
        ) from None


def _parse_key(text: str, lang: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise FieldError(
            tr('"{text}" is not a public key: give its 64 hex digits', lang, text=text)
        )
    return key


def _parse_time(text: str, lang: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(
            tr('"{text}" is not a date: use the form 2026-11-22T14:00', lang, text=text)
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as the user means it
    return int(moment.timestamp())


def _parse_value(form_field: FormField, raw: Any, lang: str) -> Any:
    """One field's value, or ``dataclasses.MISSING`` when left empty (its default applies)."""
    kind = form_field.type
    if kind == "bool":
        return bool(raw)
    if kind == "enum":
        if raw is None:
            if form_field.required:
                raise FieldError(tr("choose one", lang))
            return dataclasses.MISSING
        return raw
    text = "" if raw is None else str(raw)
    if kind in ("text", "multiline"):
        assert form_field.spec is not None
        return _parse_text(text, form_field.spec, form_field.required, lang)
    if not text.strip():
        if form_field.required:
            raise FieldError(tr("must not be empty", lang))
        return dataclasses.MISSING
    if kind == "int":
        assert form_field.spec is not None
        return _parse_int(text, form_field.spec, lang)
    if kind == "duration":
        minutes = parse_duration(text, lang)
        if form_field.spec is not None:
            return _in_range(minutes, form_field.spec, lang)
        if minutes < 1:
            raise FieldError(tr("a lifetime is at least 1 minute", lang))
        return minutes
    if kind == "point":
        return _parse_point(text, lang)
    if kind == "key":
        return _parse_key(text, lang)
    if kind == "time":
        return _parse_time(text, lang)
    raise AssertionError(kind)


@dataclass(frozen=True, slots=True)
class FormResult:
    draft: Draft | None
    #: One message per field name; ``""`` holds what concerns the whole message.
    errors: Mapping[str, str]


def parse_form(
    kind: k.Kind,
    values: Mapping[str, Any],
    lang: str,
    *,
    refs: tuple[bytes, ...] = (),
    lifetime: int | None = None,
) -> FormResult:
    """Check what the user entered (``values``: text for text fields, a bool for check
    boxes, a member or None for choices) and build the message."""
    errors: dict[str, str] = {}
    body_values: dict[str, Any] = {}
    for form_field in form_fields(kind):
        try:
            value = _parse_value(form_field, values.get(form_field.name), lang)
        except FieldError as exc:
            errors[form_field.name] = str(exc)
            continue
        if value is dataclasses.MISSING:
            continue
        if form_field.name == LIFETIME:
            lifetime = value
        else:
            body_values[form_field.name] = value
    if kind is k.Kind.TIP and errors.keys().isdisjoint(_TIMES):
        start, end = body_values.get("drill_start", 0), body_values.get("drill_end", 0)
        if start and end and end < start:
            errors["drill_end"] = tr("the exercise ends before it starts", lang)
    rules = k.KIND_RULES[kind]
    if lifetime is not None and lifetime > rules.max_lifetime and LIFETIME not in errors:
        errors[LIFETIME] = tr(
            'a message of kind "{kind}" lasts at most {max}',
            lang,
            kind=label(kind, lang),
            max=duration(rules.max_lifetime, lang),
        )
    if errors:
        return FormResult(None, errors)
    try:
        body = k.BODY_TYPES[kind](**body_values)
    except EntraideError as exc:  # a rule across fields
        return FormResult(None, {"": error_text(exc, lang)})
    return FormResult(Draft(body, refs, lifetime), {})
