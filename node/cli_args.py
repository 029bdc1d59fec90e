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
    p.add_argument(
        "--charter",
        metavar=t("FILE|TEXT"),
        help=t(
            "join the zone of this charter (a file, or the text from the coordinator's "
            "screen): its zone id and name, its founders, relays and bridges"
        ),
    )
    _fingerprint_options(p, lang)

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

    _add_trust_parsers(sub, common, lang)
    _add_node_parsers(sub, common, lang)
    _add_radio_emulator_parser(sub, common, lang)
    _add_bridge_parsers(sub, common, lang)
    _add_demo_parser(sub, common, lang)
    _add_simulate_parser(sub, common, lang)
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
    p.add_argument(
        "--gossip",
        choices=["mesh", "announce"],
        help=t(
            "how messages spread over Wi-Fi: mesh (each sent on to every mesh neighbour, "
            "as GossipSub does) or announce (each announced, and fetched once by each "
            "neighbour: far fewer duplicate copies); the two work together (default: "
            "announce)"
        ),
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
        help=t(
            "the mesh's modem preset, for the airtime budget (default: the zone charter's, "
            "else LONG_FAST)"
        ),
    )
    radio.add_argument(
        "--radio-region",
        choices=sorted(REGIONS),
        help=t(
            "the radio region, for its duty cycle (default: the zone charter's, else EU_868, "
            "10 %% per hour)"
        ),
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
        default=1800.0,
        help=t(
            "LoRa catch-up: send a summary of recent messages to the radio's direct "
            "neighbours this often, unless one of theirs was just heard, so they send what "
            "this node missed (default: 1800)"
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


# ---------------------------------------------------------------- trust: charter, roles, roster


def parse_key_ref(text: str, lang: str = "en") -> str:
    """A key as a user gives it: "me", its 64 hex digits, or its first hex digits (at least 8)
    when a message of the zone names it (resolved by the command)."""
    value = text.strip().lower()
    if value == "me" or value == "moi" or re.fullmatch(r"[0-9a-f]{8,64}", value):
        return "me" if value == "moi" else value
    raise UsageError(
        tr(
            '"{text}" is not a key: give its 64 hex digits, its first 8 or more, or "me"',
            lang,
            text=text,
        )
    )


def parse_verdict(text: str, lang: str = "en") -> k.Verdict:
    if text.strip().casefold() in ("confirm", "confirmer", "ok", "vrai", "true"):
        return k.Verdict.CONFIRMED
    return parse_label(k.Verdict, text, lang)


def _fingerprint_options(p: argparse.ArgumentParser, lang: str) -> None:
    p.add_argument(
        "--fingerprint",
        metavar=tr("DIGITS", lang),
        help=tr(
            "the charter's fingerprint as your coordinator reads it aloud: the charter is "
            "used only if it matches",
            lang,
        ),
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help=tr("the fingerprint was compared already: do not ask", lang),
    )


def _add_trust_parsers(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    def text(body_cls: type[Any], name: str, *, required: bool = False) -> Callable[[str], str]:
        return _arg_type(_text_parser(body_cls, name, required=required), lang, "text")

    key_t = _arg_type(parse_key_ref, lang, "key")
    raw_key_t = _arg_type(parse_key, lang, "key")

    # --- entraide charter -------------------------------------------------------------
    charter = sub.add_parser(
        "charter",
        parents=[common],
        help=t("the zone's charter: create, sign, join or show it"),
        description=t(
            "A zone's charter says what the zone is and whom it trusts from the start: its "
            "founders (the coordinators), its relays and its official-alert bridges. It is "
            "handed over in person, as a file or as a text shown on a screen, and checked by "
            "reading its fingerprint aloud: a node trusts only the charter it was given this "
            "way. The roles then spread by signed vouches (entraide vouch)."
        ),
        epilog=t(
            "Examples:\n"
            '  entraide charter create zone.ent --name "Rue des Lilas" --relay <64 hex digits>\n'
            "  entraide charter sign zone.ent          (each other founder, on their node)\n"
            "  entraide charter join zone.ent          (every household, this one too)\n"
            "  entraide charter show --text | qrencode -t ansiutf8   (a QR code to scan)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = charter.add_subparsers(dest="action", metavar=t("ACTION"), required=True)
    p = actions.add_parser(
        "create",
        parents=[common],
        help=t("write a new charter for this node's zone, signed by this household"),
        description=t(
            "Write a charter for this node's zone (a zone keeps its id when it adopts one). "
            "The founders are this household unless --founder says otherwise; each founder "
            "signs it on their own node (entraide charter sign) before anyone joins it. To "
            "replace the zone's charter (a founder leaves, a bridge changes), create a new one: "
            "its version is one more, and more than half of the current founders must sign it."
        ),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("the charter file to write"))
    p.add_argument(
        "--name",
        metavar=t("NAME"),
        help=t("the zone's name (default: the name in this node's settings)"),
    )
    p.add_argument(
        "--area", metavar=t("TEXT"), default="", help=t("the streets or district it covers")
    )
    for flag, help_text in (
        ("--founder", t("a founding coordinator's key (repeatable; default: this household)")),
        ("--relay", t("a relay's key (repeatable)")),
        ("--bridge", t("an official-alert bridge's key (repeatable)")),
    ):
        p.add_argument(
            flag, metavar="HEX", type=raw_key_t, action="append", default=[], help=help_text
        )
    p.add_argument(
        "--peer",
        metavar="MULTIADDR",
        type=_arg_type(parse_peer, lang, "peer"),
        action="append",
        default=[],
        help=t("a bootstrap peer every node dials (repeatable)"),
    )
    p.add_argument(
        "--max-skew",
        metavar=t("SECONDS"),
        type=int,
        default=600,
        help=t("how far ahead of a node's clock a message may be dated (default: 600)"),
    )
    p.add_argument("--lora-region", metavar=t("REGION"), default="", help=t("the LoRa region"))
    p.add_argument("--lora-preset", metavar=t("PRESET"), default="", help=t("the modem preset"))
    p.add_argument(
        "--lora-channel", metavar=t("NAME"), default="", help=t("the Meshtastic channel name")
    )
    p.add_argument("--force", action="store_true", help=t("replace FILE if it exists"))
    p = actions.add_parser(
        "sign",
        parents=[common],
        help=t("add this household's signature to a charter (a founder's)"),
        description=t(
            "Check a charter's signatures, show what it says and its fingerprint, and add this "
            "household's signature to the file. Compare the fingerprint with the other "
            "founders' before signing."
        ),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("the charter file (rewritten)"))
    p = actions.add_parser(
        "join",
        parents=[common],
        help=t("use this charter on this node, after comparing its fingerprint"),
        description=t(
            "Read a charter (a file, or the text your coordinator shows), show its fingerprint "
            "and use it once you have compared it with the one the coordinator reads aloud. A "
            "charter is only for the zone it names: join a node to that zone first (entraide "
            "init --charter FILE does both). A newer charter replaces the current one only if "
            "more than half of the current founders signed it."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide charter join zone.ent\n"
            "  entraide charter join ENTRAIDE-ZONE1:AEBA… --fingerprint '12345 67890 12345 67890'"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "charter", metavar=t("FILE|TEXT"), help=t("the charter file, its text, or - for stdin")
    )
    _fingerprint_options(p, lang)
    p = actions.add_parser(
        "show",
        parents=[common],
        help=t("show the zone's charter, its fingerprint and its text"),
    )
    p.add_argument(
        "--text",
        action="store_true",
        help=t("only the text form (for a QR code: pipe it to qrencode -t ansiutf8)"),
    )

    # --- roles ------------------------------------------------------------------------
    roles_title = ", ".join(label(r, lang) for r in k.Role)
    sub.add_parser(
        "roles",
        parents=[common],
        help=t("who holds which role in the zone: coordinators, relays, bridges, households"),
    )
    p = sub.add_parser(
        "vouch",
        parents=[common],
        help=t("vouch for a household you know in person (relays, coordinators)"),
        description=t(
            "Say that you know this key's household, and give it a role. A relay or a "
            "coordinator vouches for households; a coordinator also makes relays, bridges and "
            "other coordinators. Vouched households get looser rate limits and their "
            "corroborations weigh more. Compare the key's fingerprint with its household first. "
            "A vouch lasts a year: renew it before it ends; withdraw it with entraide post "
            "retract ID."
        ),
        epilog=t(
            "Examples:\n"
            '  entraide vouch 3f2a9c01 --name "Mme Martin, 12 rue des Lilas"\n'
            "  entraide vouch 3f2a9c01b7e4d5a6 --role relay"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("key", metavar=t("KEY"), type=key_t, help=t("the household's key"))
    _enum_option(p, "--role", k.Role, t("the role it gets"), lang, default=k.Role.HOUSEHOLD)
    p.add_argument(
        "--name",
        metavar=t("TEXT"),
        type=text(k.Vouch, "name"),
        default="",
        help=t("how you know the household (public, like every message)"),
    )
    p = sub.add_parser(
        "revoke",
        parents=[common],
        help=t("take a role away from a key, for good (or give up your own)"),
        description=t(
            "A coordinator revokes a key's role (every role unless --role says which); anyone "
            'may revoke their own key ("me"), for instance when it is lost or stolen. A '
            "revocation cannot be undone: vouch for a new key instead. Everything the key did in "
            "that role stops counting, on every node that holds the revocation: re-vouch first "
            "what should stay."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide revoke 3f2a9c01 --role relay --reason misconduct\n"
            "  entraide revoke me --reason key-lost"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("key", metavar=t("KEY"), type=key_t, help=t('the key, or "me"'))
    p.add_argument(
        "--role",
        metavar=t("ROLE"),
        type=_arg_type(_enum_parser(k.Role), lang, "role"),
        help=t("only this role {{{roles}}} (default: every role)", roles=roles_title),
    )
    _enum_option(p, "--reason", k.RevokeReason, t("why"), lang, default=k.RevokeReason.WITHDRAWN)
    p.add_argument(
        "--text", metavar=t("TEXT"), type=text(k.Revoke, "text"), default="", help=t("details")
    )

    # --- verification -----------------------------------------------------------------
    lifetime = argparse.ArgumentParser(add_help=False)
    lifetime.add_argument(
        "--lifetime",
        metavar=t("DURATION"),
        type=_arg_type(parse_lifetime, lang, "duration"),
        help=t("how long it stays valid: 4h, 3d, 1w (default: as long as what it is about)"),
    )
    p = sub.add_parser(
        "mark",
        parents=[common, lifetime],
        help=t("a relay's verdict on a report or request: confirmed, or false"),
        description=t(
            "A relay or a coordinator marks a request, offer, incident, resource point or "
            "community alert as confirmed (seen on the spot) or false. Every board shows it; a "
            "false report stays listed, flagged and last. A coordinator's verdict overrides a "
            "relay's. A newer mark replaces yours; entraide post retract withdraws it."
        ),
        epilog=t("Examples:\n  entraide mark confirmed 41429732\n  entraide mark false 41429732"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "verdict",
        metavar=t("VERDICT"),
        type=_arg_type(parse_verdict, lang, "verdict"),
        help="{" + ", ".join(label(v, lang) for v in k.Verdict) + "}",
    )
    p.add_argument("id", metavar="ID", help=t("the message id (its first 4 hex digits or more)"))
    p.add_argument(
        "--text", metavar=t("TEXT"), type=text(k.Mark, "text"), default="", help=t("a short note")
    )
    p = sub.add_parser(
        "corroborate",
        parents=[common, lifetime],
        help=t('"I saw it too": a neighbour\'s word on a report or request'),
        description=t(
            "Say you saw it too (an incident, an alert, a resource point) or know the need is "
            "real (a request). Two vouched neighbours, or four unvouched ones, make it "
            '"corroborated" on every board.'
        ),
    )
    p.add_argument("id", metavar="ID", help=t("the message id (its first 4 hex digits or more)"))
    p.add_argument(
        "--text",
        metavar=t("TEXT"),
        type=text(k.Corroboration, "text"),
        default="",
        help=t("a short note"),
    )

    # --- roster -----------------------------------------------------------------------
    roster = sub.add_parser(
        "roster",
        parents=[common],
        help=t('"please check on me": join the roster, or (relays) read it and record visits'),
        description=t(
            "A household that needs a visit after an alert (oxygen at home, a wheelchair, "
            "living alone) joins the roster with its needs: the entry is encrypted to the "
            "zone's relays, nobody else can read it. After an alert, a household of the "
            "roster that has not checked in escalates to its assigned relay, then to every "
            "relay. Relays list the roster and who needs a visit (entraide roster), and record "
            "their visits as check-ins on the household's behalf."
        ),
        epilog=t(
            "Examples:\n"
            '  entraide roster join --needs "oxygène à domicile" --address "12 rue des Lilas, '
            '3e"\n'
            "  entraide roster                      (a relay: entries and escalations)\n"
            "  entraide roster visit 3f2a9c01 --status safe\n"
            '  entraide roster add --name "M. Petit" --needs "fauteuil roulant"   (a relay)\n'
            "  entraide roster leave"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = roster.add_subparsers(dest="action", metavar=t("ACTION"))
    actions.add_parser(
        "list", parents=[common], help=t("(relays) the entries you can read, and escalations")
    )
    details = argparse.ArgumentParser(add_help=False)
    details.add_argument(
        "--needs",
        metavar=t("TEXT"),
        required=True,
        type=_arg_type(_roster_text("needs", required=True), lang, "text"),
        help=t("what the household needs: oxygen at home, wheelchair, hard of hearing…"),
    )
    details.add_argument(
        "--address",
        metavar=t("TEXT"),
        default="",
        type=_arg_type(_roster_text("address"), lang, "text"),
        help=t("where to go: street, floor, door code"),
    )
    details.add_argument(
        "--contact",
        metavar=t("TEXT"),
        default="",
        type=_arg_type(_roster_text("contact"), lang, "text"),
        help=t("a phone number, a relative"),
    )
    details.add_argument(
        "--check-after",
        metavar=t("DURATION"),
        type=_arg_type(parse_check_after, lang, "duration"),
        default=120,
        help=t("after an alert, escalate when not heard from for this long (15m to 1d; 2h)"),
    )
    details.add_argument(
        "--relay",
        metavar=t("KEY"),
        type=key_t,
        help=t("the relay you would like to come (default: chosen for you)"),
    )
    details.add_argument(
        "--replaces", metavar="ID", help=t("your earlier entry that this one replaces")
    )
    actions.add_parser(
        "join",
        parents=[common, details, lifetime],
        help=t("ask to be checked on after an alert (your needs, sealed to the relays)"),
    )
    p = actions.add_parser(
        "add",
        parents=[common, details, lifetime],
        help=t("(relays) enter a person without a node, by name"),
    )
    p.add_argument(
        "--name",
        metavar=t("NAME"),
        required=True,
        type=_arg_type(_roster_text("name", required=True), lang, "text"),
        help=t("the person's name, as neighbours know it"),
    )
    p = actions.add_parser(
        "visit",
        parents=[common],
        help=t("(relays) record a visit: a check-in on the household's behalf"),
    )
    p.add_argument(
        "household",
        metavar=t("HOUSEHOLD"),
        help=t("the household as the roster shows it: its key's first digits, or the name"),
    )
    _enum_option(
        p, "--status", k.CheckInStatus, t("how they are"), lang, default=k.CheckInStatus.SAFE
    )
    p.add_argument(
        "--text",
        metavar=t("TEXT"),
        type=text(k.CheckIn, "text"),
        default="",
        help=t("a short note"),
    )
    actions.add_parser("leave", parents=[common], help=t("withdraw your entries from the roster"))


def _roster_text(name: str, *, required: bool = False) -> Callable[[str, str], str]:
    from protocol.roster import RosterDetails

    return _text_parser(RosterDetails, name, required=required)


def parse_check_after(text: str, lang: str = "en") -> int:
    minutes = parse_duration_minutes(text, lang)
    if not 15 <= minutes <= 1440:
        raise UsageError(tr("from 15 minutes to 1 day (15m, 2h, 1d)", lang))
    return minutes


# ---------------------------------------------------------------- simulate

SIMULATE_FIGURES = ("alert", "heal", "churn", "lora")


def _int_range(low: int, high: int) -> Callable[[str, str], int]:
    def parse(text: str, lang: str = "en") -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise UsageError(
                tr("expected a whole number from {low} to {high}", lang, low=low, high=high)
            )
        return value

    return parse


def parse_hours(text: str, lang: str = "en") -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.05 <= value <= 24:
        raise UsageError(tr("expected a number of hours from 0.05 to 24", lang))
    return value


def _add_simulate_parser(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    from node.sim.gossip import PRESETS as GOSSIP_PRESETS

    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    p = sub.add_parser(
        "simulate",
        parents=[common],
        help=t("simulate a whole town of nodes in virtual time and print the figures"),
        description=t(
            "Run the simulator: a thousand nodes or more, driving the real protocol core "
            "(signed messages and their checks, catch-up sessions, radio framing, airtime "
            "scheduler, LoRa airspace) over simulated Wi-Fi links and a simulated LoRa "
            "airspace, and print each figure next to its reference and its goal. alert: time "
            "for an alert to reach 99 % of the nodes over lossy links, and duplicate "
            "receptions, per gossip configuration; heal: a town cut in two for 24 h, then "
            "whole again; churn: households leaving and coming back while alerts flow; lora: "
            "channel utilisation of a LoRa neighbourhood. Nothing is sent on any network."
        ),
        epilog=t(
            "Examples:\n"
            "  entraide simulate alert --nodes 1000 --loss 0.2\n"
            "  entraide simulate --quick\n"
            "  entraide simulate lora --hours 1 --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "figures",
        nargs="*",
        metavar=t("FIGURE"),
        choices=[*SIMULATE_FIGURES, []],
        help=t("which figures: alert, heal, churn, lora (default: all)"),
    )
    p.add_argument(
        "--nodes",
        type=_arg_type(_int_range(10, 100_000), lang, "nodes"),
        help=t("Wi-Fi nodes in the town (default: 1000; 200 with --quick)"),
    )
    p.add_argument(
        "--loss",
        type=_arg_type(parse_probability, lang, "probability"),
        default=0.2,
        help=t("share of what each Wi-Fi link carries that is lost (default: 0.2)"),
    )
    p.add_argument(
        "--preset",
        action="append",
        choices=sorted(GOSSIP_PRESETS),
        help=t(
            "gossip configuration of the alert figure (repeatable; default: gossipsub, "
            "gossipsub-d3, announce-eager1 and announce; announce is what entraide node runs by "
            "default, gossipsub what it runs with --gossip mesh)"
        ),
    )
    p.add_argument(
        "--alerts",
        type=_arg_type(_int_range(1, 1000), lang, "alerts"),
        default=10,
        help=t("alerts posted in the alert figure (default: 10)"),
    )
    p.add_argument(
        "--lora-nodes",
        type=_arg_type(_int_range(2, 1000), lang, "nodes"),
        help=t("households with a radio in the lora figure (default: 150; 50 with --quick)"),
    )
    p.add_argument(
        "--hours",
        type=_arg_type(parse_hours, lang, "hours"),
        help=t("hours of LoRa traffic measured (default: 1; 0.25 with --quick)"),
    )
    p.add_argument(
        "--seed",
        type=_arg_type(_int_range(0, 2**31), lang, "seed"),
        default=1,
        help=t("seed of every random choice: the same seed gives the same run (default: 1)"),
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=t("a small town and a short hour: seconds instead of minutes"),
    )

