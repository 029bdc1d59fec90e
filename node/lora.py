"""The node's LoRa side: its Meshtastic radio as a transport, a gateway, and handsets' friend.

- **Out**: every new message this node stores (posted here, or heard over Wi-Fi) is offered
  to the radio. Fresh ones that LoRa should carry (``protocol.radio_frame.radio_priority``:
  alerts and SOS first, check-ins coalesced, bulk never) are framed (SPEC.md section 11) and
  queued in the airtime scheduler (``radio.scheduler``), which never exceeds the region's
  duty cycle. A message heard on the radio meanwhile is cancelled here: another gateway has
  already carried it.
- **In**: frames on the entraide port are reassembled into the exact signed envelopes,
  verified and stored like any message, then published on Wi-Fi: two Wi-Fi islands joined
  only by radio share their alerts, requests and check-ins.
- **Catch-up**: every half hour (jittered, lowest priority) a SUMMARY frame (a Bloom filter
  of recent ids, never a list) says what this node holds to its direct neighbours (hop limit
  0: no radio relays it), unless a neighbour's summary was heard since our last one;
  neighbours send a few messages it certainly lacks. WANT frames ask for unknown author keys.
- **Hop limit**: our frames go out with the smallest hop limit that reaches every radio the
  radio's node list knows (``hopsAway``), never more than the radio's own (``node.sim.lora``
  measured why: on a 150-household LongFast mesh the radio's default costs ~40 % more air);
  only routine check-ins use it: every other frame keeps the radio's own.
- **Zone settings**: the charter's LoRa region and preset size the airtime budget unless the
  command line names them; a radio set otherwise is reported in the log (its channel name,
  key and slot are the device's own configuration: this node does not rewrite it).
- **Handsets**: urgent messages that did not come from the radio are also broadcast as plain
  text (``protocol.handset.render_for_handset``); text commands from a handset are parsed,
  signed by this node as witness, stored and published, and acknowledged in a direct message.
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from protocol import handset
from protocol.charter import LoraSettings
from protocol.envelope import Envelope, decode, short_id
from protocol.errors import EntraideError, PeerError, UnknownKeyRef
from protocol.kinds import Kind
from protocol.radio_frame import (
    RADIO_PORT,
    KeyBook,
    RadioMessage,
    RadioPriority,
    Reassembler,
    SummaryFrame,
    WantFrame,
    build_summary,
    encode_frames,
    encode_summary,
    encode_want,
    radio_priority,
    restore_envelope,
)
from radio.airtime import DEFAULT_PRESET, DEFAULT_REGION, PRESETS, REGIONS
from radio.link import (
    BROADCAST,
    TEXT_PORT,
    RadioError,
    RadioLink,
    RadioPacket,
    covering_hop_limit,
    node_id,
)
from radio.scheduler import AirtimeScheduler, Outgoing, Refused

if TYPE_CHECKING:
    from .daemon import Node

log = logging.getLogger("entraide.lora")

#: Messages heard over Wi-Fi older than this are left to LoRa catch-up, not pushed at once.
FRESH_S = 3600
#: How often a summary of recent ids goes out (seconds, jittered ±25 %).
SUMMARY_INTERVAL_S = 1800.0
#: Summaries are for direct neighbours only: hop limit 0, no radio relays them (each relay
#: of a 200-byte summary is ~1.7 s of LongFast air; a neighbour answers what it can anyway).
SUMMARY_HOP_LIMIT = 0
#: A summary is skipped when another node's summary was heard since our last one: the
#: neighbour's answers to it reach us too, and the channel carries one summary, not many.
SUMMARY_SUPPRESSED = True
#: Our frames use the smallest hop limit that reaches every radio in the radio's node list.
HOP_LIMIT_FROM_NODE_LIST = True
#: The window a summary covers, and the most ids it should describe (~1 % false positives).
SUMMARY_WINDOW_S = 6 * 3600
SUMMARY_MAX_IDS = 150
#: Missing messages sent in answer to one summary or WANT.
ANSWER_MAX = 4
#: Before answering a summary, wait a random delay: another neighbour may answer first.
ANSWER_DELAY_S = (2.0, 8.0)
#: An author is abbreviated to an 8-byte reference once the zone has known it this long.
KNOWN_AUTHOR_S = 86_400
#: A command a handset sends to the channel is witnessed after a random delay, unless another
#: node's message for that handset, this recent, arrived meanwhile.
WITNESS_DELAY_S = (2.0, 10.0)
WITNESS_WINDOW_S = 60
#: Frames waiting for an unknown author key.
MAX_PARKED = 32
#: Ids of messages heard on the radio, remembered so that they are not sent again.
HEARD_REMEMBERED = 4096


@dataclass(frozen=True)
class RadioOptions:
    target: str  # tcp:HOST[:PORT] or serial:DEVICE
    #: The mesh's modem preset and region (radio/airtime.py names), for the airtime budget;
    #: None: the zone charter's, else LONG_FAST and EU_868.
    preset: str | None = None
    region: str | None = None
    #: The language of texts sent to handsets.
    handset_lang: str = "fr"
    #: How often a summary of recent ids goes out (jittered ±25 %).
    summary_interval_s: float = SUMMARY_INTERVAL_S


_COMMAND_KINDS: dict[type, Kind] = {
    handset.RequestHelp: Kind.HELP_REQUEST,
    handset.ReportSafe: Kind.CHECKIN,
    handset.TakeRequest: Kind.CLAIM,
    handset.CloseRequest: Kind.RESOLUTION,
}


def _witness_key(node: int, text: str) -> tuple[int, int, str] | None:
    """What a witnessed message for this handset command looks like: its handset, its kind
    and the request it names, if any (None for a text that is not a command)."""
    try:
        command = handset.parse_command(text)
    except handset.BadCommand:
        return None
    kind = _COMMAND_KINDS.get(type(command))
    if kind is None:
        return None
    return node, int(kind), getattr(command, "short_id", "")


def zone_radio_settings(options: RadioOptions, charter: LoraSettings | None) -> tuple[str, str]:
    """The (preset, region) that size the airtime budget: the command line's, else the zone
    charter's (when radio/airtime.py knows them), else LongFast in EU_868."""
    preset = options.preset or (charter.preset if charter is not None else "")
    region = options.region or (charter.region if charter is not None else "")
    if preset not in PRESETS:
        if preset:
            log.warning(
                "LoRa: the charter's preset %s is unknown; using %s", preset, DEFAULT_PRESET
            )
        preset = DEFAULT_PRESET
    if region not in REGIONS:
        if region:
            log.warning(
                "LoRa: the charter's region %s is unknown; using %s", region, DEFAULT_REGION
            )
        region = DEFAULT_REGION
    return preset, region


