"""Events a running node reports to its local clients (the terminal app, ``entraide`` commands).

An event is a small JSON-ready dict with an ``"event"`` key:

- ``{"event": "message", "id", "kind", "source", "peer", "raw"}``: a message was stored
  (``source``: ``local``, ``wifi``, ``sync``, ``radio``, ``import``; ``raw`` in base64);
- ``{"event": "peer", "peer", "state": "up"|"down", "address"}``;
- ``{"event": "sync", "peer", "phase": "start"|"done"|"failed", ...figures}``;
- ``{"event": "lagged", "dropped"}``: the subscriber read too slowly and lost events; it should
  fetch the board again.

:class:`EventHub` fans events out to subscribers without ever blocking the node: each
subscriber has a bounded queue, and one that falls behind is told it lagged.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

Event = dict[str, Any]

#: Events a subscriber may have waiting before it is told it lagged.
SUBSCRIBER_BUFFER = 1024


def message_event(raw: bytes, message_id: bytes, kind: str, source: str, peer: str | None) -> Event:
    return {
        "event": "message",
        "id": message_id.hex(),
        "kind": kind,
        "source": source,
        "peer": peer,
        "raw": base64.b64encode(raw).decode("ascii"),
    }


@dataclass
class Subscription:
    """One subscriber's queue; iterate with ``async for event in subscription.receive``."""

    send: trio.MemorySendChannel[Event]
    receive: trio.MemoryReceiveChannel[Event]
    dropped: int = 0
    lagging: bool = field(default=False)


class EventHub:
    """Fan-out of node events to any number of local subscribers."""

    def __init__(self, buffer: int = SUBSCRIBER_BUFFER) -> None:
        self._buffer = buffer
        self._by_id: dict[int, Subscription] = {}
        self._published = 0

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        send, receive = trio.open_memory_channel[Event](self._buffer)
        sub = Subscription(send, receive)
        key = id(sub)
        self._by_id[key] = sub
        try:
            yield sub
        finally:
            del self._by_id[key]
            send.close()

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every subscriber; never blocks."""
        self._published += 1
        for sub in self._by_id.values():
            if sub.lagging:
                # Resume once the subscriber has drained its queue; say how much it missed.
                if sub.receive.statistics().current_buffer_used == 0:
                    lag = {"event": "lagged", "dropped": sub.dropped}
                    sub.lagging, sub.dropped = False, 0
                    self._offer(sub, lag)
                else:
                    sub.dropped += 1
                    continue
            self._offer(sub, event)

    def _offer(self, sub: Subscription, event: Event) -> None:
        try:
            sub.send.send_nowait(event)
        except trio.WouldBlock:
            sub.lagging = True
            sub.dropped += 1
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def statistics(self) -> dict[str, int]:
        return {"subscribers": len(self._by_id), "published": self._published}
