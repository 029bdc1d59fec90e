"""The ``entraide`` command line.

Every command works on the node's home directory (``--home``, ``$ENTRAIDE_HOME`` or the
platform's user data directory). Output is for people by default and JSON with ``--json``.
Exit codes are documented in :data:`EXIT_CODES` and in ``entraide --help``.

The grammar (options, argument types, help texts) is in :mod:`node.cli_args`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

from protocol import kinds as k
from protocol import state
from protocol.bundle import MAGIC, encode_bundle, iter_bundle
from protocol.charter import SignedCharter
from protocol.envelope import Envelope, lifetime_to_outlive, seal
from protocol.errors import EntraideError, InvalidMessage, LocalError, PeerError, UsageError
from protocol.i18n import error_text, label, tr
from protocol.jsonview import envelope_to_json

from . import render
from .cli_args import _spec, argparse_language, build_parser
from .client import ControlClient, NodeUnavailable, b64
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
from .store import IngestResult, Store, StoreError
from .trust import ZoneTrust, adopt_charter, charter_path, load_charter, local_clock

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_REJECTED = 4
EXIT_NOT_FOUND = 5
EXIT_INTERRUPTED = 130  # as shells report Ctrl-C

#: What each exit code means (also in ``entraide --help``).
EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_BUG: "internal error (a bug: please report it)",
    EXIT_USAGE: "bad usage (wrong option or value, or a request refused)",
    EXIT_SETUP: "node not set up or unusable (run `entraide init`), or output not written",
    EXIT_REJECTED: "input rejected (a message or a bundle file)",
    EXIT_NOT_FOUND: "not found",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

STORE_FILE = "store.sqlite3"
#: Envelopes per transaction when importing a bundle.
IMPORT_BATCH = 1000
#: The largest bundle file accepted (a whole zone's live messages fit many times over).
MAX_BUNDLE_BYTES = 256 * 2**20
#: Rejected messages listed one by one in an import report; the rest are counted.
MAX_REPORTED = 50

_B = TypeVar("_B", bound=k.Body)


class OutputError(LocalError):
    """The output could not be written (a closed pipe, a full disk)."""

    code = "output"


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
    #: The running node's control connection (None: not tried yet, False: no node runs).
    node: ControlClient | Literal[False] | None = None
    #: The zone's roles as the store shows them (node.trust), once asked for.
    zone_trust: ZoneTrust | None = None

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

    def trust(self, config: Config, store: Store) -> ZoneTrust:
        """The zone's charter and roles, from the charter file and the store (node.trust)."""
        if self.zone_trust is None:
            self.zone_trust = ZoneTrust(config, load_charter(self.home, config.zone.zone_id))
            self.zone_trust.refresh(store, now=self.now)
        return self.zone_trust

    def use_network_time(self) -> None:
        """Use the running node's clock, which its peers corrected if it was wrong
        (node.trust), for what this command signs and shows; without a node, this
        computer's."""
        if self.node is None:
            self.node = _connect_node(self.home)
        if self.node:
            self.now = int(self.node.call("status")["now"])

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def emit_json(self, value: Any, file: TextIO | None = None) -> None:
        stream = file or self.out
        json.dump(value, stream, ensure_ascii=False, indent=2)
        stream.write("\n")


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
        if not args.zone_id:
            # Never move a household to a new random zone behind its back.
            raise UsageError(
                tr(
                    "{reason}; to rewrite it, also give the zone's id with --zone-id",
                    ctx.lang,
                    reason=str(exc),
                )
            ) from None
        existing = None
    signed = _init_charter(ctx, args, existing)
    config = _init_config(ctx, args, existing)
    if existing is not None and existing.zone.zone_id != config.zone.zone_id:
        charter_path(ctx.home).unlink(missing_ok=True)  # the charter of the zone it leaves
    charter_outcome = (
        None if signed is None else adopt_charter(ctx.home, config.zone.zone_id, signed)
    )
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
            | ({} if signed is None else {"charter": signed.charter.fingerprint})
        )
        return EXIT_OK
    if created:
        ctx.say(tr("New household identity created.", ctx.lang))
    elif not changed and charter_outcome in (None, "same"):
        ctx.say(tr("This node was already set up; nothing changed.", ctx.lang))
    ctx.say(render.whoami(identity, config, ctx.home, ctx.lang, signed))
    if signed is not None:
        ctx.say(
            tr(
                "Zone charter in use: {name}, fingerprint {fingerprint}.",
                ctx.lang,
                name=signed.charter.name,
                fingerprint=signed.charter.fingerprint,
            )
        )
    if created:
        ctx.say(
            tr(
                "Compare the fingerprint aloud with your neighbours when you meet them.",
                ctx.lang,
            )
        )
    return EXIT_OK