class LoraService:
    def __init__(self, node: Node, options: RadioOptions) -> None:
        self.node = node
        self.options = options
        charter = node.trust.charter
        self.zone_lora = None if charter is None else charter.charter.lora
        self.preset, self.region = zone_radio_settings(options, self.zone_lora)
        self.link = RadioLink(options.target)
        self.scheduler = AirtimeScheduler(preset=PRESETS[self.preset], region=REGIONS[self.region])
        self.reassembler = Reassembler(zone=node.zone_id)
        self.receiving_keys = KeyBook(())
        self.sending_keys = KeyBook(())
        self._wake = trio.Event()
        self._texts: dict[bytes, tuple[int, str]] = {}  # item id -> (destination, text)
        self._parked: OrderedDict[bytes, list[bytes]] = OrderedDict()  # key ref -> compacts
        self._heard: OrderedDict[bytes, None] = OrderedDict()  # ids heard on the radio
        # (handset node, kind, target short id) -> newest message witnessed for that command
        self._witnessed: dict[tuple[int, int, str], int] = {}
        self._summaries: set[bytes] = set()  # item ids of our queued summaries
        self._heard_summary = False  # another node's summary, since our last one
        self._nursery: trio.Nursery | None = None
        self.stats = {
            "in": 0,
            "out": 0,
            "handset_commands": 0,
            "refused": 0,
            "bad_frames": 0,
            "summaries": 0,
            "summaries_skipped": 0,
        }

    # --- running ----------------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self._learn_keys()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self.link.serve)
            self._check_radio_settings()
            nursery.start_soon(self._receive_loop)
            nursery.start_soon(self._send_loop)
            nursery.start_soon(self._summary_loop)
            nursery.start_soon(self._refresh_keys)
            task_status.started()

    def _check_radio_settings(self) -> None:
        """Say so when the radio is not set as the zone (or the command line) expects: it would
        not hear the zone, or the airtime budget would be wrong."""
        radio = self.link.lora_settings()
        if radio is None:
            return
        expected = {"preset": self.preset, "region": self.region}
        if self.zone_lora is not None and self.zone_lora.channel:
            expected["channel"] = self.zone_lora.channel
        for name, value in expected.items():
            actual = getattr(radio, name)
            if (actual or name == "channel") and actual != value:
                log.warning(
                    "LoRa: the radio's %s is %s, not %s (set it with the meshtastic client)",
                    name,
                    actual,
                    value,
                )

    def hop_limit(self, priority: RadioPriority = RadioPriority.CHECKIN) -> int | None:
        """The hop limit of our frames: for routine check-ins (most of the traffic), the
        smallest that reaches every radio of the radio's node list, at most the radio's own;
        for everything else the radio's own (None). The node list is the device's as it was
        when we connected, and after a blackout it knows only the radios heard since they
        came back: an alert or a request for help must not stop where that list ends."""
        if not HOP_LIMIT_FROM_NODE_LIST or priority is not RadioPriority.CHECKIN:
            return None
        return covering_hop_limit(self.link.hops_away().values(), self.link.configured_hop_limit())

    async def _learn_keys(self) -> None:
        """Receiving: every author the store knows; sending: those known for a day."""
        now = self.node.now()
        envs = await self.node.live()
        first_seen: dict[bytes, int] = {}
        for env in envs:
            first_seen[env.author] = min(first_seen.get(env.author, env.created), env.created)
        for author, since in first_seen.items():
            self.receiving_keys.add(author)
            if since <= now - KNOWN_AUTHOR_S:
                self.sending_keys.add(author)
        self.receiving_keys.add(self.node.identity.public_key)

    async def _refresh_keys(self) -> None:
        while True:
            await trio.sleep(3600)
            await self._learn_keys()

    # --- out ---------------------------------------------------------------------------------

    def offer(self, env: Envelope, source: str) -> None:
        """A message was just stored: carry it over LoRa if it should go, and now."""
        self.receiving_keys.add(env.author)
        via = getattr(env.body, "via", None)
        if via is not None:
            target = short_id(env.refs[0]) if env.refs else ""
            key = (via.node, int(env.kind), target)
            self._witnessed[key] = max(self._witnessed.get(key, 0), env.created)
            if len(self._witnessed) > 4096:
                oldest = sorted(self._witnessed, key=self._witnessed.__getitem__)[:2048]
                for stale in oldest:
                    del self._witnessed[stale]
        if source == "radio" or env.id in self._heard:
            return
        priority = radio_priority(env)
        if priority is RadioPriority.BULK:
            return
        fresh = self.node.now() - env.created <= FRESH_S
        if not fresh and priority is not RadioPriority.URGENT:
            return  # old news: LoRa catch-up will carry it if a neighbour lacks it
        self._enqueue(Outgoing.from_envelope(env, keys=self.sending_keys), priority)
        if handset.is_urgent(env):
            self.queue_text(handset.render_for_handset(env, self._lang(), now=self.node.now()))

    def queue_text(self, text: str, destination: int = BROADCAST) -> None:
        data = text.encode("utf-8")
        item_id = b"T" + destination.to_bytes(4, "big") + data[:27]
        self._texts[item_id] = (destination, text)
        self._enqueue(Outgoing(frames=(data,), id=item_id), RadioPriority.URGENT)

    def _lang(self) -> str:
        return self.options.handset_lang

    def _enqueue(self, item: Outgoing, priority: RadioPriority) -> None:
        outcome = self.scheduler.enqueue(item, priority, trio.current_time())
        if isinstance(outcome, Refused):
            self.stats["refused"] += 1
            log.info("LoRa: not sending %s: %s", item.id[:4].hex(), outcome.detail)
            self._texts.pop(item.id, None)
            self._summaries.discard(item.id)
            return
        for dropped in outcome.dropped:
            self._texts.pop(dropped.item.id, None)
            self._summaries.discard(dropped.item.id)
            log.info(
                "LoRa: dropped %s from the queue (%s)", dropped.item.id[:4].hex(), dropped.reason
            )
        self._wake.set()

    async def _send_loop(self) -> None:
        while True:
            now = trio.current_time()
            transmission = self.scheduler.next_to_send(now)
            if transmission is None:
                self._wake = trio.Event()
                until = self.scheduler.wait_until(now)
                with trio.move_on_at(until if until is not None else now + 3600):
                    await self._wake.wait()
                continue
            item = transmission.item
            text = self._texts.get(item.id)
            try:
                if text is not None:
                    destination, _ = text
                    result = await self.link.send_data(
                        transmission.frame,
                        port=TEXT_PORT,
                        destination=destination,
                        want_ack=destination != BROADCAST,
                    )
                    if transmission.index == transmission.count - 1:
                        self._texts.pop(item.id, None)
                else:
                    summary = item.id in self._summaries
                    result = await self.link.send_data(
                        transmission.frame,
                        want_ack=False,
                        hop_limit=SUMMARY_HOP_LIMIT
                        if summary
                        else self.hop_limit(transmission.priority),
                    )
                    if summary and transmission.index == transmission.count - 1:
                        self._summaries.discard(item.id)
            except RadioError as exc:
                log.warning("LoRa: %s", exc)
                await trio.sleep(1)
                continue
            self.stats["out"] += 1
            if result.reason not in ("NONE", "NOT_REQUESTED"):
                log.info(
                    "LoRa: the radio refused a frame of %s: %s", item.id[:4].hex(), result.reason
                )

    # --- in ----------------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        async for packet in self.link.received:
            try:
                if packet.port == TEXT_PORT:
                    await self._handset_text(packet)
                elif packet.port == RADIO_PORT:
                    await self._frame(packet)
            except EntraideError as exc:  # a bad frame or command costs that packet only
                self.stats["bad_frames"] += 1
                log.info("LoRa: dropped a packet from %s: %s", packet.sender_id, exc)

    def _heard_id(self, message_id: bytes) -> None:
        self._heard[message_id] = None
        while len(self._heard) > HEARD_REMEMBERED:
            self._heard.popitem(last=False)
        self.scheduler.cancel(message_id)  # another node carried it: do not send it again

    async def _frame(self, packet: RadioPacket) -> None:
        if len(packet.payload) > 231:
            raise PeerError(f"frame of {len(packet.payload)} bytes is over the LoRa limit")
        now = trio.current_time()
        store = self.node.store
        try:
            got = self.reassembler.receive(
                packet.payload,
                now=now,
                keys=self.receiving_keys,
                have=lambda prefix: bool(store.find_prefix(prefix.hex())),
            )
        except UnknownKeyRef as exc:
            self._park(exc.key_ref, exc.compact)
            self._ask(WantFrame(key_refs=(exc.key_ref,)))
            return
        if isinstance(got, RadioMessage):
            await self._message(got.envelope, packet)
        elif isinstance(got, SummaryFrame):
            if packet.sender != self.link.my_node_num:
                self._heard_summary = True
            self._answer_summary(got)
        elif isinstance(got, WantFrame):
            self._answer_want(got)

    async def _message(self, raw: bytes, packet: RadioPacket) -> None:
        self.stats["in"] += 1
        message_id = decode(raw, verify=False).id
        self._heard_id(message_id)
        results = await self.node.submit([raw], source="radio", peer=packet.sender_id)
        if results[0].status == "new" and results[0].envelope is not None:
            author = results[0].envelope.author
            self.receiving_keys.add(author)
            await self._unpark(author)

    def _park(self, key_ref: bytes, compact: bytes) -> None:
        self._parked.setdefault(key_ref, []).append(compact)
        while len(self._parked) > MAX_PARKED:
            self._parked.popitem(last=False)

    async def _unpark(self, author: bytes) -> None:
        for compact in self._parked.pop(KeyBook.ref(author), []):
            try:
                raw = restore_envelope(compact, zone=self.node.zone_id, keys=self.receiving_keys)
            except PeerError as exc:
                log.info("LoRa: a parked frame still cannot be restored: %s", exc)
                continue
            await self.node.submit([raw], source="radio")

    def _ask(self, want: WantFrame) -> None:
        frame = encode_want(want, zone=self.node.zone_id)
        self._enqueue(Outgoing(frames=(frame,), id=b"W" + frame[-8:]), RadioPriority.NORMAL)

    # --- catch-up ----------------------------------------------------------------------------

    async def _summary_loop(self) -> None:
        while True:
            await trio.sleep(self.options.summary_interval_s * random.uniform(0.75, 1.25))
            heard, self._heard_summary = self._heard_summary, False
            if heard and SUMMARY_SUPPRESSED:
                self.stats["summaries_skipped"] += 1
                log.debug("LoRa: a neighbour's summary was heard: ours is skipped")
                continue
            now = self.node.now()
            envs = [e for e in await self.node.live() if e.created >= now - SUMMARY_WINDOW_S]
            envs.sort(key=lambda e: e.created)
            envs = envs[-SUMMARY_MAX_IDS:]
            since = envs[0].created if envs else now - SUMMARY_WINDOW_S
            summary = build_summary((e.id for e in envs), since=since, salt=random.randrange(256))
            frame = encode_summary(summary, zone=self.node.zone_id)
            # Lowest class: a summary only goes out while the hour's airtime is plentiful.
            item = Outgoing(frames=(frame,), id=b"S" + frame[-8:])
            self._summaries.add(item.id)
            self.stats["summaries"] += 1
            self._enqueue(item, RadioPriority.CHECKIN)

    def _answer_summary(self, summary: SummaryFrame) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._answer_summary_later, summary)

    async def _answer_summary_later(self, summary: SummaryFrame) -> None:
        await trio.sleep(random.uniform(*ANSWER_DELAY_S))
        envs = await self.node.live()
        missing = [
            e
            for e in envs
            if e.created >= summary.since
            and e.id not in self._heard  # someone answered already
            and radio_priority(e) is not RadioPriority.BULK
            and not summary.might_hold(e.id)
        ]
        missing.sort(key=lambda e: (radio_priority(e), -e.created))
        for env in missing[:ANSWER_MAX]:
            item = Outgoing.from_envelope(env, keys=self.sending_keys)
            self._enqueue(item, radio_priority(env))

    def _answer_want(self, want: WantFrame) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._answer_want_later, want)

    async def _answer_want_later(self, want: WantFrame) -> None:
        await trio.sleep(random.uniform(*ANSWER_DELAY_S))
        envs = await self.node.live()
        sent = 0
        for ref in want.key_refs:
            by_author = [e for e in envs if KeyBook.ref(e.author) == ref]
            if by_author and sent < ANSWER_MAX:
                env = max(by_author, key=lambda e: e.created)
                frames = encode_frames(env, keys=None)  # the full key teaches it
                self._enqueue(Outgoing(frames=frames, id=env.id), RadioPriority.NORMAL)
                sent += 1
        for prefix in want.ids:
            match = [e for e in envs if e.id.startswith(prefix)]
            if len(match) == 1 and sent < ANSWER_MAX:
                env = match[0]
                item = Outgoing.from_envelope(env, keys=self.sending_keys)
                self._enqueue(item, radio_priority(env))
                sent += 1

    # --- handsets ------------------------------------------------------------------------------

    async def _handset_text(self, packet: RadioPacket) -> None:
        text = packet.text or ""
        # A text another gateway already sent to the handsets: ours is no longer needed.
        for item_id, (destination, queued) in list(self._texts.items()):
            if destination == BROADCAST and queued == text:
                self.scheduler.cancel(item_id)
                self._texts.pop(item_id, None)
        if packet.sender == self.link.my_node_num:
            return
        if packet.direct:
            await self._handset_command(packet, text)
        elif self._nursery is not None:
            # Every gateway in range hears a command sent to the channel; the first one to
            # witness it speaks for all, the others see its message and stay quiet.
            self._nursery.start_soon(self._handset_command_later, packet, text)

    async def _handset_command_later(self, packet: RadioPacket, text: str) -> None:
        heard_at = self.node.now()
        await trio.sleep(random.uniform(*WITNESS_DELAY_S))
        key = _witness_key(packet.sender, text)
        if key is not None and self._witnessed.get(key, 0) >= heard_at - WITNESS_WINDOW_S:
            log.info("handset %s: already witnessed by another node", node_id(packet.sender))
            return
        try:
            await self._handset_command(packet, text)
        except EntraideError as exc:
            log.info("handset %s: %s", node_id(packet.sender), exc)

    async def _handset_command(self, packet: RadioPacket, text: str) -> None:
        try:
            command = handset.parse_command(text)
        except handset.BadCommand as exc:
            if packet.direct:  # only answer texts addressed to us, not channel chatter
                self.queue_text(exc.reply(exc.lang or self._lang()), packet.sender)
            return
        self.stats["handset_commands"] += 1
        lang = command.lang or self._lang()
        if isinstance(command, handset.ShowHelp):
            self.queue_text(handset.help_text(lang), packet.sender)
            return
        target, related = await self._target_of(command)
        try:
            draft = handset.draft_from_command(
                command,
                handset_node=packet.sender,
                witness=self.node.identity.public_key,
                now=self.node.now(),
                target=target,
                related=related,
            )
        except handset.BadCommand as exc:
            self.queue_text(exc.reply(exc.lang or lang), packet.sender)
            return
        env, result = await self.node.post(draft.body, refs=draft.refs, lifetime=draft.lifetime)
        log.info(
            "handset %s: %s → %s %s (%s)",
            node_id(packet.sender),
            text[:40],
            env.kind.name.lower(),
            env.short_id,
            result.status,
        )
        self.queue_text(handset.acknowledgement(env, lang), packet.sender)

    async def _target_of(self, command: Any) -> tuple[Envelope | None, list[Envelope]]:
        short = getattr(command, "short_id", None)
        if short is None:
            return None, []
        store = self.node.store

        def look_up() -> tuple[Envelope | None, list[Envelope]]:
            matches = store.find_prefix(short)
            if len(matches) != 1:
                return None, []
            related = store.referencing(matches[0].id)
            related += [r for c in related for r in store.referencing(c.id)]
            return matches[0], related

        return await trio.to_thread.run_sync(look_up)

    def status(self) -> dict[str, Any]:
        stats = self.scheduler.statistics()
        return {
            "link": self.link.statistics(),
            "preset": self.preset,
            "region": self.region,
            "hop_limit": self.hop_limit(),
            "airtime_used": round(stats.fraction, 4),
            "queued": {p.name.lower(): n for p, n in stats.queued.items()},
            **self.stats,
        }
