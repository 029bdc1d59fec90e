"""`entraide radio-emulator` as another process would run it: JSON line, clients, signals."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

REPO = Path(__file__).resolve().parents[2]


def start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli", "radio-emulator", *options],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Texts:
    def __init__(self, interface: TCPInterface) -> None:
        self.interface = interface
        self.packets: queue.Queue[dict[str, Any]] = queue.Queue()
        pub.subscribe(self.on_text, "meshtastic.receive.text")

    def on_text(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is self.interface:
            self.packets.put(packet)


def test_json_line_then_clients_then_sigint_summary() -> None:
    process = start("--json", "--radios", "2", "--topology", "full", "--time-scale", "20")
    try:
        assert process.stdout is not None
        radios = json.loads(process.stdout.readline())["radios"]
        assert [r["node_id"] for r in radios] == ["!01000000", "!01000001"]
        sender = TCPInterface(hostname="127.0.0.1", portNumber=radios[0]["port"], timeout=5)
        receiver = TCPInterface(hostname="127.0.0.1", portNumber=radios[1]["port"], timeout=5)
        texts = Texts(receiver)
        try:
            sender.sendText("essai radio")
            assert texts.packets.get(timeout=10)["decoded"]["text"] == "essai radio"
        finally:
            pub.unsubscribe(texts.on_text, "meshtastic.receive.text")
            sender.close()
            receiver.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stopped"] == "SIGINT"
    assert summary["transmissions"] >= 1
    assert summary["radios"][0]["tx_own"] == 1 and summary["radios"][0]["air_util_tx"] > 0


def test_lines_and_sigterm(tmp_path: Path) -> None:
    topology = tmp_path / "rue.toml"
    topology.write_text('[[radio]]\nname = "Mairie"\nposition = [0, 0]\n'
                        '[[radio]]\nname = "Gare"\nposition = [800, 0]\n')  # fmt: skip
    process = start("--topology", str(topology), "--lang", "fr")
    try:
        assert process.stdout is not None
        header = process.stdout.readline()
        assert header.startswith("2 radios émulées (LONG_FAST, EU_868")
        lines = [process.stdout.readline().split() for _ in range(2)]
        assert [line[:2] for line in lines] == [["!01000000", "Mairie"], ["!01000001", "Gare"]]
        assert all(line[-1].startswith("127.0.0.1:") for line in lines)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert "Émulateur arrêté (SIGTERM)" in err and "!01000001 Gare : 0 trames émises" in err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[radio]]\nname = "seule"\n')
    for options in (["--loss", "2"], ["--topology", "nowhere.toml"], ["--topology", str(bad)]):
        process = start(*options)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 2, (options, err)
        assert "topology" in err or "probability" in err