def _init_charter(
    ctx: Context, args: argparse.Namespace, existing: Config | None
) -> SignedCharter | None:
    """The charter ``entraide init --charter`` joins, its fingerprint compared; the zone id
    (and, for a new node, the zone's name) come from it."""
    if not args.charter:
        return None
    from .cli_trust import confirm_fingerprint, read_charter

    signed = read_charter(ctx, args.charter)
    zone = signed.charter.zone
    if args.zone_id and args.zone_id != zone:
        raise UsageError(
            tr(
                "--zone-id {zone_id} is not the zone of this charter ({charter_zone}): leave "
                "--zone-id out",
                ctx.lang,
                zone_id=args.zone_id.hex(),
                charter_zone=zone.hex(),
            )
        )
    confirm_fingerprint(ctx, signed, args.fingerprint, args.yes)
    args.zone_id = zone
    if existing is None and not args.zone_name:
        args.zone_name = signed.charter.name[:NAME_MAX].strip()
    return signed


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
        charter = load_charter(ctx.home, config.zone.zone_id)
        ctx.say(render.whoami(identity, config, ctx.home, ctx.lang, charter))
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
    kind: str = args.kind
    lifetime: int | None = args.lifetime
    body: k.Body

    def outliving(new_kind: k.Kind, targets: list[Envelope]) -> int | None:
        """The lifetime asked for, else one that lasts as long as what the message replaces
        or depends on: every node prunes what expired, and the older one would come back."""
        if lifetime is not None or not targets:
            return lifetime
        return max(lifetime_to_outlive(t, new_kind, now=ctx.now) for t in targets)

    def ref(text: str, expected: k.Kind | None = None) -> Envelope:
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
        return target

    if kind == "alert":
        superseded = [ref(r, k.Kind.ALERT) for r in args.supersedes]
        refs = [t.id for t in superseded]
        return _body(k.Alert, args), refs, outliving(k.Kind.ALERT, superseded)
    if kind == "request":
        return _body(k.HelpRequest, args), [], lifetime
    if kind == "offer":
        return _body(k.HelpOffer, args), [], lifetime
    if kind == "claim":
        max_eta = _spec(k.Claim, "eta_minutes").max_value or 0
        if args.eta > max_eta:
            raise UsageError(
                tr("--eta: at most {max}", ctx.lang, max=render.duration(max_eta, ctx.lang))
            )
        request = ref(args.id, k.Kind.HELP_REQUEST)
        body = _body(k.Claim, args, eta_minutes=args.eta)
        return body, [request.id], outliving(k.Kind.CLAIM, [request])
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
        related = store.referencing(target.id)
        related += [r for c in related if c.kind is k.Kind.CLAIM for r in store.referencing(c.id)]
        if not state.may_resolve(target, related, me):
            raise UsageError(
                tr(
                    "only its author or someone who claimed it can resolve {id}",
                    ctx.lang,
                    id=target.short_id,
                )
            )
        outcome = k.Outcome.CANCELLED if args.cancelled else k.Outcome.DONE
        body = _body(k.Resolution, args, outcome=outcome)
        return body, [target.id], outliving(k.Kind.RESOLUTION, [target])
    if kind == "checkin":
        refs = [ref(args.answers, k.Kind.ALERT).id] if args.answers else []
        checkin = _body(k.CheckIn, args, subject_key=args.for_key, subject_name=args.for_name)
        household = state.household_key(checkin, me)
        earlier = [
            e
            for e in store.live(ctx.now, [k.Kind.CHECKIN], zone=ctx.config().zone.zone_id)
            if state.household_of(e) == household
        ]
        return checkin, refs, outliving(k.Kind.CHECKIN, earlier)
    if kind == "incident":
        earlier = (
            [_own_earlier(ctx, store, args.updates, k.Kind.INCIDENT, me)] if args.updates else []
        )
        body = _body(k.Incident, args)
        return body, [e.id for e in earlier], outliving(k.Kind.INCIDENT, earlier)
    if kind == "resource":
        earlier = (
            [_own_earlier(ctx, store, args.replaces, k.Kind.RESOURCE_POINT, me)]
            if args.replaces
            else []
        )
        body = _body(k.ResourcePoint, args, open=not args.closed)
        return body, [e.id for e in earlier], outliving(k.Kind.RESOURCE_POINT, earlier)
    if kind == "tip":
        if (args.drill_start or args.drill_end) and not args.drill:
            raise UsageError(tr("--drill-start and --drill-end go with --drill", ctx.lang))
        if args.drill_start and args.drill_end and args.drill_end < args.drill_start:
            raise UsageError(tr("the exercise ends before it starts", ctx.lang))
        tip_type = k.TipType.DRILL if args.drill else k.TipType.TIP
        return _body(k.Tip, args, type=tip_type), [], lifetime
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
        return _body(k.Retraction, args), [target.id], outliving(k.Kind.RETRACTION, [target])
    if kind == "comment":
        return _body(k.Comment, args), [ref(args.id).id], lifetime
    raise AssertionError(kind)  # argparse only lets known kinds through


