"""The local control socket: a real node (without Wi-Fi) in this trio process, real clients
on its Unix socket, the real store."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from node.cli import main
from node.client import ControlClient, NodeError, NodeUnavailable, b64, unb64
from node.config import Config, ZoneSettings, save_config
from node.control import NodeRunning, bind_control_socket
from node.daemon import Node, NodeLocked, NodeOptions, home_lock
from node.identity import create_identity
from node.store import Store
from protocol import kinds as k
from protocol.envelope import decode, seal

ZONE = bytes.fromhex("3f2a9c01")


def make_home(path: Path) -> Path:
    path.mkdir(mode=0o700)
    save_config(path, Config(zone=ZoneSettings(zone_id=ZONE, name="Rue des Lilas"), language="en"))
    create_identity(path)
    return path


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    home = make_home(tmp_path / "home")
    from node.config import load_config
    from node.identity import load_identity

    store = Store.open(home / "store.sqlite3", verify_workers=0)
    n = Node(home, load_config(home), load_identity(home), store, NodeOptions(wifi=False))
    async with trio.open_nursery() as nursery:
        await nursery.start(n.serve)
        yield n
        nursery.cancel_scope.cancel()
    store.close()


async def call(home: Path, op: str, **args: object) -> object:
    def blocking() -> object:
        with ControlClient(home) as client:
            return client.call(op, **args)

    return await trio.to_thread.run_sync(blocking)


@pytest.mark.trio
async def test_socket_is_private_and_status_answers(node: Node) -> None:
    mode = stat.S_IMODE(os.stat(node.control_path).st_mode)
    assert mode == 0o600
    status = await call(node.home, "status")
    assert isinstance(status, dict)
    assert status["zone"] == {"id": ZONE.hex(), "name": "Rue des Lilas"}
    assert status["household"] == node.identity.public_key.hex()
    assert status["wifi"] is None


@pytest.mark.trio
async def test_post_signs_stores_and_announces(node: Node) -> None:
    def subscribe_then_post() -> tuple[dict[str, object], dict[str, object]]:
        with ControlClient(node.home, timeout=10) as listener:
            listener.call("subscribe")
            with ControlClient(node.home) as poster:
                posted = poster.call(
                    "post",
                    kind="help_request",
                    body={"need": "water", "urgency": "high", "people": 3, "text": "Plus d'eau"},
                )
            return posted, listener.next_event()

    posted, event = await trio.to_thread.run_sync(subscribe_then_post)
    env = decode(unb64(str(posted["raw"])))
    assert env.author == node.identity.public_key
    assert env.kind is k.Kind.HELP_REQUEST
    assert event["event"] == "message"
    assert event["id"] == env.id.hex() and event["source"] == "local"
    assert node.store.get(env.id) is not None
    board = await call(node.home, "board", section="help")
    assert isinstance(board, dict)
    assert "Plus d'eau" in board["text"]


@pytest.mark.trio
async def test_bad_requests_get_typed_errors_and_the_connection_survives(node: Node) -> None:
    def exchange() -> list[dict[str, object]]:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(node.control_path))
            lines = [
                b"not json\n",
                b"[1, 2]\n",
                b'{"id": 1, "op": "launch"}\n',
                b'{"id": 2, "op": "post", "kind": "help_request", "body": {"need": "wat"}}\n',
                b'{"id": 3, "op": "submit", "raws": ["%%%"]}\n',
                b'{"id": 4, "op": "show", "message": "ab"}\n',
                b'{"id": 5, "op": "status"}\n',
            ]
            sock.sendall(b"".join(lines))
            reader = sock.makefile("rb")
            return [json.loads(reader.readline()) for _ in lines]

    answers = await trio.to_thread.run_sync(exchange)
    assert [a["ok"] for a in answers] == [False] * 6 + [True]
    assert all(a["error"]["fault"] == "local" for a in answers[:6])
    assert "unknown operation" in answers[2]["error"]["message"]
    assert "'wat' is not one of water" in answers[3]["error"]["message"]


@pytest.mark.trio
async def test_submit_rejects_forgeries_and_keeps_the_rest(node: Node) -> None:
    good = seal(
        k.CheckIn(status=k.CheckInStatus.SAFE),
        signing_key=node.identity.signing_key,
        created=node.now(),
        zone=ZONE,
    )
    forged = bytearray(good.raw)
    forged[-1] ^= 1
    answers = await call(node.home, "submit", raws=[b64(bytes(forged)), b64(good.raw)])
    assert isinstance(answers, list)
    assert answers[0]["status"] == "rejected"
    assert answers[0]["error"]["code"] == "bad-signature"
    assert answers[1]["status"] == "new"
    with pytest.raises(NodeError) as err:
        await call(node.home, "show", message="0000")
    assert "no message" in str(err.value)


@pytest.mark.trio
async def test_cli_post_goes_through_the_running_node(node: Node) -> None:
    out, err = io.StringIO(), io.StringIO()

    def post() -> int:
        return main(["--home", str(node.home), "--json", "post", "checkin"], out=out, err=err)

    def listen() -> dict[str, object]:
        with ControlClient(node.home, timeout=10) as listener:
            listener.call("subscribe")
            assert post() == 0, err.getvalue()
            return listener.next_event()

    event = await trio.to_thread.run_sync(listen)
    posted = json.loads(out.getvalue())
    assert event["id"] == posted["id"]
    assert event["kind"] == "checkin"


@pytest.mark.trio
async def test_a_second_node_on_the_same_home_is_refused(node: Node) -> None:
    with pytest.raises(NodeRunning):
        await bind_control_socket(node.control_path)


def test_home_lock_is_exclusive(tmp_path: Path) -> None:
    home = make_home(tmp_path / "h")
    with home_lock(home), pytest.raises(NodeLocked), home_lock(home):
        pass


@pytest.mark.trio
async def test_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "node.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens
    sock = await bind_control_socket(path)
    sock.close()


def test_no_node_running_is_a_clear_error(tmp_path: Path) -> None:
    home = make_home(tmp_path / "h")
    with pytest.raises(NodeUnavailable):
        ControlClient(home)
    out, err = io.StringIO(), io.StringIO()
    assert main(["--home", str(home), "status"], out=out, err=err) == 3
    assert "entraide node" in err.getvalue()
