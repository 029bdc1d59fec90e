"""Signature checking in helper processes, beside the store's own work.

Verifying an Ed25519 signature (~45 µs) costs four times decoding an envelope and three times
storing it, so a large ingest is bound by it. Threads do not help much: every verification
needs the GIL for a moment, and the store's own thread holds it while it decodes. A helper
process has its own interpreter: it checks a batch's signatures while the caller decodes the
same batch and then stores the parts already checked.

The wire between them is a :mod:`multiprocessing` pipe: the caller sends one batch (a list of
envelopes as bytes) and the helper answers with one byte per envelope (1 valid, 0 not) in
several parts, so that the caller can store the first part while the helper checks the next.
If the helper dies, the caller checks the rest itself: nothing is lost, only time.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
from collections.abc import Generator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from protocol.envelope import signature_valid

__all__ = ["SignatureVerifier"]

log = logging.getLogger(__name__)

#: The validity of a batch's envelopes, one part at a time.
Answers = Generator[list[bool], None, None]

_STOP = None
_JOIN_TIMEOUT_S = 2.0
#: The longest a part of a batch may take (a part is at most a few hundred signatures, a few
#: tens of milliseconds): a helper silent for longer is stopped and the batch checked here.
_ANSWER_TIMEOUT_S = 30.0


def _serve(conn: Connection) -> None:
    """The helper process: check each batch it is sent, answer part by part.

    Every answer starts with the batch's 4-byte number, so that the parent can never take
    the answers of one batch for another's.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        while True:
            request = conn.recv()
            if request is _STOP:
                return
            number, raws, part = request
            tag = number.to_bytes(4, "big")
            for start in range(0, len(raws), part):
                flags = bytes(signature_valid(raw) for raw in raws[start : start + part])
                conn.send_bytes(tag + flags)
    except (EOFError, OSError):
        return  # the parent went away or gave up on this helper


class _Helper:
    """One helper process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded daemon
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child,), name="entraide-verifier", daemon=True
        )
        try:
            self.process.start()
        except BaseException:
            self.conn.close()
            raise
        finally:
            child.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(_STOP)
        self.conn.close()
        self.process.join(_JOIN_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(_JOIN_TIMEOUT_S)


class SignatureVerifier:
    """Helper processes checking signatures; started on first use, stopped by ``close``.

    A batch is cut into consecutive slices, one per helper, each slice a whole number of
    parts; answers are read back slice by slice, in the batch's order. Each batch has a
    number that comes back with its answers; a batch whose answers were not all read (the
    caller gave up, or failed before reading any) leaves the helpers unusable, and they are
    restarted before the next batch.
    """

    def __init__(self, processes: int = 1, *, answer_timeout: float = _ANSWER_TIMEOUT_S) -> None:
        if processes < 1:
            raise ValueError("a SignatureVerifier needs at least one process")
        self._processes = processes
        self._answer_timeout = answer_timeout
        self._helpers: list[_Helper] = []
        self._batch = 0
        self._unread = 0  # answers of the current batch still in the pipes

    def _start(self) -> None:
        if self._unread:
            self.close()  # stale answers: never let them pass for the next batch's
        if not self._helpers:
            for _ in range(self._processes):
                self._helpers.append(_Helper())  # one at a time: close() stops what started

    def check(self, raws: Sequence[bytes], part: int) -> Answers:
        """Send ``raws`` to the helpers now; then yield their validity ``part`` at a time.

        The helpers start working as soon as this is called; iterate the result when the
        answers are needed. Falls back to checking in this process if a helper fails, stops
        answering, or answers out of turn.
        """
        parts = -(-len(raws) // part)
        per_helper = -(-parts // self._processes) * part
        slices = [raws[i : i + per_helper] for i in range(0, len(raws), per_helper)]
        self._batch = (self._batch + 1) % 2**32
        sent: list[_Helper | None] = []
        try:
            self._start()
            for helper, some in zip(self._helpers, slices, strict=False):
                helper.conn.send((self._batch, list(some), part))
                sent.append(helper)
                self._unread += -(-len(some) // part)
        except (OSError, EOFError, ValueError) as exc:
            log.warning("signature helper unavailable (%s); verifying in-process", exc)
            self.close()
            sent = []
        sent += [None] * (len(slices) - len(sent))
        return self._parts(list(zip(sent, slices, strict=True)), part, self._batch)

    def _parts(
        self, work: list[tuple[_Helper | None, Sequence[bytes]]], part: int, batch: int
    ) -> Answers:
        tag = batch.to_bytes(4, "big")
        for helper, some in work:
            for start in range(0, len(some), part):
                chunk = some[start : start + part]
                answer = self._receive(helper, batch) if helper is not None else None
                if answer is not None and answer[:4] == tag and len(answer) == 4 + len(chunk):
                    yield [flag == 1 for flag in answer[4:]]
                    continue
                if answer is not None:
                    log.warning("signature helper answered out of turn; restarting it")
                    self.close()
                yield [signature_valid(raw) for raw in chunk]

    def _receive(self, helper: _Helper, batch: int) -> bytes | None:
        """The helper's next answer, or None (and the helpers stopped) if it has none."""
        if helper not in self._helpers or batch != self._batch:
            return None  # the helpers were restarted since: this batch is checked here
        try:
            if helper.conn.poll(self._answer_timeout):
                answer = helper.conn.recv_bytes()
                self._unread -= 1
                return answer
        except (OSError, EOFError):
            pass
        log.warning("signature helper stopped answering; verifying in-process")
        self.close()
        return None

    def close(self) -> None:
        """Stop the helper processes (idempotent)."""
        helpers, self._helpers = self._helpers, []
        self._unread = 0
        for helper in helpers:
            helper.stop()
