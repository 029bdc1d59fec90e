"""The ``entraide`` command line.

Every command works on the node's home directory (``--home``, ``$ENTRAIDE_HOME`` or the
platform's user data directory). Output is for people by default and JSON with ``--json``.
Exit codes are documented in :data:`EXIT_CODES` and in ``entraide --help``.

The options common to every command (``--home``, ``--json``, ``--lang``) are accepted before
or after the command name: the subcommands' copies default to ``argparse.SUPPRESS``, so they
never overwrite a value given earlier on the line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from protocol import kinds as k
from protocol.bundle import MAGIC, encode_bundle, iter_bundle
from protocol.envelope import Envelope, Policy, seal
from protocol.errors import EntraideError, InvalidMessage, LocalError, PeerError, UsageError
from protocol.i18n import enum_title, error_text, label, parse_label, tr
from protocol.jsonview import envelope_to_json
from protocol.schema import FieldSpec, Point, check_text

from . import render
from .config import (
    NAME_MAX,
    Config,
    ConfigError,
    NotInitialised,
    ZoneSettings,
    default_language,
    ensure_home,
    load_config,
    new_zone_id,
    resolve_home,
    save_config,
)
from .fsutil import atomic_write
from .identity import Identity, KeystoreError, NoIdentity, create_identity, load_identity
from .store import Store, StoreError

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_REJECTED = 4
EXIT_NOT_FOUND = 5

#: What each exit code means (also in ``entraide --help``).
EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_BUG: "internal error (a bug: please report it)",
    EXIT_USAGE: "bad usage (wrong option or value, or a request refused)",
    EXIT_SETUP: "node not set up or unusable (run `entraide init`)",
    EXIT_REJECTED: "input rejected (a message or a bundle file)",
    EXIT_NOT_FOUND: "not found",
}

STORE_FILE = "store.sqlite3"

_T = TypeVar("_T")


class NotFound(LocalError):
    """No message matches what the user asked for."""

    code = "not-found"


class BadBundle(PeerError):
    """A file given to ``entraide import`` is not a bundle at all."""

    code = "not-a-bundle"


@dataclass
class Context:
    """What every command needs: where the node lives, how to talk, what time it is."""

    home: Path
    lang: str
    as_json: bool
    out: TextIO
    err: TextIO
    now: int

    def config(self) -> Config:
        """The node's configuration; a node never set up is told to run ``entraide init``."""
        try:
            return load_config(self.home)
        except NotInitialised:
            raise NotInitialised(
                tr(
                    "no node is set up in {home} yet: run `entraide init` first "
                    "(or give the right --home)",
                    self.lang,
                    home=str(self.home),
                )
            ) from None

    def identity(self) -> Identity:
        try:
            return load_identity(self.home)
        except NoIdentity:
            raise NoIdentity(
                tr(
                    "this node has no household identity in {home}: run `entraide init` first",
                    self.lang,
                    home=str(self.home),
                )
            ) from None

    def open_store(self) -> Store:
        return Store.open(self.home / STORE_FILE)

    def policy(self, config: Config) -> Policy:
        return Policy(
            bridge_keys=frozenset(config.zone.bridge_keys),
            max_skew=config.zone.max_clock_skew_s,
            zone=config.zone.zone_id,
        )

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def emit_json(self, value: Any, file: TextIO | None = None) -> None:
        stream = file or self.out
        json.dump(value, stream, ensure_ascii=False, indent=2)
        stream.write("\n")


# ---------------------------------------------------------------- argument types
# Each parser takes the text and the language of its error message, and raises UsageError;
# _arg_type turns that into the ArgumentTypeError argparse reports as "argument --x: ...".


def _arg_type(parse: Callable[[str, str], _T], lang: str, name: str) -> Callable[[str], _T]:
    def convert(text: str) -> _T:
        try:
            return parse(text, lang)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def _enum_parser(
    enum_cls: type[enum.IntEnum], members: Collection[Any] | None = None
) -> Callable[[str, str], Any]:
    def parse(text: str, lang: str) -> Any:
        value = parse_label(enum_cls, text, lang)
        if members is not None and value not in members:
            raise UsageError(
                tr(
                    '"{value}" can be offered but not requested; accepted values: {choices}',
                    lang,
                    value=label(value, lang),
                    choices=", ".join(label(m, lang) for m in members),
                )
            )
        return value

    return parse


_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|j|w|sem)?\s*$", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440, "j": 1440, "w": 10080, "sem": 10080}


