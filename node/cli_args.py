"""The grammar of the ``entraide`` command line: argument types and parsers, in French and
English.

Every value is checked here, before anything is signed, with the limits of the protocol's
own field declarations (protocol/kinds.py), so an error names the option the user typed.
The options common to every command (``--home``, ``--json``, ``--lang``) are accepted before
or after the command name: the subcommands' copies default to ``argparse.SUPPRESS``, so they
never overwrite a value given earlier on the line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import re
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any, TypeVar

from protocol import kinds as k
from protocol.errors import InvalidMessage, UsageError
from protocol.i18n import enum_title, label, parse_label, tr
from protocol.schema import FieldSpec, Point, check_text, is_blank
from radio.airtime import PRESETS, REGIONS

from . import render
from .config import NAME_MAX

_T = TypeVar("_T")


def _argparse_texts(lang: str) -> dict[str, str]:
    """argparse's own texts (usage, section titles, its error messages) in ``lang``."""
    return {
        "usage: ": tr("usage: ", lang),
        "positional arguments": tr("positional arguments", lang),
        "options": tr("options", lang),
        "show this help message and exit": tr("show this help message and exit", lang),
        "argument %(argument_name)s: %(message)s": tr(
            "argument %(argument_name)s: %(message)s", lang
        ),
        "%(prog)s: error: %(message)s\n": tr("%(prog)s: error: %(message)s\n", lang),
        "the following arguments are required: %s": tr(
            "the following arguments are required: %s", lang
        ),
        "one of the arguments %s is required": tr("one of the arguments %s is required", lang),
        "unrecognized arguments: %s": tr("unrecognized arguments: %s", lang),
        "not allowed with argument %s": tr("not allowed with argument %s", lang),
        "expected one argument": tr("expected one argument", lang),
        "invalid choice: %(value)r (choose from %(choices)s)": tr(
            "invalid choice: %(value)r (choose from %(choices)s)", lang
        ),
        "invalid %(type)s value: %(value)r": tr("invalid %(type)s value: %(value)r", lang),
        "ambiguous option: %(option)s could match %(matches)s": tr(
            "ambiguous option: %(option)s could match %(matches)s", lang
        ),
        "unknown parser %(parser_name)r (choices: %(choices)s)": tr(
            "unknown parser %(parser_name)r (choices: %(choices)s)", lang
        ),
        "ignored explicit argument %r": tr("ignored explicit argument %r", lang),
    }


@contextlib.contextmanager
def argparse_language(lang: str) -> Iterator[None]:
    """Let argparse speak ``lang`` while a parser is built and used.

    argparse looks its texts up through ``gettext`` at the moment it needs them, by the module
    global ``argparse._``; pointing that at our catalogue for the duration of one command is
    the one way to translate them without a system-wide gettext catalogue.
    """
    texts = _argparse_texts(lang)
    original = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda msgid: texts.get(msgid, msgid)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


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
    except (ValueError, OverflowError, InvalidMessage):  # "inf,0" overflows
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
        if required and is_blank(text):
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
            "3 node not set up or unusable, 4 input rejected, 5 not found, 130 interrupted."
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
    p.add_argument(
        "--force",
        action="store_true",
        help=t("replace FILE even if it is not an earlier bundle"),
    )

    p = sub.add_parser(
        "import",
        parents=[common],
        help=t("read a bundle file: every message is verified like any received message"),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("bundle file to read ('-' for stdin)"))

    _add_node_parsers(sub, common, lang)
    _add_radio_emulator_parser(sub, common, lang)
    _add_bridge_parsers(sub, common, lang)
    _add_demo_parser(sub, common, lang)
    return parser


def parse_listen(text: str, lang: str = "en") -> str:
    """A local address to listen on: a multiaddr such as /ip4/0.0.0.0/tcp/4747."""
    parts = text.split("/")
    ok = (
        len(parts) == 5
        and parts[0] == ""
        and parts[1] in ("ip4", "ip6")
        and parts[3] == "tcp"
        and parts[4].isdigit()
        and int(parts[4]) <= 65535
    )
    if not ok:
        raise UsageError(
            tr(
                '"{text}" is not a listening address: write it like /ip4/0.0.0.0/tcp/4747 '
                "(/ip6/::/tcp/4747 for IPv6; port 0 picks a free port)",
                lang,
                text=text,
            )
        )
    return text


def parse_radio(text: str, lang: str = "en") -> str:
    kind, _, rest = text.partition(":")
    if kind not in ("tcp", "serial") or not rest:
        raise UsageError(
            tr(
                '"{text}" is not a radio: write tcp:HOST[:PORT] (e.g. tcp:127.0.0.1:4403) '
                "or serial:DEVICE (e.g. serial:/dev/ttyUSB0)",
                lang,
                text=text,
            )
        )
    return text


