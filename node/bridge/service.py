"""The bridge service: official sources in, signed mirrors out, inside a running node.

``entraide bridge`` runs a :class:`~node.daemon.Node` (Wi-Fi, control socket, radio) and this
service next to it, in one nursery. The bridge is just another source of signed messages:
every mirror and tombstone goes through :meth:`Node.post <node.daemon.Node.post>`, so the
node stores it with the receiver rules (its own key must be a bridge key of the zone) before
it publishes it. Per source, one task polls::

    index (Atom/RSS) --fetch--> entries --new links only--> CAP documents
        --parse_cap--> CapAlert --Mirror.decide--> Decision --Node.post--> mirror, tombstones

Every refusal is logged with its reason code (:class:`~node.bridge.errors.Reason`) and
counted in :meth:`BridgeService.statistics`. A failed or garbage fetch changes nothing that
was mirrored: the next poll comes later and later (exponential back-off, with the server's
Retry-After if longer), back to the normal interval after a success. Folders of documents
carried in by hand are scanned like sources (each file read once; symbolic links ignored).
The bridge's memory (:class:`~node.bridge.mirror.BridgeState`) is saved in
``bridge-state.json`` in the node's home after every change, and rebuilt from the node's
store if that file is lost.
"""

from __future__ import annotations

import json
import logging
import os
import random
import stat
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import trio

from node.fsutil import atomic_write
from protocol import kinds as k
from protocol.errors import PeerError, UsageError

from .area import Regions
from .cap import CapKey, Flag, parse_cap
from .errors import CapRejected, FetchFailed, LinkRefused, Reason
from .feed import Index, parse_index
from .fetch import CAP_ACCEPT, INDEX_ACCEPT, Fetcher, LinkPolicy, Validators
from .mirror import BridgeState, Decision, Mirror, MirrorRecord
from .settings import BridgeSettings, FeedSource

if TYPE_CHECKING:
    from node.daemon import Node

__all__ = ["STATE_FILE", "BridgeService", "Outcome", "PollReport"]

log = logging.getLogger("entraide.bridge")

STATE_FILE = "bridge-state.json"
#: New documents fetched from one index in one poll (the rest wait for the next poll).
MAX_NEW_DOCUMENTS = 100
#: Documents remembered per source (the oldest are forgotten first).
MAX_REMEMBERED = 5000
FOLDER_SUFFIXES = (".xml", ".cap")
MAX_FOLDER_FILES = 1000


@dataclass
class Outcome:
    """What became of one document."""

    where: str  # its URL or file
    status: str  # "mirrored", "cancelled", "skipped" or "rejected"
    key: CapKey | None = None
    reason: Reason | None = None
    detail: str = ""
    flags: list[Flag] = field(default_factory=list)
    mirror_id: bytes | None = None
    tombstones: list[bytes] = field(default_factory=list)


@dataclass
class PollReport:
    source: str
    ok: bool
    #: Why the poll failed (the index could not be read), if it did.
    error: PeerError | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    refused_links: list[tuple[str, Reason]] = field(default_factory=list)
    not_modified: bool = False

    def reasons(self) -> Counter[str]:
        found = Counter(o.reason.value for o in self.outcomes if o.reason is not None)
        found.update(r.value for _, r in self.refused_links)
        if isinstance(self.error, CapRejected | FetchFailed | LinkRefused):
            found[self.error.reason.value] += 1
        return found