def _body(cls: type[_B], args: argparse.Namespace, **values: Any) -> _B:
    """A body whose fields come from the options of the same name, or from ``values``."""
    for f in dataclasses.fields(cls):
        if f.name not in values and hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    return cls(**values)


def _own_earlier(ctx: Context, store: Store, text: str, kind: k.Kind, me: bytes) -> Envelope:
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
    return target


def cmd_post(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
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
        (result,) = _store_or_submit(ctx, store, [env.raw], config)
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
    ctx.use_network_time()
    with ctx.open_store() as store:
        messages = store.live(ctx.now, zone=config.zone.zone_id)
        roles = ctx.trust(config, store).roles
    text, data = render.board(
        messages,
        now=ctx.now,
        bridge_keys=frozenset(config.zone.bridge_keys),
        section=args.section,
        need=args.need,
        urgency=args.urgency,
        mine=me if args.mine else None,
        lang=ctx.lang,
        trust=roles,
    )
    if ctx.as_json:
        ctx.emit_json(data)
    else:
        ctx.say(text)
    return EXIT_OK


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    ctx.use_network_time()
    with ctx.open_store() as store:
        env = _resolve_id(ctx, store, args.id)
        related = store.referencing(env.id)
        roles = ctx.trust(config, store).roles
        board = state.derive(
            store.live(ctx.now, zone=config.zone.zone_id),
            now=ctx.now,
            bridge_keys=frozenset(config.zone.bridge_keys),
            trust=roles,
        )
    verification = render.verification_of(board, env.id)
    if ctx.as_json:
        ctx.emit_json(
            envelope_to_json(env)
            | {"referenced_by": [e.id.hex() for e in related]}
            | (
                {}
                if verification is None
                else {"verification": render.verification_json(verification, env, ctx.lang)}
            )
        )
    else:
        ctx.say(
            render.message(env, related, now=ctx.now, lang=ctx.lang, verification=verification)
        )
    return EXIT_OK


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
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
        raws = store.all_raw(ctx.now, since=args.since, zone=config.zone.zone_id)
    data = encode_bundle(raws)
    if to_stdout:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputError(
                tr(
                    "the bundle was not written: the program reading it stopped first",
                    ctx.lang,
                )
            ) from None
    else:
        target = Path(args.file)
        if not args.force and _holds_something_else(target):
            raise UsageError(
                tr(
                    "{file} exists and is not a bundle: choose another name, or add --force "
                    "to replace it",
                    ctx.lang,
                    file=shown_path(args.file),
                )
            )
        try:
            atomic_write(target, data, 0o644)
        except OSError as exc:
            raise UsageError(
                tr(
                    "cannot write {file}: {reason}",
                    ctx.lang,
                    file=shown_path(args.file),
                    reason=exc.strerror,
                )
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
                file=tr("standard output", ctx.lang) if to_stdout else shown_path(args.file),
            ),
            file=report,
        )
    return EXIT_OK


