"""The node's local control API: a Unix socket (mode 0600) in the node's home.

Clients (the terminal app, ``entraide`` commands) exchange newline-delimited JSON with the
node. A request is ``{"id": 7, "op": "status", ...arguments}``; the answer carries the same
``id`` and either ``"ok": true, "result": ...`` or ``"ok": false, "error": {"code", "fault",
"message"}``. After ``subscribe`` the node also pushes events (``{"event": ...}``, see
:mod:`node.events`) on that connection, interleaved with answers.

Operations:

==============  ==========================================================================
``status``      the household, zone, peers, sync, message counters
``post``        ``kind``, ``body`` (JSON fields as ``--json`` shows them), ``refs`` (hex ids),
                ``lifetime`` (minutes): the node signs, stores and publishes; returns the
                message
``submit``      ``raws``: envelopes already signed (base64): stored, new ones published
``messages``    live messages of the zone, ``kinds`` optional: ``{"now", "raws": [base64]}``
``board``       ``section``, ``need``, ``urgency``, ``mine``, ``lang``: ``{"text", "data"}``
``show``        ``message`` (its id, or a prefix of at least 4 hex digits): the message and
                what refers to it
``subscribe``   start pushing events on this connection
``sync``        catch up with every connected peer now
``trust``       read ``charter.ent`` again (after ``entraide charter join``); the charter, the
                roles and the clock estimate, as in ``status``
==============  ==========================================================================

Only the user who runs the node may connect: the socket is created 0600 in a 0700 home,
and the peer's uid is checked (``SO_PEERCRED``) where the system provides it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import json
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from protocol import kinds as k
from protocol.errors import EntraideError, LocalError, UsageError
from protocol.i18n import error_text, parse_label
from protocol.jsonview import body_from_json, envelope_to_json

from . import render

if TYPE_CHECKING:
    from .daemon import Node

log = logging.getLogger("entraide.control")

#: The longest request line accepted (a ``submit`` of a few thousand envelopes).
MAX_LINE = 16 * 2**20
#: Unix socket paths longer than this do not fit ``sockaddr_un``.
MAX_SOCKET_PATH = 107


class ControlError(LocalError):
    """The control socket cannot be set up (another node runs here, the path is too long)."""

    code = "control-socket"


class NodeRunning(ControlError):
    code = "node-running"


def _json_line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _error(exc: EntraideError, lang: str) -> dict[str, Any]:
    return {
        "code": exc.code,
        "fault": exc.fault,
        "message": str(exc),
        "text": error_text(exc, lang),
    }


def _lang(request: dict[str, Any], default: str) -> str:
    value = request.get("lang")
    return value if isinstance(value, str) and value in ("fr", "en") else default


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise UsageError(f"{what}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{what}: not valid base64") from None


def _hex_id(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise UsageError(f"{what}: expected a 64-digit hexadecimal message id")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise UsageError(f"{what}: {value!r} is not hexadecimal") from None


async def bind_control_socket(path: Path) -> trio.socket.SocketType:
    """A listening Unix socket at ``path``, private to this user. A socket left behind by a
    node that died is replaced; a live one means another node already runs here."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ControlError(
            f"the control socket path {path} is too long for a Unix socket "
            f"(at most {MAX_SOCKET_PATH} bytes): use a shorter --home"
        )
    if path.exists() or path.is_symlink():
        probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            await probe.connect(os.fspath(path))
        except OSError:
            path.unlink()  # stale: nobody listens any more
        else:
            raise NodeRunning(f"a node is already running with the control socket {path}")
        finally:
            probe.close()
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # created 0600, no window where others could connect
    try:
        await sock.bind(os.fspath(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(16)
    return sock


def _peer_uid(stream: trio.SocketStream) -> int | None:
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None
    try:
        creds = stream.socket.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    except OSError:
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


async def serve_control(node: Node, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve the control socket until cancelled; the socket file is removed on exit."""
    path = node.control_path
    sock = await bind_control_socket(path)
    listener = trio.SocketListener(sock)
    try:
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                stream = await listener.accept()
                nursery.start_soon(_serve_client, node, stream)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        await listener.aclose()


class _Client:
    """One connected client: reads requests, writes answers and (once subscribed) events."""

    def __init__(self, node: Node, stream: trio.SocketStream) -> None:
        self.node = node
        self.stream = stream
        self.write_lock = trio.Lock()
        self.subscribed = False

    async def send(self, value: dict[str, Any]) -> None:
        async with self.write_lock:
            await self.stream.send_all(_json_line(value))


async def _serve_client(node: Node, stream: trio.SocketStream) -> None:
    uid = _peer_uid(stream)
    if uid is not None and uid != os.getuid():
        log.warning("refused a control connection from uid %d", uid)
        await stream.aclose()
        return
    client = _Client(node, stream)
    buffer = bytearray()
    try:
        async with trio.open_nursery() as nursery:
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    break
                buffer += data
                while (end := buffer.find(b"\n")) >= 0:
                    line = bytes(buffer[:end])
                    del buffer[: end + 1]
                    if line.strip():
                        await _handle_line(client, line, nursery)
                if len(buffer) > MAX_LINE:
                    await client.send(
                        {
                            "id": None,
                            "ok": False,
                            "error": {
                                "code": "usage",
                                "fault": "local",
                                "message": f"request longer than {MAX_LINE} bytes",
                            },
                        }
                    )
                    break
            nursery.cancel_scope.cancel()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the client went away
    except OSError as exc:
        if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
            raise
    finally:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            await stream.aclose()


async def _handle_line(client: _Client, line: bytes, nursery: trio.Nursery) -> None:
    request_id: Any = None
    lang = "en"
    try:
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise UsageError("a request must be one line of JSON") from None
        if not isinstance(request, dict):
            raise UsageError("a request must be a JSON object")
        request_id = request.get("id")
        lang = _lang(request, "en")
        op = request.get("op")
        handler = OPERATIONS.get(op) if isinstance(op, str) else None
        if handler is None:
            raise UsageError(f"unknown operation {op!r}; known: {', '.join(sorted(OPERATIONS))}")
        if op == "subscribe":
            result = await _subscribe(client, nursery)
        else:
            result = await handler(client.node, request)
        await client.send({"id": request_id, "ok": True, "result": result})
    except EntraideError as exc:
        await client.send({"id": request_id, "ok": False, "error": _error(exc, lang)})
    except Exception:  # a bug: report it to this client, keep the node running
        log.exception("internal error while answering a control request")
        await client.send(
            {
                "id": request_id,
                "ok": False,
                "error": {
                    "code": "internal",
                    "fault": "local",
                    "message": "internal error in the node (a bug: see its log)",
                },
            }
        )


# --- operations ----------------------------------------------------------------------------


async def _status(node: Node, request: dict[str, Any]) -> Any:
    return node.status()


async def _post(node: Node, request: dict[str, Any]) -> Any:
    kind = request.get("kind")
    if not isinstance(kind, str):
        raise UsageError('post: give the message kind, e.g. "checkin" or "help_request"')
    body = body_from_json(kind, request.get("body") or {})
    refs = request.get("refs") or []
    if not isinstance(refs, list):
        raise UsageError("post: refs must be a list of message ids")
    lifetime = request.get("lifetime")
    if lifetime is not None and (type(lifetime) is not int or lifetime <= 0):
        raise UsageError("post: lifetime must be a positive number of minutes")
    env, result = await node.post(
        body, refs=[_hex_id(r, "post: refs") for r in refs], lifetime=lifetime
    )
    if result.error is not None:
        raise UsageError(str(result.error))
    return envelope_to_json(env) | {"raw": _b64(env.raw)}


async def _submit(node: Node, request: dict[str, Any]) -> Any:
    raws = request.get("raws")
    if not isinstance(raws, list):
        raise UsageError("submit: raws must be a list of base64 envelopes")
    decoded = [_unb64(r, f"submit: raws[{i}]") for i, r in enumerate(raws)]
    results = await node.submit(decoded, source=str(request.get("source") or "local"))
    return [
        {
            "status": r.status,
            "id": r.id.hex() if r.id else None,
            "error": None if r.error is None else _error(r.error, "en"),
        }
        for r in results
    ]


def _kinds(value: Any) -> list[k.Kind] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError("kinds must be a list of kind names")
    try:
        return [k.Kind[v.upper()] for v in value]
    except KeyError as exc:
        raise UsageError(f"unknown kind {exc.args[0].lower()!r}") from None


async def _messages(node: Node, request: dict[str, Any]) -> Any:
    envs = await node.live(_kinds(request.get("kinds")))
    return {"now": node.now(), "raws": [_b64(e.raw) for e in envs]}


def _enum_option(enum_type: type[Any], value: Any, lang: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"expected a {enum_type.__name__} name")
    return parse_label(enum_type, value, lang)


async def _board(node: Node, request: dict[str, Any]) -> Any:
    lang = _lang(request, node.config.language)
    section = request.get("section") or "all"
    if section != "all" and section not in render.SECTIONS:
        raise UsageError(f"unknown section {section!r}; known: all, {', '.join(render.SECTIONS)}")
    messages = await node.live()
    text, data = render.board(
        messages,
        now=node.now(),
        bridge_keys=frozenset(node.config.zone.bridge_keys),
        section=section,
        need=_enum_option(k.Need, request.get("need"), lang),
        urgency=_enum_option(k.RequestUrgency, request.get("urgency"), lang),
        mine=node.identity.public_key if request.get("mine") else None,
        lang=lang,
        trust=node.trust.roles,
    )
    return {"text": text, "data": data}


async def _show(node: Node, request: dict[str, Any]) -> Any:
    prefix = request.get("message")
    if not isinstance(prefix, str) or len(prefix) < 4:
        raise UsageError("show: give at least 4 hexadecimal digits of the message id")
    store = node.store
    matches = await trio.to_thread.run_sync(lambda: store.find_prefix(prefix))
    if not matches:
        raise UsageError(f"no message with id {prefix} on this node")
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} messages start with {prefix}: give more digits")
    env = matches[0]
    related = await trio.to_thread.run_sync(lambda: store.referencing(env.id))
    return envelope_to_json(env) | {
        "raw": _b64(env.raw),
        "referenced_by": [e.id.hex() for e in related],
    }


async def _sync(node: Node, request: dict[str, Any]) -> Any:
    if node.syncer is None:
        raise UsageError("this node runs without Wi-Fi: there is no peer to catch up with")
    return {"started": node.syncer.sync_all_now()}


async def _trust(node: Node, request: dict[str, Any]) -> Any:
    await node.trust.tick(node)
    return node.trust.status()


async def _subscribe(client: _Client, nursery: trio.Nursery) -> Any:
    if not client.subscribed:
        client.subscribed = True
        started = trio.Event()
        nursery.start_soon(_forward_events, client, started)
        await started.wait()  # events after this answer are not missed
    return {"subscribed": True}


async def _forward_events(client: _Client, started: trio.Event) -> None:
    with client.node.events.subscribe() as sub:
        started.set()
        async for event in sub.receive:
            await client.send(event)


Operation = Callable[["Node", dict[str, Any]], Awaitable[Any]]

OPERATIONS: dict[str, Operation] = {
    "status": _status,
    "post": _post,
    "submit": _submit,
    "messages": _messages,
    "board": _board,
    "show": _show,
    "sync": _sync,
    "trust": _trust,
    "subscribe": _status,  # handled specially: it needs the connection
}