def parse_duration_minutes(text: str, lang: str = "en") -> int:
    """'90', '90m', '4h', '3d' (or '3j'), '1w' (or '1sem') → minutes."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(
            tr('"{text}" is not a duration: use minutes, or 30m, 4h, 3d, 1w', lang, text=text)
        )
    return int(match.group(1)) * _UNIT_MINUTES[(match.group(2) or "m").lower()]


def parse_lifetime(text: str, lang: str = "en") -> int:
    minutes = parse_duration_minutes(text, lang)
    if minutes < 1:
        raise UsageError(tr("a lifetime is at least 1 minute", lang))
    return minutes


def parse_point(text: str, lang: str = "en") -> Point:
    try:
        lat_text, lon_text = text.split(",")
        return Point.from_degrees(float(lat_text), float(lon_text))
    except (ValueError, InvalidMessage):
        raise UsageError(
            tr(
                '"{text}" is not a position: use LATITUDE,LONGITUDE in degrees with a '
                "decimal point, e.g. 43.6045,1.4440",
                lang,
                text=text,
            )
        ) from None


def parse_key(text: str, lang: str = "en") -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise UsageError(
            tr('"{text}" is not a public key: give its 64 hex digits', lang, text=text)
        )
    return key


def parse_time(text: str, lang: str = "en") -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            tr('"{text}" is not a date: use the form 2026-11-22T14:00', lang, text=text)
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as the user means it
    return int(moment.timestamp())


def parse_zone_id(text: str, lang: str = "en") -> bytes:
    value = text.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{8}", value):
        raise UsageError(
            tr('"{text}" is not a zone id: 8 hex digits, like 3f2a9c01', lang, text=text)
        )
    return bytes.fromhex(value)


def parse_zone_name(text: str, lang: str = "en") -> str:
    if not text.strip() or len(text) > NAME_MAX or not text.isprintable():
        raise UsageError(tr("a zone name is 1 to {max} characters on one line", lang, max=NAME_MAX))
    return text


def parse_peer(text: str, lang: str = "en") -> str:
    if not text.startswith("/"):
        raise UsageError(
            tr(
                '"{text}" is not a peer address: it starts with "/", '
                "like /ip4/192.168.1.10/tcp/4001",
                lang,
                text=text,
            )
        )
    return text


def _spec(body_cls: type[Any], name: str) -> FieldSpec:
    """The wire rules of a body field (limits the CLI checks before anything is signed)."""
    for f in dataclasses.fields(body_cls):
        if f.name == name:
            spec = f.metadata["wire"]
            assert isinstance(spec, FieldSpec)
            return spec
    raise AssertionError(f"{body_cls.__name__} has no field {name}")


def _text_parser(
    body_cls: type[Any], name: str, *, required: bool = False
) -> Callable[[str, str], str]:
    """A text checked against the limits of ``body_cls.name``: size in bytes, no control
    characters, and not blank if ``required``."""
    spec = _spec(body_cls, name)

    def parse(text: str, lang: str) -> str:
        size = len(text.encode("utf-8"))
        if size > spec.max_bytes:
            raise UsageError(
                tr(
                    "too long: {size} bytes, at most {max} (an accented letter counts as 2)",
                    lang,
                    size=size,
                    max=spec.max_bytes,
                )
            )
        if required and not text.strip():
            raise UsageError(tr("must not be empty", lang))
        try:
            check_text(text, name, spec.max_bytes, spec.multiline)
        except InvalidMessage:
            raise UsageError(
                tr("contains a control character, which is not allowed", lang)
            ) from None
        return text

    return parse


def _int_parser(body_cls: type[Any], name: str) -> Callable[[str, str], int]:
    """A whole number within the limits of ``body_cls.name``."""
    spec = _spec(body_cls, name)
    low = 0 if spec.min_value is None else spec.min_value
    high = spec.max_value

    def parse(text: str, lang: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise UsageError(tr('"{text}" is not a whole number', lang, text=text)) from None
        if value < low or (high is not None and value > high):
            raise UsageError(
                tr(
                    "{value} is out of range: from {min} to {max}",
                    lang,
                    value=value,
                    min=low,
                    max=high,
                )
            )
        return value

    return parse


# ---------------------------------------------------------------- the parser


def _common_options(parser: argparse.ArgumentParser, lang: str, *, top: bool) -> None:
    """--home, --json, --lang. Only the top-level parser has defaults: on a subcommand, a
    default would overwrite the value given before the command name."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--home",
        metavar=tr("DIR", lang),
        default=default(None),
        help=tr("node directory (default: $ENTRAIDE_HOME or the user data directory)", lang),
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help=tr("machine-readable JSON output", lang),
    )
    parser.add_argument(
        "--lang",
        choices=["fr", "en"],
        default=default(None),
        help=tr("language of the output (default: the node's, else from the locale)", lang),
    )


