"""Terminal app benchmark: time to first paint and memory of the real ``entraide`` command in
a real terminal (tmux), and loading then scrolling a help board of 5,000 requests.

Run from the repository root (needs tmux)::

    .venv/bin/python tests/benchmarks/bench_tui.py [--requests N] [--runs N]

Each run starts an ``entraide node --offline`` on a fresh home, seeded through its control
socket with N help requests (one in five claimed) from 50 households. Prints Markdown.

- first paint: from starting ``entraide tui`` until tmux shows the app's top bar;
- board shown: until the overview shows the counts derived from every message;
- RSS: resident memory of the app process once the board is shown (and its peak);
- load: in-process (Textual's headless Pilot, 80×24), from the app's start until the help
  board's table holds every request;
- scroll: CPU time of a page down, of a jump to a random row, each followed by a repaint;
- live update: from a neighbour's new request reaching the node until it is in the table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "tui"))

import nacl.signing  # noqa: E402
from tui_scenario import ZONE, RealNode, make_home  # noqa: E402

from protocol import kinds as k  # noqa: E402
from protocol.envelope import Envelope, seal  # noqa: E402

ENTRAIDE = Path(sys.executable).parent / "entraide"
NEEDS = [n for n in k.Need if n <= k.Need.OTHER]
STREETS = ["rue des Lilas", "rue Haute", "quai de Seine", "place du Marché", "impasse Verte"]


def requests(count: int, now: int) -> list[Envelope]:
    """``count`` help requests from 50 households, one in five claimed by a neighbour."""
    keys = [nacl.signing.SigningKey(bytes([n + 20]) * 32) for n in range(50)]
    out = []
    for i in range(count):
        request = seal(
            k.HelpRequest(
                need=NEEDS[i % len(NEEDS)],
                urgency=k.RequestUrgency(1 + i % 4),
                people=1 + i % 5,
                place=f"{1 + i % 90} {STREETS[i % len(STREETS)]}",
                text=f"Demande n° {i}: de l'aide pour le foyer",
            ),
            signing_key=keys[i % 50],
            created=now - 600 - i % 3000,
            zone=ZONE,
        )
        out.append(request)
        if i % 5 == 0:
            out.append(
                seal(
                    k.Claim(eta_minutes=30),
                    signing_key=keys[(i + 7) % 50],
                    created=now - 300,
                    zone=ZONE,
                    refs=[request.id],
                    lifetime=3 * 1440,
                )
            )
    return out


def seed(node: RealNode, envelopes: Sequence[Envelope]) -> None:
    for start in range(0, len(envelopes), 500):
        node.submit(list(envelopes[start : start + 500]))


# --- in a real terminal --------------------------------------------------------------------


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-S", socket, *args], capture_output=True, text=True, check=True
    ).stdout


def wait_screen(socket: str, predicate: Callable[[str], bool], timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if predicate(tmux(socket, "capture-pane", "-p")):
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise TimeoutError(tmux(socket, "capture-pane", "-p"))
        time.sleep(0.005)


def rss_kib(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.split()[0] if value.split() else "0"
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def app_pid(socket: str) -> int:
    shell = int(tmux(socket, "list-panes", "-F", "#{pane_pid}").split()[0])
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    return int(children[0])


def terminal_run(home: Path, expected_open: int) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="tuitmux", dir="/tmp")
    socket = os.path.join(folder, "tmux")
    command = f"{ENTRAIDE} --home {home} --lang en tui; sleep 30"
    start = time.perf_counter()
    tmux(socket, "new-session", "-d", "-x", "80", "-y", "24", "-e", "LANG=C.UTF-8", command)
    try:
        painted = wait_screen(socket, lambda s: "1 Overview" in s)
        shown = wait_screen(
            socket,
            lambda s: f"Open requests : {expected_open}".replace(" :", ":") in " ".join(s.split()),
        )
        time.sleep(1.0)
        rss, peak = rss_kib(app_pid(socket))
        tmux(socket, "send-keys", "q")
        time.sleep(0.3)
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "first_paint": painted - start,
        "board_shown": shown - start,
        "rss_mib": rss / 1024,
        "peak_mib": peak / 1024,
    }


# --- in-process (Pilot) --------------------------------------------------------------------


async def load_and_scroll(node: RealNode, count: int, pages: int = 100) -> dict[str, float]:
    from tui.app import EntraideApp
    from tui.link import control_connection
    from tui.widgets.board_table import BoardTable

    async def until(pilot, predicate, timeout=60.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError
            await pilot.pause(0.001)
        return time.perf_counter()

    start = time.perf_counter()
    app = EntraideApp(control_connection(node.home), lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        derived = await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("3")
        table = app.screen.query_one("#requests", BoardTable)
        loaded = await until(pilot, lambda: table.row_count >= count)
        table.focus()
        await pilot.pause()

        # CPU time, not wall time: Pilot waits for the app to be idle between steps.
        t0 = time.process_time()
        for _ in range(pages):
            table.action_page_down()
            await pilot.pause()
        page = (time.process_time() - t0) / pages

        rng = random.Random(1)
        t0 = time.process_time()
        for _ in range(pages):
            table.move_cursor(row=rng.randrange(count))
            await pilot.pause()
        jump = (time.process_time() - t0) / pages

        new = seal(
            k.HelpRequest(
                need=k.Need.WATER, urgency=k.RequestUrgency.CRITICAL, text=f"nouvelle {start}"
            ),
            signing_key=nacl.signing.SigningKey(bytes([99]) * 32),
            created=int(time.time()),
            zone=ZONE,
        )
        t0 = time.perf_counter()
        node.call("submit", raws=[base64.b64encode(new.raw).decode()])
        live = await until(pilot, lambda: new.id.hex() in table.rows) - t0
    return {
        "derived": derived - start,
        "loaded": loaded - start,
        "page_ms": page * 1000,
        "jump_ms": jump * 1000,
        "live_ms": live * 1000,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None or not ENTRAIDE.exists():
        print("needs tmux and the entraide command of this interpreter", file=sys.stderr)
        return 2

    print("# entraide terminal app benchmark\n")
    print(
        f"- {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; terminal 80×24 (tmux); best and median of "
        f"{args.runs} runs\n"
    )
    rows: list[tuple[str, str, str]] = []
    for label, count in (("empty board", 0), (f"{args.requests:,} requests", args.requests)):
        home = make_home()
        node = RealNode(home).start()
        try:
            now = int(time.time())
            seed(node, requests(count, now))
            open_count = count - (count + 4) // 5  # one in five is claimed
            runs = [terminal_run(home, open_count) for _ in range(args.runs)]
            for key, what, unit in (
                ("first_paint", "time to first paint", "s"),
                ("board_shown", "time until the board is shown", "s"),
                ("rss_mib", "RSS of the app", "MiB"),
                ("peak_mib", "peak RSS of the app", "MiB"),
            ):
                values = [r[key] for r in runs]
                best = min(values)
                rows.append(
                    (f"{what} ({label})", f"{best:.2f} {unit}", f"{statistics.median(values):.2f}")
                )
            if count:
                inproc = [asyncio.run(load_and_scroll(node, count)) for _ in range(args.runs)]
                for key, what, unit in (
                    ("derived", "load: messages fetched and board derived", "s"),
                    ("loaded", "load: help board table filled", "s"),
                    ("page_ms", "scroll: one page down, repainted (CPU)", "ms"),
                    ("jump_ms", "scroll: jump to a random row, repainted (CPU)", "ms"),
                    ("live_ms", "live update: a new request in the table", "ms"),
                ):
                    values = [r[key] for r in inproc]
                    best = min(values)
                    rows.append(
                        (
                            f"{what} ({label})",
                            f"{best:.3f} {unit}" if unit == "s" else f"{best:.1f} {unit}",
                            f"{statistics.median(values):.3f}"
                            if unit == "s"
                            else f"{statistics.median(values):.1f}",
                        )
                    )
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)
    print("| measure | best | median |")
    print("|---|---:|---:|")
    for what, best, median in rows:
        print(f"| {what} | {best} | {median} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
