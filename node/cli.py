"""The ``entraide`` command line.

Every command works on the node's home directory (``--home``, ``$ENTRAIDE_HOME`` or the
platform's user data directory). Output is for people by default and JSON with ``--json``.
Exit codes are documented in :data:`EXIT_CODES` and in ``entraide --help``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from protocol import kinds as k
from protocol.bundle import encode_bundle, iter_bundle
from protocol.envelope import Envelope, Policy, seal
from protocol.errors import EntraideError, InvalidMessage, LocalError, PeerError, UsageError
from protocol.i18n import error_text, label, parse_label, tr
from protocol.jsonview import envelope_to_json
from protocol.schema import Point

from . import render
from .config import (
    Config,
    ConfigError,
    ZoneSettings,
    default_language,
    ensure_home,
    load_config,
    new_zone_id,
    parse_zone_id,
    resolve_home,
    save_config,
)
from .identity import Identity, KeystoreError, NoIdentity, create_identity, load_identity
from .store import Store, StoreError

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_REJECTED = 4
EXIT_NOT_FOUND = 5

STORE_FILE = "store.sqlite3"


class NotFound(LocalError):
    """No message matches what the user asked for."""

    code = "not-found"


@dataclass
class Context:
    """What every command needs: where the node lives, how to talk, what time it is."""

    home: Path
    lang: str
    as_json: bool
    out: TextIO
    now: int

    def config(self) -> Config:
        return load_config(self.home)

    def identity(self) -> Identity:
        return load_identity(self.home)

    def open_store(self) -> Store:
        return Store.open(self.home / STORE_FILE)

    def policy(self, config: Config) -> Policy:
        return Policy(
            bridge_keys=frozenset(config.zone.bridge_keys),
            max_skew=config.zone.max_clock_skew_s,
        )

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def emit_json(self, value: Any) -> None:
        json.dump(value, self.out, ensure_ascii=False, indent=2)
        self.out.write("\n")


# ---------------------------------------------------------------- argument types


def _enum_type(enum_cls: Any, lang: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse_label(enum_cls, text, lang)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = enum_cls.__name__.lower()
    return convert


_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|j|w|s)?\s*$", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440, "j": 1440, "w": 10080}


def parse_duration_minutes(text: str) -> int:
    """'90', '90m', '4h', '3d' (or '3j'), '1w' → minutes."""
    match = _DURATION.match(text)
    if not match or (match.group(2) or "m").lower() == "s":
        raise argparse.ArgumentTypeError(f"{text!r}: use minutes or 30m, 4h, 3d, 1w")
    return int(match.group(1)) * _UNIT_MINUTES[(match.group(2) or "m").lower()]


def parse_point(text: str) -> Point:
    try:
        lat_text, lon_text = text.split(",")
        return Point.from_degrees(float(lat_text), float(lon_text))
    except (ValueError, InvalidMessage):
        raise argparse.ArgumentTypeError(f"{text!r}: use LATITUDE,LONGITUDE in degrees") from None


def parse_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise argparse.ArgumentTypeError(f"{text!r}: a public key is 64 hex digits")
    return key


def parse_time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use a date like 2026-11-22T14:00") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as the user means it
    return int(moment.timestamp())


# ---------------------------------------------------------------- the parser


def build_parser(lang: str) -> argparse.ArgumentParser:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        metavar="DIR",
        help=t("node directory (default: $ENTRAIDE_HOME or the user data directory)"),
    )
    common.add_argument("--json", action="store_true", help=t("machine-readable JSON output"))
    common.add_argument("--lang", choices=["fr", "en"], help=t("language of the output"))

    parser = argparse.ArgumentParser(
        prog="entraide",
        description=t(
            "entraide: neighbourhood mutual aid that keeps working without power, "
            "phone network or internet."
        ),
        epilog=t(
            'Start with: entraide init --zone-name "My street". '
            "Exit codes: 0 ok, 2 bad usage, 3 node not set up or unusable, "
            "4 input rejected, 5 not found, 1 internal error (please report it)."
        ),
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    p.add_argument("--zone-name", metavar=t("NAME"), help=t("name of the aid zone"))
    p.add_argument("--zone-id", metavar="HEX", help=t("join the zone with this 8-hex-digit id"))
    p.add_argument(
        "--bridge-key",
        metavar="HEX",
        type=parse_key,
        action="append",
        default=[],
        help=t("public key of a town-hall bridge allowed to publish official alerts (repeatable)"),
    )
    p.add_argument(
        "--peer",
        metavar="MULTIADDR",
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
        choices=["all", "alerts", "help", "checkins", "incidents", "resources", "tips"],
        help=t("which part of the board (default: all)"),
    )
    p.add_argument("--need", type=_enum_type(k.Need, lang), help=t("only requests for this need"))
    p.add_argument(
        "--urgency",
        type=_enum_type(k.RequestUrgency, lang),
        help=t("only requests of this urgency"),
    )
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
        "--since", type=parse_time, help=t("only messages created after this date and time")
    )

    p = sub.add_parser(
        "import",
        parents=[common],
        help=t("read a bundle file: every message is verified like any received message"),
    )
    p.add_argument("file", metavar=t("FILE"), help=t("bundle file to read ('-' for stdin)"))
    return parser


def _add_post_parser(sub: Any, common: argparse.ArgumentParser, lang: str) -> None:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

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
        type=parse_duration_minutes,
        help=t("how long the message stays valid: 30m, 4h, 3d, 1w (default depends on the kind)"),
    )
    parents = [common, lifetime]
    enum_t = _enum_type

    def place(p: argparse.ArgumentParser) -> None:
        p.add_argument("--place", default="", help=t("street, block or landmark (coarse)"))
        p.add_argument("--point", type=parse_point, help=t("precise position LAT,LON (optional)"))

    p = kinds.add_parser("alert", parents=parents, help=t("a community alert"))
    p.add_argument("--headline", required=True, help=t("one line: what is happening"))
    p.add_argument("--severity", type=enum_t(k.Severity, lang), default=k.Severity.UNKNOWN)
    p.add_argument("--urgency", type=enum_t(k.Urgency, lang), default=k.Urgency.UNKNOWN)
    p.add_argument("--certainty", type=enum_t(k.Certainty, lang), default=k.Certainty.UNKNOWN)
    p.add_argument("--category", type=enum_t(k.Category, lang), default=k.Category.OTHER)
    p.add_argument("--instruction", default="", help=t("what people should do"))
    p.add_argument("--area", default="", help=t("the area concerned"))
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
    p.add_argument("--need", type=enum_t(k.Need, lang), required=True, help=t("what is needed"))
    p.add_argument(
        "--urgency", type=enum_t(k.RequestUrgency, lang), default=k.RequestUrgency.NORMAL
    )
    p.add_argument("--people", type=int, default=1, help=t("number of people concerned"))
    p.add_argument("--vulnerable", action="store_true", help=t("a vulnerable person is concerned"))
    place(p)
    p.add_argument("--text", default="", help=t("short description"))

    p = kinds.add_parser("offer", parents=parents, help=t("offer help, a skill or equipment"))
    p.add_argument("--what", type=enum_t(k.Need, lang), required=True, help=t("what you offer"))
    p.add_argument(
        "--standing",
        action="store_true",
        help=t("a standing offer made ahead of any crisis (give a long --lifetime)"),
    )
    p.add_argument("--capacity", type=int, default=1, help=t("how many people you can help"))
    place(p)
    p.add_argument("--text", default="", help=t("short description"))

    p = kinds.add_parser("claim", parents=parents, help=t("say you are taking care of a request"))
    p.add_argument("id", metavar="ID", help=t("the request"))
    p.add_argument(
        "--eta", type=parse_duration_minutes, default=0, help=t("when you expect to be there")
    )
    p.add_argument("--text", default="")

    p = kinds.add_parser(
        "resolve", parents=parents, help=t("close a request, offer or incident (done or cancelled)")
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--cancelled", action="store_true", help=t("cancelled rather than done"))
    p.add_argument("--text", default="")

    p = kinds.add_parser(
        "checkin", parents=parents, help=t("say how your household (or a neighbour's) is")
    )
    p.add_argument("--status", type=enum_t(k.CheckInStatus, lang), default=k.CheckInStatus.SAFE)
    who = p.add_mutually_exclusive_group()
    who.add_argument("--for-key", type=parse_key, help=t("the household you visited, by its key"))
    who.add_argument("--for-name", default="", help=t("the person you visited, by name"))
    p.add_argument("--people", type=int, default=0, help=t("number of people in the household"))
    p.add_argument("--place", default="")
    p.add_argument("--text", default="")
    p.add_argument("--answers", metavar="ID", help=t("the alert this check-in answers"))

    p = kinds.add_parser("incident", parents=parents, help=t("report an incident"))
    p.add_argument("--type", type=enum_t(k.IncidentType, lang), required=True)
    p.add_argument("--severity", type=enum_t(k.Severity, lang), default=k.Severity.MODERATE)
    place(p)
    p.add_argument("--text", default="")
    p.add_argument("--updates", metavar="ID", help=t("your earlier report this one replaces"))

    p = kinds.add_parser(
        "resource", parents=parents, help=t("announce a resource point (water, shelter, charging)")
    )
    p.add_argument("--type", type=enum_t(k.ResourceType, lang), required=True)
    p.add_argument("--name", required=True, help=t("name of the place"))
    p.add_argument("--closed", action="store_true", help=t("the point is closed"))
    p.add_argument("--point", type=parse_point)
    p.add_argument("--hours", default="", help=t("opening hours"))
    p.add_argument("--text", default="")
    p.add_argument("--replaces", metavar="ID", help=t("your earlier version of this point"))

    p = kinds.add_parser("tip", parents=parents, help=t("a safety tip or a drill notice"))
    p.add_argument("--title", required=True)
    p.add_argument("--drill", action="store_true", help=t("a notice of an exercise"))
    p.add_argument("--text", default="")
    p.add_argument("--language", choices=["", "fr", "en"], default="")
    p.add_argument("--drill-start", type=parse_time, default=0)
    p.add_argument("--drill-end", type=parse_time, default=0)

    p = kinds.add_parser("retract", parents=parents, help=t("withdraw one of your messages"))
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", default="")

    p = kinds.add_parser("comment", parents=parents, help=t("comment on a message"))
    p.add_argument("id", metavar="ID")
    p.add_argument("--text", required=True)


# ---------------------------------------------------------------- commands


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    ensure_home(ctx.home)
    try:
        identity = ctx.identity()
        created = False
    except NoIdentity:
        identity = create_identity(ctx.home)
        created = True
    try:
        existing: Config | None = ctx.config()
    except ConfigError:
        existing = None
    if existing is not None and not args.force:
        zone = existing.zone
        if (
            (args.zone_id and parse_zone_id(args.zone_id) != zone.zone_id)
            or (args.zone_name and args.zone_name != zone.name)
            or (args.bridge_key and args.bridge_key != zone.bridge_keys)
            or (args.peer and args.peer != zone.bootstrap_peers)
        ):
            raise UsageError(
                tr(
                    "this node is already set up for zone {zone}; add --force to change "
                    "its zone settings",
                    ctx.lang,
                    zone=existing.zone.name,
                )
            )
        config = existing
    else:
        zone_id = parse_zone_id(args.zone_id) if args.zone_id else new_zone_id()
        name = args.zone_name or (
            existing.zone.name
            if existing
            else tr("zone {zone_id}", ctx.lang, zone_id=zone_id.hex())
        )
        config = Config(
            zone=ZoneSettings(
                zone_id=zone_id,
                name=name,
                bridge_keys=list(args.bridge_key),
                bootstrap_peers=list(args.peer),
            ),
            language=args.language or ctx.lang,
        )
        save_config(ctx.home, config)
    with ctx.open_store():
        pass  # creates the store file with its schema
    if ctx.as_json:
        ctx.emit_json(_whoami_json(ctx, identity, config) | {"created_identity": created})
        return EXIT_OK
    if created:
        ctx.say(tr("New household identity created.", ctx.lang))
    ctx.say(render.whoami(identity, config, ctx.home, ctx.lang))
    if created:
        ctx.say(
            tr(
                "Compare the fingerprint aloud with your neighbours when you meet them.",
                ctx.lang,
            )
        )
    return EXIT_OK


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
    identity, config = ctx.identity(), ctx.config()
    if ctx.as_json:
        ctx.emit_json(_whoami_json(ctx, identity, config))
    else:
        ctx.say(render.whoami(identity, config, ctx.home, ctx.lang))
    return EXIT_OK


def _resolve_id(ctx: Context, store: Store, text: str) -> Envelope:
    prefix = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
        raise UsageError(
            tr("{text!r} is not a message id (at least 4 hex digits)", ctx.lang, text=text)
        )
    matches = store.find_prefix(prefix)
    if not matches:
        raise NotFound(tr("no message with id {prefix}", ctx.lang, prefix=prefix))
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
                    "{id} is a {actual}, not a {expected}",
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
        return (
            k.Claim(eta_minutes=args.eta, text=args.text),
            [ref(args.id, k.Kind.HELP_REQUEST)],
            lifetime,
        )
    if kind == "resolve":
        target = _resolve_id(ctx, store, args.id)
        if target.kind not in (k.Kind.HELP_REQUEST, k.Kind.HELP_OFFER, k.Kind.INCIDENT):
            raise UsageError(
                tr("only a request, an offer or an incident can be resolved", ctx.lang)
            )
        claimers = {e.author for e in store.referencing(target.id) if e.kind is k.Kind.CLAIM}
        if target.author != me and me not in claimers:
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
        refs = [ref(args.updates, k.Kind.INCIDENT)] if args.updates else []
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
        refs = [ref(args.replaces, k.Kind.RESOURCE_POINT)] if args.replaces else []
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
            raise UsageError(tr("you can only retract your own messages", ctx.lang))
        if lifetime is None:
            # A retraction must outlive its target, or the target would come back.
            remaining = math.ceil((target.expires - ctx.now) / 60) + 1
            rules = k.KIND_RULES[k.Kind.RETRACTION]
            lifetime = min(max(rules.default_lifetime, remaining), rules.max_lifetime)
        return k.Retraction(reason=args.reason), [target.id], lifetime
    if kind == "comment":
        return k.Comment(text=args.text), [ref(args.id)], lifetime
    raise AssertionError(kind)  # argparse only lets known kinds through


def cmd_post(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    with ctx.open_store() as store:
        try:
            body, refs, lifetime = _build_post(ctx, args, store, identity.public_key)
            env = seal(
                body,
                signing_key=identity.signing_key,
                created=ctx.now,
                zone=config.zone.zone_id,
                refs=refs,
                lifetime=lifetime,
            )
        except InvalidMessage as exc:
            raise UsageError(str(exc)) from None
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
    with ctx.open_store() as store:
        env = _resolve_id(ctx, store, args.id)
        related = store.referencing(env.id)
    if ctx.as_json:
        ctx.emit_json(envelope_to_json(env) | {"referenced_by": [e.id.hex() for e in related]})
    else:
        ctx.say(render.message(env, related, now=ctx.now, lang=ctx.lang))
    return EXIT_OK


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.open_store() as store:
        raws = store.all_raw(ctx.now, since=args.since)
    data = encode_bundle(raws)
    if args.file == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        from .fsutil import atomic_write

        atomic_write(Path(args.file), data, 0o644)
    summary = {"exported": len(raws), "bytes": len(data), "file": args.file}
    if args.file == "-":
        print(tr("Exported {count} messages.", ctx.lang, count=len(raws)), file=sys.stderr)
    elif ctx.as_json:
        ctx.emit_json(summary)
    else:
        ctx.say(
            tr(
                "Exported {count} messages ({size} bytes) to {file}.",
                ctx.lang,
                count=len(raws),
                size=len(data),
                file=args.file,
            )
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
    rejections: list[dict[str, str]] = []
    for index, result in enumerate(results):
        counts[result.status] += 1
        if result.error is not None:
            rejections.append(
                {"index": str(index), "code": result.error.code, "reason": str(result.error)}
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
                "Imported {new} new messages ({duplicate} already known, {rejected} rejected).",
                ctx.lang,
                **counts,
            )
        )
        for item in rejections:
            ctx.say(
                tr(
                    "  rejected #{index}: {reason}",
                    ctx.lang,
                    index=item["index"],
                    reason=item["reason"],
                )
            )
        if damaged is not None:
            ctx.say(
                tr("The file is damaged after that point: {reason}", ctx.lang, reason=str(damaged))
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
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--lang")
    pre.add_argument("--home")
    known, _ = pre.parse_known_args(argv)
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


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _early_language(argv)
    parser = build_parser(lang)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error or the help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    ctx = Context(
        home=Path(),
        lang=args.lang or lang,
        as_json=args.json,
        out=out or sys.stdout,
        now=int(time.time()),
    )
    try:
        ctx.home = resolve_home(args.home)
        return COMMANDS[args.command](ctx, args)
    except EntraideError as exc:
        _fail(ctx, exc)
        return _exit_code(exc)


def _fail(ctx: Context, exc: EntraideError) -> None:
    if ctx.as_json:
        json.dump(
            {"error": exc.code, "fault": exc.fault, "message": str(exc)},
            sys.stderr,
            ensure_ascii=False,
        )
        sys.stderr.write("\n")
    else:
        print(f"entraide: {error_text(exc, ctx.lang)}", file=sys.stderr)
