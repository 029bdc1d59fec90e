"""Virtual time: a heap of timed actions, run in order, bounded.

Nothing here sleeps or reads a clock: ``now`` is simulated seconds, set by the loop as it
runs each action at its own time. Actions scheduled for the same instant run in the order
they were scheduled, so a run with the same seed is the same run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

__all__ = ["EventLoop", "TooManyEvents"]

Action = Callable[[], None]


class TooManyEvents(RuntimeError):
    """The loop ran more actions than its bound: a scenario that never settles (a bug)."""


class EventLoop:
    """Timed actions in virtual time (seconds, from 0)."""

    def __init__(self, *, max_events: int = 200_000_000) -> None:
        self.now = 0.0
        self.max_events = max_events
        self.events_run = 0
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = 0

    def at(self, when: float, action: Action) -> None:
        """Run ``action`` at ``when`` (at once, in order, if ``when`` has passed)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(when, self.now), self._seq, action))

    def after(self, delay: float, action: Action) -> None:
        self.at(self.now + delay, action)

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_until(self, until: float, *, stop: Callable[[], bool] | None = None) -> None:
        """Run every action due up to ``until`` (or until ``stop()`` says so, checked after
        each action); ``now`` is then ``until``, or the time ``stop`` was satisfied."""
        heap = self._heap
        while heap and heap[0][0] <= until:
            when, _, action = heapq.heappop(heap)
            self.now = when
            action()
            self.events_run += 1
            if self.events_run > self.max_events:
                raise TooManyEvents(f"more than {self.max_events} events by t={when:.3f} s")
            if stop is not None and stop():
                return
        self.now = max(self.now, until)

    def __len__(self) -> int:
        return len(self._heap)