class BridgeService:
    """Mirrors official alerts into ``node``; run :meth:`serve` in the node's nursery."""

    def __init__(
        self,
        node: Node,
        settings: BridgeSettings,
        *,
        regions: Regions | None = None,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.node = node
        self.settings = settings
        self.regions = regions if regions is not None else Regions.shipped()
        self.state = BridgeState()
        self.mirror = Mirror(settings, settings.area.matcher(self.regions), self.state)
        self.state_path = node.home / STATE_FILE
        self._client = client
        self._rng = rng or random.Random()
        self._lock = trio.Lock()  # one document at a time: decisions read the state
        self.failures: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.last_success: dict[str, int] = {}
        self.loaded = False

    # --- running ----------------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self.load()
        client = self._client or Fetcher.client_for(self.settings)
        async with client, trio.open_nursery() as nursery:
            self._client = client
            for source in self.settings.sources:
                nursery.start_soon(self._poll_forever, source)
            for folder in self.settings.folders:
                nursery.start_soon(self._scan_forever, folder)
            log.info(
                "bridge ready: %d source(s), %d folder(s); bridge key %s",
                len(self.settings.sources),
                len(self.settings.folders),
                self.node.identity.public_key.hex(),
            )
            task_status.started()

    async def _poll_forever(self, source: FeedSource) -> None:
        while True:
            report = await self.poll(source)
            await trio.sleep(self.next_delay(source, report))

    async def _scan_forever(self, folder: Path) -> None:
        while True:
            await self.scan_folder(folder)
            await trio.sleep(self.settings.poll_interval_s)

    def next_delay(self, source: FeedSource, report: PollReport) -> float:
        """The normal interval after a success; after n failures in a row, 2^n times it (up
        to ``max_backoff_s``, and at least the server's Retry-After), with ±10 % jitter."""
        base = source.poll_interval_s or self.settings.poll_interval_s
        failures = self.failures.get(source.name, 0)
        delay = base if failures == 0 else min(base * 2**failures, self.settings.max_backoff_s)
        retry_after = getattr(report.error, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(float(retry_after), self.settings.max_backoff_s))
        return float(delay * self._rng.uniform(0.9, 1.1))

    def statistics(self) -> dict[str, Any]:
        now = self.node.now()
        live = [r for r in self.state.records() if not r.retracted and r.expires > now]
        return {
            "bridge_key": self.node.identity.public_key.hex(),
            "sources": {
                s.name: {
                    "failures": self.failures.get(s.name, 0),
                    "last_success": self.last_success.get(s.name),
                }
                for s in self.settings.sources
            },
            "live_mirrors": len(live),
            "outcomes": dict(self.counts),
        }

    # --- state ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read bridge-state.json; add the node's own live mirrors it does not know."""
        if self.loaded:
            return
        self.loaded = True
        try:
            data = await trio.to_thread.run_sync(self.state_path.read_bytes)
            loaded = BridgeState.from_json(json.loads(data))
        except FileNotFoundError:
            loaded = BridgeState()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "%s is unreadable (%s): starting from the node's store", self.state_path, exc
            )
            loaded = BridgeState()
        self.state = self.mirror.state = loaded
        await self._seed_from_store()
        self.state.prune(self.node.now())

    async def _seed_from_store(self) -> None:
        me = self.node.identity.public_key
        messages = await self.node.live([k.Kind.ALERT, k.Kind.RETRACTION])
        retracted = {e.refs[0] for e in messages if e.kind is k.Kind.RETRACTION and e.author == me}
        for env in messages:
            body = env.body
            if env.author != me or not isinstance(body, k.Alert) or body.official is None:
                continue
            key = CapKey(body.official.sender, body.official.identifier, body.official.sent)
            if key in self.state.mirrors:
                continue
            self.state.mirrors[key] = MirrorRecord(
                key=key,
                mirror_id=env.id,
                expires=env.expires,
                onset=env.created,
                ends=env.expires,
                source=body.official.source,
                retracted=env.id in retracted,
            )
            self.state.handled.setdefault(key, env.expires + 86_400)

    async def save(self) -> None:
        self.state.prune(self.node.now())
        data = self.state.dumps()
        await trio.to_thread.run_sync(lambda: atomic_write(self.state_path, data, 0o600))

    # --- one poll ---------------------------------------------------------------------------

    async def poll(self, source: FeedSource) -> PollReport:
        """Read ``source`` once: its index, then each document not read yet."""
        await self.load()
        assert self._client is not None, "serve() the service, or give it a client"
        fetcher = Fetcher(self._client, self.settings)
        policy = LinkPolicy(source.hosts, self.settings.allow_http_loopback)
        report = PollReport(source.name, ok=False)
        old = self.state.validators.get(source.url)
        try:
            fetched = await fetcher.get(
                source.url,
                policy=policy,
                max_bytes=self.settings.limits.max_index_bytes,
                accept=INDEX_ACCEPT,
                validators=None if old is None else Validators(*old),
            )
            if fetched.body is None:
                report.not_modified = True
            else:
                index = parse_index(fetched.body, self.settings.limits)
                for reason, detail in index.flags:
                    log.info("%s: index: %s (%s)", source.name, detail, reason)
                if index.kind == "cap":
                    outcome = await self.handle_document(
                        fetched.body, source=source.name, where=fetched.url
                    )
                    report.outcomes.append(outcome)
                else:
                    await self._read_entries(source, fetcher, policy, fetched.url, index, report)
            self.state.validators[source.url] = (
                fetched.validators.etag,
                fetched.validators.last_modified,
            )
        except (FetchFailed, LinkRefused, CapRejected) as exc:
            report.error = exc
            self.failures[source.name] = self.failures.get(source.name, 0) + 1
            self.counts[exc.reason.value] += 1
            log.warning(
                "%s: index not read (%s): %s; the mirrored alerts stay until they expire "
                "(failure %d in a row)",
                source.name,
                exc.reason,
                exc.detail,
                self.failures[source.name],
            )
        else:
            report.ok = True
            self.failures[source.name] = 0
            self.last_success[source.name] = self.node.now()
        await self.save()
        return report

    async def _read_entries(
        self,
        source: FeedSource,
        fetcher: Fetcher,
        policy: LinkPolicy,
        base: str,
        index: Index,
        report: PollReport,
    ) -> None:
        known = self.state.documents.setdefault(source.name, {})
        fetched = 0
        for entry in index.entries:
            if entry.link is None:
                continue
            try:
                url = policy.check(entry.link, base=base)
            except LinkRefused as exc:
                report.refused_links.append((entry.link, exc.reason))
                self.counts[exc.reason.value] += 1
                log.warning("%s: link not followed (%s): %s", source.name, exc.reason, exc.detail)
                continue
            doc_id = f"{entry.entry_id}|{url}"
            if doc_id in known:
                continue  # a CAP document never changes: never fetch it twice
            if fetched >= MAX_NEW_DOCUMENTS:
                break
            fetched += 1
            try:
                got = await fetcher.get(
                    url,
                    policy=policy,
                    max_bytes=self.settings.limits.max_document_bytes,
                    accept=CAP_ACCEPT,
                )
            except (FetchFailed, LinkRefused) as exc:
                self.counts[exc.reason.value] += 1
                report.outcomes.append(
                    Outcome(url, "rejected", reason=exc.reason, detail=exc.detail)
                )
                log.warning("%s: %s not read (%s): %s", source.name, url, exc.reason, exc.detail)
                if exc.reason is Reason.TOO_LARGE:
                    known[doc_id] = "rejected"  # a CAP document never changes: never again
                continue  # tried again at the next poll
            assert got.body is not None
            outcome = await self.handle_document(got.body, source=source.name, where=url)
            report.outcomes.append(outcome)
            if outcome.reason is not Reason.MIRROR_FAILED:
                known[doc_id] = outcome.status
        while len(known) > MAX_REMEMBERED:
            known.pop(next(iter(known)))

    async def scan_folder(self, folder: Path) -> list[Outcome]:
        """Read the new ``*.xml`` and ``*.cap`` files of ``folder`` (not following links)."""
        await self.load()
        name = f"folder:{folder}"
        known = self.state.documents.setdefault(name, {})
        try:
            found = await trio.to_thread.run_sync(_list_folder, folder)
        except OSError as exc:
            log.warning("%s: cannot list the folder: %s", folder, exc.strerror)
            return []
        outcomes = []
        for entry_name, tag in found:
            if known.get(entry_name) == tag:
                continue
            path = folder / entry_name
            try:
                data = await trio.to_thread.run_sync(
                    _read_file, path, self.settings.limits.max_document_bytes
                )
            except CapRejected as exc:
                outcome = Outcome(str(path), "rejected", reason=exc.reason, detail=exc.detail)
                self._log(name, outcome)
            except OSError as exc:
                log.warning("%s: cannot read %s: %s", folder, entry_name, exc.strerror)
                continue
            else:
                outcome = await self.handle_document(
                    data, source=folder.name or name, where=str(path)
                )
            outcomes.append(outcome)
            if outcome.reason is not Reason.MIRROR_FAILED:
                known[entry_name] = tag
        await self.save()
        return outcomes

    # --- one document -----------------------------------------------------------------------

    async def handle_document(self, data: bytes, *, source: str, where: str) -> Outcome:
        """Parse, validate and mirror one CAP document; never raises a PeerError."""
        async with self._lock:
            outcome = await self._handle(data, source, where)
        self.counts[outcome.reason.value if outcome.reason else outcome.status] += 1
        self._log(source, outcome)
        return outcome

    async def _handle(self, data: bytes, source: str, where: str) -> Outcome:
        try:
            alert = parse_cap(data, self.settings.limits)
        except CapRejected as exc:
            return Outcome(where, "rejected", reason=exc.reason, detail=exc.detail)
        now = self.node.now()
        try:
            decision = self.mirror.decide(alert, source=source, now=now)
        except CapRejected as exc:
            return Outcome(
                where, "rejected", alert.key, exc.reason, exc.detail, flags=list(alert.flags)
            )
        outcome = Outcome(
            where, "skipped", alert.key, decision.reason, decision.detail, flags=decision.flags
        )
        if decision.reason is Reason.DUPLICATE:
            return outcome
        mirror_id = None
        if decision.body is not None:
            mirror_id = await self._post_mirror(decision, outcome)
            if mirror_id is None:
                return outcome  # not committed: tried again with the next copy
            outcome.status = "mirrored"
        for tomb in decision.tombstones:
            env, result = await self.node.post(
                k.Retraction(reason=tomb.reason), refs=[tomb.mirror_id], lifetime=tomb.lifetime
            )
            if result.error is not None:
                log.error(
                    "%s: tombstone for %s refused by the node: %s",
                    source,
                    tomb.mirror_id.hex()[:8],
                    result.error,
                )
            else:
                outcome.tombstones.append(env.id)
        if decision.action == "cancel":
            outcome.status = "cancelled"
        outcome.mirror_id = mirror_id
        self.mirror.commit(decision, mirror_id, now)
        return outcome

    async def _post_mirror(self, decision: Decision, outcome: Outcome) -> bytes | None:
        assert decision.body is not None
        body = decision.body
        for attempt in range(2):
            try:
                env, result = await self.node.post(
                    body, refs=decision.refs, lifetime=decision.lifetime
                )
            except UsageError as exc:  # too large for an envelope: shorten the instruction
                if attempt == 0 and body.instruction:
                    body = replace(body, instruction=body.instruction[:150].rstrip() + "…")
                    decision.flags.append((Reason.TRUNCATED_TEXT, "instruction shortened to fit"))
                    continue
                outcome.reason, outcome.detail = Reason.MIRROR_FAILED, str(exc)
                return None
            if result.error is not None:
                outcome.reason = Reason.MIRROR_FAILED
                outcome.detail = (
                    f"the node refused the mirror ({result.error}); is this node's key one of "
                    "the zone's bridge keys?"
                )
                return None
            return env.id
        return None

    def _log(self, source: str, outcome: Outcome) -> None:
        for reason, detail in outcome.flags:
            log.info("%s: %s: flagged %s: %s", source, outcome.where, reason, detail)
        if outcome.status == "rejected" or outcome.reason is Reason.MIRROR_FAILED:
            log.warning(
                "%s: %s rejected (%s): %s", source, outcome.where, outcome.reason, outcome.detail
            )
        elif outcome.reason is Reason.DUPLICATE:
            log.debug("%s: %s: %s", source, outcome.where, outcome.detail)
        elif outcome.status == "skipped":
            log.info(
                "%s: %s not mirrored (%s): %s",
                source,
                outcome.where,
                outcome.reason,
                outcome.detail,
            )
        else:
            log.info(
                "%s: %s %s: %s (mirror %s, %d tombstone(s))",
                source,
                outcome.where,
                outcome.status,
                outcome.detail,
                outcome.mirror_id.hex()[:8] if outcome.mirror_id else "-",
                len(outcome.tombstones),
            )


def _list_folder(folder: Path) -> list[tuple[str, str]]:
    """(name, size:mtime) of the regular files with a CAP suffix, links ignored."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.lower().endswith(FOLDER_SUFFIXES):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
            found.append((entry.name, f"{info.st_size}:{info.st_mtime_ns}"))
            if len(found) >= MAX_FOLDER_FILES:
                break
    return sorted(found)


def _read_file(path: Path, max_bytes: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise CapRejected(Reason.NOT_CAP, f"{path.name} is not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise CapRejected(Reason.TOO_LARGE, f"{path.name}: more than {max_bytes} bytes")
    return data