def build_parser(lang: str) -> argparse.ArgumentParser:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, lang, top=False)

    parser = argparse.ArgumentParser(
        prog="entraide",
        description=t(
            "entraide: neighbourhood mutual aid that keeps working\n"
            "without power, phone network or internet."
        ),
        epilog=t(
            'Start with: entraide init --zone-name "My street"\n\n'
            "Exit codes: 0 ok, 1 internal error (please report it), 2 bad usage,\n"
            "3 node not set up or unusable, 4 input rejected, 5 not found."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common_options(parser, lang, top=True)
    sub = parser.add_subparsers(dest="command", metavar=t("COMMAND"))

    p = sub.add_parser(
        "init",
        parents=[common],
        help=t("create this household's identity and create or join an aid zone"),
        description=t(
            "Create the household identity (an Ed25519 key kept in the node directory) and "
            "the zone settings. Without --zone-id a new zone is created; with the zone id "
            "your coordinator gave you, you join it."
        ),
    )
    p.add_argument(
        "--zone-name",
        metavar=t("NAME"),
        type=_arg_type(parse_zone_name, lang, "name"),
        help=t("name of the aid zone"),
    )
    p.add_argument(
        "--zone-id",
        metavar="HEX",
        type=_arg_type(parse_zone_id, lang, "zone id"),
        help=t("join the zone with this 8-hex-digit id"),
    )
    p.add_argument(
        "--bridge-key",
        metavar="HEX",
        type=_arg_type(parse_key, lang, "key"),
        action="append",
        default=[],
        help=t("public key of a town-hall bridge allowed to publish official alerts (repeatable)"),
    )
    p.add_argument(
        "--peer",
        metavar="MULTIADDR",
        type=_arg_type(parse_peer, lang, "peer"),
        action="append",
        default=[],
        help=t("bootstrap peer address (repeatable)"),
    )
    p.add_argument(
        "--language",
        choices=["fr", "en"],
        help=t("language of this node (default: from the locale)"),
    )
    p.add_argument(
        "--force", action="store_true", help=t("rewrite the zone settings of an existing node")
    )

    sub.add_parser(
        "whoami", parents=[common], help=t("show this household's key, fingerprint and zone")
    )

    _add_post_parser(sub, common, lang)

    p = sub.add_parser(
        "board",
        parents=[common],
        help=t("show the zone's board: alerts, help, check-ins, incidents, resource points"),
    )
    p.add_argument(
        "section",
        nargs="?",
        default="all",
        choices=["all", *render.SECTIONS],
        help=t("which part of the board (default: all)"),
    )
    _enum_option(p, "--need", k.Need, t("only requests for this need"), lang)
    _enum_option(p, "--urgency", k.RequestUrgency, t("only requests of this urgency"), lang)
    p.add_argument("--mine", action="store_true", help=t("only my requests and my claims"))

    p = sub.add_parser("show", parents=[common], help=t("show one message in full"))
    p.add_argument("id", metavar="ID", help=t("message id or its first hex digits (at least 4)"))

    p = sub.add_parser(
        "export",
        parents=[common],
        help=t("write live messages to a bundle file (to carry by hand to another node)"),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("bundle file to write ('-' for stdout)"))
    p.add_argument(
        "--since",
        metavar=t("DATE"),
        type=_arg_type(parse_time, lang, "date"),
        help=t("only messages created after this date and time, e.g. 2026-11-22T14:00"),
    )

    p = sub.add_parser(
        "import",
        parents=[common],
        help=t("read a bundle file: every message is verified like any received message"),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("bundle file to read ('-' for stdin)"))
    return parser


def _enum_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    flag: str,
    enum_cls: type[enum.IntEnum],
    help_text: str,
    lang: str,
    *,
    default: Any = None,
    required: bool = False,
    members: Collection[Any] | None = None,
    metavar: str | None = None,
) -> None:
    """An option taking a member of ``enum_cls`` by its label in either language; the help
    lists the accepted labels in ``lang``."""
    shown = enum_cls if members is None else [m for m in enum_cls if m in members]
    text = f"{help_text} {{{', '.join(label(m, lang) for m in shown)}}}"
    if default is not None:
        text += " " + tr("(default: {value})", lang, value=label(default, lang))
    parser.add_argument(
        flag,
        metavar=metavar or enum_title(enum_cls, lang).upper(),
        type=_arg_type(_enum_parser(enum_cls, members), lang, enum_cls.__name__.lower()),
        default=default,
        required=required,
        help=text,
    )


def _add_post_parser(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    def text(body_cls: type[Any], name: str, *, required: bool = False) -> Callable[[str], str]:
        return _arg_type(_text_parser(body_cls, name, required=required), lang, "text")

    def number(body_cls: type[Any], name: str) -> Callable[[str], int]:
        return _arg_type(_int_parser(body_cls, name), lang, "number")

    post = sub.add_parser(
        "post",
        parents=[common],
        help=t("sign and publish a message"),
        description=t("Sign a message with this household's key and add it to the node."),
    )
    kinds = post.add_subparsers(dest="kind", metavar=t("KIND"), required=True)
    lifetime = argparse.ArgumentParser(add_help=False)
    lifetime.add_argument(
        "--lifetime",
        metavar=t("DURATION"),
        type=_arg_type(parse_lifetime, lang, "duration"),
        help=t("how long the message stays valid: 30m, 4h, 3d, 1w (default depends on the kind)"),
    )
    parents = [common, lifetime]
    point_help = t(
        "precise position LAT,LON in degrees (optional; write --point=-21.1,55.5 "
        "when the latitude is negative)"
    )
    point_t = _arg_type(parse_point, lang, "point")

    def place(p: argparse.ArgumentParser, body_cls: type[Any]) -> None:
        p.add_argument(
            "--place",
            metavar=t("PLACE"),
            type=text(body_cls, "place"),
            default="",
            help=t("street, block or landmark (coarse)"),
        )
        p.add_argument("--point", metavar="LAT,LON", type=point_t, help=point_help)

    def free_text(p: argparse.ArgumentParser, body_cls: type[Any], help_text: str) -> None:
        p.add_argument(
            "--text", metavar=t("TEXT"), type=text(body_cls, "text"), default="", help=help_text
        )

    def target(p: argparse.ArgumentParser, help_text: str) -> None:
        p.add_argument("id", metavar="ID", help=help_text)

    p = kinds.add_parser("alert", parents=parents, help=t("a community alert"))
    p.add_argument(
        "--headline",
        metavar=t("TEXT"),
        required=True,
        type=text(k.Alert, "headline", required=True),
        help=t("one line: what is happening"),
    )
    _enum_option(p, "--severity", k.Severity, t("how serious"), lang, default=k.Severity.UNKNOWN)
    _enum_option(p, "--urgency", k.Urgency, t("how soon to act"), lang, default=k.Urgency.UNKNOWN)
    _enum_option(
        p, "--certainty", k.Certainty, t("how sure it is"), lang, default=k.Certainty.UNKNOWN
    )
    _enum_option(
        p, "--category", k.Category, t("what kind of danger"), lang, default=k.Category.OTHER
    )
    p.add_argument(
        "--instruction",
        metavar=t("TEXT"),
        type=text(k.Alert, "instruction"),
        default="",
        help=t("what people should do"),
    )
    p.add_argument(
        "--area",
        metavar=t("TEXT"),
        type=text(k.Alert, "area"),
        default="",
        help=t("the area concerned"),
    )
    p.add_argument("--exercise", action="store_true", help=t("this is an exercise, not real"))
    p.add_argument("--all-clear", action="store_true", help=t("the danger is over"))
    p.add_argument(
        "--supersedes",
        metavar="ID",
        action="append",
        default=[],
        help=t("an earlier alert of yours that this one replaces (repeatable)"),
    )

    p = kinds.add_parser("request", parents=parents, help=t("ask for help"))
    _enum_option(
        p, "--need", k.Need, t("what is needed"), lang, required=True, members=k.REQUEST_NEEDS
    )
    _enum_option(
        p,
        "--urgency",
        k.RequestUrgency,
        t("how urgent"),
        lang,
        default=k.RequestUrgency.NORMAL,
    )
    p.add_argument(
        "--people",
        metavar="N",
        type=number(k.HelpRequest, "people"),
        default=1,
        help=t("number of people concerned (default: 1)"),
    )
    p.add_argument("--vulnerable", action="store_true", help=t("a vulnerable person is concerned"))
    place(p, k.HelpRequest)
    free_text(p, k.HelpRequest, t("short description"))

    p = kinds.add_parser("offer", parents=parents, help=t("offer help, a skill or equipment"))
    _enum_option(p, "--what", k.Need, t("what you offer"), lang, required=True)
    p.add_argument(
        "--standing",
        action="store_true",
        help=t("a standing offer made ahead of any crisis (give a long --lifetime)"),
    )
    p.add_argument(
        "--capacity",
        metavar="N",
        type=number(k.HelpOffer, "capacity"),
        default=1,
        help=t("how many people you can help (default: 1)"),
    )
    place(p, k.HelpOffer)
    free_text(p, k.HelpOffer, t("short description"))

    p = kinds.add_parser("claim", parents=parents, help=t("say you are taking care of a request"))
    target(p, t("the request"))
    p.add_argument(
        "--eta",
        metavar=t("DURATION"),
        type=_arg_type(parse_duration_minutes, lang, "duration"),
        default=0,
        help=t("when you expect to be there: 20m, 1h..."),
    )
    free_text(p, k.Claim, t("a short note"))

    p = kinds.add_parser(
        "resolve", parents=parents, help=t("close a request, offer or incident (done or cancelled)")
    )
    target(p, t("the request, offer or incident"))
    p.add_argument("--cancelled", action="store_true", help=t("cancelled rather than done"))
    free_text(p, k.Resolution, t("a short note"))

    p = kinds.add_parser(
        "checkin", parents=parents, help=t("say how your household (or a neighbour's) is")
    )
    _enum_option(
        p,
        "--status",
        k.CheckInStatus,
        t("how the household is"),
        lang,
        default=k.CheckInStatus.SAFE,
    )
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--for-key",
        metavar="HEX",
        type=_arg_type(parse_key, lang, "key"),
        help=t("the household you visited, by its key"),
    )
    who.add_argument(
        "--for-name",
        metavar=t("NAME"),
        type=text(k.CheckIn, "subject_name"),
        default="",
        help=t("the person you visited, by name"),
    )
    p.add_argument(
        "--people",
        metavar="N",
        type=number(k.CheckIn, "people"),
        default=0,
        help=t("number of people in the household"),
    )
    p.add_argument(
        "--place",
        metavar=t("PLACE"),
        type=text(k.CheckIn, "place"),
        default="",
        help=t("street, block or landmark (coarse)"),
    )
    free_text(p, k.CheckIn, t("a short note"))
    p.add_argument("--answers", metavar="ID", help=t("the alert this check-in answers"))

    p = kinds.add_parser("incident", parents=parents, help=t("report an incident"))
    _enum_option(
        p,
        "--type",
        k.IncidentType,
        t("what happened"),
        lang,
        required=True,
        metavar=t("TYPE"),
    )
    _enum_option(p, "--severity", k.Severity, t("how serious"), lang, default=k.Severity.MODERATE)
    place(p, k.Incident)
    free_text(p, k.Incident, t("short description"))
    p.add_argument("--updates", metavar="ID", help=t("your earlier report this one replaces"))

    p = kinds.add_parser(
        "resource", parents=parents, help=t("announce a resource point (water, shelter, charging)")
    )
    _enum_option(
        p,
        "--type",
        k.ResourceType,
        t("what the point offers"),
        lang,
        required=True,
        metavar=t("TYPE"),
    )
    p.add_argument(
        "--name",
        metavar=t("NAME"),
        required=True,
        type=text(k.ResourcePoint, "name", required=True),
        help=t("name of the place"),
    )
    p.add_argument("--closed", action="store_true", help=t("the point is closed"))
    p.add_argument("--point", metavar="LAT,LON", type=point_t, help=point_help)
    p.add_argument(
        "--hours",
        metavar=t("TEXT"),
        type=text(k.ResourcePoint, "hours"),
        default="",
        help=t("opening hours"),
    )
    free_text(p, k.ResourcePoint, t("a short note"))
    p.add_argument("--replaces", metavar="ID", help=t("your earlier version of this point"))

    p = kinds.add_parser("tip", parents=parents, help=t("a safety tip or a drill notice"))
    p.add_argument(
        "--title",
        metavar=t("TEXT"),
        required=True,
        type=text(k.Tip, "title", required=True),
        help=t("one line: what it is about"),
    )
    p.add_argument("--drill", action="store_true", help=t("a notice of an exercise"))
    free_text(p, k.Tip, t("the tip itself"))
    p.add_argument(
        "--language",
        choices=["fr", "en"],
        default="",
        help=t("language of the tip (default: any)"),
    )
    p.add_argument(
        "--drill-start",
        metavar=t("DATE"),
        type=_arg_type(parse_time, lang, "date"),
        default=0,
        help=t("when the exercise starts, e.g. 2026-11-22T14:00 (with --drill)"),
    )
    p.add_argument(
        "--drill-end",
        metavar=t("DATE"),
        type=_arg_type(parse_time, lang, "date"),
        default=0,
        help=t("when the exercise ends (with --drill)"),
    )

    p = kinds.add_parser("retract", parents=parents, help=t("withdraw one of your messages"))
    target(p, t("your message to withdraw"))
    p.add_argument(
        "--reason",
        metavar=t("TEXT"),
        type=text(k.Retraction, "reason"),
        default="",
        help=t("why (optional)"),
    )

    p = kinds.add_parser("comment", parents=parents, help=t("comment on a message"))
    target(p, t("the message commented on"))
    p.add_argument(
        "--text",
        metavar=t("TEXT"),
        required=True,
        type=text(k.Comment, "text", required=True),
        help=t("the comment"),
    )


# ---------------------------------------------------------------- commands


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    if args.language and not args.lang:
        ctx.lang = args.language  # speak the language the node is being set up in
    ensure_home(ctx.home)
    try:
        existing: Config | None = load_config(ctx.home)
    except NotInitialised:
        existing = None
    except ConfigError as exc:
        if not args.force:
            raise ConfigError(
                tr(
                    "{reason}; fix the file, or add --force to rewrite it",
                    ctx.lang,
                    reason=str(exc),
                )
            ) from None
        existing = None
    config = _init_config(ctx, args, existing)
    try:
        identity = ctx.identity()
        created = False
    except NoIdentity:
        identity = create_identity(ctx.home)
        created = True
    changed = config != existing
    if changed:
        save_config(ctx.home, config)
    with ctx.open_store():
        pass  # creates the store file with its schema
    if ctx.as_json:
        ctx.emit_json(
            _whoami_json(ctx, identity, config)
            | {"created_identity": created, "changed_config": changed}
        )
        return EXIT_OK
    if created:
        ctx.say(tr("New household identity created.", ctx.lang))
    elif not changed:
        ctx.say(tr("This node was already set up; nothing changed.", ctx.lang))
    ctx.say(render.whoami(identity, config, ctx.home, ctx.lang))
    if created:
        ctx.say(
            tr(
                "Compare the fingerprint aloud with your neighbours when you meet them.",
                ctx.lang,
            )
        )
    return EXIT_OK


def _init_config(ctx: Context, args: argparse.Namespace, existing: Config | None) -> Config:
    """The configuration ``entraide init`` asks for, given the one already there (if any)."""
    language = args.language or (existing.language if existing else ctx.lang)
    if existing is not None:
        zone = existing.zone
        asked_other_zone = (
            (args.zone_id and args.zone_id != zone.zone_id)
            or (args.zone_name and args.zone_name != zone.name)
            or (args.bridge_key and args.bridge_key != zone.bridge_keys)
            or (args.peer and args.peer != zone.bootstrap_peers)
        )
        if asked_other_zone and not args.force:
            raise UsageError(
                tr(
                    "this node is already set up for zone {zone} ({zone_id}); add --force to "
                    "change its zone settings",
                    ctx.lang,
                    zone=zone.name,
                    zone_id=zone.zone_id.hex(),
                )
            )
        if not args.zone_id or args.zone_id == zone.zone_id:
            # Same zone: what is not given again stays as it was.
            return Config(
                zone=ZoneSettings(
                    zone_id=zone.zone_id,
                    name=args.zone_name or zone.name,
                    bridge_keys=list(args.bridge_key or zone.bridge_keys),
                    bootstrap_peers=list(args.peer or zone.bootstrap_peers),
                    max_clock_skew_s=zone.max_clock_skew_s,
                ),
                language=language,
            )
    zone_id = args.zone_id or new_zone_id()
    return Config(
        zone=ZoneSettings(
            zone_id=zone_id,
            name=args.zone_name or tr("zone {zone_id}", ctx.lang, zone_id=zone_id.hex()),
            bridge_keys=list(args.bridge_key),
            bootstrap_peers=list(args.peer),
        ),
        language=language,
    )


def _whoami_json(ctx: Context, identity: Identity, config: Config) -> dict[str, Any]:
    return {
        "public_key": identity.public_key.hex(),
        "fingerprint": identity.fingerprint,
        "home": str(ctx.home),
        "zone": {
            "id": config.zone.zone_id.hex(),
            "name": config.zone.name,
            "bridge_keys": [key.hex() for key in config.zone.bridge_keys],
            "bootstrap_peers": list(config.zone.bootstrap_peers),
        },
        "language": config.language,
    }


def cmd_whoami(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    if ctx.as_json:
        ctx.emit_json(_whoami_json(ctx, identity, config))
    else:
        ctx.say(render.whoami(identity, config, ctx.home, ctx.lang))
    return EXIT_OK


def _resolve_id(ctx: Context, store: Store, text: str) -> Envelope:
    prefix = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
        raise UsageError(
            tr(
                '"{text}" is not a message id: give at least its first 4 hex digits '
                "(0-9, a-f), as shown by `entraide board`",
                ctx.lang,
                text=text,
            )
        )
    matches = store.find_prefix(prefix)
    if not matches:
        raise NotFound(tr("no message with id {prefix} on this node", ctx.lang, prefix=prefix))
    if len(matches) > 1:
        raise UsageError(
            tr(
                "{count} messages start with {prefix}: give more digits",
                ctx.lang,
                count=len(matches),
                prefix=prefix,
            )
        )
    return matches[0]


def _build_post(
    ctx: Context, args: argparse.Namespace, store: Store, me: bytes
) -> tuple[k.Body, list[bytes], int | None]:
    """The body, references and lifetime of the message ``entraide post`` asked for."""
    kind, lifetime = args.kind, args.lifetime

    def ref(text: str, expected: k.Kind | None = None) -> bytes:
        target = _resolve_id(ctx, store, text)
        if expected is not None and target.kind is not expected:
            raise UsageError(
                tr(
                    'message {id} is of kind "{actual}"; expected: "{expected}"',
                    ctx.lang,
                    id=target.short_id,
                    actual=label(target.kind, ctx.lang),
                    expected=label(expected, ctx.lang),
                )
            )
        return target.id

    if kind == "alert":
        body: k.Body = k.Alert(
            headline=args.headline,
            severity=args.severity,
            urgency=args.urgency,
            certainty=args.certainty,
            category=args.category,
            instruction=args.instruction,
            area=args.area,
            exercise=args.exercise,
            all_clear=args.all_clear,
        )
        refs = [ref(r, k.Kind.ALERT) for r in args.supersedes]
        return body, refs, lifetime
    if kind == "request":
        return (
            k.HelpRequest(
                need=args.need,
                urgency=args.urgency,
                people=args.people,
                vulnerable=args.vulnerable,
                place=args.place,
                point=args.point,
                text=args.text,
            ),
            [],
            lifetime,
        )
    if kind == "offer":
        return (
            k.HelpOffer(
                what=args.what,
                standing=args.standing,
                capacity=args.capacity,
                place=args.place,
                point=args.point,
                text=args.text,
            ),
            [],
            lifetime,
        )
    if kind == "claim":
        max_eta = _spec(k.Claim, "eta_minutes").max_value or 0
        if args.eta > max_eta:
            raise UsageError(
                tr("--eta: at most {max}", ctx.lang, max=render.duration(max_eta, ctx.lang))
            )
        return (
            k.Claim(eta_minutes=args.eta, text=args.text),
            [ref(args.id, k.Kind.HELP_REQUEST)],
            lifetime,
        )
    if kind == "resolve":
        target = _resolve_id(ctx, store, args.id)
        if target.kind not in (k.Kind.HELP_REQUEST, k.Kind.HELP_OFFER, k.Kind.INCIDENT):
            raise UsageError(
                tr(
                    "only a request, an offer or an incident can be resolved; {id} is a "
                    'message of kind "{kind}"',
                    ctx.lang,
                    id=target.short_id,
                    kind=label(target.kind, ctx.lang),
                )
            )
        if target.author != me and me not in _claimers(store, target):
            raise UsageError(
                tr(
                    "only its author or someone who claimed it can resolve {id}",
                    ctx.lang,
                    id=target.short_id,
                )
            )
        outcome = k.Outcome.CANCELLED if args.cancelled else k.Outcome.DONE
        return k.Resolution(outcome=outcome, text=args.text), [target.id], lifetime
    if kind == "checkin":
        refs = [ref(args.answers, k.Kind.ALERT)] if args.answers else []
        return (
            k.CheckIn(
                status=args.status,
                subject_key=args.for_key,
                subject_name=args.for_name,
                people=args.people,
                place=args.place,
                text=args.text,
            ),
            refs,
            lifetime,
        )
    if kind == "incident":
        refs = [_own_earlier(ctx, store, args.updates, k.Kind.INCIDENT, me)] if args.updates else []
        return (
            k.Incident(
                type=args.type,
                severity=args.severity,
                place=args.place,
                point=args.point,
                text=args.text,
            ),
            refs,
            lifetime,
        )
    if kind == "resource":
        refs = (
            [_own_earlier(ctx, store, args.replaces, k.Kind.RESOURCE_POINT, me)]
            if args.replaces
            else []
        )
        return (
            k.ResourcePoint(
                type=args.type,
                name=args.name,
                open=not args.closed,
                point=args.point,
                hours=args.hours,
                text=args.text,
            ),
            refs,
            lifetime,
        )
    if kind == "tip":
        if (args.drill_start or args.drill_end) and not args.drill:
            raise UsageError(tr("--drill-start and --drill-end go with --drill", ctx.lang))
        if args.drill_start and args.drill_end and args.drill_end < args.drill_start:
            raise UsageError(tr("the exercise ends before it starts", ctx.lang))
        return (
            k.Tip(
                title=args.title,
                type=k.TipType.DRILL if args.drill else k.TipType.TIP,
                text=args.text,
                language=args.language,
                drill_start=args.drill_start,
                drill_end=args.drill_end,
            ),
            [],
            lifetime,
        )
    if kind == "retract":
        target = _resolve_id(ctx, store, args.id)
        if target.author != me:
            raise UsageError(
                tr(
                    "{id} was posted by another household: you can only retract your own messages",
                    ctx.lang,
                    id=target.short_id,
                )
            )
        if target.kind is k.Kind.RETRACTION:
            raise UsageError(tr("a retraction cannot be withdrawn", ctx.lang))
        if lifetime is None:
            # A retraction must outlive its target, or the target would come back.
            remaining = math.ceil((target.expires - ctx.now) / 60) + 1
            rules = k.KIND_RULES[k.Kind.RETRACTION]
            lifetime = min(max(rules.default_lifetime, remaining), rules.max_lifetime)
        return k.Retraction(reason=args.reason), [target.id], lifetime
    if kind == "comment":
        return k.Comment(text=args.text), [ref(args.id)], lifetime
    raise AssertionError(kind)  # argparse only lets known kinds through


def _claimers(store: Store, target: Envelope) -> set[bytes]:
    """Who claimed ``target``, lapsed claims included, claims withdrawn by their author not."""
    claims = [e for e in store.referencing(target.id) if e.kind is k.Kind.CLAIM]
    return {
        c.author
        for c in claims
        if not any(
            r.kind is k.Kind.RETRACTION and r.author == c.author for r in store.referencing(c.id)
        )
    }


def _own_earlier(ctx: Context, store: Store, text: str, kind: k.Kind, me: bytes) -> bytes:
    """The id of an earlier message of ``kind`` by this household that a new one replaces."""
    target = _resolve_id(ctx, store, text)
    if target.kind is not kind:
        raise UsageError(
            tr(
                'message {id} is of kind "{actual}"; expected: "{expected}"',
                ctx.lang,
                id=target.short_id,
                actual=label(target.kind, ctx.lang),
                expected=label(kind, ctx.lang),
            )
        )
    if target.author != me:
        raise UsageError(
            tr(
                "{id} was posted by another household: only its author can update it "
                "(post a comment instead)",
                ctx.lang,
                id=target.short_id,
            )
        )
    return target.id


def cmd_post(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    with ctx.open_store() as store:
        try:
            body, refs, lifetime = _build_post(ctx, args, store, identity.public_key)
        except InvalidMessage as exc:  # a rule across fields, not checked by the options
            raise UsageError(str(exc)) from None
        rules = k.KIND_RULES[body.KIND]
        if lifetime is not None and lifetime > rules.max_lifetime:
            raise UsageError(
                tr(
                    '--lifetime: a message of kind "{kind}" lasts at most {max}',
                    ctx.lang,
                    kind=label(body.KIND, ctx.lang),
                    max=render.duration(rules.max_lifetime, ctx.lang),
                )
            )
        env = seal(
            body,
            signing_key=identity.signing_key,
            created=ctx.now,
            zone=config.zone.zone_id,
            refs=refs,
            lifetime=lifetime,
        )
        (result,) = store.ingest([env.raw], now=ctx.now, policy=ctx.policy(config))
    if result.error is not None:
        raise UsageError(str(result.error))
    if ctx.as_json:
        ctx.emit_json(envelope_to_json(env))
    else:
        ctx.say(
            tr(
                "Posted {kind} {id} ({size} bytes).",
                ctx.lang,
                kind=label(env.kind, ctx.lang),
                id=env.short_id,
                size=len(env.raw),
            )
        )
    return EXIT_OK


def cmd_board(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    me = ctx.identity().public_key
    with ctx.open_store() as store:
        messages = store.live(ctx.now)
    text, data = render.board(
        messages,
        now=ctx.now,
        bridge_keys=frozenset(config.zone.bridge_keys),
        section=args.section,
        need=args.need,
        urgency=args.urgency,
        mine=me if args.mine else None,
        lang=ctx.lang,
    )
    if ctx.as_json:
        ctx.emit_json(data)
    else:
        ctx.say(text)
    return EXIT_OK


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    ctx.config()
    with ctx.open_store() as store:
        env = _resolve_id(ctx, store, args.id)
        related = store.referencing(env.id)
    if ctx.as_json:
        ctx.emit_json(envelope_to_json(env) | {"referenced_by": [e.id.hex() for e in related]})
    else:
        ctx.say(render.message(env, related, now=ctx.now, lang=ctx.lang))
    return EXIT_OK


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    ctx.config()
    to_stdout = args.file == "-"
    if to_stdout and sys.stdout.isatty():
        raise UsageError(
            tr(
                "a bundle is binary: redirect it to a file (entraide export - > FILE) "
                "or give a file name",
                ctx.lang,
            )
        )
    with ctx.open_store() as store:
        raws = store.all_raw(ctx.now, since=args.since)
    data = encode_bundle(raws)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            atomic_write(Path(args.file), data, 0o644)
        except OSError as exc:
            raise UsageError(
                tr("cannot write {file}: {reason}", ctx.lang, file=args.file, reason=exc.strerror)
            ) from None
    # With "-" the bundle is on stdout: the summary goes to stderr.
    report = ctx.err if to_stdout else ctx.out
    if ctx.as_json:
        ctx.emit_json({"exported": len(raws), "bytes": len(data), "file": args.file}, report)
    else:
        print(
            tr(
                "Exported {count} message(s) ({size} bytes) to {file}.",
                ctx.lang,
                count=len(raws),
                size=len(data),
                file=tr("standard output", ctx.lang) if to_stdout else args.file,
            ),
            file=report,
        )
    return EXIT_OK


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(
            tr("cannot read {file}: {reason}", ctx.lang, file=args.file, reason=exc.strerror)
        ) from None
    if not data.startswith(MAGIC):
        raise BadBundle(
            tr(
                "{file} is not an entraide bundle (made by `entraide export`)",
                ctx.lang,
                file=args.file,
            )
        )
    raws: list[bytes] = []
    damaged: PeerError | None = None
    try:
        for raw in iter_bundle(data):
            raws.append(raw)
    except PeerError as exc:  # keep what came before the damage
        damaged = exc
    with ctx.open_store() as store:
        results = store.ingest(raws, now=ctx.now, policy=ctx.policy(config))
    counts = {"new": 0, "duplicate": 0, "rejected": 0}
    rejections: list[dict[str, Any]] = []
    for index, result in enumerate(results):
        counts[result.status] += 1
        if result.error is not None:
            rejections.append(
                {
                    "index": index,
                    "id": None if result.id is None else result.id.hex(),
                    "code": result.error.code,
                    "reason": str(result.error),
                    "text": error_text(result.error, ctx.lang),
                }
            )
    if ctx.as_json:
        ctx.emit_json(
            counts
            | {
                "rejections": rejections,
                "damaged": None if damaged is None else str(damaged),
            }
        )
    else:
        ctx.say(
            tr(
                "Import done: {new} new, {duplicate} already known, {rejected} rejected.",
                ctx.lang,
                **counts,
            )
        )
        for item in rejections:
            ctx.say(
                "  "
                + tr(
                    "rejected message #{index}: {reason}",
                    ctx.lang,
                    index=item["index"],
                    reason=item["text"],
                )
            )
        if damaged is not None:
            ctx.say(
                tr(
                    "The file is damaged ({reason}): reading stopped after {count} message(s). "
                    "Ask for a new copy.",
                    ctx.lang,
                    count=len(raws),
                    reason=str(damaged),
                )
            )
    return EXIT_REJECTED if rejections or damaged else EXIT_OK


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], int]] = {
    "init": cmd_init,
    "whoami": cmd_whoami,
    "post": cmd_post,
    "board": cmd_board,
    "show": cmd_show,
    "export": cmd_export,
    "import": cmd_import,
}


# ---------------------------------------------------------------- entry point


def _early_language(argv: Sequence[str]) -> str:
    """The language to speak before the full parse: --lang, then the node's config, then $LANG."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    pre.add_argument("--lang")
    pre.add_argument("--home")
    try:
        known, _ = pre.parse_known_args(argv)
    except argparse.ArgumentError:  # e.g. --lang without a value: the real parse says so
        return default_language()
    if known.lang in ("fr", "en"):
        return str(known.lang)
    try:
        home = resolve_home(known.home)
        if (home / "config.toml").exists():
            return load_config(home).language
    except EntraideError:
        pass
    return default_language()


def _exit_code(exc: EntraideError) -> int:
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, (ConfigError, KeystoreError, StoreError)):
        return EXIT_SETUP
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, PeerError):
        return EXIT_REJECTED
    return EXIT_SETUP


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run one ``entraide`` command; return its exit code. ``out`` and ``err`` default to
    the standard streams (help and argparse's errors go there too)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    err = err or sys.stderr
    lang = _early_language(argv)
    parser = build_parser(lang)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse already printed the usage error or the help
            code = exc.code
            return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
    ctx = Context(
        home=Path(),
        lang=args.lang or lang,
        as_json=args.json,
        out=out,
        err=err,
        now=int(time.time()),
    )
    try:
        ctx.home = resolve_home(args.home)
        return COMMANDS[args.command](ctx, args)
    except EntraideError as exc:
        _fail(ctx, exc)
        return _exit_code(exc)
    except BrokenPipeError:  # `entraide board | head`: the reader has had enough
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _fail(ctx: Context, exc: EntraideError) -> None:
    if ctx.as_json:
        json.dump(
            {
                "error": exc.code,
                "fault": exc.fault,
                "message": str(exc),
                "text": error_text(exc, ctx.lang),
            },
            ctx.err,
            ensure_ascii=False,
        )
        ctx.err.write("\n")
    else:
        print(f"entraide: {error_text(exc, ctx.lang)}", file=ctx.err)


if __name__ == "__main__":
    sys.exit(main())