def _read_bundle_file(ctx: Context, name: str) -> bytes:
    """The bytes of a bundle file, refusing what is too big to be one before reading it."""
    try:
        with contextlib.ExitStack() as stack:
            f = sys.stdin.buffer if name == "-" else stack.enter_context(open(name, "rb"))
            data = f.read(len(MAGIC))
            if data == MAGIC:  # never read much of what is not a bundle (/dev/zero, say)
                data += f.read(MAX_BUNDLE_BYTES + 1 - len(MAGIC))
    except OSError as exc:
        raise UsageError(
            tr("cannot read {file}: {reason}", ctx.lang, file=shown_path(name), reason=exc.strerror)
        ) from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise BadBundle(
            tr(
                "{file} is larger than any bundle may be ({size} MiB)",
                ctx.lang,
                file=shown_path(name),
                size=MAX_BUNDLE_BYTES // 2**20,
            )
        )
    if not data.startswith(MAGIC):
        raise BadBundle(
            tr(
                "{file} is not an entraide bundle (made by `entraide export`)",
                ctx.lang,
                file=shown_path(name),
            )
        )
    return data


def _holds_something_else(path: Path) -> bool:
    """Whether writing a bundle at ``path`` would destroy something that is not a bundle
    (``entraide export identity.key`` must not wipe the household's key)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) != MAGIC
    except FileNotFoundError:
        return False
    except OSError:
        return True  # a directory, a device, unreadable: not ours to replace


def shown_path(name: str) -> str:
    """A file name as it is safe to print: control characters escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    data = _read_bundle_file(ctx, args.file)
    records = iter_bundle(data)
    damaged: PeerError | None = None
    counts = {"new": 0, "duplicate": 0, "rejected": 0}
    rejections: list[dict[str, Any]] = []  # the first MAX_REPORTED, for the report
    date_trouble = False
    read = 0
    show_progress = not ctx.as_json and sys.stderr.isatty()
    with ctx.open_store() as store:
        # In batches: each is one transaction, so an interrupted import keeps what it did.
        while True:
            batch: list[bytes] = []
            try:
                for raw in records:
                    batch.append(raw)
                    if len(batch) == IMPORT_BATCH:
                        break
            except PeerError as exc:  # keep what came before the damage
                damaged = exc
            if not batch:
                break
            for offset, result in enumerate(_store_or_submit(ctx, store, batch, config)):
                counts[result.status] += 1
                if result.error is None:
                    continue
                date_trouble |= result.error.code in ("future-dated", "expired")
                if len(rejections) < MAX_REPORTED:
                    rejections.append(
                        {
                            "index": read + offset,
                            "id": None if result.id is None else result.id.hex(),
                            "code": result.error.code,
                            "reason": str(result.error),
                            "text": error_text(result.error, ctx.lang),
                        }
                    )
            read += len(batch)
            if show_progress and read >= IMPORT_BATCH * 4:
                print("\r" + tr("{done} messages…", ctx.lang, done=read), end="", file=ctx.err)
            if damaged is not None or len(batch) < IMPORT_BATCH:
                break
        if show_progress and read >= IMPORT_BATCH * 4:
            print(file=ctx.err)
    unreported = counts["rejected"] - len(rejections)
    if ctx.as_json:
        ctx.emit_json(
            counts
            | {
                "rejections": rejections,
                "rejections_not_listed": unreported,
                "damaged": None if damaged is None else str(damaged),
            }
        )
        return EXIT_REJECTED if counts["rejected"] or damaged else EXIT_OK
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
    if unreported:
        ctx.say("  " + tr("… and {count} more rejected.", ctx.lang, count=unreported))
    if date_trouble:
        ctx.say(
            tr(
                "Some messages were refused for their date. This computer's clock says "
                "{time}: if that is wrong, set the clock and import again.",
                ctx.lang,
                time=datetime.fromtimestamp(ctx.now).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if damaged is not None:
        ctx.say(
            tr(
                "The file is damaged ({reason}): reading stopped after {count} message(s). "
                "Ask for a new copy.",
                ctx.lang,
                count=read,
                reason=str(damaged),
            )
        )
    return EXIT_REJECTED if counts["rejected"] or damaged else EXIT_OK


def _store_or_submit(
    ctx: Context, store: Store, raws: list[bytes], config: Config
) -> list[IngestResult]:
    """Hand signed messages to the running node, which stores and publishes them; without a
    node, store them here (they go out at the node's next catch-up)."""
    if ctx.node is None:
        ctx.node = _connect_node(ctx.home)
    if ctx.node is False:
        return ctx.trust(config, store).ingest(store, raws, now=ctx.now)
    answers = ctx.node.call("submit", raws=[b64(raw) for raw in raws])
    return [_result_of(answer) for answer in answers]


def _connect_node(home: Path) -> ControlClient | Literal[False]:
    try:
        return ControlClient(home)
    except NodeUnavailable:
        return False


def _result_of(answer: dict[str, Any]) -> IngestResult:
    error = answer.get("error")
    return IngestResult(
        status=answer["status"],
        id=bytes.fromhex(answer["id"]) if answer.get("id") else None,
        error=None if error is None else RemoteRejection(error),
    )


class RemoteRejection(PeerError):
    """A message the running node refused; its code and reason are the node's."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message", "rejected by the node")))
        self.code = str(error.get("code", "rejected"))


def cmd_node(ctx: Context, args: argparse.Namespace) -> int:
    import trio  # the daemon's imports (trio, libp2p) stay out of the other commands

    from .daemon import NodeOptions, home_lock, open_node, run_until_signalled
    from .lora import RadioOptions

    config, identity = ctx.config(), ctx.identity()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=ctx.err,
    )
    if args.log_level != "debug":
        # libp2p logs every failed dial as an error, with tracebacks: our own log says it.
        logging.getLogger("libp2p").setLevel(logging.CRITICAL)
    options = NodeOptions(
        listen=tuple(args.listen) or NodeOptions().listen,
        mdns=not args.no_mdns,
        wifi=not args.offline,
        extra_peers=tuple(args.peer),
        sync_interval=args.sync_interval,
        gossip=args.gossip,
        radio=None
        if args.radio is None
        else RadioOptions(
            args.radio,
            preset=args.radio_preset,
            region=args.radio_region,
            handset_lang=args.handset_lang or config.language,
            summary_interval_s=args.radio_summary,
        ),
    )
    with home_lock(ctx.home):
        node = open_node(ctx.home, config, identity, options)
        try:
            stopped_by = trio.run(run_until_signalled, node)
        except BaseExceptionGroup as group:
            raise _service_failure(group) from None
        finally:
            node.store.close()
    print(
        tr("Node stopped ({signal}). Every message received was kept.", ctx.lang,
           signal=stopped_by),
        file=ctx.err,
    )
    return EXIT_OK


def _service_failure(group: BaseExceptionGroup) -> BaseException:
    """The error to report when a service of the node failed to start (a radio that is not
    there, a socket in use): the first EntraideError of the group, if that is all it holds;
    anything else is a bug and keeps its traceback."""
    errors, rest = group.split(EntraideError)
    if errors is None or rest is not None:
        return group
    first: BaseException = errors
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    ctx.config()
    try:
        with ControlClient(ctx.home) as client:
            status = client.call("status")
    except NodeUnavailable:
        raise NodeUnavailable(
            tr(
                "no node is running on {home}: start it with `entraide node`",
                ctx.lang,
                home=str(ctx.home),
            )
        ) from None
    if ctx.as_json:
        ctx.emit_json(status)
    else:
        ctx.say(render.status(status, ctx.lang))
    return EXIT_OK


def cmd_radio_emulator(ctx: Context, args: argparse.Namespace) -> int:
    import trio  # the emulator's imports (trio, meshtastic) stay out of the other commands

    from radio.emulator import Emulator, EmulatorOptions, run_until_signalled

    options = EmulatorOptions(
        radios=args.radios,
        topology=args.topology,
        loss=args.loss,
        preset=args.preset,
        region=args.region,
        hop_limit=args.hop_limit,
        time_scale=args.time_scale,
        base_port=args.base_port,
        seed=args.seed,
        names=tuple(args.name),
        emit_log_lines=args.log_lines,
    )
    try:
        emulator = options.build()
    except (OSError, ValueError) as exc:  # an unreadable or inconsistent topology file
        raise UsageError(
            tr(
                "cannot use topology {topology}: {error}",
                ctx.lang,
                topology=args.topology,
                error=str(exc),
            )
        ) from None

    def ready(running: Emulator) -> None:
        endpoints = running.endpoints()
        if ctx.as_json:
            # One line, so that a parent process can read it as soon as the radios listen.
            radios = [dataclasses.asdict(e) for e in endpoints]
            ctx.out.write(json.dumps({"radios": radios}, ensure_ascii=False) + "\n")
        else:
            ctx.say(
                tr(
                    "{count} emulated radios ({preset}, {region}, topology {topology}, time "
                    "×{scale}); Ctrl-C to stop:",
                    ctx.lang,
                    count=len(endpoints),
                    preset=args.preset,
                    region=args.region,
                    topology=args.topology,
                    scale=f"{args.time_scale:g}",
                )
            )
            for e in endpoints:
                ctx.say(f"{e.node_id}  {e.long_name:<16} {e.short_name:<4}  {e.address}")
        ctx.out.flush()

    try:
        stopped_by, summary = trio.run(run_until_signalled, emulator, ready)
    except OSError as exc:  # the port is taken
        raise UsageError(
            tr("cannot open the radios' ports: {error}", ctx.lang, error=str(exc))
        ) from None
    if ctx.as_json:
        ctx.out.write(json.dumps({"stopped": stopped_by, **summary}, ensure_ascii=False) + "\n")
        return EXIT_OK
    print(
        tr(
            "Emulator stopped ({signal}) after {seconds} s of simulated time; "
            "{count} frames on the air.",
            ctx.lang,
            signal=stopped_by,
            seconds=f"{summary['simulated_s']:.0f}",
            count=summary["transmissions"],
        ),
        file=ctx.err,
    )
    for radio in summary["radios"]:
        print(
            tr(
                "{node_id} {name}: sent {sent} frames ({relayed} relayed), {airtime} s on the "
                "air; channel busy {busy} % of the last minute; duty cycle {used} % of {limit} %",
                ctx.lang,
                node_id=radio["node_id"],
                name=radio["name"],
                sent=radio["tx_frames"],
                relayed=radio["tx_relayed"],
                airtime=f"{radio['tx_airtime_s']:.1f}",
                busy=f"{100 * radio['channel_utilization']:.1f}",
                used=f"{100 * radio['air_util_tx']:.2f}",
                limit=f"{100 * radio['duty_cycle']:.0f}",
            ),
            file=ctx.err,
        )
    return EXIT_OK


def cmd_tui(ctx: Context, args: argparse.Namespace) -> int:
    ctx.config()  # a node never set up is told to run `entraide init`
    from tui.app import run  # Textual loads only for the app

    run(ctx.home, lang=ctx.lang, offline=args.offline, high_contrast=args.high_contrast)
    return EXIT_OK


def cmd_bridge(ctx: Context, args: argparse.Namespace) -> int:
    import trio  # the daemon's and the bridge's imports stay out of the other commands

    from .bridge.run import bridge_once, run_bridge, summary
    from .bridge.settings import load_bridge_settings
    from .daemon import NodeOptions, home_lock, open_node
    from .lora import RadioOptions

    config, identity = ctx.config(), ctx.identity()
    settings = load_bridge_settings(ctx.home, language=config.language)
    me = identity.public_key
    if me not in config.zone.bridge_keys:  # this node stores the mirrors it signs
        zone = dataclasses.replace(config.zone, bridge_keys=[*config.zone.bridge_keys, me])
        config = dataclasses.replace(config, zone=zone)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=ctx.err,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not ctx.as_json:
        print(
            tr(
                "Bridge key {key} (fingerprint {fingerprint}): the zone's coordinator adds it "
                "to bridge_keys on every node, or their nodes ignore its alerts.",
                ctx.lang,
                key=me.hex(),
                fingerprint=identity.fingerprint,
            ),
            file=ctx.err,
        )
    options = NodeOptions(
        listen=tuple(args.listen) or NodeOptions().listen,
        mdns=not args.no_mdns,
        wifi=not args.offline and not args.once,
        extra_peers=tuple(args.peer),
        radio=None
        if args.radio is None or args.once
        else RadioOptions(args.radio, handset_lang=config.language),
    )
    with home_lock(ctx.home):
        node = open_node(ctx.home, config, identity, options)
        try:
            if args.once:
                reports, outcomes = trio.run(bridge_once, node, settings)
            else:
                stopped_by = trio.run(run_bridge, node, settings)
        finally:
            node.store.close()
    if not args.once:
        print(
            tr(
                "Bridge stopped ({signal}). Every message received was kept.",
                ctx.lang,
                signal=stopped_by,
            ),
            file=ctx.err,
        )
        return EXIT_OK
    result = summary(reports, outcomes) | {"bridge_key": me.hex()}
    if ctx.as_json:
        ctx.emit_json(result)
    else:
        for source in result["sources"]:
            if source["ok"]:
                counts = ", ".join(
                    f"{n} {_outcome_word(status, ctx.lang)}"
                    for status, n in sorted(source["counts"].items())
                )
                ctx.say(f"{source['source']}: {counts or tr('nothing new', ctx.lang)}")
            else:
                ctx.say(
                    tr(
                        "{source}: not read ({reason}); the alerts already mirrored stay",
                        ctx.lang,
                        source=source["source"],
                        reason=source["error"]["message"],
                    )
                )
            for url, reason in source["refused_links"]:
                ctx.say(f"  {_outcome_word('refused', ctx.lang)} ({reason}): {url}")
            for doc in source["documents"]:
                _say_outcome(ctx, doc)
        for doc in result["folders"]:
            _say_outcome(ctx, doc)
    failed = any(not s["ok"] for s in result["sources"])
    return EXIT_REJECTED if failed else EXIT_OK


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    from .demo import make_options, run_demo  # trio and the emulator load only for the demo

    # Without a terminal (a script, a CI log) there is no app to open: run headless.
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    options = make_options(
        headless=args.headless or not terminal,
        duration=args.duration,
        folder=args.dir,
        lang=ctx.lang,
        keep=args.keep,
        as_json=ctx.as_json,
    )
    return run_demo(options, out=ctx.out, err=ctx.err)


def cmd_trust(ctx: Context, args: argparse.Namespace) -> int:
    from . import cli_trust  # the charter, roles and roster commands

    return cli_trust.COMMANDS[args.command](ctx, args)


def _outcome_word(status: str, lang: str) -> str:
    return {
        "mirrored": tr("mirrored", lang),
        "cancelled": tr("cancelled", lang),
        "skipped": tr("not mirrored", lang),
        "rejected": tr("rejected", lang),
        "refused": tr("link not followed", lang),
    }.get(status, status)


def _say_outcome(ctx: Context, doc: dict[str, Any]) -> None:
    if doc["reason"] == "duplicate":
        return
    what = doc["cap"][1] if doc["cap"] else doc["where"]
    reason = f" ({doc['reason']})" if doc["reason"] else ""
    ctx.say(f"  {_outcome_word(doc['status'], ctx.lang)}{reason}: {what}")


def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    from .report import (
        FORMATS,
        ReflexSheet,
        build_situation,
        verify_report,
        write_reflex_sheet,
        write_situation_report,
    )
    from .report.reflex import load_contacts, resource_lines

    if args.what == "verify":
        if not args.folder:
            raise UsageError(tr("give the report's folder: entraide report verify DIR", ctx.lang))
        verified = verify_report(Path(args.folder), args.key)
        if ctx.as_json:
            ctx.emit_json(
                {
                    "signer": verified.signer.hex(),
                    "fingerprint": verified.fingerprint,
                    "files": list(verified.files),
                }
            )
        else:
            ctx.say(
                tr(
                    "Signature valid: {count} file(s) signed by the key of fingerprint "
                    "{fingerprint}.",
                    ctx.lang,
                    count=len(verified.files),
                    fingerprint=verified.fingerprint,
                )
            )
        return EXIT_OK
    config, identity = ctx.config(), ctx.identity()
    zone = config.zone
    with ctx.open_store() as store:
        messages = store.live(ctx.now, zone=zone.zone_id)
        roles = ctx.trust(config, store).roles  # the charter's and the vouches'
    out = Path(args.out) if args.out else ctx.home / "reports"
    if args.what == "reflex":
        board = state.derive(messages, now=ctx.now, bridge_keys=frozenset(zone.bridge_keys))
        sheet = ReflexSheet(
            zone_name=zone.name,
            zone_id=zone.zone_id.hex(),
            now=ctx.now,
            lang=ctx.lang,
            signer_fingerprint=identity.fingerprint,
            bridge_keys=tuple(zone.bridge_keys),
            contacts=() if args.contacts is None else load_contacts(Path(args.contacts), ctx.lang),
            resources=resource_lines(board.resources, ctx.lang),
        )
        files = write_reflex_sheet(out, sheet, identity)
    else:
        situation = build_situation(
            messages,
            now=ctx.now,
            zone_name=zone.name,
            zone_id=zone.zone_id,
            bridge_keys=frozenset(zone.bridge_keys),
            signing_key=identity.signing_key,
            fingerprint=identity.fingerprint,
            lang=ctx.lang,
            since=args.since,
            roles=roles,
        )
        formats = tuple(dict.fromkeys(args.format or FORMATS))
        files = write_situation_report(out, situation, identity, formats)
    if ctx.as_json:
        ctx.emit_json({"files": [str(f) for f in files], "fingerprint": identity.fingerprint})
    else:
        ctx.say(tr("Report written and signed:", ctx.lang))
        for path in files:
            ctx.say(f"  {path}")
        ctx.say(
            tr(
                "Signer fingerprint: {fingerprint} (check it with: entraide report verify {dir})",
                ctx.lang,
                fingerprint=identity.fingerprint,
                dir=str(out),
            )
        )
    return EXIT_OK


def cmd_simulate(ctx: Context, args: argparse.Namespace) -> int:
    from node.sim.command import simulate  # the simulator loads only for this command

    return simulate(args, lang=ctx.lang, out=ctx.out, err=ctx.err, as_json=ctx.as_json)


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], int]] = {
    "radio-emulator": cmd_radio_emulator,
    "init": cmd_init,
    "whoami": cmd_whoami,
    "post": cmd_post,
    "board": cmd_board,
    "show": cmd_show,
    "export": cmd_export,
    "import": cmd_import,
    "node": cmd_node,
    "status": cmd_status,
    "tui": cmd_tui,
    "bridge": cmd_bridge,
    "report": cmd_report,
    "charter": cmd_trust,
    "roles": cmd_trust,
    "vouch": cmd_trust,
    "revoke": cmd_trust,
    "mark": cmd_trust,
    "corroborate": cmd_trust,
    "roster": cmd_trust,
    "demo": cmd_demo,
    "simulate": cmd_simulate,
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


def _on_terminal(out: TextIO) -> bool:
    """Whether the user sits at a terminal (not a script reading the output)."""
    return out is sys.stdout and sys.stdin.isatty() and sys.stdout.isatty()


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
    for stream in (sys.stdout, sys.stderr):
        # A file name in another encoding must print escaped, never crash the command.
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    out = out or sys.stdout
    err = err or sys.stderr
    lang = _early_language(argv)
    with (
        argparse_language(lang),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        parser = build_parser(lang)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse already printed the usage error or the help
            code = exc.code
            return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
        if args.command is None:
            if not _on_terminal(out):
                parser.print_help()
                return EXIT_USAGE
            args = parser.parse_args([*argv, "tui"])  # `entraide` alone opens the app
    ctx = Context(
        home=Path(),
        lang=args.lang or lang,
        as_json=args.json,
        out=out,
        err=err,
        now=0,
    )
    try:
        ctx.now = int(local_clock()())  # $ENTRAIDE_CLOCK_OFFSET_S: a test knob (node.trust)
        ctx.home = resolve_home(args.home)
        return COMMANDS[args.command](ctx, args)
    except EntraideError as exc:
        _fail(ctx, exc)
        return _exit_code(exc)
    except BrokenPipeError:  # `entraide board | head`: the reader has had enough
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: what was committed stays; say so, no traceback
        print(
            "\n" + tr("Interrupted. Everything done before was kept.", ctx.lang),
            file=ctx.err,
        )
        return EXIT_INTERRUPTED
    finally:
        if ctx.node:
            ctx.node.close()


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
