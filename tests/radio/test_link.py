"""radio.link against the emulator: the real meshtastic client bridged into trio, rebuilt
when the device goes away and comes back."""

from __future__ import annotations

import socket

import pytest
import trio

from radio.emulator import EmulatorOptions, run_in_thread
from radio.link import RadioLink


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def emulator(port: int):  # type: ignore[no-untyped-def]
    return run_in_thread(
        EmulatorOptions(radios=2, topology="full", time_scale=20, base_port=port).build()
    )


@pytest.mark.trio
async def test_the_link_is_rebuilt_when_the_device_comes_back() -> None:
    port = free_port()
    first = emulator(port)
    await trio.to_thread.run_sync(first.__enter__)
    link = RadioLink(f"tcp:127.0.0.1:{port}", connect_timeout=10, ack_timeout=5)
    async with trio.open_nursery() as nursery:
        await nursery.start(link.serve)
        assert link.my_node_num == 0x1000000
        result = await link.send_data(b"\x11hello", want_ack=False)
        assert result.reason == "NOT_REQUESTED"

        await trio.to_thread.run_sync(first.__exit__, None, None, None)  # the device is gone
        with trio.fail_after(30):
            while link.statistics()["connected"]:
                await trio.sleep(0.1)
        await trio.sleep(2)  # a few failed attempts while it is away
        second = emulator(port)
        await trio.to_thread.run_sync(second.__enter__)
        try:
            with trio.fail_after(60):
                while not link.statistics()["connected"]:
                    await trio.sleep(0.1)
            assert link.statistics()["reconnects"] >= 1
            result = await link.send_data(b"\x11again", want_ack=False)
            assert result.reason == "NOT_REQUESTED"
        finally:
            nursery.cancel_scope.cancel()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(second.__exit__, None, None, None)
