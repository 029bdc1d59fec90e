"""Clients of a running node's control socket (see :mod:`node.control` for the operations).

:class:`ControlClient` is blocking (the ``entraide`` commands); :class:`AsyncControlClient`
runs on asyncio (the Textual app). Both speak newline-delimited JSON and raise
:class:`NodeError` when the node answers with an error, :class:`NodeUnavailable` when no node
listens.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

from protocol.errors import LocalError

CONTROL_SOCKET = "node.sock"
#: The longest line read from the node (a ``messages`` answer for a large zone).
MAX_ANSWER = 256 * 2**20


class NodeUnavailable(LocalError):
    """No node is running on this home (or its socket cannot be reached)."""

    code = "node-unavailable"


class NodeError(LocalError):
    """The node refused a request; ``code``, ``fault`` and the texts are the node's."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message", "the node refused the request")))
        self.code = str(error.get("code", "node-error"))
        self.fault = str(error.get("fault", "local"))
        self.text = str(error.get("text", self.args[0]))


def socket_path(home: Path) -> Path:
    return home / CONTROL_SOCKET


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _answer(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise NodeUnavailable("the node sent something that is not a JSON object")
    return value


class ControlClient:
    """A blocking connection to a node. Use as a context manager."""

    def __init__(self, home: Path, *, timeout: float | None = 30.0) -> None:
        self.path = socket_path(home)
        self._ids = itertools.count(1)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(os.fspath(self.path))
        except OSError as exc:
            self._sock.close()
            raise NodeUnavailable(f"no node is running on {home} ({exc.strerror})") from None
        self._file = self._sock.makefile("rb")
        self.events: list[dict[str, Any]] = []  # pushed events read while waiting for answers

    @staticmethod
    def running(home: Path) -> bool:
        """Whether a node answers on ``home``'s control socket."""
        try:
            with ControlClient(home, timeout=2.0) as client:
                client.call("status")
        except (NodeUnavailable, OSError, ValueError):
            return False
        return True

    def call(self, op: str, **arguments: Any) -> Any:
        request_id = next(self._ids)
        line = json.dumps({"id": request_id, "op": op, **arguments}, ensure_ascii=False)
        try:
            self._sock.sendall(line.encode() + b"\n")
            while True:
                answer = self._read()
                if "event" in answer:
                    self.events.append(answer)
                    continue
                if answer.get("id") != request_id:
                    continue
                if answer.get("ok"):
                    return answer.get("result")
                raise NodeError(answer.get("error") or {})
        except (OSError, ValueError) as exc:
            raise NodeUnavailable(f"lost the connection to the node: {exc}") from None

    def next_event(self) -> dict[str, Any]:
        """The next pushed event (after ``call("subscribe")``); blocks up to the timeout."""
        if self.events:
            return self.events.pop(0)
        while True:
            answer = self._read()
            if "event" in answer:
                return answer

    def _read(self) -> dict[str, Any]:
        line = self._file.readline(MAX_ANSWER)
        if not line:
            raise NodeUnavailable("the node closed the connection")
        return _answer(line)

    def interrupt(self) -> None:
        """Wake a thread blocked in :meth:`next_event` (from another thread): it then raises
        :class:`NodeUnavailable`."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
            self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncControlClient:
    """An asyncio connection to a node; events go to :meth:`events` after ``subscribe``."""

    def __init__(self, home: Path) -> None:
        self.path = socket_path(home)
        self._ids = itertools.count(1)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reading: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                os.fspath(self.path), limit=MAX_ANSWER
            )
        except OSError as exc:
            raise NodeUnavailable(f"no node is running ({exc.strerror})") from None
        self._reading = asyncio.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while line := await self._reader.readline():
                answer = _answer(line)
                if "event" in answer:
                    self._events.put_nowait(answer)
                    continue
                future = self._pending.pop(answer.get("id"), None)  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(answer)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(NodeUnavailable("the node closed the connection"))
            self._pending.clear()
            self._events.put_nowait(None)

    async def call(self, op: str, **arguments: Any) -> Any:
        if self._writer is None or self._reading is None or self._reading.done():
            raise NodeUnavailable("not connected to the node")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "op": op, **arguments}, ensure_ascii=False)
        try:
            self._writer.write(line.encode() + b"\n")
            await self._writer.drain()
        except OSError as exc:
            self._pending.pop(request_id, None)
            raise NodeUnavailable(f"lost the connection to the node: {exc}") from None
        answer = await future
        if answer.get("ok"):
            return answer.get("result")
        raise NodeError(answer.get("error") or {})

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Pushed events until the connection closes."""
        while (event := await self._events.get()) is not None:
            yield event

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
