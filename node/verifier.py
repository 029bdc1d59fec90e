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


def _serve(conn: Connection) -> None:
    """The helper process: check each batch it is sent, answer part by part."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if request is _STOP:
            return
        raws, part = request
        for start in range(0, len(raws), part):
            conn.send_bytes(bytes(signature_valid(raw) for raw in raws[start : start + part]))


class _Helper:
    """One helper process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded daemon
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child,), name="entraide-verifier", daemon=True
        )
        self.process.start()
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
    parts; answers are read back slice by slice, in the batch's order.
    """

    def __init__(self, processes: int = 1) -> None:
        if processes < 1:
            raise ValueError("a SignatureVerifier needs at least one process")
        self._processes = processes
        self._helpers: list[_Helper] = []

    def check(self, raws: Sequence[bytes], part: int) -> Answers:
        """Send ``raws`` to the helpers now; then yield their validity ``part`` at a time.

        The helpers start working as soon as this is called; iterate the result when the
        answers are needed. Falls back to checking in this process if a helper fails.
        """
        parts = -(-len(raws) // part)
        per_helper = -(-parts // self._processes) * part
        slices = [raws[i : i + per_helper] for i in range(0, len(raws), per_helper)]
        sent: list[_Helper | None] = []
        try:
            if not self._helpers:
                self._helpers = [_Helper() for _ in range(self._processes)]
            for helper, some in zip(self._helpers, slices, strict=False):
                helper.conn.send((list(some), part))
                sent.append(helper)
        except (OSError, EOFError, ValueError) as exc:
            log.warning("signature helper unavailable (%s); verifying in-process", exc)
            self.close()
            sent = []
        sent += [None] * (len(slices) - len(sent))
        return self._answers(list(zip(sent, slices, strict=True)), part)

    def _answers(self, work: list[tuple[_Helper | None, Sequence[bytes]]], part: int) -> Answers:
        expected = sum(-(-len(some) // part) for _, some in work)
        given = 0
        try:
            for helper, some in work:
                for answer in self._parts(helper, some, part):
                    given += 1  # counted before handing it over: the last one completes
                    yield answer
        finally:
            if given < expected and any(helper is not None for helper, _ in work):
                self.close()  # unread answers left in a pipe would pass for the next batch

    def _parts(self, helper: _Helper | None, raws: Sequence[bytes], part: int) -> Answers:
        for start in range(0, len(raws), part):
            chunk = raws[start : start + part]
            if helper is not None and helper in self._helpers:
                try:
                    answer = helper.conn.recv_bytes()
                    if len(answer) == len(chunk):
                        yield [flag == 1 for flag in answer]
                        continue
                except (OSError, EOFError):
                    pass
                log.warning("signature helper stopped answering; verifying in-process")
                self.close()
            yield [signature_valid(raw) for raw in chunk]

    def close(self) -> None:
        """Stop the helper processes (idempotent)."""
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.stop()
