"""``entraide demo``: the whole simulated neighbourhood, headless, as a user would start it.

The long test runs the real command for about a minute and reads its JSON summary: messages
crossed the emulated LoRa link both ways between the two Wi-Fi islands, the town hall's
mirror of the SEVESO exercise reached every household, each volunteer's handset received
texts, and a handset's SOS reached both islands. Every process of the run carries a marker
in its environment, so /proc tells whether anything is left afterwards. A second run is
stopped with SIGTERM once it is ready: it stops everything too, and removes its folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from node.bridge.cap import parse_cap
from node.demo import (
    BRIDGE,
    HOUSEHOLDS,
    Child,
    Demo,
    DemoFailed,
    DemoOptions,
    Post,
    _make_root,
    render_summary,
    run_demo,
    scenario,
)
from node.demo_child import loopback_feed
from node.demo_feed import EXERCISE, SENDER, FeedServer, cap_document
from protocol.errors import UsageError
from protocol.i18n import tr

DEMO = [sys.executable, "-m", "node.cli", "demo"]
MARK = "ENTRAIDE_TEST_DEMO"
DURATION_S = 45
#: Start-up (~10 s on two cores), the scenario, the stop (a few seconds), and a margin.
TIMEOUT_S = DURATION_S + 90

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")


def marked(marker: str) -> list[int]:
    """Processes whose environment carries ``MARK=marker`` (the demo and all it started)."""
    wanted = f"{MARK}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_none_marked(marker: str, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


class DemoRun:
    """``entraide demo --headless --json`` in a subprocess, in its own session; its output is
    read by two threads (the progress lines as they come, the summary at the end)."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.marker = uuid.uuid4().hex
        self.folder = folder
        self.process = subprocess.Popen(
            [*DEMO, "--headless", "--json", "--dir", str(folder), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ | {MARK: self.marker, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.progress: list[str] = []
        self.out = b""
        self._readers = [
            threading.Thread(target=self._read_progress, daemon=True),
            threading.Thread(target=self._read_out, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_progress(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            text = line.decode(errors="replace")
            self.progress.append(text)
            self.lines.put(text)

    def _read_out(self) -> None:
        assert self.process.stdout is not None
        self.out = self.process.stdout.read()

    def wait_for_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; the demo said:\n{''.join(self.progress)}")

    def finish(self, timeout: float) -> tuple[dict[str, Any], str]:
        """Wait for the end; the JSON summary and the progress lines."""
        self.process.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        errors = "".join(self.progress)
        assert self.out.strip(), f"no summary (exit code {self.process.returncode}):\n{errors}"
        return json.loads(self.out), errors

    def kill_leftovers(self) -> None:
        """Whatever went wrong, leave nothing running."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in marked(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)


@pytest.fixture
def demo_folder() -> Iterator[Path]:
    # Short, new paths: the nodes' control sockets live in it (Unix sockets: ~107 bytes).
    base = Path(f"/tmp/demo-test-{uuid.uuid4().hex[:8]}")
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_demo_headless_every_part_works_then_nothing_is_left(demo_folder: Path) -> None:
    run = DemoRun(demo_folder, "--duration", str(DURATION_S), "--lang", "fr")
    try:
        summary, errors = run.finish(TIMEOUT_S)
    finally:
        run.kill_leftovers()
    assert run.process.returncode == 0, errors

    # Every part worked, as the demo itself judged it...
    assert summary["ok"], json.dumps(summary["checks"]) + "\n" + errors
    # ...and as this test reads the details.
    lora = summary["lora"]
    assert lora["a_to_b"]["messages"] >= 1 and lora["b_to_a"]["messages"] >= 1
    assert lora["a_to_b"].get("alert", 0) >= 1  # the town hall is on island A
    assert lora["frames_on_air"] > 0
    assert summary["bridge"]["published"][:1] == ["FR-EX-2026-0001"]
    households = summary["households"]
    assert len(households) == len(HOUSEHOLDS) == 8
    for household in households:
        assert household["official_alerts"], household["name"]
    assert {h["island"] for h in households} == {"A", "B"}
    for handset in summary["handsets"]:
        assert handset["received"], handset["name"]
    sos = [
        m
        for m in summary["handset_messages"]
        if m["kind"] == "help_request" and m["critical"] and m["islands"] == ["A", "B"]
    ]
    assert sos, summary["handset_messages"]
    assert all(step["ok"] for step in summary["script"]), summary["script"]

    # Nothing is left: every process stopped by SIGTERM, none marked in /proc, no folder.
    assert summary["left_running"] == []
    assert len(summary["processes"]) == 9
    assert all(p["exit_code"] == 0 for p in summary["processes"]), summary["processes"]
    assert wait_none_marked(run.marker) == []
    assert not demo_folder.exists()

    # The same summary in words, in both languages.
    text_fr = render_summary(summary, "fr")
    assert "Chaque partie a fonctionné." in text_fr and "Quartier de la Gare" in text_fr
    assert "Every part worked." in render_summary(summary, "en")


def test_a_second_run_stopped_by_sigterm_stops_everything(demo_folder: Path) -> None:
    run = DemoRun(demo_folder, "--duration", "600", "--lang", "en")
    try:
        run.wait_for_line("Ready after", timeout=90)
        assert len(marked(run.marker)) >= 10  # the demo, 8 households and the bridge
        run.process.send_signal(signal.SIGTERM)
        summary, errors = run.finish(60)
    finally:
        run.kill_leftovers()
    assert run.process.returncode == 130, errors
    assert summary["interrupted"] == "SIGTERM"
    assert summary["left_running"] == []
    assert wait_none_marked(run.marker) == []
    assert not demo_folder.exists()


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_demo_opens_the_app_and_q_stops_everything(demo_folder: Path) -> None:
    marker = uuid.uuid4().hex
    socket = f"/tmp/demo-tmux-{marker[:8]}"
    command = [*DEMO, "--lang", "en", "--dir", str(demo_folder), "--duration", "30"]
    # Only the demo (and what it starts) carries the marker, not the shell around it.
    shell = f"env {MARK}={marker} " + " ".join(command) + '; echo "EXITED $?"; sleep 60'

    def tmux(*args: str) -> str:
        done = subprocess.run(["tmux", "-S", socket, *args], capture_output=True, text=True)
        return done.stdout

    def wait_for(text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while text not in (screen := tmux("capture-pane", "-p")):
            assert time.monotonic() < deadline, f"{text!r} never showed:\n{screen}"
            time.sleep(0.2)
        return screen

    tmux("new-session", "-d", "-x", "100", "-y", "30", "-e", "LANG=C.UTF-8", shell)
    try:
        # The app, on a household of island B: the official alert came over LoRa.
        screen = wait_for("OFFICIAL", timeout=90)
        assert "EXERCISE" in screen and "q Quit" in screen
        assert len(marked(marker)) >= 10
        tmux("send-keys", "q")
        screen = wait_for("EXITED 0", timeout=60)
        assert "Demo stopped: nothing is left running." in screen
        assert wait_none_marked(marker) == []
        assert not demo_folder.exists()
    finally:
        tmux("kill-server")
        for pid in marked(marker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket)


def test_a_part_that_does_not_start_stops_the_demo_with_its_log(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_bridge(self: Demo, peers: list[str]) -> Child:
        home = self.home(BRIDGE.key)
        argv = [sys.executable, "-c", "import sys; print('no feed today'); sys.exit(3)"]
        return Child(BRIDGE.name, home, argv)

    monkeypatch.setattr(Demo, "_bridge_child", broken_bridge)
    marker = uuid.uuid4().hex
    monkeypatch.setenv(MARK, marker)
    err = io.StringIO()
    options = DemoOptions(headless=True, duration=5, root=demo_folder, lang="en")
    with pytest.raises(DemoFailed, match="Mairie stopped while starting:\nno feed today"):
        run_demo(options, out=io.StringIO(), err=err)
    assert [pid for pid in wait_none_marked(marker) if pid != os.getpid()] == []
    assert (demo_folder / "b2" / "node.log").exists()  # kept: the logs say what happened
    assert "The demo's folder is kept" in err.getvalue()


# --- the parts, without processes --------------------------------------------------------


def test_the_exercise_is_three_cap_documents_that_reference_the_earlier_ones() -> None:
    sent = [1_800_000_000, 1_800_000_020, 1_800_000_050]
    docs = [parse_cap(cap_document(i, sent)) for i in range(len(EXERCISE))]
    assert [d.msg_type for d in docs] == ["Alert", "Update", "Update"]
    assert all(d.status == "Exercise" and d.sender == SENDER for d in docs)
    assert [d.sent for d in docs] == sent
    assert [[r.identifier for r in d.references] for d in docs] == [
        [],
        ["FR-EX-2026-0001"],
        ["FR-EX-2026-0001", "FR-EX-2026-0002"],
    ]
    assert [r.sent for r in docs[2].references] == sent[:2]
    assert docs[2].infos[0].response_types == ("AllClear",)
    for doc, step in zip(docs, EXERCISE, strict=True):
        assert doc.infos[0].expires == doc.sent + step.lifetime_s
        assert {i.language for i in doc.infos} == {"fr-FR", "en-GB"}


@pytest.mark.trio
async def test_the_feed_serves_what_is_published_with_etags() -> None:
    import httpx

    async with trio.open_nursery() as nursery:
        feed = await nursery.start(FeedServer(clock=lambda: 1_800_000_000.0).serve)
        async with httpx.AsyncClient() as client:
            empty = await client.get(feed.url)
            assert empty.status_code == 200 and b"<entry>" not in empty.content
            assert feed.publish_next() == "FR-EX-2026-0001"
            index = await client.get(feed.url)
            assert b"/cap/FR-EX-2026-0001.xml" in index.content
            again = await client.get(feed.url, headers={"If-None-Match": index.headers["etag"]})
            assert again.status_code == 304
            doc = await client.get(f"http://{feed.host}/cap/FR-EX-2026-0001.xml")
            assert parse_cap(doc.content).identifier == "FR-EX-2026-0001"
            missing = await client.get(f"http://{feed.host}/cap/FR-EX-2026-0002.xml")
            assert missing.status_code == 404
        assert [feed.publish_next() for _ in range(3)] == [
            "FR-EX-2026-0002",
            "FR-EX-2026-0003",
            None,
        ]
        nursery.cancel_scope.cancel()


def test_the_demo_bridge_reads_only_a_loopback_feed() -> None:
    assert loopback_feed("http://127.0.0.1:8080/feed.xml")
    assert loopback_feed("http://[::1]:8080/feed.xml")
    for url in ("http://192.168.1.10/feed.xml", "http://example.org/feed.xml", "file:///etc"):
        with pytest.raises(SystemExit):
            loopback_feed(url)


def test_the_demo_folder_must_be_new_or_empty_and_short(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    with pytest.raises(UsageError, match="not an empty folder"):
        _make_root(DemoOptions(root=tmp_path / "full", lang="en"))
    with pytest.raises(UsageError, match="too long"):
        _make_root(DemoOptions(root=tmp_path / ("x" * 100), lang="en"))
    root, created = _make_root(DemoOptions(root=tmp_path / "new", lang="en"))
    assert created and root.is_dir() and root.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_scenario_speaks_the_demo_language(lang: str) -> None:
    steps = scenario(lang)
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    assert all(0 <= s.at < 1 for s in steps)
    water = next(s for s in steps if isinstance(s, Post) and s.label == "water")
    assert water.body["text"] == tr("No more water from the tap since this morning", lang)
    sos = "SOS eau 2" if lang == "fr" else "SOS water 2"
    assert any(getattr(s, "text", "") == sos for s in steps)
