"""Signature checking in a helper process, beside the store's own work.

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


class SignatureVerifier:
    """One helper process checking signatures; started on first use, stopped by ``close``."""

    def __init__(self) -> None:
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._conn is None:
            context = multiprocessing.get_context("spawn")  # never fork a threaded daemon
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child,), name="entraide-verifier", daemon=True
            )
            process.start()
            child.close()
            self._process, self._conn = process, parent
        return self._conn

    def check(self, raws: Sequence[bytes], part: int) -> Answers:
        """Send ``raws`` to the helper now; then yield their validity ``part`` at a time.

        The helper starts working as soon as this is called; iterate the result when the
        answers are needed. Falls back to checking in this process if the helper fails.
        """
        sent = False
        try:
            conn = self._start()
            conn.send((list(raws), part))
            sent = True
        except (OSError, EOFError, ValueError) as exc:
            log.warning("signature helper unavailable (%s); verifying in-process", exc)
            self.close()
        return self._answers(raws, part, sent)

    def _answers(self, raws: Sequence[bytes], part: int, sent: bool) -> Answers:
        expected = -(-len(raws) // part)
        given = 0
        try:
            for answer in self._parts(raws, part, sent):
                given += 1
                yield answer
        finally:
            if given < expected and sent:
                self.close()  # unread answers left in the pipe would pass for the next

    def _parts(self, raws: Sequence[bytes], part: int, sent: bool) -> Answers:
        for start in range(0, len(raws), part):
            chunk = raws[start : start + part]
            if sent and self._conn is not None:
                try:
                    answer = self._conn.recv_bytes()
                    if len(answer) == len(chunk):
                        yield [flag == 1 for flag in answer]
                        continue
                except (OSError, EOFError):
                    pass
                log.warning("signature helper stopped answering; verifying in-process")
                self.close()
                sent = False
            yield [signature_valid(raw) for raw in chunk]

    def close(self) -> None:
        """Stop the helper process (idempotent)."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(_STOP)
            conn.close()
        if process is not None:
            process.join(_JOIN_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join(_JOIN_TIMEOUT_S)
