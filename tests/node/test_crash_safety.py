"""A message acknowledged by ``Store.ingest`` survives the process being killed outright.

A real child process ingests 10,000 messages in batches and prints each batch's ids once
``ingest`` has returned; the parent SIGKILLs it mid-ingest, reopens the store, and checks
that the file is intact and that every acknowledged message is there. Three rounds, killed
at different points (and a few milliseconds apart, to land sometimes inside a commit), each
restarting on the store the previous round left behind.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from nacl.signing import SigningKey

from node.store import Store
from protocol.bundle import encode_bundle
from protocol.envelope import Policy, seal
from protocol.kinds import CheckIn, CheckInStatus, HelpRequest, Need

NOW = 1_760_000_000
ZONE = b"\x00\x00\x00\x01"
MESSAGES = 10_000
BATCH = 50
TIMEOUT = 60.0  # seconds, for every wait on the child
#: (messages acknowledged before the kill, extra delay before it in seconds)
KILLS = [(2_000, 0.0), (4_500, 0.002), (7_000, 0.004)]

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("crash_ingest_worker.py")


def generate(count: int) -> list[bytes]:
    keys = [SigningKey(i.to_bytes(32, "big")) for i in range(1, 21)]
    raws = []
    for i in range(count):
        body = (
            CheckIn(status=CheckInStatus.SAFE, people=i % 900 + 1)
            if i % 2
            else HelpRequest(need=Need.WATER, text=f"bidons {i}")
        )
        env = seal(body, signing_key=keys[i % len(keys)], created=NOW - 5000 + i // 20, zone=ZONE)
        raws.append(env.raw)
    return raws


def read_lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put(None)  # end of file


def ingest_until_killed(tmp_path: Path, bundle: Path, kill_after: int, delay: float) -> set[str]:
    """Run the child until ``kill_after`` ids are acknowledged, SIGKILL it, return the ids."""
    store_path = tmp_path / "store.sqlite3"
    stderr_path = tmp_path / "child.stderr"
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    acknowledged: set[str] = set()
    lines: queue.Queue[str | None] = queue.Queue()
    with stderr_path.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(WORKER), str(store_path), str(bundle), str(NOW), str(BATCH)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=REPO,
            env=dict(os.environ, PYTHONPATH=pythonpath),
            text=True,
        )
    assert child.stdout is not None
    reader = threading.Thread(target=read_lines, args=(child.stdout, lines), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while len(acknowledged) < kill_after:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {len(acknowledged)} messages acknowledged in {TIMEOUT} s"
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                child.wait(timeout=TIMEOUT)
                raise AssertionError(
                    f"the child exited (status {child.returncode}) after acknowledging only "
                    f"{len(acknowledged)} messages:\n{stderr_path.read_text()}"
                )
            acknowledged.add(line.strip())
        if delay:
            time.sleep(delay)  # not a wait for anything: moves the kill to another moment
        assert child.poll() is None, "the child finished before it could be killed mid-ingest"
        child.kill()  # SIGKILL: no cleanup, no atexit, no close
        child.wait(timeout=TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=TIMEOUT)
        reader.join(timeout=TIMEOUT)
        child.stdout.close()
    assert child.returncode == -9, stderr_path.read_text()
    # Lines the child completed before dying were acknowledged too; a partial line was not.
    while (line := lines.get_nowait()) is not None:
        if line.endswith("\n"):
            acknowledged.add(line.strip())
    assert len(acknowledged) < MESSAGES, "the kill did not land mid-ingest"
    return acknowledged


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    raws = generate(MESSAGES)
    bundle = tmp_path / "messages.bundle"
    bundle.write_bytes(encode_bundle(raws))
    store_path = tmp_path / "store.sqlite3"
    for kill_after, delay in KILLS:
        acknowledged = ingest_until_killed(tmp_path, bundle, kill_after, delay)
        with Store.open(store_path) as store:
            with contextlib.closing(sqlite3.connect(store_path)) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            stored = {mid.hex() for mid in store.ids(NOW)}
            lost = acknowledged - stored
            assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged messages lost"
            assert store.count() == len(stored) >= len(acknowledged)
    # The store is still usable: ingesting everything again completes it exactly.
    with Store.open(store_path) as store:
        results = store.ingest(raws, now=NOW, policy=Policy())
        assert {r.id.hex() for r in results if r.id is not None} >= stored
        assert sum(r.status == "duplicate" for r in results) == len(stored)
        assert sum(r.status == "new" for r in results) == MESSAGES - len(stored)
        assert store.count() == MESSAGES
