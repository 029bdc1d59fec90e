"""End to end: the real ``entraide`` command in a real terminal (tmux), against a real node;
the test reads the screen with ``tmux capture-pane`` and types with ``tmux send-keys``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_scenario import (
    ME,
    RealNode,
    make_home,
    neighbourhood,
    node_pid,
    pub,
    stop_pid,
    wait_gone,
)

from protocol import kinds as k

ENTRAIDE = Path(sys.executable).parent / "entraide"

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not ENTRAIDE.exists(), reason=f"no entraide command at {ENTRAIDE}"),
]


class Terminal:
    """A private tmux server (its own socket) with one 100×30 window running a command."""

    def __init__(self, command: list[str]) -> None:
        self.folder = tempfile.mkdtemp(prefix="tuitmux", dir="/tmp")
        self.socket = os.path.join(self.folder, "tmux")
        shell_command = " ".join(_quote(a) for a in command) + '; echo "EXITED $?"; sleep 60'
        self.tmux("new-session", "-d", "-x", "100", "-y", "30", "-e", "LANG=C.UTF-8", shell_command)

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


@pytest.fixture
def seeded_node() -> Iterator[RealNode]:
    home = make_home()
    node = RealNode(home).start()
    try:
        node.submit(neighbourhood(int(time.time())))
        yield node
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_entraide_alone_opens_the_app_on_the_running_node(seeded_node: RealNode) -> None:
    terminal = Terminal([str(ENTRAIDE), "--home", str(seeded_node.home), "--lang", "en"])
    try:
        screen = terminal.wait_for("Active alerts (2)")
        assert "SEVERE · OFFICIAL" in screen  # the banner of the most serious alert
        assert "1 Overview" in screen and "q Quit" in screen

        terminal.keys("3")
        screen = terminal.wait_for("Help requests (4)")
        assert "life at risk" in screen and "medication" in screen

        terminal.keys("s")  # "I'm safe", in one key
        terminal.wait_for("Your neighbours will see that you are safe.")
        checkins = [
            e
            for e in seeded_node.envelopes()
            if e.kind is k.Kind.CHECKIN and e.author == pub(ME) and not e.body.on_behalf
        ]
        assert [e.body.status for e in checkins] == [k.CheckInStatus.SAFE]

        terminal.keys("l")  # French
        terminal.wait_for("Demandes d'aide (4)")
        terminal.keys("q")
        terminal.wait_for("EXITED 0")
    finally:
        terminal.close()


def test_the_app_starts_the_node_when_none_runs() -> None:
    home = make_home(language="fr")
    terminal = Terminal([str(ENTRAIDE), "--home", str(home), "tui", "--offline"])
    try:
        screen = terminal.wait_for("Nœud démarré en arrière-plan", timeout=30)
        assert "node.log" in screen
        terminal.wait_for("sans Wi-Fi")
        pid = node_pid(home)
        assert pid is not None
        terminal.keys("C-c")  # quits too (Textual alone would only hint at ctrl+q)
        terminal.wait_for("EXITED 0")
        os.kill(pid, 0)  # the node keeps running after the app
    finally:
        terminal.close()
        pid = node_pid(home)
        stop_pid(pid)
        wait_gone(pid)
        shutil.rmtree(home, ignore_errors=True)