def parse_seconds(text: str, lang: str = "en") -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1.0 <= value <= 86_400.0:
        raise UsageError(tr("expected a number of seconds from 1 to 86400", lang))
    return value


def _add_node_parsers(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    p = sub.add_parser(
        "node",
        parents=[common],
        help=t("run this household's node (Wi-Fi gossip, catch-up, the local control socket)"),
        description=t(
            "Run the household node until Ctrl-C or SIGTERM: it joins the zone's peers on "
            "the local network (found by mDNS, or from the zone's peer list and --peer), "
            "passes signed messages on, catches up on what it missed after every reconnection, "
            "and serves the terminal app and the other entraide commands through a control "
            "socket in the node directory. Activity is logged on the standard error."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide node\n"
            "  entraide node --no-mdns --peer /ip4/192.168.1.20/tcp/4747/p2p/12D3KooW…\n"
            "  entraide --home /tmp/n2 node --listen /ip4/127.0.0.1/tcp/0"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--listen",
        metavar="MULTIADDR",
        type=_arg_type(parse_listen, lang, "address"),
        action="append",
        default=[],
        help=t("address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4747)"),
    )
    p.add_argument(
        "--peer",
        metavar="MULTIADDR",
        type=_arg_type(parse_peer, lang, "peer"),
        action="append",
        default=[],
        help=t("also dial this peer, besides the zone's list (repeatable)"),
    )
    p.add_argument(
        "--no-mdns",
        action="store_true",
        help=t("do not look for neighbours with multicast DNS (routers that filter multicast)"),
    )
    radio = p.add_argument_group(t("LoRa radio (a Meshtastic device)"))
    radio.add_argument(
        "--radio",
        metavar=t("DEVICE"),
        type=_arg_type(parse_radio, lang, "radio"),
        help=t(
            "the node's Meshtastic radio: tcp:HOST[:PORT] (a networked device, or "
            "`entraide radio-emulator`) or serial:/dev/ttyUSB0"
        ),
    )
    radio.add_argument(
        "--radio-preset",
        choices=sorted(PRESETS),
        default="LONG_FAST",
        help=t("the mesh's modem preset, for the airtime budget (default: LONG_FAST)"),
    )
    radio.add_argument(
        "--radio-region",
        choices=sorted(REGIONS),
        default="EU_868",
        help=t("the radio region, for its duty cycle (default: EU_868, 10 %% per hour)"),
    )
    radio.add_argument(
        "--handset-lang",
        choices=["fr", "en"],
        help=t("language of the texts sent to handsets (default: the node's)"),
    )
    radio.add_argument(
        "--radio-summary",
        metavar=t("SECONDS"),
        type=_arg_type(parse_seconds, lang, "seconds"),
        default=600.0,
        help=t(
            "LoRa catch-up: send a summary of recent messages this often, so neighbours "
            "send what this node missed (default: 600)"
        ),
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help=t("no Wi-Fi at all: only serve the local apps (and files carried by hand)"),
    )
    p.add_argument(
        "--sync-interval",
        metavar=t("SECONDS"),
        type=_arg_type(parse_seconds, lang, "seconds"),
        default=60.0,
        help=t("catch up with a peer this often, besides every reconnection (default: 60)"),
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning"],
        default="info",
        help=t("how much activity to log (default: info)"),
    )

    sub.add_parser(
        "status",
        parents=[common],
        help=t("ask the running node how it is: peers, catch-up, messages"),
    )

    p = sub.add_parser(
        "tui",
        parents=[common],
        help=t("open the terminal app (also what `entraide` alone does on a terminal)"),
        description=t(
            "The terminal app for neighbours and relays: alerts, help board, check-ins, "
            "incidents and resource points. It talks to this household's node, and starts "
            "it in the background if none is running (log: node.log in the node directory)."
        ),
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help=t("if the app has to start the node: start it without Wi-Fi"),
    )
    p.add_argument(
        "--high-contrast",
        action="store_true",
        help=t("white and yellow on black, for low vision or bright light"),
    )


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


# ---------------------------------------------------------------- radio-emulator

EMULATOR_MAX_RADIOS = 64
TIME_SCALE_RANGE = (0.01, 1000.0)


def parse_radio_count(text: str, lang: str = "en") -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= EMULATOR_MAX_RADIOS:
        raise UsageError(
            tr("expected a number of radios from 1 to {max}", lang, max=EMULATOR_MAX_RADIOS)
        )
    return value


def parse_probability(text: str, lang: str = "en") -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise UsageError(tr("expected a probability from 0 to 1, e.g. 0.1", lang))
    return value


def parse_time_scale(text: str, lang: str = "en") -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    low, high = TIME_SCALE_RANGE
    if not low <= value <= high:
        raise UsageError(
            tr(
                "expected a time scale from {low} to {high} (10: ten times faster than real time)",
                lang,
                low=low,
                high=high,
            )
        )
    return value


def parse_port(text: str, lang: str = "en") -> int:
    if not text.isdigit() or int(text) > 65535:
        raise UsageError(tr("expected a TCP port from 0 to 65535", lang))
    return int(text)


def parse_topology(text: str, lang: str = "en") -> str:
    from pathlib import Path

    if text in ("chain", "full") or Path(text).is_file():
        return text
    raise UsageError(
        tr('"{text}" is not a topology: chain, full, or the path of a TOML file', lang, text=text)
    )


def _add_radio_emulator_parser(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    from radio.airtime import DEFAULT_PRESET, DEFAULT_REGION, PRESETS, REGIONS

    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    p = sub.add_parser(
        "radio-emulator",
        parents=[common],
        help=t("emulate Meshtastic radios on this computer, for tests and demonstrations"),
        description=t(
            "Start emulated Meshtastic radios that share a simulated airspace, until Ctrl-C "
            "or SIGTERM. Each one listens on 127.0.0.1 like a radio on the network: point a "
            "node or the meshtastic library at it (TCPInterface, host 127.0.0.1 and the port "
            "shown). The airspace behaves like the firmware: who hears whom, lost frames, "
            "managed flooding (relays weighted by signal, cancelled when another relay is "
            "heard), airtime, the duty cycle of the region, the payload limit and the text "
            "rate limit. One line per radio is printed (node id, name, address), one JSON "
            "line with --json; a summary of channel use is printed at the end."
        ),
        epilog=t(
            "Topology file (TOML): [[radio]] tables with a name, then either [[link]] tables\n"
            '(a = "Mairie", b = "Gare", optional snr, rssi, loss, oneway = true) or a\n'
            "position = [x, y] in metres on every radio (links follow from distance).\n\n"
            "Examples:\n"
            "  entraide radio-emulator\n"
            "  entraide radio-emulator --radios 5 --topology full --loss 0.1\n"
            "  entraide radio-emulator --topology quartier.toml --time-scale 10 --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--radios",
        metavar="N",
        type=_arg_type(parse_radio_count, lang, "count"),
        default=3,
        help=t("number of radios, unless a topology file names them (default: 3)"),
    )
    p.add_argument(
        "--topology",
        metavar=t("TOPOLOGY"),
        type=_arg_type(parse_topology, lang, "topology"),
        default="chain",
        help=t(
            "who hears whom: chain (each radio hears its neighbours), full (every radio hears "
            "every other) or a TOML file (default: chain)"
        ),
    )
    p.add_argument(
        "--loss",
        metavar="P",
        type=_arg_type(parse_probability, lang, "probability"),
        default=0.0,
        help=t("probability that a frame is lost on a link, from 0 to 1 (default: 0)"),
    )
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=DEFAULT_PRESET,
        help=t("modem preset (default: {value})", value=DEFAULT_PRESET),
    )
    p.add_argument(
        "--region",
        choices=list(REGIONS),
        default=DEFAULT_REGION,
        help=t(
            "region, which sets the duty cycle: EU_868 allows 10 %% of each hour "
            "(default: {value})",
            value=DEFAULT_REGION,
        ),
    )
    p.add_argument(
        "--hop-limit",
        type=int,
        choices=range(8),
        metavar="0-7",
        default=3,
        help=t("hop limit the radios give their clients (default: 3)"),
    )
    p.add_argument(
        "--time-scale",
        metavar="X",
        type=_arg_type(parse_time_scale, lang, "time scale"),
        default=1.0,
        help=t(
            "run the emulated world X times faster than real time: airtime, relay delays, "
            "rate limits and the duty-cycle hour alike (default: 1)"
        ),
    )
    p.add_argument(
        "--base-port",
        metavar=t("PORT"),
        type=_arg_type(parse_port, lang, "port"),
        default=0,
        help=t("port of the first radio, the next ones follow (default: 0, free ports)"),
    )
    p.add_argument(
        "--seed",
        metavar="N",
        type=int,
        default=0,
        help=t("seed of the random draws (losses, delays): the same seed replays a run"),
    )
    p.add_argument(
        "--name",
        metavar=t("NAME"),
        action="append",
        default=[],
        help=t("name of the next radio (repeatable; default: Radio 0, Radio 1, …)"),
    )
    p.add_argument(
        "--log-lines",
        action="store_true",
        help=t("write log text between frames, as a radio with debug output does"),
    )


# ---------------------------------------------------------------- bridge and report


def _add_bridge_parsers(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    p = sub.add_parser(
        "bridge",
        parents=[common],
        help=t("run this node as the town-hall bridge: official alerts in, signed mirrors out"),
        description=t(
            "Run the node (Wi-Fi, control socket, optional radio) and mirror official CAP "
            "alerts into the zone: it reads the sources and folders of the [bridge] table of "
            "bridge.toml in the node directory, keeps the alerts whose area touches the zone's, "
            "and signs each one with this node's key, the bridge key. Updates and cancellations "
            "replace or withdraw what was mirrored; a source that fails changes nothing. The "
            "bridge key is printed at start: the zone's coordinator adds it to the bridge keys "
            "of every node."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide bridge\n"
            "  entraide bridge --once --json\n"
            "  entraide bridge --offline --log-level debug"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--once",
        action="store_true",
        help=t(
            "read every source once, store what it mirrors and exit (exit code 4 if a source "
            "could not be read)"
        ),
    )
    p.add_argument(
        "--listen",
        metavar="MULTIADDR",
        type=_arg_type(parse_listen, lang, "address"),
        action="append",
        default=[],
        help=t("address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4747)"),
    )
    p.add_argument(
        "--peer",
        metavar="MULTIADDR",
        type=_arg_type(parse_peer, lang, "peer"),
        action="append",
        default=[],
        help=t("also dial this peer, besides the zone's list (repeatable)"),
    )
    p.add_argument(
        "--no-mdns",
        action="store_true",
        help=t("do not look for neighbours with multicast DNS (routers that filter multicast)"),
    )
    p.add_argument(
        "--radio",
        metavar=t("DEVICE"),
        type=_arg_type(parse_radio, lang, "radio"),
        help=t(
            "the node's Meshtastic radio: tcp:HOST[:PORT] (a networked device, or "
            "`entraide radio-emulator`) or serial:/dev/ttyUSB0"
        ),
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help=t("no Wi-Fi at all: only serve the local apps (and files carried by hand)"),
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning"],
        default="info",
        help=t("how much activity to log (default: info)"),
    )

    p = sub.add_parser(
        "report",
        parents=[common],
        help=t("write a signed situation report, or the reflex sheet, for the authorities"),
        description=t(
            "situation: the zone's situation for the mayor and the emergency services (open "
            "help requests by urgency, households not heard from since the alert, vulnerable "
            "neighbours not yet visited, incidents, resource points) as GeoJSON, CSV, a "
            "printable HTML page and a PDF. reflex: the printable reflex sheet and phone tree, "
            "for when every network is down. Files are signed with this node's key "
            "(manifest.txt and manifest.sig); verify DIR checks them."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide report --out /media/usb/rapport\n"
            "  entraide report reflex --contacts contacts.csv\n"
            "  entraide report verify /media/usb/rapport"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "what",
        nargs="?",
        default="situation",
        choices=["situation", "reflex", "verify"],
        help=t("what to write, or verify a report (default: situation)"),
    )
    p.add_argument("folder", nargs="?", metavar=t("DIR"), help=t("the report's folder (verify)"))
    p.add_argument(
        "--out",
        metavar=t("DIR"),
        help=t("folder to write into (default: reports in the node directory)"),
    )
    p.add_argument(
        "--since",
        metavar=t("DATE"),
        type=_arg_type(parse_time, lang, "date"),
        help=t("count households not heard from since this time (default: the alert's start)"),
    )
    p.add_argument(
        "--format",
        action="append",
        choices=["geojson", "csv", "html", "pdf"],
        help=t("only this format (repeatable; default: all)"),
    )
    p.add_argument(
        "--contacts",
        metavar=t("FILE"),
        help=t("(reflex) CSV file of the phone tree: name, phone, role, place"),
    )
    p.add_argument(
        "--key",
        metavar="HEX",
        type=_arg_type(parse_key, lang, "key"),
        help=t("(verify) the key the report must be signed by"),
    )


# ---------------------------------------------------------------- demo


def _add_demo_parser(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help=t("a small simulated neighbourhood on this computer, then the app on one household"),
        description=t(
            "Start, on this computer only, eight household nodes in two Wi-Fi islands joined "
            "by emulated LoRa radios, two volunteers' handsets, the town-hall bridge reading "
            "a local feed that replays a SEVESO exercise, and neighbours who post requests, "
            "offers and check-ins over a few minutes; then open the terminal app on one "
            "household. Quitting stops everything the demo started and removes its folder."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide demo\n"
            "  entraide demo --lang en\n"
            "  entraide demo --headless --duration 60 --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help=t("no app: run for --duration seconds, then print what every part did"),
    )
    p.add_argument(
        "--duration",
        metavar=t("SECONDS"),
        type=_arg_type(parse_seconds, lang, "seconds"),
        help=t(
            "how long the scenario lasts (default: 60 s with --headless, 180 s with the app)"
        ),
    )
    p.add_argument(
        "--dir",
        metavar=t("DIR"),
        help=t("folder for the demo's nodes, new or empty (default: a temporary folder)"),
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help=t("keep the folder afterwards, with every node's log and store"),
    )
